"""Campaign history (issue #33): the store, the pooled segment lifts against simulated and planted truth, and
three campaigns read one after another into one folder."""

from __future__ import annotations

import json
import math
import multiprocessing
import shutil
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects

from campaign_report.analysis.demo import generate_demo, load_truth
from campaign_report.analysis.errors import UserError
from campaign_report.analysis.history.entry import build_history
from campaign_report.analysis.history.pooling import pool_lifts
from campaign_report.analysis.history.result import ArmOutcome, CampaignEntry, SegmentLift
from campaign_report.pipeline.campaigns import STORE, earlier_campaigns, rebuild, record_campaign
from campaign_report.pipeline.cli import main
from campaign_report.pipeline.report import run_report


def _entry(name: str, start: str, lift: float = 0.1, segments: tuple[SegmentLift, ...] = ()) -> CampaignEntry:
    arm = ArmOutcome(treatment="treatment", n_treatment=1000, rel_lift=lift, rel_ci_low=lift - 0.05,
                     rel_ci_high=lift + 0.05, abs_diff=10.0, ci_low=5.0, ci_high=15.0, p_adjusted=0.01, ci_level=0.95,
                     verdict="win", extra_revenue=10_000.0, extra_revenue_low=5_000.0, extra_revenue_high=15_000.0)
    return CampaignEntry(campaign_id=f"{name}|{start}|", name=name, start=start, end=None, primary="arpu",
                         control="control", n_control=1000, lead="treatment", verdict="win", interim=False,
                         inference="fixed_horizon", currency="₽", arms=(arm,), segments=segments, contacts=1000,
                         read=f"{start}T00:00:00")


# --- pooling against simulated truth ----------------------------------------------------------------------------

def _coverage(k: int, tau: float, reps: int, seed: int) -> tuple[float, float]:
    """Coverage of the true mean log ratio by our interval and by the normal-quantile DerSimonian–Laird one."""
    rng = np.random.default_rng(seed)
    mean = 0.2
    ours = plain = 0
    for _ in range(reps):
        se = rng.uniform(0.03, 0.12, size=k)
        estimate = mean + rng.normal(0, tau, size=k) + rng.normal(0, se)
        _, low, high, *_ = pool_lifts(estimate, se, 0.95)
        ours += low <= mean <= high
        fit = combine_effects(estimate, se ** 2, method_re="iterated")
        weights = 1 / (se ** 2 + max(float(fit.tau2), 0.0))
        centre, half = (weights * estimate).sum() / weights.sum(), 1.959964 / math.sqrt(weights.sum())
        plain += centre - half <= mean <= centre + half
    return ours / reps, plain / reps


@pytest.mark.parametrize("k,tau", [(3, 0.0), (3, 0.3), (5, 0.1)])
def test_pooled_interval_covers_the_mean_of_campaigns(k: int, tau: float) -> None:
    """With few campaigns that differ, the normal random-effects interval covers far less than 95 % (k = 3,
    τ = 0.3: about 81 %); the Hartung–Knapp interval used holds its level. Measured by simulation."""
    ours, plain = _coverage(k, tau, 1500, seed=k * 10 + int(tau * 10))
    assert ours >= 0.935, (ours, plain)
    if tau >= 0.1:
        assert plain < 0.92 < ours, (ours, plain)


def test_pooled_estimate_of_agreeing_campaigns_is_their_precision_weighted_mean() -> None:
    estimate, se = np.array([0.10, 0.12, 0.11]), np.array([0.05, 0.05, 0.05])
    mean, low, high, tau, i2, q_p = pool_lifts(estimate, se, 0.95)
    assert mean == pytest.approx(0.11, abs=1e-9)
    assert tau == 0.0 and i2 == 0.0 and q_p > 0.9
    assert low < 0.11 < high


# --- the store --------------------------------------------------------------------------------------------------

