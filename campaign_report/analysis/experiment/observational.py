"""A promo with no control group (a banner every 15th): an observational estimate, labelled as such.

Daily orders and revenue are regressed on a promo-day indicator with weekday and month fixed effects
and a linear trend (OLS on the log scale, Newey-West errors for autocorrelation). The coefficient
compares promo days with comparable non-promo days; it is not a randomised effect.

Placebo days are the honesty check: the same model fitted with other days as the "promo" (each other
day of the month, or the promo dates shifted by 1–14 days), the real promo days held as a control. If
ordinary days often show effects as large, the estimate is not evidence of a promo effect.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from campaign_report.analysis.config import ObservationalConfig
from campaign_report.analysis.engines.base import Engine, sql_literal
from campaign_report.analysis.experiment.result import ObservationalEffect

METHOD = "ols_log_daily_weekday_month_trend_hac"


def daily_series(engine: Engine, city_filter: str | None) -> pd.DataFrame:
    """Orders and revenue per calendar day (days without sales count as zero)."""
    where = ""
    if city_filter is not None:
        where = (f"WHERE customer_id IN (SELECT id FROM customers_clean WHERE city = "
                 f"{sql_literal(city_filter)})")
    frame = engine.frame(f"SELECT date, count(DISTINCT order_id) AS orders, sum(amount) AS revenue "
                         f"FROM tx {where} GROUP BY date ORDER BY date")
    frame["date"] = pd.to_datetime(frame["date"])
    full = pd.DataFrame({"date": pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")})
    return full.merge(frame, on="date", how="left").fillna({"orders": 0.0, "revenue": 0.0})


def _design(daily: pd.DataFrame, promo: pd.Series, held: pd.Series | None = None) -> pd.DataFrame:
    design = pd.DataFrame({"promo": promo.astype(float).to_numpy(),
                           "trend": np.arange(len(daily), dtype=float) / max(len(daily) - 1, 1)})
    if held is not None:  # the real promo days, so that they do not inflate a placebo day's baseline
        design["held"] = held.astype(float).to_numpy()
    design = design.join(pd.get_dummies(daily["date"].dt.day_of_week, prefix="wd", drop_first=True,
                                        dtype=float))
    design = design.join(pd.get_dummies(daily["date"].dt.to_period("M").astype(str), prefix="m",
                                        drop_first=True, dtype=float))
    return sm.add_constant(design, has_constant="add")


def _promo_days(daily: pd.DataFrame, settings: ObservationalConfig, shift: int = 0) -> pd.Series:
    dates = daily["date"] - pd.Timedelta(days=shift)
    promo = dates.dt.day.isin(settings.days_of_month)
    if settings.dates:
        promo |= dates.isin(pd.to_datetime(list(settings.dates)))
    return promo.reset_index(drop=True)


def placebo_calendars(daily: pd.DataFrame, settings: ObservationalConfig, promo: pd.Series,
                      ) -> list[tuple[str, pd.Series]]:
    """Calendars of days without the promo, built like the promo's: each other day of the month when
    the promo is monthly (days next to a promo day left out: a promo can pull demand forward or
    push it back), else the promo dates shifted by 2–14 days either way."""
    near = promo | promo.shift(1, fill_value=False) | promo.shift(-1, fill_value=False)
    day = daily["date"].dt.day.reset_index(drop=True)
    if settings.days_of_month and not settings.dates:
        candidates = [(str(d), day == d) for d in range(1, 29)]
    else:
        candidates = [(f"{k:+d}", _promo_days(daily, settings, k)) for k in (*range(-14, -1), *range(2, 15))]
    return [(label, c) for label, c in candidates if c.sum() >= 2 and not (c & near).any()]


def estimate_promo_days(daily: pd.DataFrame, settings: ObservationalConfig,
                        confidence: float) -> tuple[ObservationalEffect, ...]:
    """Relative effect of promo days on daily orders and revenue, with CI, p-value and placebo days."""
    daily = daily.reset_index(drop=True)
    promo = _promo_days(daily, settings)
    if promo.sum() < 2 or (~promo).sum() < 14:
        return ()
    design = _design(daily, promo)
    calendars = placebo_calendars(daily, settings, promo)
    placebos = [_design(daily, calendar, held=promo) for _, calendar in calendars]
    z = stats.norm.ppf(0.5 + confidence / 2)
    effects = []
    for outcome in ("orders", "revenue"):
        y = np.log1p(daily[outcome].to_numpy(dtype=float))
        fit = sm.OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": 7})
        b, se = float(fit.params["promo"]), float(fit.bse["promo"])
        placebo = [float(sm.OLS(y, x).fit().params["promo"]) for x in placebos]
        as_large = sum(abs(p) >= abs(b) for p in placebo)
        effects.append(ObservationalEffect(
            name=settings.name, outcome=outcome, promo_days=int(promo.sum()), other_days=int((~promo).sum()),
            promo_daily_mean=float(daily.loc[promo, outcome].mean()),
            other_daily_mean=float(daily.loc[~promo, outcome].mean()),
            rel_effect=math.exp(b) - 1, ci_low=math.exp(b - z * se) - 1, ci_high=math.exp(b + z * se) - 1,
            p_value=float(fit.pvalues["promo"]), method=METHOD,
            placebo_effects=tuple(math.exp(p) - 1 for p in placebo),
            placebo_days=tuple(label for label, _ in calendars), placebo_as_large=as_large,
            placebo_p=(1 + as_large) / (1 + len(placebo)) if placebo else math.nan))
    return tuple(effects)
