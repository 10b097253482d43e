"""What the user's data means, decided once at load: every analysis and every sentence reads this.

Which roles exist (order ids, categories, brands, a promo flag, customer traits, an experiment), what the
label's positive class is for the business (a bad outcome such as decline or churn, a good one such as a
purchase, or not stated: neutral words), and which money exists (revenue from purchases, a profit column
and its unit, a stated margin). Nothing here is guessed from a word of the data: a label's meaning is what
the config states (`positive_is`), a margin is what the config states; what is absent is recorded as absent
so that the documents can say so instead of showing a placeholder.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from campaign_report.analysis.config import Config
from campaign_report.analysis.data.acquisition import AcquisitionStop
from campaign_report.analysis.data.large_lines import LargeLines
from campaign_report.analysis.engines.base import Engine

NOT_TRAITS = {"id", "label", "profit", "gender_imputed"}  # customer columns that do not describe the customer


@dataclass(frozen=True)
class LabelMeaning:
    """What the model predicts: the positive class of a label column, or the derived "no purchase" target."""

    source: str  # "label" (a column of the customers table) | "derived" (no purchase in horizon_days)
    column: str  # the label column as the user's file names it ("" for the derived target)
    positive: str  # the value that counts as the outcome ("" for the derived target)
    positive_is: str  # "bad" (decline, churn: retain) | "good" (purchase, response: contact) | "neutral"
    horizon_days: int | None = None  # the derived target's horizon

    @property
    def outcome_is_bad(self) -> bool:
        return self.positive_is == "bad"


@dataclass(frozen=True)
class MoneyMeaning:
    """Which money the data hold. "Profit" is said only of a profit column or of revenue × a stated margin."""

    revenue: bool  # purchase amounts (or revenue outcomes of the experiment) exist
    profit_column: str | None  # the customers' profit column, as the user's file names it
    profit_unit: str | None  # its unit when it is not the report's currency ("тыс. ₽", "points")
    margin: float | None  # stated share of revenue that is profit
    currency: str

    @property
    def value_basis(self) -> str:
        """What a customer's value is: "profit" (a profit column), "margin" (spend × the stated margin),
        "revenue" (spend: said as revenue, never as profit) or "none"."""
        if self.profit_column is not None:
            return "profit"
        if self.revenue and self.margin is not None:
            return "margin"
        return "revenue" if self.revenue else "none"

    @property
    def profit_is_money(self) -> bool:
        """Profit figures print with the currency: unless the profit column has a unit of its own."""
        return self.value_basis == "margin" or (self.value_basis == "profit" and self.profit_unit is None)


@dataclass(frozen=True)
class DataMeaning:
    transactions: bool
    order_ids: bool  # without them an order is one customer's purchases of one day
    categories: bool  # purchase lines carry a category with at least one value
    brands: bool
    promo: bool
    customers: bool
    customer_traits: tuple[str, ...]  # customer columns that describe customers (not the id, label, profit)
    experiment: bool
    label: LabelMeaning | None  # what the model predicts, when a model runs
    money: MoneyMeaning
    # The purchase log stops having first-time buyers while its orders go on (a cohort, or ids written wrongly):
    # repeat purchases, recency and the value check are read with it.
    acquisition_stop: AcquisitionStop | None = None
    # Purchase lines that each carry a large share of revenue (kept): revenue shares are read with them.
    large_lines: LargeLines | None = None
    consent: bool = False  # a customer column says who may be messaged: lists mark them, contact steps count them


def _has_values(engine: Engine, column: str) -> bool:
    return bool(engine.scalar(f"SELECT count({column}) FROM tx") > 0)


def describe_data(config: Config, engine: Engine, customers: pd.DataFrame | None,
                  assignment: pd.DataFrame | None, has_tx: bool,
                  acquisition_stop: AcquisitionStop | None = None,
                  large_lines: LargeLines | None = None) -> DataMeaning:
    """The meaning of the cleaned inputs (tx in the engine, customers and assignment frames)."""
    tx = config.tables.get("transactions")
    cust = config.tables.get("customers")

    def present(role: str) -> bool:
        return has_tx and tx is not None and tx.column(role) is not None and _has_values(engine, role)

    label = None
    if config.propensity is not None and cust is not None and cust.column("label") is not None:
        label = LabelMeaning(source="label", column=cust.column("label") or "", positive=str(cust.option("positive")),
                             positive_is=cust.option("positive_is") or "neutral")
    elif config.propensity is not None and has_tx:
        # No purchase in the horizon: a lapse, a bad outcome by construction (the config asked for it).
        label = LabelMeaning(source="derived", column="", positive="", positive_is="bad",
                             horizon_days=config.propensity.horizon_days)
    profit_column = cust.column("profit") if cust is not None and customers is not None and "profit" in customers \
        and customers["profit"].notna().any() else None
    revenue = has_tx or (assignment is not None and "revenue" in assignment and assignment["revenue"].notna().any())
    money = MoneyMeaning(revenue=bool(revenue), profit_column=profit_column,
                         profit_unit=cust.option("profit_unit") if cust is not None else None,
                         margin=config.margin, currency=config.report.currency)
    traits = tuple(c for c in customers.columns if c not in NOT_TRAITS) if customers is not None else ()
    return DataMeaning(transactions=has_tx, order_ids=present("order_id"), categories=present("category"),
                       brands=present("brand"), promo=present("promo"), customers=customers is not None,
                       customer_traits=traits, experiment=assignment is not None, label=label, money=money,
                       acquisition_stop=acquisition_stop, large_lines=large_lines,
                       consent=customers is not None and "consent" in customers and customers["consent"].notna().any())
