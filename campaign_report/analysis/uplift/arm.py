"""One treatment arm: candidates cross-fitted and compared, the chosen one's curve, deciles, decision."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from campaign_report.analysis.settings import UpliftConfig
from campaign_report.analysis.uplift.curves import (
    GRID,
    bootstrap_weights,
    curve_and_area,
    deciles,
    gain_at,
    sorted_by_score,
    top_share_uplift,
)
from campaign_report.analysis.uplift.learners import SIMPLICITY, UpliftLearner, cross_fitted
from campaign_report.analysis.uplift.result import (
    Comparison,
    CurvePoint,
    UpliftArm,
    UpliftCandidate,
    UpliftDecile,
    UpliftDecision,
)

COMPARE_SHARE = 0.3  # the share compared with propensity targeting when the decision is all or nothing


@dataclass(frozen=True)
class ArmData:
    """The arm's customers (control and this treatment): features, group, outcome."""

    treatment: str
    outcome: str
    x: np.ndarray
    treated: np.ndarray
    y: np.ndarray
    features: tuple[str, ...]
    propensity: np.ndarray  # the score propensity targeting would rank by (higher = contacted first)
    propensity_basis: str
    # The A/B readout's effect per customer on this outcome and its interval (low, high), when it measured one.
    measured: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class Economics:
    population: int  # customers the decision is for
    value_per_unit: float  # money per unit of outcome (1 for revenue; per conversion; per order)
    cost_per_contact: float
    margin: float
    value_per_conversion: float | None
    margin_stated: bool = True


SPLITS = 40  # random halvings for the honest estimate of the chosen share's profit (and as many resamples)


def _profits(gains: np.ndarray, econ: Economics) -> np.ndarray:
    """Profit of contacting each share (0 and the grid) from gains per customer: (reps × 1 + grid)."""
    shares = np.concatenate([[0.0], GRID])
    full = np.concatenate([np.zeros((gains.shape[0], 1)), gains], axis=1)
    return full * econ.population * econ.value_per_unit * econ.margin - shares * econ.population * \
        econ.cost_per_contact


def honest_profit(score: np.ndarray, treated: np.ndarray, y: np.ndarray, econ: Economics, confidence: float,
                  seed: int) -> tuple[float, tuple[float, float]]:
    """The profit of the most profitable share, measured where it was not chosen: the customers are halved at
    random, the share is chosen on one half and its profit measured on the other (both ways), averaged over
    many halvings; the interval repeats that on bootstrap resamples. Choosing the best of twenty shares on the
    same data that measure it overstates its profit (tests/test_uplift.py: by 5.0k on a true 1.5k with 4,000
    customers); this estimate's error there is −0.2k ± 0.5k."""
    t, yy = sorted_by_score(score, treated, y)
    n = len(t)
    rng = np.random.default_rng(seed)

    def one(weights: np.ndarray, half: np.ndarray) -> float:
        a, b = _profits(gain_at(t, yy, np.stack([weights * half, weights * ~half]), GRID), econ)
        return float((b[np.argmax(a)] + a[np.argmax(b)]) / 2)

    point = float(np.mean([one(np.ones(n), rng.random(n) < 0.5) for _ in range(SPLITS)]))
    boot = [one(rng.poisson(1.0, n).astype(float), rng.random(n) < 0.5) for _ in range(SPLITS * 5)]
    tail = (1 - confidence) / 2 * 100
    return point, (float(np.percentile(boot, tail)), float(np.percentile(boot, 100 - tail)))