def test_a_rerun_replaces_its_entry_and_history_orders_by_window(tmp_path: Path) -> None:
    record_campaign(tmp_path, _entry("Summer", "2026-07-01", 0.1))
    record_campaign(tmp_path, _entry("Spring", "2026-04-01", 0.2))
    record_campaign(tmp_path, _entry("Summer", "2026-07-01", 0.3))  # the same campaign read again
    entries = earlier_campaigns(tmp_path)
    assert [e.name for e in entries] == ["Spring", "Summer"]
    assert entries[1].lead_arm.rel_lift == 0.3
    history = build_history(entries, _entry("Autumn", "2026-10-01", 0.25), 0.95)
    assert [c.name for c in history.campaigns] == ["Spring", "Summer", "Autumn"]
    assert history.rank == 2 and history.previous is not None and history.previous.name == "Summer"
    assert history.cumulative_revenue()[-1] == pytest.approx(30_000.0)
    assert math.isnan(history.cumulative_profit()[-1])  # no margin stated: spend is not profit


def _write(folder: str, index: int) -> None:
    for i in range(20):
        record_campaign(Path(folder), _entry(f"Campaign {index}-{i}", f"2026-0{1 + index}-{10 + i}"))


def test_two_runs_at_once_lose_no_entry(tmp_path: Path) -> None:
    record_campaign(tmp_path, _entry("First", "2026-01-01"))  # the store exists before both start
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=_write, args=(str(tmp_path), i)) for i in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(60)
    assert all(w.exitcode == 0 for w in workers)
    assert len(earlier_campaigns(tmp_path)) == 41


def test_a_damaged_store_is_one_line_and_rebuilt_from_the_runs(tmp_path: Path) -> None:
    entries = [_entry("Spring", "2026-04-01"), _entry("Summer", "2026-07-01")]
    run = tmp_path / "runs" / "20260801-000000-000000-1"
    run.mkdir(parents=True)
    (run / "results.json").write_text(json.dumps({"history": {"campaigns": [
        json.loads(json.dumps(e.to_dict())) for e in entries]}}), encoding="utf-8")
    (tmp_path / STORE).write_bytes(b"SQLite format 3\x00" + b"\x13" * 4096)
    with pytest.raises(UserError) as caught:
        earlier_campaigns(tmp_path)
    assert "\n" not in str(caught.value) and "--rebuild" in str(caught.value)
    assert rebuild(tmp_path) == 2
    assert [e.name for e in earlier_campaigns(tmp_path)] == ["Spring", "Summer"]
    assert (tmp_path / f"{STORE}.damaged").exists()


def test_entries_survive_a_round_trip_with_missing_numbers(tmp_path: Path) -> None:
    entry = _entry("Spring", "2026-04-01", segments=(SegmentLift("cluster", "A", 0.1, 0.0, 0.2, 0.95, 0.05, 500),))
    record_campaign(tmp_path, entry)
    (back,) = earlier_campaigns(tmp_path)
    assert back.segments == entry.segments and back.arms == entry.arms
    assert math.isnan(back.contact_cost) and math.isnan(back.uplift_qini)


# --- three campaigns, one folder --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def demo_series(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("series")
    generate_demo(data, n_customers=8000, seed=5, campaigns=3)
    root = Path(__file__).resolve().parents[1]
    config = (root / "config.toml").read_text(encoding="utf-8").replace("demo_data/", "")
    config = config.replace("#:schema campaign_report/schema/config.schema.json\n", "")
    (data / "campaign_october.toml").write_text(config.replace('output_dir = "output"', 'output_dir = "../output"'),
                                                encoding="utf-8")
    return data


def _run(config: Path, out: Path) -> dict:
    outcome = run_report(config, out)
    return json.loads((outcome.output_dir / "results.json").read_text(encoding="utf-8"))


