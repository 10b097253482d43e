"""Which groups a readout compares: labels are never merged, the split is a named mapping, the control
is never guessed, and the documents say which groups were compared."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import campaign_report as cr
from campaign_report.analysis.errors import ConfigError, InputError


def _experiment_file(folder: Path, arms: dict[str, tuple[int, float]], seed: int = 0) -> Path:
    """An experiment file with outcome columns: arm -> (customers, conversion rate)."""
    rng = np.random.default_rng(seed)
    parts = []
    for arm, (n, rate) in arms.items():
        converted = rng.random(n) < rate
        parts.append(pd.DataFrame({"group": arm, "converted": converted.astype(int),
                                   "revenue": np.round(converted * rng.lognormal(7, 0.6, n), 2)}))
    frame = pd.concat(parts, ignore_index=True).sample(frac=1, random_state=seed)
    frame.insert(0, "customer_id", np.arange(len(frame)) + 1)
    path = folder / "experiment.csv"
    frame.to_csv(path, index=False)
    return path


def _analyze(folder: Path, experiment: dict, control: str | None = "control"):
    table = {"path": "experiment.csv", "customer_id": "customer_id", "group": "group", "converted": "converted",
             "revenue": "revenue"}
    if control is not None:
        table["control"] = control
    config = cr.config_from_dict({"report": {"title": "t", "language": "en"}, "data": {"experiment": table},
                                  "experiment": {"metrics": ["conversion", "arpu"], "primary": "conversion",
                                                 **experiment}}, folder=folder)
    return cr.analyze(config)


def test_a_small_third_arm_is_not_merged_into_its_neighbour(tmp_path):
    """control / v1 / v2 at 50 / 46 / 4 %: v2 is one edit from v1 and 11× rarer. Before, its customers
    were merged into v1, v1 showed no effect and v2's ×3 effect vanished."""
    _experiment_file(tmp_path, {"control": (10_000, 0.05), "v1": (9_200, 0.05), "v2": (800, 0.15)})
    results = _analyze(tmp_path, {"expected_split": {"control": 0.5, "v1": 0.46, "v2": 0.04}})
    exp = results.experiment
    assert {g.name: g.n for g in exp.groups} == {"control": 10_000, "v1": 9_200, "v2": 800}
    assert exp.srm.ok
    verdicts = {d.treatment: d.verdict for d in exp.decisions}
    assert verdicts == {"v1": "no_detectable_effect", "v2": "win"}
    issues = [i for q in results.data_quality for i in q.issues if i.kind == "near_duplicate_group"]
    assert issues and issues[0].action == "kept" and "v2" in issues[0].detail


def test_a_holdout_labelled_1_and_0_keeps_its_control(tmp_path):
    """A 95 / 5 holdout labelled 1 / 0: before, "0" was merged into "1" and the run stopped with
    "control group value not found"."""
    _experiment_file(tmp_path, {"1": (9_500, 0.12), "0": (500, 0.10)})
    exp = _analyze(tmp_path, {"expected_split": {"1": 0.95, "0": 0.05}}, control="0").experiment
    assert [(g.name, g.n, g.expected_share) for g in exp.groups] == [("0", 500, 0.05), ("1", 9_500, 0.95)]
    assert exp.srm.ok and exp.control == "0"


def test_groups_outside_expected_split_are_listed_not_compared(tmp_path):
    _experiment_file(tmp_path, {"control": (5_000, 0.1), "treatment": (5_000, 0.12), "pilot": (300, 0.2)})
    results = _analyze(tmp_path, {"expected_split": {"control": 0.5, "treatment": 0.5}})
    exp = results.experiment
    assert [g.name for g in exp.groups] == ["control", "treatment"]
    assert [(g.name, g.n) for g in exp.not_compared] == [("pilot", 300)]
    assert [d.treatment for d in exp.decisions] == ["treatment"]
    from campaign_report.renderers.view import build_view

    text = " ".join(p for s in build_view(results).sections for p in s.paragraphs)
    assert "Not compared (these groups are not in the test's planned split): “pilot” (300\xa0customers)." in text


def test_without_expected_split_every_group_is_compared_at_equal_shares(tmp_path):
    _experiment_file(tmp_path, {"control": (4_000, 0.1), "a1": (4_000, 0.1), "a2": (4_000, 0.1)})
    exp = _analyze(tmp_path, {}).experiment
    assert [g.expected_share for g in exp.groups] == pytest.approx([1 / 3] * 3)


def test_a_missing_control_is_an_error_naming_the_groups(tmp_path):
    """Before, the alphabetically first group silently became the control."""
    _experiment_file(tmp_path, {"email": (3_000, 0.1), "sms": (3_000, 0.1)})
    with pytest.raises(ConfigError, match=r"control is not set.*'email' \(3,000\), 'sms' \(3,000\)"):
        _analyze(tmp_path, {}, control=None)