def decide(gain: np.ndarray, boot_gain: np.ndarray, heterogeneous: bool, econ: Economics,
           confidence: float) -> UpliftDecision:
    """The contact share with the largest expected profit. A top share wins over the better of everyone
    and no one only when its extra profit is beyond chance (paired bootstrap); else, and whenever no
    subgroup stands out, the choice is all or nothing — and when contacting everyone's profit is not beyond
    chance either way, the decision is "unproven": a point estimate must not send (or stop) a campaign the
    test could not tell from no effect."""
    shares = np.concatenate([[0.0], GRID])

    def profit_of(g: np.ndarray) -> np.ndarray:
        revenue = g * econ.population * econ.value_per_unit
        return revenue * econ.margin - shares * econ.population * econ.cost_per_contact

    gains = np.concatenate([[0.0], gain])
    profit = profit_of(gains)
    boot = profit_of(np.concatenate([np.zeros((len(boot_gain), 1)), boot_gain], axis=1))
    plain = 0 if profit[0] >= profit[-1] else len(shares) - 1  # everyone or no one
    best = int(np.argmax(profit)) if heterogeneous else plain
    tail = (1 - confidence) / 2 * 100
    extra = boot[:, best] - boot[:, plain]
    extra_ci = (float(np.percentile(extra, tail)), float(np.percentile(extra, 100 - tail)))
    chosen = best if best == plain or extra_ci[0] > 0 else plain
    everyone_ci = (float(np.percentile(boot[:, -1], tail)), float(np.percentile(boot[:, -1], 100 - tail)))
    share = float(shares[chosen])
    rule = "no_one" if share == 0 else "everyone" if share == 1 else "top_share"
    if rule != "top_share" and everyone_ci[0] <= 0 <= everyone_ci[1]:
        rule, share, chosen = "unproven", 0.0, 0
    contacts = int(round(share * econ.population))
    money = gains * econ.population * econ.value_per_unit
    return UpliftDecision(
        contact_share=share, contacts=contacts, population=econ.population,
        incremental=float(gains[chosen] * econ.population), incremental_money=float(money[chosen]),
        profit=float(profit[chosen]), everyone_incremental=float(gains[-1] * econ.population),
        everyone_money=float(money[-1]), everyone_profit=float(profit[-1]),
        contacts_saved=econ.population - contacts, cost_per_contact=econ.cost_per_contact, margin=econ.margin,
        value_per_conversion=econ.value_per_conversion, margin_stated=econ.margin_stated, rule=rule,
        best_share=float(shares[best]),
        targeting_gain=float(profit[best] - profit[plain]), targeting_gain_ci=extra_ci,
        everyone_profit_ci=everyone_ci)


def anchor_everyone(decision: UpliftDecision, measured: tuple[float, float, float], econ: Economics,
                    ) -> UpliftDecision:
    """Contacting everyone is what the A/B test itself measured: the forecast of it is computed from the
    readout's effect and interval (variance-reduced), the figure the report quotes for the arm, not from the
    uplift curve's end (the same comparison without the adjustment): one figure, one value. Whether contacting
    everyone pays, does not or is unproven is then read off that interval; a chosen top share stands."""
    effect, low, high = measured

    def profit_of(per_customer: float) -> float:
        return (per_customer * econ.population * econ.value_per_unit * econ.margin
                - econ.population * econ.cost_per_contact)

    everyone_profit, everyone_ci = profit_of(effect), (profit_of(low), profit_of(high))
    rule = decision.rule
    if rule != "top_share":
        rule = "unproven" if everyone_ci[0] <= 0 <= everyone_ci[1] else \
            "everyone" if everyone_profit > 0 else "no_one"
    everyone_incremental = effect * econ.population
    fields: dict[str, object] = dict(
        everyone_incremental=everyone_incremental, everyone_money=everyone_incremental * econ.value_per_unit,
        everyone_profit=everyone_profit, everyone_profit_ci=everyone_ci, everyone_basis="experiment", rule=rule)
    if rule != "top_share":
        contacts = econ.population if rule == "everyone" else 0
        fields.update(contact_share=1.0 if rule == "everyone" else 0.0, contacts=contacts,
                      contacts_saved=econ.population - contacts,
                      incremental=everyone_incremental if contacts else 0.0,
                      incremental_money=everyone_incremental * econ.value_per_unit if contacts else 0.0,
                      profit=everyone_profit if contacts else 0.0)
    return dataclasses.replace(decision, **fields)  # type: ignore[arg-type]


