"""What each customer is worth from purchases alone: P(alive), expected purchases and value, checked honestly.

From the purchase lines (the engine aggregates them to one row per customer): x = repeat purchase days,
t_x = the last purchase's time and T = the time observed, both from the first purchase, in weeks at day
resolution; mean spend per repeat purchase day. BG/NBD gives P(alive) and the expected purchases over the
horizon, Gamma-Gamma the expected spend per purchase, where spend and frequency are close to independent
(|Spearman ρ| ≤ 0.3 among repeat customers; otherwise each customer's own mean spend is used, and said).
Expected value = purchases × spend, × the margin when one is stated (else it is revenue, and called so).

Honest on the user's own data: the model is fitted again on the earlier part of the history and its
forecast of the later part is compared with what happened, week by week (the BG/NBD paper's holdout check),
and the expected number of customers by repeat purchases is set against the observed (the fit check). When
the forecast cannot rank who buys in the holdout the model does not fit: the
documents say so, and nothing is ranked by it.

What the model cannot see: seasonality (a constant rate while alive), and one-off buyers (a customer who
never came back is "alive" by the model's convention until the data say otherwise, so the slipping-away
list is drawn from customers who bought at least twice).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import ClassVar

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.metrics import roc_auc_score

from campaign_report.analysis.customers import btyd
from campaign_report.analysis.engines.base import Engine, sql_literal
from campaign_report.analysis.tables import Tabular

MIN_RANKING_AUC = 0.65  # below it the model cannot tell who will buy: it does not fit, and nothing is ranked by it
MAX_HOLDOUT_BIAS = 0.2  # |forecast / actual − 1| beyond which the values are recalibrated to the holdout's totals
MAX_SPEND_CORRELATION = 0.3  # |Spearman ρ| of frequency and mean spend beyond which Gamma-Gamma is not used
MIN_CUSTOMERS, MIN_REPEAT = 100, 30
HISTOGRAM_BINS = 8  # 0 … 6 repeat purchases and 7 or more


@dataclass(frozen=True)
class Parameter:
    name: str
    value: float
    ci_low: float
    ci_high: float
    at_bound: bool = False  # the estimate sits at the edge of the optimiser's range: its interval means nothing


@dataclass(frozen=True)
class HoldoutCheck:
    calibration_end: str  # the model learned from purchases before this day
    weeks: int  # ... and forecast this many weeks after it
    customers: int  # customers whose first purchase came before calibration_end
    weekly: tuple[tuple[int, float, float], ...]  # (week, forecast cumulative, actual cumulative) repeat purchases
    forecast_total: float
    actual_total: float
    error: float  # forecast / actual − 1: the raw model's bias in totals
    ranking_auc: float  # how well the forecast ranks who bought in the holdout at all (0.5 = no better than chance)


@dataclass(frozen=True)
class FrequencyCheck:
    counts: tuple[tuple[str, float, int], ...]  # (repeat purchases "0" … "7+", expected customers, observed)
    mean_share_error: float  # mean |expected − observed| share of customers over the bins


@dataclass(frozen=True)
class SpendCheck:
    spearman: float  # frequency vs mean repeat spend among repeat customers
    p_value: float
    gamma_gamma: bool  # used: spend and frequency close to independent


@dataclass(frozen=True)
class SegmentValue:
    kind: str  # "cluster" | "rfm"
    key: str
    customers: int
    expected_value: float  # over the horizon, summed
    value_share: float
    p_alive_mean: float
    past_spend: float  # summed, over the whole history


@dataclass(frozen=True)
class SlippingAway:
    """Customers of high past value the model thinks have probably left."""

    size: int
    candidates: int  # repeat customers of at least median past yearly spend
    p_alive_cut: float  # P(alive) below this
    yearly_spend_at_stake: float  # their past spend per year of tenure × (1 − P(alive)), summed
    past_spend: float
    # The same in the basis of the customers' value (× the stated margin: profit), so that the documents can
    # set it beside the expected value without mixing profit and spend.
    yearly_value_at_stake: float = math.nan


@dataclass(frozen=True)
class LifetimeResult(Tabular):
    PRIMARY: ClassVar[str] = "segments"

    model: str  # "bgnbd+gamma_gamma" | "bgnbd" (own mean spend)
    horizon_days: int
    value_basis: str  # "margin" (× stated margin: profit) | "revenue"
    margin: float | None
    bgnbd: tuple[Parameter, ...]
    gamma_gamma: tuple[Parameter, ...]
    spend_check: SpendCheck
    holdout: HoldoutCheck
    frequency_check: FrequencyCheck
    fits: bool  # the holdout check passed: values may rank customers
    customers: int
    repeat_customers: int
    expected_value: float  # all customers over the horizon
    expected_purchases: float
    value_scale: float  # 1, or the holdout's actual / forecast when the raw totals were off (see MAX_HOLDOUT_BIAS)
    segments: tuple[SegmentValue, ...]
    slipping: SlippingAway | None
    fit_seconds: float = 0.0
    notes: tuple[str, ...] = field(default_factory=tuple)  # codes: what the model cannot see here


def customer_summary(engine: Engine, end: date, table: str = "tx", since: date | None = None) -> pd.DataFrame:
    """One row per customer who bought before `end`: x, t_x, T (weeks), mean repeat spend, total spend,
    tenure in days. A purchase is a day with an order: an order's lines count on its first day (an order
    logged again the next day is not a repeat purchase), and a day's orders are one purchase."""
    until = f"date < DATE {sql_literal(end.isoformat())}"
    if since is not None:
        until += f" AND date >= DATE {sql_literal(since.isoformat())}"
    last = (end - timedelta(days=1)).isoformat()
    frame = engine.frame(f"""
        WITH orders AS (SELECT customer_id, order_id, min(date) AS date, sum(amount) AS spend FROM {table}
                        WHERE {until} GROUP BY customer_id, order_id),
        days AS (SELECT customer_id, date, sum(spend) AS spend FROM orders GROUP BY customer_id, date),
        ranked AS (SELECT *, row_number() OVER (PARTITION BY customer_id ORDER BY date) AS k FROM days)
        SELECT customer_id AS id, CAST(count(*) - 1 AS DOUBLE) AS x,
               CAST(date_diff('day', min(date), max(date)) AS DOUBLE) / 7 AS t_x,
               CAST(date_diff('day', min(date), DATE {sql_literal(last)}) AS DOUBLE) / 7 AS t,
               coalesce(sum(spend) FILTER (WHERE k > 1), 0) AS repeat_spend, sum(spend) AS spend
        FROM ranked GROUP BY customer_id ORDER BY customer_id""")
    frame["id"] = frame["id"].astype(str)
    frame["m"] = np.where(frame["x"] > 0, frame["repeat_spend"] / frame["x"].clip(lower=1), 0.0)
    return frame


