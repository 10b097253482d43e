"""A promo with no control group (a banner every 15th): an observational estimate, labelled as such.

Daily orders and revenue are regressed on a promo-day indicator with weekday and month fixed effects
and a linear trend (OLS on the log scale, Newey-West errors for autocorrelation). The coefficient
compares promo days with comparable non-promo days; it is not a randomised effect.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import statsmodels.api as sm
from scipy import stats

from campaign_report.analysis.config import ObservationalConfig
from campaign_report.analysis.engines.base import Engine, sql_literal
from campaign_report.analysis.experiment.readout import ObservationalEffect

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


def estimate_promo_days(daily: pd.DataFrame, settings: ObservationalConfig,
                        confidence: float) -> tuple[ObservationalEffect, ...]:
    """Relative effect of promo days on daily orders and revenue, with CI and p-value."""
    promo = daily["date"].dt.day.isin(settings.days_of_month)
    if settings.dates:
        promo |= daily["date"].isin(pd.to_datetime(list(settings.dates)))
    if promo.sum() < 2 or (~promo).sum() < 14:
        return ()
    design = pd.DataFrame({"promo": promo.astype(float),
                           "trend": np.arange(len(daily), dtype=float) / max(len(daily) - 1, 1)})
    design = design.join(pd.get_dummies(daily["date"].dt.day_of_week, prefix="wd", drop_first=True,
                                        dtype=float))
    design = design.join(pd.get_dummies(daily["date"].dt.to_period("M").astype(str), prefix="m",
                                        drop_first=True, dtype=float))
    design = sm.add_constant(design, has_constant="add")
    z = stats.norm.ppf(0.5 + confidence / 2)
    effects = []
    for outcome in ("orders", "revenue"):
        y = np.log1p(daily[outcome].to_numpy(dtype=float))
        fit = sm.OLS(y, design).fit(cov_type="HAC", cov_kwds={"maxlags": 7})
        b, se = float(fit.params["promo"]), float(fit.bse["promo"])
        effects.append(ObservationalEffect(
            name=settings.name, outcome=outcome, promo_days=int(promo.sum()), other_days=int((~promo).sum()),
            promo_daily_mean=float(daily.loc[promo, outcome].mean()),
            other_daily_mean=float(daily.loc[~promo, outcome].mean()),
            rel_effect=math.exp(b) - 1, ci_low=math.exp(b - z * se) - 1, ci_high=math.exp(b + z * se) - 1,
            p_value=float(fit.pvalues["promo"]), method=METHOD))
    return tuple(effects)
