"""When the customers of a purchase log were first seen: does the log stop having new customers while orders go on?

A shop gains customers every week. When a log's last weeks hold orders but no customer who buys for the first
time, although first-time buyers made a large share of the orders just before, either the log is one cohort
(the customers first seen in its opening weeks, followed on: a design) or the customer ids after that date were
written wrongly (an export that maps every new order onto an old id). The two cannot be told apart from the
data, and neither is deleted: the documents say what was seen, what it would mean, and which figures rest on it
(repeat purchases, recency, the value model's check all count returns that may not be returns).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from campaign_report.analysis.data.clean import QualityIssue
from campaign_report.analysis.engines.base import Engine, sql_literal

# Flag only what cannot be chance and matters: at the earlier rate, the quiet tail should have held at least this
# many first-time buyers (P(0) = e^-10 under a Poisson count) ...
MIN_EXPECTED_NEW = 10.0
# ... and first-time buyers made at least this share of the orders before it. A fixed customer base seen from a
# window's start has first-seen customers thinning out smoothly (0.3 % of the demo's orders in its last months):
# their absence changes no figure and is not flagged.
MIN_SHARE_NEW = 0.10


@dataclass(frozen=True)
class AcquisitionStop:
    """The log stops having first-time buyers at `last_new`; its orders go on until `last_date`."""

    kind: str  # "cohort" (new customers only in the log's first half) | "stopped" (after a long run of them)
    first_date: str  # ISO dates, as everywhere in results.json
    last_new: str  # the last day on which a customer bought for the first time
    last_date: str
    tail_orders: int  # orders after last_new: every one by a customer first seen on or before it
    tail_lines: int  # purchase lines after last_new
    share_new_before: float  # share of orders by first-time buyers in a window as long as the tail, before it
    expected_new: float  # first-time orders the tail would hold at that share

    @property
    def tail_days(self) -> int:
        return (date.fromisoformat(self.last_date) - date.fromisoformat(self.last_new)).days

    @property
    def first_quiet_day(self) -> str:
        return (date.fromisoformat(self.last_new) + timedelta(days=1)).isoformat()


def find_acquisition_stop(engine: Engine, table: str = "tx") -> AcquisitionStop | None:
    """The stop in first-time buyers, when it is neither chance nor immaterial; None for a log that keeps gaining
    customers to its end (or thins out smoothly, as a fixed base does)."""
    # An order is a customer's purchase day: the check needs no order ids and means the same with or without them.
    days = f"SELECT DISTINCT customer_id, date FROM {table}"
    firsts = f"SELECT customer_id, min(date) AS first FROM ({days}) AS d GROUP BY customer_id"
    bounds = engine.rows(f"SELECT min(first), max(first), (SELECT max(date) FROM {table}) FROM ({firsts}) AS f")
    if not bounds or bounds[0][1] is None:
        return None
    first_date, last_new, last_date = (_as_date(v) for v in bounds[0])
    if last_date <= last_new:
        return None
    # The window before the quiet tail, as long as it (or from the log's first day): (before_start, last_new].
    before_start = max(first_date - timedelta(days=1), last_new - (last_date - last_new))
    new, start = f"DATE {sql_literal(last_new.isoformat())}", f"DATE {sql_literal(before_start.isoformat())}"
    tail_orders, before_orders, before_new, tail_lines = (int(v or 0) for v in engine.rows(f"""
        SELECT count(*) FILTER (WHERE d.date > {new}),
               count(*) FILTER (WHERE d.date <= {new} AND d.date > {start}),
               count(*) FILTER (WHERE d.date <= {new} AND d.date > {start} AND d.date = f.first),
               (SELECT count(*) FROM {table} WHERE date > {new})
        FROM ({days}) AS d JOIN ({firsts}) AS f ON d.customer_id = f.customer_id""")[0])
    if not before_orders:
        return None
    share = before_new / before_orders
    expected = tail_orders * share
    if expected < MIN_EXPECTED_NEW or share < MIN_SHARE_NEW:
        return None
    # A cohort gains its customers in the log's opening part and follows them for longer than that; a log that
    # gained customers for most of its span and then none did not start as a cohort.
    kind = "cohort" if (last_new - first_date) <= (last_date - last_new) else "stopped"
    return AcquisitionStop(kind=kind, first_date=first_date.isoformat(), last_new=last_new.isoformat(),
                           last_date=last_date.isoformat(),
                           tail_orders=tail_orders, tail_lines=tail_lines, share_new_before=float(share),
                           expected_new=float(expected))


def _as_date(value: object) -> date:
    """Engines return a DATE as a date, a datetime or a pandas Timestamp."""
    return value.date() if isinstance(value, datetime) else value  # type: ignore[return-value]


def acquisition_issue(stop: AcquisitionStop, date_column: str | None) -> QualityIssue:
    """The data-quality row: the orders after the last first-time buyer, kept ("cohort" is said as a fact of
    the data, "stopped" as a warning whose figures rest on it)."""
    return QualityIssue(f"no_new_customers_{stop.kind}", date_column, stop.tail_lines,
                        "kept" if stop.kind == "cohort" else "flagged")