def _triples(summary: pd.DataFrame) -> pd.DataFrame:
    """Distinct (x, t_x, T) with their counts: the likelihood's unit of work."""
    return summary.groupby(["x", "t_x", "t"], sort=False).size().reset_index(name="n")


def fit_purchases(summary: pd.DataFrame) -> btyd.Fit:
    """BG/NBD fitted to a customer summary, over its distinct (x, t_x, T) triples."""
    triples = _triples(summary)
    return btyd.fit_bgnbd(triples["x"].to_numpy(), triples["t_x"].to_numpy(), triples["t"].to_numpy(),
                          triples["n"].to_numpy())


def _parameters(fit: btyd.Fit) -> tuple[Parameter, ...]:
    low, high = (math.exp(b) for b in btyd.BOUNDS)
    return tuple(Parameter(name, value, *fit.interval(name), at_bound=not low * 1.01 < value < high / 1.01)
                 for name, value in fit.params.items())


def holdout_check(engine: Engine, first: date, end: date, horizon_days: int) -> HoldoutCheck | None:
    """Fit on the earlier part, forecast the later part week by week, compare with what happened."""
    span = (end - first).days
    weeks = int(min(horizon_days, span // 2) // 7)
    if weeks < 4:
        return None
    cut = end - timedelta(days=7 * weeks)
    calibration = customer_summary(engine, cut)
    if len(calibration) < MIN_CUSTOMERS or int((calibration["x"] > 0).sum()) < MIN_REPEAT:
        return None
    fit = fit_purchases(calibration)
    triples = _triples(calibration)
    forecast = [float(np.sum(triples["n"] * btyd.expected_purchases(
        fit.params, w, triples["x"].to_numpy(), triples["t_x"].to_numpy(), triples["t"].to_numpy())))
        for w in range(1, weeks + 1)]
    c, e = sql_literal(cut.isoformat()), sql_literal(end.isoformat())
    holdout_days = f"""
        WITH cohort AS (SELECT customer_id FROM tx GROUP BY customer_id HAVING min(date) < DATE {c}),
        orders AS (SELECT customer_id, order_id, min(date) AS date FROM tx GROUP BY customer_id, order_id)
        SELECT DISTINCT o.customer_id, o.date FROM orders o JOIN cohort USING (customer_id)
        WHERE o.date >= DATE {c} AND o.date < DATE {e}"""
    by_week = np.zeros(weeks)
    for week, n in engine.rows(f"SELECT CAST(floor(date_diff('day', DATE {c}, date) / 7) AS BIGINT), count(*) "
                               f"FROM ({holdout_days}) AS d GROUP BY 1"):
        if 0 <= int(week) < weeks:
            by_week[int(week)] += n
    bought = {str(r[0]) for r in engine.rows(f"SELECT DISTINCT customer_id FROM ({holdout_days}) AS d")}
    predicted = btyd.expected_purchases(fit.params, weeks, *(calibration[k].to_numpy() for k in ("x", "t_x", "t")))
    did_buy = calibration["id"].isin(bought).to_numpy()
    ranked = 0 < did_buy.sum() < len(did_buy) and np.isfinite(predicted).all()
    auc = float(roc_auc_score(did_buy, predicted)) if ranked else math.nan
    actual = np.cumsum(by_week)
    weekly = tuple((w + 1, forecast[w], float(actual[w])) for w in range(weeks))
    total = float(actual[-1])
    return HoldoutCheck(calibration_end=cut.isoformat(), weeks=weeks, customers=len(calibration), weekly=weekly,
                        forecast_total=forecast[-1], actual_total=total,
                        error=forecast[-1] / total - 1 if total > 0 else math.inf, ranking_auc=auc)


def frequency_check(fit: btyd.Fit, summary: pd.DataFrame) -> FrequencyCheck:
    """Customers by repeat purchases, expected by the model (each over their own T) against observed."""
    t_values, t_counts = np.unique(summary["t"].to_numpy(), return_counts=True)
    expected = [float(np.sum(t_counts * btyd.repeat_count_probability(fit.params, k, t_values)))
                for k in range(HISTOGRAM_BINS - 1)]
    expected.append(len(summary) - sum(expected))
    x = summary["x"].to_numpy()
    observed = [int((x == k).sum()) for k in range(HISTOGRAM_BINS - 1)] + [int((x >= HISTOGRAM_BINS - 1).sum())]
    labels = [str(k) for k in range(HISTOGRAM_BINS - 1)] + [f"{HISTOGRAM_BINS - 1}+"]
    n = max(len(summary), 1)
    error = float(np.mean([abs(e - o) / n for e, o in zip(expected, observed, strict=True)]))
    return FrequencyCheck(tuple(zip(labels, expected, observed, strict=True)), error)


def spend_check(summary: pd.DataFrame) -> SpendCheck:
    """Gamma-Gamma assumes spend per purchase does not depend on how often one buys: tested among repeaters."""
    repeat = summary[(summary["x"] > 0) & (summary["m"] > 0)]
    if len(repeat) < MIN_REPEAT:
        return SpendCheck(math.nan, math.nan, False)
    rho, p = stats.spearmanr(repeat["x"], repeat["m"])
    return SpendCheck(float(rho), float(p), bool(abs(rho) <= MAX_SPEND_CORRELATION))


def _segment_values(values: pd.DataFrame, labels: pd.Series, kind: str, names: dict[str, str] | None = None,
                    ) -> list[SegmentValue]:
    joined = values.assign(segment=labels.reindex(values["id"]).to_numpy())
    total = float(joined["expected_value"].clip(lower=0).sum()) or math.nan
    out = []
    for key, part in joined.groupby("segment", sort=False):
        out.append(SegmentValue(kind, str(key), len(part), float(part["expected_value"].sum()),
                                float(part["expected_value"].clip(lower=0).sum()) / total,
                                float(part["p_alive"].mean()), float(part["spend"].sum())))
    return sorted(out, key=lambda s: -s.expected_value)


def slipping_away(values: pd.DataFrame, p_alive_cut: float = 0.5, margin: float | None = None,
                  ) -> tuple[SlippingAway, np.ndarray]:
    """Repeat customers whose past yearly spend is at least the repeat customers' median and whose P(alive)
    is below `p_alive_cut`: the value the shop stands to lose. One-off buyers are left out (the model calls
    them alive; it cannot see their lapse)."""
    repeat = values["x"] > 0
    yearly = values["spend"] / np.maximum(values["tenure_days"], 30) * 365
    median = float(yearly[repeat].median()) if repeat.any() else math.inf
    candidates = repeat & (yearly >= median)
    mask = (candidates & (values["p_alive"] < p_alive_cut)).to_numpy()
    stake = (yearly * (1 - values["p_alive"]))[mask]
    return SlippingAway(size=int(mask.sum()), candidates=int(candidates.sum()), p_alive_cut=p_alive_cut,
                        yearly_spend_at_stake=float(stake.sum()), past_spend=float(values["spend"][mask].sum()),
                        yearly_value_at_stake=float(stake.sum()) * (margin if margin is not None else 1.0)), mask


def analyze_lifetime(engine: Engine, first: date, end: date, horizon_days: int, margin: float | None,
                     clusters: pd.Series | None, rfm_labels: pd.Series | None, p_alive_cut: float = 0.5,
                     ) -> tuple[LifetimeResult, pd.DataFrame] | None:
    """The fitted models, their checks and every customer's value; None when too few came back to learn from."""
    import time

    t0 = time.perf_counter()
    summary = customer_summary(engine, end)
    repeat = int((summary["x"] > 0).sum())
    if len(summary) < MIN_CUSTOMERS or repeat < MIN_REPEAT:
        return None
    fit = fit_purchases(summary)
    check = holdout_check(engine, first, end, horizon_days)
    if check is None:
        return None
    spend = spend_check(summary)
    x, t_x, t = (summary[c].to_numpy() for c in ("x", "t_x", "t"))
    horizon = horizon_days / 7
    purchases = btyd.expected_purchases(fit.params, horizon, x, t_x, t)
    gg = btyd.fit_gamma_gamma(x, summary["m"].to_numpy()) if spend.gamma_gamma else None
    if gg is not None:
        per_purchase = btyd.expected_spend(gg.params, x, summary["m"].to_numpy())
    else:
        # Spend depends on frequency here: each customer's own mean (the first purchase's for one-off buyers).
        per_purchase = np.where(x > 0, summary["m"], summary["spend"])
    fits = math.isfinite(check.ranking_auc) and check.ranking_auc >= MIN_RANKING_AUC
    # Totals off by more than MAX_HOLDOUT_BIAS while the ranking holds: the values follow the holdout's totals.
    scale = 1 / (1 + check.error) if fits and math.isfinite(check.error) and abs(check.error) > MAX_HOLDOUT_BIAS \
        else 1.0
    purchases = purchases * scale
    value = purchases * per_purchase * (margin if margin is not None else 1.0)
    values = pd.DataFrame({"id": summary["id"], "x": x, "p_alive": btyd.p_alive(fit.params, x, t_x, t),
                           "expected_purchases": purchases, "expected_spend": per_purchase,
                           "expected_value": value, "spend": summary["spend"],
                           "tenure_days": summary["t"] * 7})
    slipping, mask = slipping_away(values, p_alive_cut, margin)
    values["slipping_away"] = mask
    segments: list[SegmentValue] = []
    if clusters is not None:
        segments += _segment_values(values, clusters.astype(str), "cluster")
    if rfm_labels is not None:
        segments += _segment_values(values, rfm_labels.astype(str), "rfm")
    notes = ("one_off_buyers",) if (summary["x"] == 0).mean() > 0.3 else ()
    result = LifetimeResult(
        model="bgnbd+gamma_gamma" if gg is not None else "bgnbd", horizon_days=horizon_days,
        value_basis="margin" if margin is not None else "revenue", margin=margin, bgnbd=_parameters(fit),
        gamma_gamma=_parameters(gg) if gg is not None else (), spend_check=spend, holdout=check,
        frequency_check=frequency_check(fit, summary), fits=fits, customers=len(summary), repeat_customers=repeat,
        expected_value=float(value.sum()), expected_purchases=float(purchases.sum()), value_scale=scale,
        segments=tuple(segments),
        slipping=slipping if fits else None, fit_seconds=time.perf_counter() - t0, notes=notes)
    return result, values


def customer_value_list(values: pd.DataFrame, clusters: pd.Series | None, cluster_names: dict[int, str],
                        rfm_labels: pd.Series | None) -> pd.DataFrame:
    """customer_value.csv: every customer by expected value, with their segment and whether they are slipping."""
    frame = pd.DataFrame({"customer_id": values["id"], "p_alive": values["p_alive"].round(4),
                          "expected_purchases": values["expected_purchases"].round(3),
                          "expected_value": values["expected_value"].round(2)})
    if clusters is not None:
        cid = clusters.reindex(values["id"]).to_numpy()
        frame["segment"] = [cluster_names.get(int(c), "") if pd.notna(c) else "" for c in cid]
    if rfm_labels is not None:
        frame["rfm_segment"] = rfm_labels.reindex(values["id"]).fillna("").to_numpy()
    frame["slipping_away"] = values["slipping_away"].to_numpy()
    return frame.sort_values("expected_value", ascending=False, kind="stable").reset_index(drop=True)
