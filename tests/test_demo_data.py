"""The demo generator: written block by block (issue #35), every block a whole set of customers, the truth summed
over blocks, memory bounded by one block."""

from __future__ import annotations

import tracemalloc

import pandas as pd
import pytest

from campaign_report.analysis.demo import generate, generate_demo


@pytest.fixture()
def small_blocks(monkeypatch):
    monkeypatch.setattr(generate, "BLOCK_CUSTOMERS", 1000)


def test_blocks_make_one_consistent_data_set(small_blocks, tmp_path):
    truth = generate_demo(tmp_path, n_customers=2500, seed=3, campaigns=2)  # three blocks: 834 + 833 + 833
    lines = pd.read_csv(tmp_path / "transactions.csv")
    customers = pd.read_csv(tmp_path / "customers.csv")
    assignment = pd.read_csv(tmp_path / "assignment.csv")
    assert customers["customer_id"].tolist() == list(range(100_001, 102_501))
    assert set(lines["customer_id"]) <= set(customers["customer_id"])
    assert len(lines) == truth.n_lines
    # An order belongs to one customer and one day, across blocks too.
    per_order = lines.groupby("order_id")[["customer_id", "date"]].nunique()
    assert (per_order == 1).all().all()
    # The dirt of every block is counted: three blocks, 60 duplicated lines and 8 two-group customers each.
    assert truth.duplicated_lines == 180 and lines.duplicated().sum() >= 180
    assert truth.negative_amount_lines == 75 == (lines["amount"] < 0).sum()
    two_groups = assignment.groupby("customer_id")["group"].nunique()
    assert truth.customers_in_both_groups == 24 == (two_groups > 1).sum()
    assert truth.experiment_size == assignment["customer_id"].nunique()
    assert len(pd.read_csv(tmp_path / "assignment_summer.csv")) > 0.6 * truth.experiment_size
    # Blocks draw from different streams: no block repeats another's customers' purchases.
    block_totals = lines.assign(block=(lines["customer_id"] - 100_001) // 834).groupby("block")["amount"].sum()
    assert block_totals.nunique() == 3


def test_truth_is_the_same_population_mean_however_the_customers_are_split(tmp_path, monkeypatch):
    one = generate_demo(tmp_path / "one", n_customers=3000, seed=4)
    monkeypatch.setattr(generate, "BLOCK_CUSTOMERS", 1000)
    three = generate_demo(tmp_path / "three", n_customers=3000, seed=4)
    # Different draws, same world: the planted effects agree to their sampling noise.
    assert three.arpu_rel_lift == pytest.approx(one.arpu_rel_lift, abs=0.05)
    assert three.label_rate == pytest.approx(one.label_rate, abs=0.03)
    assert sum(three.type_shares.values()) == pytest.approx(1.0)


def test_memory_is_that_of_one_block(small_blocks, tmp_path):
    def peak(customers: int) -> int:
        tracemalloc.start()
        generate_demo(tmp_path / str(customers), n_customers=customers, seed=1)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    one_block, eight_blocks = peak(1000), peak(8000)
    assert eight_blocks < 1.5 * one_block, (one_block, eight_blocks)