def test_a_control_not_in_the_data_names_the_groups_found(tmp_path):
    _experiment_file(tmp_path, {"control": (3_000, 0.1), "treatment": (3_000, 0.1)})
    with pytest.raises(InputError, match=r"control group value not found \(groups: 'control'.*'treatment'"):
        _analyze(tmp_path, {}, control="Control")


def test_expected_split_names_must_exist(tmp_path):
    _experiment_file(tmp_path, {"control": (3_000, 0.1), "treatment": (3_000, 0.1)})
    with pytest.raises(InputError, match=r"expected_split names groups that are not in the data.*'treatmnt'"):
        _analyze(tmp_path, {"expected_split": {"control": 0.5, "treatmnt": 0.5}})


@pytest.mark.parametrize(("split", "message"), [
    ([0.5, 0.5], "must name each group's share"),
    ({"control": 0.5, "treatment": 0.6}, "shares sum to 1.1, not 1"),
    ({"control": 1.0}, "between 0 and 1"),
    ({"control": 0.5, "treatment": "half"}, "must be a number between 0 and 1"),
    ({"control": 1 - 1e-9}, "needs the control and at least one treatment"),
])
def test_expected_split_is_validated(tmp_path, split, message):
    with pytest.raises(ConfigError, match=message):
        _analyze(tmp_path, {"expected_split": split})


def test_family_is_validated(tmp_path):
    with pytest.raises(ConfigError, match="family"):
        _analyze(tmp_path, {"family": "secondary"})


def test_primary_family_states_its_size_and_keeps_secondary_metrics_apart(tmp_path):
    _experiment_file(tmp_path, {"control": (5_000, 0.1), "a1": (5_000, 0.13), "a2": (5_000, 0.1)})
    exp = _analyze(tmp_path, {"family": "primary"}).experiment
    assert exp.family == "primary" and exp.family_size == 2
    assert {m.family_size for m in exp.metrics} == {2}
    both = _analyze(tmp_path, {"family": "all"}).experiment
    assert both.family_size == 4
    primary = {m.treatment: m for m in exp.metrics if m.metric == "conversion"}
    everything = {m.treatment: m for m in both.metrics if m.metric == "conversion"}
    assert primary["a1"].mde < everything["a1"].mde  # a smaller family buys power


def test_mixed_decision_reaches_the_subject_line(tmp_path):
    _experiment_file(tmp_path, {"control": (6_000, 0.10), "up": (6_000, 0.14), "down": (6_000, 0.06)})
    results = _analyze(tmp_path, {})
    assert results.experiment.decision.verdict == "mixed"
    from campaign_report.renderers.view import build_view

    view = build_view(results)
    assert view.email_subject == "Mixed — t"  # the decision first: a phone shows ~40 characters
    assert view.summary.verdicts[0].code == "mixed"
    assert "“up” up, “down” down" in view.summary.verdicts[0].sentence


@pytest.mark.parametrize("sequential, first_rate", [(False, 0.115), (True, 0.13)])
def test_the_verdict_sentence_shows_the_interval_at_the_deciding_adjustment(tmp_path, sequential, first_rate):
    """Before: "No detectable effect … +29.5 % (95 % CI +3.8 % … +61.5 %), p 0.107" — an adjusted p beside an
    unadjusted interval. Now the sentence's interval is the one at the level of its adjusted p-value, for the
    fixed-horizon test and the confidence sequence alike."""
    from campaign_report.renderers.format import Formatter
    from campaign_report.renderers.view import build_view

    _experiment_file(tmp_path, {"control": (6_000, 0.10), "a1": (6_000, first_rate), "a2": (6_000, 0.112)}, seed=3)
    results = _analyze(tmp_path, {"sequential": sequential})
    f = Formatter("en", "₽")
    view = build_view(results)
    for verdict in view.summary.verdicts:
        m = next(x for x in results.experiment.metrics if x.treatment == verdict.treatment and x.metric == "conversion")
        assert f"{f.percent(m.rel_ci_low, 1, sign=True)} … {f.percent(m.rel_ci_high, 1, sign=True)}" in verdict.sentence
        # Every interval out of a corrected family of several is labelled "adjusted", even at Holm's last step
        # where its level is the plain one: side by side, "adjusted CI" and "95% CI" read as two methods.
        corrected = results.experiment.correction != "none" and m.family_size > 1
        assert ("adjusted CI" in verdict.sentence) == corrected and ("95% CI" in verdict.sentence) != corrected
        assert (m.rel_ci_low > 0 or m.rel_ci_high < 0) == m.significant
    assert any(abs(m.ci_level - 0.95) > 1e-9 for m in results.experiment.metrics)
