"""A purchase log that stops having new customers is flagged, not cut: planted shops (one that keeps gaining
customers, one whose export writes new orders onto old ids, a cohort, a fixed base seen from a window's start),
and the documents of the public e-commerce log, whose new customers stop in November 2019."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from campaign_report.analysis.data.acquisition import find_acquisition_stop
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from tests.conftest import DATASETS, ROOT
from tests.test_wording import pdf_pages

START = pd.Timestamp("2024-01-01")


def _shop(days: int = 400, arrivals_per_day: float = 4.0, acquire_until: int | None = None,
          misfile_from: int | None = None, seed: int = 1) -> pd.DataFrame:
    """Customers arrive each day (until `acquire_until`) and come back every ~40 days. From `misfile_from` on, the
    export writes a newcomer's orders onto a random earlier customer's id: the orders go on, the new ids stop."""
    rng = np.random.default_rng(seed)
    rows = []
    next_id = 0
    for day in range(acquire_until if acquire_until is not None else days):
        for _ in range(rng.poisson(arrivals_per_day)):
            visit = float(day)
            while visit < days:
                rows.append((next_id, int(visit)))
                visit += rng.exponential(40.0)
            next_id += 1
    lines = pd.DataFrame(rows, columns=["customer", "day"])
    if misfile_from is not None:
        first = lines.groupby("customer")["day"].transform("min")
        late = first >= misfile_from
        earlier = lines.loc[~late, "customer"].unique()
        # every newcomer is written as one earlier customer: all of their orders move together
        newcomers = lines.loc[late, "customer"].unique()
        alias = dict(zip(newcomers, rng.choice(earlier, size=len(newcomers)), strict=True))
        lines.loc[late, "customer"] = lines.loc[late, "customer"].map(alias)
    return lines


def _fixed_base(customers: int = 3000, days: int = 365, seed: int = 2) -> pd.DataFrame:
    """Every customer existed before the window opened: first-seen dates thin out, none is new."""
    rng = np.random.default_rng(seed)
    rows = [(c, int(d)) for c in range(customers) for d in np.cumsum(rng.exponential(30.0, size=40)) if d < days]
    return pd.DataFrame(rows, columns=["customer", "day"])


def _stop(lines: pd.DataFrame):
    engine = DuckDBEngine()
    frame = pd.DataFrame({"customer_id": lines["customer"].astype(str),
                          "date": (START + pd.to_timedelta(lines["day"], unit="D")).dt.date})
    engine.register("_lines", frame)
    engine.table("tx", "SELECT customer_id, CAST(date AS DATE) AS date FROM _lines")
    try:
        return find_acquisition_stop(engine)
    finally:
        engine.close()


def test_a_shop_that_keeps_gaining_customers_is_not_flagged():
    for seed in range(5):
        assert _stop(_shop(seed=seed)) is None


def test_new_orders_written_onto_old_ids_are_flagged_where_they_start():
    stop = _stop(_shop(misfile_from=300))
    assert stop is not None and stop.kind == "stopped"
    assert 296 <= (pd.Timestamp(stop.last_new) - START).days <= 299  # the last true newcomer, before the error
    assert stop.tail_days >= 99 and stop.share_new_before > 0.1 and stop.expected_new > 10


def test_a_cohort_followed_on_is_said_as_a_cohort():
    stop = _stop(_shop(acquire_until=60, days=500))
    assert stop is not None and stop.kind == "cohort"
    assert (pd.Timestamp(stop.last_new) - START).days <= 59


def test_a_fixed_base_seen_from_the_window_start_is_not_flagged():
    # first-seen customers thin out to a fraction of a percent of orders: nothing any figure rests on
    assert _stop(_fixed_base()) is None


def test_a_short_quiet_end_is_chance_and_not_flagged():
    # a log cut the day after its last newcomer: a day without one is chance, not a stop
    lines = _shop(days=400)
    last_new = lines.groupby("customer")["day"].min().max()
    assert _stop(lines[lines["day"] <= last_new + 1]) is None


def test_the_ecommerce_log_says_new_customers_stopped(tmp_path):
    if not (DATASETS / "ecom_profiles").is_dir():
        pytest.skip("shared/datasets/ecom_profiles not present")
    from campaign_report.pipeline.report import run_report

    out = run_report(ROOT / "examples" / "ecom_profiles" / "config.toml", tmp_path).output_dir
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    stop = results["meaning"]["acquisition_stop"]
    assert stop["kind"] == "stopped" and stop["last_new"] == "2019-10-31"
    issues = [i["kind"] for q in results["data_quality"]["tables"] for i in q["issues"]]
    assert "no_new_customers_stopped" in issues
    page1 = " ".join(pdf_pages(out / "brief.pdf")[0].split())
    # Page 1 leads with checking the export, and says why, once (the step, not a caveat beside it as well).
    lead = "Проверить выгрузку идентификаторов клиентов: с 01.11.2019 в данных нет ни одного нового клиента"
    assert page1.count("01.11.2019 в данных нет ни одного нового клиента") == 2  # the lead box and step 1
    assert page1.index(lead) < page1.index("Что делать дальше")