def analyze_arm(data: ArmData, settings: UpliftConfig, confidence: float, econ: Economics,
                ) -> tuple[UpliftArm, UpliftLearner]:
    """Compare the learners on held-out customers, describe the winner, and refit it on the whole arm."""
    binary = data.outcome == "conversion"
    x, t, y = data.x, data.treated, data.y
    oof, seconds = cross_fitted(settings.models, x, t, y, binary, settings.folds, settings.seed)
    weights = bootstrap_weights(len(y), settings.bootstrap, settings.seed)
    tail = (1 - confidence) / 2 * 100
    measured = {}
    for kind, score in oof.items():
        measured[kind] = curve_and_area(score, t, y, weights)
    candidates = tuple(UpliftCandidate(
        model=k, qini=m[1], qini_ci=(float(np.percentile(m[3], tail)), float(np.percentile(m[3], 100 - tail))),
        top30=top_share_uplift(oof[k], t, y, 0.3), fit_seconds=seconds[k]) for k, m in measured.items())
    ranked = sorted(candidates, key=lambda c: (-c.qini, SIMPLICITY[c.model]))
    best = ranked[0]
    runner = ranked[1] if len(ranked) > 1 else ranked[0]
    paired = measured[best.model][3] - measured[runner.model][3]
    diff_ci = (float(np.percentile(paired, tail)), float(np.percentile(paired, 100 - tail)))
    why = "only_candidate" if len(ranked) == 1 else "largest_qini" if diff_ci[0] > 0 else \
        "largest_qini_not_distinguishable"
    gain, qini, boot_gain, _ = measured[best.model]
    heterogeneous = best.qini_ci[0] > 0
    band_low, band_high = np.percentile(boot_gain, tail, axis=0), np.percentile(boot_gain, 100 - tail, axis=0)
    propensity_gain = curve_and_area(data.propensity, t, y, weights[:1])[0]
    average = float(gain[-1])
    curve = tuple(CurvePoint(share=float(s), gain=float(g), low=float(lo), high=float(hi), random=float(s * average),
                             propensity=float(p))
                  for s, g, lo, hi, p in zip(GRID, gain, band_low, band_high, propensity_gain, strict=True))
    decision = decide(gain, boot_gain, heterogeneous, econ, confidence)
    if data.measured is not None:
        decision = anchor_everyone(decision, data.measured, econ)
    if decision.rule == "top_share":
        honest, honest_ci = honest_profit(oof[best.model], t, y, econ, confidence, settings.seed)
        decision = dataclasses.replace(decision, honest_profit=honest, honest_profit_ci=honest_ci)
    share = decision.contact_share if 0 < decision.contact_share < 1 else COMPARE_SHARE
    at = int(np.argmin(np.abs(GRID - share)))

    def captured(g: float) -> float:
        return float(g / average) if average > 0 else float("nan")

    comparison = Comparison(basis=data.propensity_basis, share=share, uplift_captured=captured(gain[at]),
                            propensity_captured=captured(propensity_gain[at]), uplift_incremental=float(gain[at]),
                            propensity_incremental=float(propensity_gain[at]))
    arm = UpliftArm(
        treatment=data.treatment, outcome=data.outcome, model=best.model, why=why, runner_up=runner.model,
        qini_difference_ci=diff_ci, candidates=candidates, qini=qini, qini_ci=best.qini_ci,
        heterogeneous=heterogeneous,
        average_effect=data.measured[0] if data.measured is not None else average,
        n_treatment=int(t.sum()), n_control=int((~t).sum()),
        features=data.features, curve=curve,
        deciles=tuple(UpliftDecile(*row) for row in deciles(oof[best.model], t, y, confidence)),
        decision=decision, comparison=comparison, confidence=confidence)
    learner = UpliftLearner(best.model, binary, settings.seed, members=settings.models).fit(x, t, y)
    return arm, learner
