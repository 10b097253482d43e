"""The Python API: config in code, analyze -> Results, DataFrames, notebook HTML, render; errors raise."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

import campaign_report as cr
from tests.conftest import ROOT


def _demo_dict(data_dir: Path) -> dict:
    return {
        "report": {"title": "API", "language": "en", "currency": "₽"},
        "data": {
            "transactions": {"path": str(data_dir / "transactions.csv"), "customer_id": "customer_id",
                             "date": "date", "amount": "amount", "order_id": "order_id", "category": "category"},
            "experiment": {"path": str(data_dir / "assignment.csv"), "customer_id": "customer_id",
                           "group": "group", "control": "control"},
        },
        "experiment": {"start": "2026-10-01", "end": "2026-10-31", "metrics": ["conversion", "arpu"],
                       "primary": "arpu"},
        "segments": {"k": 3},
    }


@pytest.fixture(scope="module")
def api_results(small_demo: Path) -> cr.Results:
    return cr.analyze(cr.config_from_dict(_demo_dict(small_demo)))


def test_analyze_from_a_dict_gives_results_with_frames(api_results):
    assert isinstance(api_results, cr.Results)
    metrics = api_results.experiment.to_frame()
    assert isinstance(metrics, pd.DataFrame) and {"metric", "rel_lift", "ci_low", "p_value"} <= set(metrics.columns)
    assert len(metrics) == len(api_results.experiment.metrics)
    assert metrics["rel_lift"].tolist() == [m.rel_lift for m in api_results.experiment.metrics]
    clusters = api_results.to_frame("segments.clusters")
    assert clusters["size"].sum() == api_results.segments.n_customers
    assert "experiment.by_segment" in api_results.frames() and "data_quality.tables" in api_results.frames()
    with pytest.raises(KeyError, match="tables:"):
        api_results.to_frame("experiment.nothing")


def test_notebook_html(api_results):
    page = api_results._repr_html_()
    assert "<table" in page and "ExperimentResult" in page and "SegmentsResult" in page
    assert "<table" in api_results.experiment._repr_html_()


def test_render_writes_every_document(api_results, tmp_path):
    files = cr.render(api_results, tmp_path / "out")
    assert {"results.json", "brief.pdf", "deck.pptx", "email.json"} <= set(files)
    assert all(p.stat().st_size > 0 for p in files.values())
    assert not list((tmp_path / "out").glob("**/.staging-*"))


def test_errors_are_exceptions_with_the_cli_message(tmp_path):
    with pytest.raises(cr.ConfigError, match="unknown section \\[reprot\\]"):
        cr.config_from_dict({"reprot": {}})
    config = cr.config_from_dict({"report": {"title": "t"}, "data": {"transactions": {
        "path": str(tmp_path / "missing.csv"), "customer_id": "c", "date": "d", "amount": "a"}}}, tmp_path)
    with pytest.raises(cr.UserError) as err:
        cr.analyze(config)
    assert "missing.csv" in str(err.value) and "\n" not in str(err.value)


def test_load_config_and_dict_agree(small_demo, tmp_path):
    from tests.conftest import demo_config, write_config

    loaded = cr.load_config(write_config(tmp_path, demo_config(small_demo, tmp_path / "o")))
    assert loaded.tables["transactions"].roles["amount"] == "amount"


def test_module_runs_as_command():
    done = subprocess.run([sys.executable, "-m", "campaign_report", "--version"], capture_output=True, text=True,
                          cwd=ROOT / "tests")
    assert done.returncode == 0 and done.stdout.startswith("campaign-report ")
