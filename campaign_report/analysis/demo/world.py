"""How the demo's world works: its calendar, customer types, their response to the campaigns and the planted
label; the draws every block of customers shares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

START = date(2025, 11, 1)
CAMPAIGN_START = date(2026, 10, 1)
END = date(2026, 10, 31)
CITIES = ("Москва", "Санкт-Петербург", "Казань", "Екатеринбург", "Новосибирск")
CITY_WEIGHTS = (0.35, 0.22, 0.16, 0.15, 0.12)
HOLDOUT_CITY = "Новосибирск"  # never in the campaign: the city the target list is scored for
CATEGORIES = ("Одежда", "Обувь", "Аксессуары", "Велосипеды", "Тренажёры", "Туризм",
              "Командные виды спорта", "Детские товары", "Зимний спорт", "Плавание")
BRANDS = {
    "Одежда": ("Демикс", "Джосс", "Найк"), "Обувь": ("Демикс", "Найк", "Адидас"),
    "Аксессуары": ("Термит", "Джосс", "Адидас"), "Велосипеды": ("Стерн", "Мерида", "Форвард"),
    "Тренажёры": ("Торнео", "Оксиджен", "Кеттлер"), "Туризм": ("Аутвентура", "Нордвей", "Гласиер"),
    "Командные виды спорта": ("Торрес", "Адидас", "Найк"), "Детские товары": ("Демикс", "Гласиер", "Торрес"),
    "Зимний спорт": ("Нордвей", "Гласиер", "Атомик"), "Плавание": ("Джосс", "Арена", "Торрес"),
}
PRICE_OFFSET = {"Велосипеды": 0.8, "Тренажёры": 0.7, "Зимний спорт": 0.4, "Аксессуары": -0.5,
                "Плавание": -0.3}


@dataclass(frozen=True)
class CustomerType:
    key: str
    share: float
    age_mean: float
    age_sd: float
    female: float
    orders_per_year: float
    log_line_amount: float
    promo_prob: float
    brand_pref: int  # index of the preferred brand within each category
    categories: dict[str, float]


TYPES = (
    CustomerType("promo_hunters", 0.35, 47, 8, 0.6, 26, 7.1, 0.65, 0,
                 {"Одежда": 0.45, "Обувь": 0.25, "Аксессуары": 0.2, "Плавание": 0.1}),
    CustomerType("premium", 0.20, 40, 7, 0.35, 6, 8.9, 0.04, 2,
                 {"Велосипеды": 0.35, "Тренажёры": 0.35, "Туризм": 0.2, "Зимний спорт": 0.1}),
    CustomerType("youth", 0.20, 19, 3, 0.5, 12, 7.8, 0.25, 1,
                 {"Обувь": 0.4, "Командные виды спорта": 0.35, "Одежда": 0.25}),
    CustomerType("family", 0.25, 37, 6, 0.55, 10, 8.0, 0.2, 1,
                 {"Туризм": 0.35, "Детские товары": 0.4, "Зимний спорт": 0.25}),
)
# Gender tilts category choice, so the attribute can be recovered from behaviour.
FEMALE_TILT = {"Плавание": 2.5, "Аксессуары": 1.8, "Детские товары": 1.6, "Одежда": 1.3,
               "Велосипеды": 0.55, "Командные виды спорта": 0.45, "Тренажёры": 0.7}

# Heterogeneous response (issue #20): type -> (multiplier of the chance to buy, of every line amount).
# Deterministic per type: no new random numbers are drawn (only what follows from the changed purchases moves).
RESPONSE = {"promo_hunters": (1.30, 1.50), "premium": (1.0, 1.0), "youth": (1.10, 1.30), "family": (1.10, 1.30)}
BANNER_DAY = 15
BANNER_MULTIPLIER = 1.30


# Label: P(activity declined) = sigmoid(logit), with the drivers as the pipeline computes them.
LABEL_FORMULA = ("-0.9 + 0.03*(recency_days - 30) - 1.1*(ln(1 + orders) - 2.5) "
                 "+ 2.5*(promo_share - 0.35)")


def decline_logit(recency_days: np.ndarray, orders: np.ndarray, promo_share: np.ndarray) -> np.ndarray:
    """The planted label function (see LABEL_FORMULA)."""
    return (-0.9 + 0.03 * (recency_days - 30) - 1.1 * (np.log1p(orders) - 2.5)
            + 2.5 * (promo_share - 0.35))


def day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    """Each day's relative order rate: weekends, a slow upward trend, the banner day."""
    weekday = np.where(days.day_of_week >= 5, 1.25, 1.0)
    trend = 1 + 0.10 * np.arange(len(days)) / len(days)
    banner = np.where(days.day == BANNER_DAY, BANNER_MULTIPLIER, 1.0)
    return weekday * trend * banner


def sample_days(rng: np.random.Generator, days: pd.DatetimeIndex, month_of_day: np.ndarray,
                 weights: np.ndarray, months: np.ndarray) -> np.ndarray:
    """For each requested month, draw a day index inside that month proportional to the day weights."""
    out = np.empty(len(months), dtype=np.int64)
    for m in np.unique(months):
        idx = np.flatnonzero(month_of_day == m)
        cdf = np.cumsum(weights[idx])
        sel = months == m
        out[sel] = idx[np.searchsorted(cdf, rng.random(sel.sum()) * cdf[-1])]
    return out


def line_attributes(rng: np.random.Generator, line_cust: np.ndarray, pref: np.ndarray, type_idx: np.ndarray,
                     promo_prob: np.ndarray, log_amount: np.ndarray) -> tuple[np.ndarray, ...]:
    """Category, brand, promo flag and amount of purchase lines, from their customers' preferences."""
    n_lines = len(line_cust)
    cum_pref = np.cumsum(pref[line_cust], axis=1)
    line_cat = (cum_pref < rng.random(n_lines)[:, None]).sum(axis=1).clip(0, len(CATEGORIES) - 1)
    brand_pick = rng.random(n_lines)
    preferred = np.array([TYPES[i].brand_pref for i in type_idx])[line_cust]
    brand_idx = np.where(brand_pick < 0.6, preferred, rng.integers(0, 3, size=n_lines))
    cat_names = np.array(CATEGORIES)[line_cat]
    brand_table = np.array([BRANDS[c] for c in CATEGORIES])
    brand_names = brand_table[line_cat, brand_idx]
    promo = rng.random(n_lines) < promo_prob[line_cust]
    offset_by_category = np.array([PRICE_OFFSET.get(c, 0.0) for c in CATEGORIES])
    amount = np.exp(log_amount[line_cust] + offset_by_category[line_cat] + rng.normal(0, 0.45, size=n_lines))
    return cat_names, brand_names, promo, amount * np.where(promo, 0.85, 1.0)




def expected_line_amount(log_amount: np.ndarray, pref: np.ndarray, promo_prob: np.ndarray) -> np.ndarray:
    """Each customer's expected line amount: the lognormal's mean, the category mix's price offsets, the promo
    discount."""
    offset_by_category = np.array([PRICE_OFFSET.get(c, 0.0) for c in CATEGORIES])
    return np.exp(log_amount + 0.45 ** 2 / 2) * (pref @ np.exp(offset_by_category)) * (1 - 0.15 * promo_prob)
