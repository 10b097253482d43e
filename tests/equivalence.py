"""One check for "the same data through two engines gives the same report numbers"."""

from __future__ import annotations

import numpy as np
import pytest


def assert_same_report(duck_run, other_run) -> None:
    """Experiment numbers to 1e-9, identical RFM/cluster sizes, cleaning record, co-purchase pairs and
    model; target-list probabilities within 1e-4 (the model sees features equal up to summation order)."""
    duck, other = duck_run, other_run
    duck_list, other_list = duck.target_list, other.target_list
    a, b = duck.experiment, other.experiment
    assert [g.n for g in a.groups] == [g.n for g in b.groups]
    assert len(a.metrics) == len(b.metrics) and len(a.by_segment) == len(b.by_segment) > 0
    for m1, m2 in [*zip(a.metrics, b.metrics, strict=True), *zip(a.by_segment, b.by_segment, strict=True)]:
        for field in ("control_value", "treatment_value", "abs_diff", "rel_lift", "ci_low", "ci_high", "p_value",
                      "p_adjusted"):
            x, y = getattr(m1, field), getattr(m2, field)
            assert abs(x - y) <= 1e-9 * max(1.0, abs(x)), (m1.metric, field, x, y)
    assert a.srm.chi2 == pytest.approx(b.srm.chi2, rel=1e-12)
    assert a.decision.verdict == b.decision.verdict
    assert a.observational[0].rel_effect == pytest.approx(b.observational[0].rel_effect, rel=1e-9)
    assert [(s.name, s.size) for s in duck.rfm.segments] == [(s.name, s.size) for s in other.rfm.segments]
    clusters = [[(c.size, c.name_ru) for c in run.segments.clusters] for run in (duck, other)]
    assert clusters[0] == clusters[1]
    assert [(q.name, q.rows_in, q.rows_out, q.issues) for q in duck.data_quality] == \
        [(q.name, q.rows_in, q.rows_out, q.issues) for q in other.data_quality]
    assert duck.offers.pairs == other.offers.pairs
    assert duck.propensity.features == other.propensity.features  # same columns, same numeric types
    assert duck.propensity.best == other.propensity.best
    assert duck.propensity.holdout.roc_auc == pytest.approx(other.propensity.holdout.roc_auc, abs=1e-6)
    merged = duck_list.merge(other_list, on="customer_id", suffixes=("_d", "_o"))
    assert len(merged) == len(duck_list) == len(other_list)
    assert np.abs(merged["probability_d"] - merged["probability_o"]).max() <= 1e-4
