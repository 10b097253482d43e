"""The embedded demo data set: a sports retailer with planted, documented truths.

Deterministic for a given seed and size. Everything a test needs to check the engine against is
returned in `PlantedTruth` and written to `planted_truth.json` next to the CSV files:

- four latent customer types with distinct categories, checks, promo use and age;
- an e-mail A/B test in October 2026 (≈50/50) whose treatment multiplies each customer's probability
  to buy in the window (capped at 0.95) and every line amount by a factor that depends on the customer's
  type: promo hunters respond strongly (×1.30 and ×1.50), premium customers not at all (×1), youth and
  family less (×1.10 and ×1.30); each customer's expected revenue uplift is in
  truth_customers.csv (`true_uplift`);
- an "activity declined" label drawn from a known logistic function of recency, frequency and
  promo share (the true probability of each customer is in truth_customers.csv);
- a banner promo on the 15th of every month lifting the daily order rate by 30 % (no control group);
- gender missing for ~15 % and correlated with categories, so a model can recover it;
- planted dirt: duplicated lines, a category typo, negative amounts, customers in both groups.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from campaign_report.analysis.demo_campaigns import EARLIER, EarlierCampaign, earlier_config

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


@dataclass(frozen=True)
class PlantedTruth:
    n_customers: int
    n_lines: int
    seed: int
    type_shares: dict[str, float]
    experiment_size: int
    conversion_rel_lift: float
    average_check_rel_lift: float
    arpu_rel_lift: float
    conversion_abs_lift: float
    arpu_abs_lift: float
    banner_day: int
    banner_rel_lift: float
    label_formula: str
    label_drivers: tuple[str, ...]
    label_rate: float
    true_label_auc: float
    gender_missing_share: float
    holdout_city: str
    campaign_start: str
    campaign_end: str
    duplicated_lines: int
    typo_lines: int
    typo_value: str
    negative_amount_lines: int
    customers_in_both_groups: int
    uplift_responders: str = "promo_hunters"  # the type that responds most to the e-mail
    uplift_non_responders: str = "premium"  # the type that does not respond at all
    uplift_by_type: dict[str, float] | None = None  # expected ARPU uplift per customer of each type (in ₽)
    # October's expected relative ARPU lift per type, and each earlier campaign's (generate_demo(campaigns=…)).
    arpu_rel_lift_by_type: dict[str, float] | None = None
    earlier_campaigns: list[dict] | None = None


def _day_weights(days: pd.DatetimeIndex) -> np.ndarray:
    weekday = np.where(days.day_of_week >= 5, 1.25, 1.0)
    trend = 1 + 0.10 * np.arange(len(days)) / len(days)
    banner = np.where(days.day == BANNER_DAY, BANNER_MULTIPLIER, 1.0)
    return weekday * trend * banner


def _sample_days(rng: np.random.Generator, days: pd.DatetimeIndex, month_of_day: np.ndarray,
                 weights: np.ndarray, months: np.ndarray) -> np.ndarray:
    """For each requested month, draw a day index inside that month proportional to the day weights."""
    out = np.empty(len(months), dtype=np.int64)
    for m in np.unique(months):
        idx = np.flatnonzero(month_of_day == m)
        cdf = np.cumsum(weights[idx])
        sel = months == m
        out[sel] = idx[np.searchsorted(cdf, rng.random(sel.sum()) * cdf[-1])]
    return out


def _line_attributes(rng: np.random.Generator, line_cust: np.ndarray, pref: np.ndarray, type_idx: np.ndarray,
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


def generate_demo(out_dir: str | Path, n_customers: int = 20_000, seed: int = 2026,
                  campaigns: int = 1) -> PlantedTruth:
    """Write customers.csv, transactions.csv, assignment.csv and planted_truth.json to out_dir.

    `campaigns` > 1 adds that many minus one earlier e-mail tests (EARLIER, the latest ones), each with its
    assignment_<key>.csv and a config campaign_<key>.toml that reads it into ../output: the campaign history.
    Their purchases come from a random stream of their own, so the October data are the same without them."""
    if not 1 <= campaigns <= 1 + len(EARLIER):
        raise ValueError(f"campaigns: 1 to {1 + len(EARLIER)}")
    rng = np.random.default_rng(seed)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n = n_customers
    ids = np.arange(100_001, 100_001 + n)
    type_idx = rng.choice(len(TYPES), size=n, p=[t.share for t in TYPES])
    tp = [TYPES[i] for i in type_idx]
    age = np.clip(np.round(np.array([rng.normal(t.age_mean, t.age_sd) for t in tp])), 14, 80).astype(int)
    female = rng.random(n) < np.array([t.female for t in tp])
    city = rng.choice(CITIES, size=n, p=CITY_WEIGHTS)
    rate = np.array([t.orders_per_year for t in tp]) * rng.gamma(5, 1 / 5, size=n)
    log_amount = np.array([t.log_line_amount for t in tp]) + rng.normal(0, 0.15, size=n)
    promo_prob = np.clip(np.array([t.promo_prob for t in tp]) + rng.normal(0, 0.05, size=n), 0.01, 0.95)

    # Per-customer category preferences: the type's mix, tilted by gender, with individual noise.
    cat_index = {c: i for i, c in enumerate(CATEGORIES)}
    base = np.full((len(TYPES), len(CATEGORIES)), 0.01)
    for ti, t in enumerate(TYPES):
        for c, w in t.categories.items():
            base[ti, cat_index[c]] = w
    tilt = np.array([FEMALE_TILT.get(c, 1.0) for c in CATEGORIES])
    pref = base[type_idx] * np.where(female[:, None], tilt, 1 / np.sqrt(tilt))
    pref = pref / pref.sum(axis=1, keepdims=True)
    pref = np.array([rng.dirichlet(40 * p + 0.05) for p in pref])

    # Activity: 45 % of customers slow down from a month between 4 and 10 of the year.
    months = 12
    declines = rng.random(n) < 0.45
    decline_from = rng.integers(4, 11, size=n)
    decay = rng.beta(1.2, 3, size=n)
    activity = np.ones((n, months))
    for m in range(months):
        activity[:, m] = np.where(declines & (m >= decline_from), decay, 1.0)

    days = pd.date_range(START, END, freq="D")
    month_of_day = (days.year - START.year) * 12 + days.month - START.month
    weights = _day_weights(days)

    # Regular purchases: months 0..10 (Nov 2025 - Sep 2026).
    lam = rate[:, None] / 12 * activity[:, :11]
    counts = rng.poisson(lam)
    none = counts.sum(axis=1) == 0
    counts[none, rng.integers(0, 11, size=none.sum())] = 1
    cust_rep, month_rep = np.nonzero(counts)
    reps = counts[cust_rep, month_rep]
    order_cust = np.repeat(cust_rep, reps)
    order_month = np.repeat(month_rep, reps)

    # Campaign: customers outside the holdout city, about 80 % of them, split ≈ 50/50.
    eligible = (city != HOLDOUT_CITY) & (rng.random(n) < 0.8)
    treated = eligible & (rng.random(n) < 0.5)
    oct_rate = 0.5 * rate / 12 * activity[:, 11]
    q0 = np.minimum(1 - np.exp(-oct_rate), 0.95)
    conversion_multiplier = np.array([RESPONSE[t.key][0] for t in TYPES])[type_idx]
    check_multiplier = np.array([RESPONSE[t.key][1] for t in TYPES])[type_idx]
    q1 = np.minimum(q0 * conversion_multiplier, 0.95)
    q = np.where(treated, q1, q0)
    converted = rng.random(n) < q
    extra_rate = 0.3 * rate / 12 * activity[:, 11]
    oct_orders = np.where(converted, 1 + rng.poisson(extra_rate), 0)
    order_cust = np.concatenate([order_cust, np.repeat(np.arange(n), oct_orders)])
    order_month = np.concatenate([order_month, np.full(oct_orders.sum(), 11)])

    order_day = _sample_days(rng, days, month_of_day, weights, order_month)
    n_orders = len(order_cust)
    order_ids = rng.permutation(n_orders) + 5_000_001
    lines_per_order = 1 + rng.poisson(0.6, size=n_orders)
    line_order = np.repeat(np.arange(n_orders), lines_per_order)
    line_cust = order_cust[line_order]

    cat_names, brand_names, promo, amount = _line_attributes(rng, line_cust, pref, type_idx, promo_prob, log_amount)
    offset_by_category = np.array([PRICE_OFFSET.get(c, 0.0) for c in CATEGORIES])
    in_window = order_month[line_order] == 11
    amount = amount * np.where(in_window & treated[line_cust], check_multiplier[line_cust], 1.0)
    amount = np.round(amount, 2)

    transactions = pd.DataFrame({
        "order_id": order_ids[line_order],
        "customer_id": ids[line_cust],
        "date": days[order_day[line_order]].strftime("%Y-%m-%d"),
        "category": cat_names,
        "brand": brand_names,
        "amount": amount,
        "is_promo": promo.astype(int),
    })
    earlier = EARLIER[len(EARLIER) - (campaigns - 1):] if campaigns > 1 else ()
    earlier_assignments: dict[str, pd.DataFrame] = {}
    earlier_truth: dict[str, dict[str, float]] = {}
    if earlier:
        extra, earlier_assignments, earlier_truth = _earlier_campaigns(
            np.random.default_rng(seed + 1000), earlier, ids, type_idx, city, rate, activity, pref, promo_prob,
            log_amount, int(order_ids.max()) + 1)
        transactions = pd.concat([transactions, extra], ignore_index=True)
    transactions = transactions.sort_values(["date", "order_id"], kind="stable").reset_index(drop=True)

    # The label, from the drivers exactly as the pipeline computes them (as of the day after END).
    as_of = pd.Timestamp(END) + pd.Timedelta(days=1)
    last = pd.to_datetime(transactions.groupby("customer_id")["date"].max())
    recency = (as_of - last).dt.days.reindex(ids).to_numpy()
    orders = transactions.groupby("customer_id")["order_id"].nunique().reindex(ids).to_numpy()
    promo_share = transactions.groupby("customer_id")["is_promo"].mean().reindex(ids).to_numpy()
    p_decline = 1 / (1 + np.exp(-decline_logit(recency, orders, promo_share)))
    label = rng.random(n) < p_decline
    from sklearn.metrics import roc_auc_score  # local: only the generator needs it here

    true_auc = float(roc_auc_score(label, p_decline))

    # Planted dirt, each documented in the truth and found by validation.
    dup_rows = transactions.sample(60, random_state=seed)
    typo_mask = (transactions["category"] == "Обувь") & (rng.random(len(transactions)) < 0.0004)
    transactions.loc[typo_mask, "category"] = "Обувьь"
    neg_idx = rng.choice(len(transactions), size=25, replace=False)
    transactions.loc[neg_idx, "amount"] = -transactions.loc[neg_idx, "amount"]
    transactions = pd.concat([transactions, dup_rows]).sort_values(["date", "order_id"], kind="stable")
    transactions.to_csv(out / "transactions.csv", index=False)

    profit = np.round(0.12 * transactions.groupby("customer_id")["amount"].sum().reindex(ids).to_numpy()
                      * rng.lognormal(0, 0.25, size=n), 2)
    gender = np.where(female, "Ж", "М").astype(object)
    gender_missing = rng.random(n) < 0.15
    gender[gender_missing] = ""
    customers = pd.DataFrame({
        "customer_id": ids, "age": age, "gender": gender, "city": city,
        "activity": np.where(label, "Снизилась", "Прежний уровень"), "profit": profit,
    })
    customers.to_csv(out / "customers.csv", index=False)

    group = np.where(treated, "treatment", "control")
    assignment = pd.DataFrame({"customer_id": ids[eligible], "group": group[eligible]})
    both = assignment.sample(8, random_state=seed + 1).copy()
    both["group"] = np.where(both["group"] == "control", "treatment", "control")
    assignment = pd.concat([assignment, both]).sample(frac=1, random_state=seed).reset_index(drop=True)
    assignment.to_csv(out / "assignment.csv", index=False)
    for campaign in earlier:
        earlier_assignments[campaign.key].to_csv(out / f"assignment_{campaign.key}.csv", index=False)
        (out / f"campaign_{campaign.key}.toml").write_text(earlier_config(campaign), encoding="utf-8")

    # Expected values of the planted effects over the experiment population, from every factor that
    # sets a customer's October spend: orders, lines per order, the category mix (price offsets) and
    # the promo discount, and the treatment's multipliers.
    exp_orders = 1 + extra_rate
    exp_lines = 1.6  # 1 + Poisson(0.6)
    exp_line = (np.exp(log_amount + 0.45**2 / 2) * (pref @ np.exp(offset_by_category))
                * (1 - 0.15 * promo_prob))
    pop = eligible
    conv0, conv1 = q0[pop].mean(), q1[pop].mean()
    rev0 = (q0 * exp_orders * exp_lines * exp_line)[pop].mean()
    rev1 = (q1 * exp_orders * exp_lines * exp_line * check_multiplier)[pop].mean()
    check0 = rev0 / (q0 * exp_orders)[pop].mean()
    check1 = rev1 / (q1 * exp_orders)[pop].mean()
    true_uplift = (q1 * check_multiplier - q0) * exp_orders * exp_lines * exp_line  # ₽ per customer
    truth = PlantedTruth(
        n_customers=n, n_lines=len(transactions), seed=seed,
        type_shares={t.key: float(np.mean(type_idx == i)) for i, t in enumerate(TYPES)},
        experiment_size=int(eligible.sum()),
        conversion_rel_lift=float(conv1 / conv0 - 1), average_check_rel_lift=float(check1 / check0 - 1),
        arpu_rel_lift=float(rev1 / rev0 - 1), conversion_abs_lift=float(conv1 - conv0),
        arpu_abs_lift=float(rev1 - rev0),
        banner_day=BANNER_DAY, banner_rel_lift=BANNER_MULTIPLIER - 1,
        label_formula=LABEL_FORMULA, label_drivers=("recency_days", "orders", "promo_share"),
        label_rate=float(label.mean()), true_label_auc=true_auc,
        gender_missing_share=float(gender_missing.mean()), holdout_city=HOLDOUT_CITY,
        campaign_start=CAMPAIGN_START.isoformat(), campaign_end=END.isoformat(),
        duplicated_lines=len(dup_rows), typo_lines=int(typo_mask.sum()), typo_value="Обувьь",
        negative_amount_lines=len(neg_idx), customers_in_both_groups=len(both),
        uplift_by_type={t.key: float(true_uplift[pop & (type_idx == i)].mean()) for i, t in enumerate(TYPES)},
        earlier_campaigns=[{"key": c.key, "name": c.name, "start": c.start.isoformat(), "end": c.end.isoformat(),
                            "arpu_rel_lift_by_type": earlier_truth[c.key]} for c in earlier],
        arpu_rel_lift_by_type={t.key: float(
            (q1 * exp_orders * exp_lines * exp_line * check_multiplier)[pop & (type_idx == i)].mean()
            / (q0 * exp_orders * exp_lines * exp_line)[pop & (type_idx == i)].mean() - 1) for i, t in enumerate(TYPES)},
    )
    pd.DataFrame({"customer_id": ids, "type": [t.key for t in tp], "p_decline": p_decline,
                  "gender": np.where(female, "Ж", "М"), "treated": treated, "in_experiment": eligible,
                  "true_uplift": np.round(true_uplift, 2)}).to_csv(out / "truth_customers.csv", index=False)
    (out / "planted_truth.json").write_text(json.dumps(asdict(truth), ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    (out / ".complete").write_text(str(seed))
    return truth


def _earlier_campaigns(rng: np.random.Generator, campaigns: tuple[EarlierCampaign, ...], ids: np.ndarray,
                       type_idx: np.ndarray, city: np.ndarray, rate: np.ndarray, activity: np.ndarray,
                       pref: np.ndarray, promo_prob: np.ndarray, log_amount: np.ndarray, first_order_id: int
                       ) -> tuple[pd.DataFrame, dict[str, pd.DataFrame], dict[str, dict[str, float]]]:
    """Each earlier campaign's split and the extra orders its treated customers made, with the expected relative
    ARPU lift per type: extra orders' value over the window's usual spend, both over the campaign's customers."""
    n = len(ids)
    frames, assignments, truth = [], {}, {}
    exp_line = np.exp(log_amount + 0.45 ** 2 / 2) * (pref @ np.exp([PRICE_OFFSET.get(c, 0.0) for c in CATEGORIES])) \
        * (1 - 0.15 * promo_prob)
    order_id = first_order_id
    for campaign in campaigns:
        eligible = (city != HOLDOUT_CITY) & (rng.random(n) < 0.8)
        treated = eligible & (rng.random(n) < 0.5)
        p_extra = np.array([campaign.extra_order[t.key] for t in TYPES])[type_idx]
        buyers = np.flatnonzero(treated & (rng.random(n) < p_extra))
        days = pd.date_range(campaign.start, campaign.end, freq="D")
        order_day = days[rng.integers(0, len(days), size=len(buyers))]
        lines = 1 + rng.poisson(0.6, size=len(buyers))
        line_cust = np.repeat(buyers, lines)
        cats, brands, promo, amount = _line_attributes(rng, line_cust, pref, type_idx, promo_prob, log_amount)
        frames.append(pd.DataFrame({
            "order_id": np.repeat(np.arange(order_id, order_id + len(buyers)), lines), "customer_id": ids[line_cust],
            "date": np.repeat(order_day.strftime("%Y-%m-%d"), lines), "category": cats, "brand": brands,
            "amount": np.round(amount, 2), "is_promo": promo.astype(int)}))
        order_id += len(buyers)
        assignments[campaign.key] = pd.DataFrame({"customer_id": ids[eligible],
                                                  "group": np.where(treated, "treatment", "control")[eligible]})
        month = (campaign.start.year - START.year) * 12 + campaign.start.month - START.month
        usual = rate / 12 * activity[:, month] * 1.6 * exp_line
        truth[campaign.key] = {t.key: float((p_extra * 1.6 * exp_line)[eligible & (type_idx == i)].mean()
                                            / usual[eligible & (type_idx == i)].mean())
                               for i, t in enumerate(TYPES)}
    return pd.concat(frames, ignore_index=True), assignments, truth


def load_truth(data_dir: str | Path) -> PlantedTruth:
    """Read planted_truth.json written by generate_demo."""
    raw = json.loads((Path(data_dir) / "planted_truth.json").read_text(encoding="utf-8"))
    raw["label_drivers"] = tuple(raw["label_drivers"])
    return PlantedTruth(**raw)

