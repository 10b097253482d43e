"""generate_demo: the demo's files, written block by block of customers so that memory does not grow with size."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from campaign_report.analysis.demo.block import draw_block
from campaign_report.analysis.demo.campaigns import EARLIER, earlier_config
from campaign_report.analysis.demo.truth import PlantedTruth, Tally
from campaign_report.analysis.demo.world import (
    BANNER_DAY,
    BANNER_MULTIPLIER,
    CAMPAIGN_START,
    END,
    HOLDOUT_CITY,
    LABEL_FORMULA,
    TYPES,
)

# Customers per block. Up to this size the data come from one block (the demo and the tests' data are what
# they always were); beyond it, blocks of equal size, each with its own random stream, keep the generator's
# memory at about that of one block (≈ 0.6 GB) however many customers are asked for.
BLOCK_CUSTOMERS = 50_000
FIRST_CUSTOMER_ID = 100_001
FIRST_ORDER_ID = 5_000_001


def generate_demo(out_dir: str | Path, n_customers: int = 20_000, seed: int = 2026,
                  campaigns: int = 1) -> PlantedTruth:
    """Write customers.csv, transactions.csv, assignment.csv and planted_truth.json to out_dir.

    `campaigns` > 1 adds that many minus one earlier e-mail tests (EARLIER, the latest ones), each with its
    assignment_<key>.csv and a config campaign_<key>.toml that reads it into ../output: the campaign history.
    Their purchases come from a random stream of their own, so the October data are the same without them.
    Planted dirt (duplicated lines, negative amounts, customers in both groups, the typo) is planted in every
    block; the truth counts all of it."""
    if not 1 <= campaigns <= 1 + len(EARLIER):
        raise ValueError(f"campaigns: 1 to {1 + len(EARLIER)}")
    if n_customers < 100:
        raise ValueError("n_customers: at least 100")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / ".complete").unlink(missing_ok=True)
    earlier = EARLIER[len(EARLIER) - (campaigns - 1):] if campaigns > 1 else ()
    sizes = [len(part) for part in np.array_split(np.arange(n_customers), -(-n_customers // BLOCK_CUSTOMERS))]
    tally = Tally()
    labels, p_declines = [], []
    first_id, order_id = FIRST_CUSTOMER_ID, FIRST_ORDER_ID
    for index, size in enumerate(sizes):
        # Block 0 draws from the seed's own stream (the single-block data sets of before); later blocks from
        # streams spawned from (seed, index), independent of each other and of block 0.
        rng = np.random.default_rng(seed if index == 0 else [seed, index])
        earlier_rng = np.random.default_rng(seed + 1000 if index == 0 else [seed + 1000, index])
        block = draw_block(rng, earlier_rng, first_id, size, order_id, earlier, seed, tally)
        first_id, order_id = first_id + size, block.next_order_id
        append = {"mode": "w" if index == 0 else "a", "header": index == 0, "index": False}
        block.transactions.to_csv(out / "transactions.csv", **append)
        block.customers.to_csv(out / "customers.csv", **append)
        block.assignment.to_csv(out / "assignment.csv", **append)
        block.truth_customers.to_csv(out / "truth_customers.csv", **append)
        for key, frame in block.earlier_assignments.items():
            frame.to_csv(out / f"assignment_{key}.csv", **append)
        labels.append(block.label)
        p_declines.append(block.p_decline)
        del block
    for campaign in earlier:
        (out / f"campaign_{campaign.key}.toml").write_text(earlier_config(campaign), encoding="utf-8")

    from sklearn.metrics import roc_auc_score  # local: only the generator needs it here

    label, p_decline = np.concatenate(labels), np.concatenate(p_declines)
    conv0, conv1 = tally.mean("conv0"), tally.mean("conv1")
    rev0, rev1 = tally.mean("rev0"), tally.mean("rev1")
    counts = tally.counts
    truth = PlantedTruth(
        n_customers=n_customers, n_lines=counts["lines"], seed=seed,
        type_shares={t.key: counts[f"type:{t.key}"] / n_customers for t in TYPES},
        experiment_size=counts["experiment"],
        conversion_rel_lift=conv1 / conv0 - 1,
        average_check_rel_lift=(rev1 / tally.mean("orders1")) / (rev0 / tally.mean("orders0")) - 1,
        arpu_rel_lift=rev1 / rev0 - 1, conversion_abs_lift=conv1 - conv0, arpu_abs_lift=rev1 - rev0,
        banner_day=BANNER_DAY, banner_rel_lift=BANNER_MULTIPLIER - 1,
        label_formula=LABEL_FORMULA, label_drivers=("recency_days", "orders", "promo_share"),
        label_rate=float(label.mean()), true_label_auc=float(roc_auc_score(label, p_decline)),
        gender_missing_share=counts["gender_missing"] / n_customers, holdout_city=HOLDOUT_CITY,
        campaign_start=CAMPAIGN_START.isoformat(), campaign_end=END.isoformat(),
        duplicated_lines=counts["duplicated"], typo_lines=counts["typos"], typo_value="Обувьь",
        negative_amount_lines=counts["negative"], customers_in_both_groups=counts["both"],
        uplift_by_type={t.key: tally.mean(f"uplift:{t.key}") for t in TYPES},
        earlier_campaigns=[{"key": c.key, "name": c.name, "start": c.start.isoformat(), "end": c.end.isoformat(),
                            "arpu_rel_lift_by_type": {t.key: tally.mean(f"{c.key}:extra:{t.key}")
                                                      / tally.mean(f"{c.key}:usual:{t.key}") for t in TYPES}}
                           for c in earlier],
        arpu_rel_lift_by_type={t.key: tally.mean(f"rev1:{t.key}") / tally.mean(f"rev0:{t.key}") - 1 for t in TYPES},
    )
    (out / "planted_truth.json").write_text(json.dumps(asdict(truth), ensure_ascii=False, indent=2),
                                            encoding="utf-8")
    (out / ".complete").write_text(str(seed))
    return truth

