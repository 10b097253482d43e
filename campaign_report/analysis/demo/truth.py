"""What the demo planted, as tests read it: `PlantedTruth` (planted_truth.json), summed block by block."""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass(frozen=True)
class PlantedTruth:
    n_customers: int
    n_lines: int
    seed: int
    type_shares: dict[str, float]
    experiment_size: int
    conversion_rel_lift: float
    average_check_rel_lift: float
    arpu_rel_lift: float
    conversion_abs_lift: float
    arpu_abs_lift: float
    banner_day: int
    banner_rel_lift: float
    label_formula: str
    label_drivers: tuple[str, ...]
    label_rate: float
    true_label_auc: float
    gender_missing_share: float
    holdout_city: str
    campaign_start: str
    campaign_end: str
    duplicated_lines: int
    typo_lines: int
    typo_value: str
    negative_amount_lines: int
    customers_in_both_groups: int
    uplift_responders: str = "promo_hunters"  # the type that responds most to the e-mail
    uplift_non_responders: str = "premium"  # the type that does not respond at all
    uplift_by_type: dict[str, float] | None = None  # expected ARPU uplift per customer of each type (in ₽)
    # October's expected relative ARPU lift per type, and each earlier campaign's (generate_demo(campaigns=…)).
    arpu_rel_lift_by_type: dict[str, float] | None = None
    earlier_campaigns: list[dict] | None = None



class Tally:
    """Sums and counts of the expected values, added up over the blocks of customers, so that every mean in the
    truth is over the whole population while no block holds more than its own customers."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.counts: dict[str, int] = defaultdict(int)

    def add(self, key: str, values: np.ndarray, where: np.ndarray) -> None:
        self.sums[key] += float(values[where].sum())
        self.counts[key] += int(where.sum())

    def count(self, key: str, n: int) -> None:
        self.counts[key] += n

    def mean(self, key: str) -> float:
        return self.sums[key] / self.counts[key]


def load_truth(data_dir: str | Path) -> PlantedTruth:
    """Read planted_truth.json written by generate_demo."""
    raw = json.loads((Path(data_dir) / "planted_truth.json").read_text(encoding="utf-8"))
    raw["label_drivers"] = tuple(raw["label_drivers"])
    return PlantedTruth(**raw)
