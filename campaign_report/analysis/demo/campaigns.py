"""The demo's earlier campaigns (the campaign history, issue #33): what was planted in each, and the config that
reads it. block.py draws their purchases."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True)
class EarlierCampaign:
    """An e-mail test before October (issue #33's history): treated customers of a type make one extra order in
    the window with the given probability. Promo hunters respond every time, premium customers never; youth and
    family in one campaign each."""

    key: str
    name: str
    start: date
    end: date
    extra_order: dict[str, float]
    arm: str  # the treatment group's name in the documents, as October's "Осенняя рассылка"


EARLIER = (
    EarlierCampaign("spring", "Весенние скидки", date(2026, 4, 1), date(2026, 4, 30),
                    {"promo_hunters": 0.65, "premium": 0.0, "youth": 0.25, "family": 0.0}, "Весенняя рассылка"),
    EarlierCampaign("summer", "Летние скидки", date(2026, 7, 1), date(2026, 7, 31),
                    {"promo_hunters": 0.60, "premium": 0.0, "youth": 0.0, "family": 0.25}, "Летняя рассылка"),
)


def earlier_config(campaign: EarlierCampaign) -> str:
    """The config of an earlier campaign: its readout only (segments for the per-segment lifts), into the same
    output folder as the October report, so that its history shows them."""
    return f'''# An earlier campaign of the demo: `make report` reads it before config.toml (campaign history).
[report]
title = "Email-кампания «{campaign.name}», {campaign.start:%m.%Y}"
language = "ru"
currency = "₽"
output_dir = "../output"

[report.names]
treatment = "{campaign.arm}"
control = "Контроль (без рассылки)"

[data.customers]
path = "customers.csv"
id = "customer_id"
age = "age"
gender = "gender"
city = "city"

[data.transactions]
path = "transactions.csv"
customer_id = "customer_id"
date = "date"
amount = "amount"
order_id = "order_id"
category = "category"
brand = "brand"
promo = "is_promo"

[data.experiment]
path = "assignment_{campaign.key}.csv"
customer_id = "customer_id"
group = "group"
control = "control"

[experiment]
name = "{campaign.name}"
start = "{campaign.start.isoformat()}"
end = "{campaign.end.isoformat()}"
metrics = ["conversion", "average_check", "arpu"]
primary = "arpu"
segment_by = ["cluster", "rfm", "city"]

[segments]
k = "auto"
rfm = true

[uplift]
enabled = false
cost_per_contact = 15.0
margin = 0.3

[lifetime]
enabled = false
'''