def test_three_campaigns_give_a_history_whose_lifts_are_each_runs_own(demo_series: Path, tmp_path: Path) -> None:
    out = tmp_path / "output"
    own = {}
    for name in ("campaign_spring", "campaign_summer", "campaign_october"):
        results = _run(demo_series / f"{name}.toml", out)
        primary = next(m for m in results["experiment"]["metrics"] if m["metric"] == results["experiment"]["primary"])
        own[results["history"]["campaigns"][-1]["name"]] = (primary["rel_lift"], primary["rel_ci_low"],
                                                            primary["rel_ci_high"])
    history = results["history"]
    assert [c["name"] for c in history["campaigns"]] == ["Весенние скидки", "Летние скидки", "Осенние скидки"]
    for c in history["campaigns"]:
        assert (c["rel_lift"], c["ci_low"], c["ci_high"]) == own[c["name"]]  # identical, not close
    assert history["campaigns"][-1]["current"] and history["rank"] >= 1

    # The documents carry the history page and slide; the mail subject compares with the previous campaign.
    from pptx import Presentation

    slides = Presentation(str(out / "deck.pptx")).slides
    titles = [s.shapes.title.text.replace("\xa0", " ") for s in slides if s.shapes.title]
    assert any("из 3 кампаний" in t for t in titles), titles
    subject = json.loads((out / "email.json").read_text(encoding="utf-8"))["subject"].replace("\xa0", " ")
    # The decision and its number first (a phone shows ~40 characters), the previous campaign's lift next to it.
    previous = f"{100 * history['campaigns'][-2]['rel_lift']:+.1f}".replace(".", ",").replace("-", "−")
    assert subject.startswith("Победа: ARPU +") and f"(в прошлый раз {previous} %) — " in subject, subject

    # Planted truth: promo hunters respond in every campaign, premium customers never.
    truth = load_truth(demo_series)
    per_campaign = [c["arpu_rel_lift_by_type"]["promo_hunters"] for c in truth.earlier_campaigns or []]
    per_campaign.append((truth.arpu_rel_lift_by_type or {})["promo_hunters"])
    planted_mean = math.expm1(float(np.mean(np.log1p(per_campaign))))
    clusters = {p["segment"]: p for p in history["pooled"] if p["dimension"] == "cluster"}
    hunters = next(p for name, p in clusters.items() if name.startswith("Охотники за скидками"))
    assert hunters["responded"] == 3 and hunters["campaigns"] == 3
    assert hunters["ci_low"] <= planted_mean <= hunters["ci_high"]
    premium = next(p for name, p in clusters.items() if name.startswith("Крупные чеки"))
    assert premium["responded"] == 0 and premium["ci_low"] <= 0 <= premium["ci_high"]

    # A re-run adds nothing; pruning document folders keeps every entry; another folder starts clean.
    _run(demo_series / "campaign_october.toml", out)
    assert len(earlier_campaigns(out)) == 3
    shutil.rmtree(out / "runs", ignore_errors=True)
    (out / "current").unlink()
    assert len(earlier_campaigns(out)) == 3
    alone = _run(demo_series / "campaign_october.toml", tmp_path / "other")
    assert [c["name"] for c in alone["history"]["campaigns"]] == ["Осенние скидки"]


def test_history_cli_prints_and_exports(demo_series: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "output"
    for entry in (_entry("Spring", "2026-04-01", 0.2), _entry("Summer", "2026-07-01", 0.1)):
        record_campaign(out, entry)
    config = demo_series / "campaign_october.toml"
    assert main(["history", "--config", str(config), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Spring" in printed and "Summer" in printed
    csv = tmp_path / "history.csv"
    assert main(["history", "--config", str(config), "--out", str(out), "--csv", str(csv)]) == 0
    lines = csv.read_text(encoding="utf-8-sig").splitlines()
    assert len(lines) == 3 and "Spring" in lines[1]
    with sqlite3.connect(out / STORE) as db:
        db.execute("DROP TABLE campaigns")
        db.execute("CREATE TABLE campaigns (campaign_id TEXT PRIMARY KEY, entry TEXT)")
        db.execute("INSERT INTO campaigns VALUES ('x', 'not json')")
    assert main(["history", "--config", str(config), "--out", str(out)]) == 2


def test_money_in_different_currencies_is_not_added_up() -> None:
    import dataclasses

    spring = dataclasses.replace(_entry("Spring", "2026-04-01"), currency="$")
    history = build_history((spring,), _entry("Summer", "2026-07-01"), 0.95)
    assert not history.one_currency
    assert all(math.isnan(x) for x in history.cumulative_revenue())
