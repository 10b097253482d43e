"""Purchase lines so large that one of them moves every revenue share: flagged and kept, never deleted.

A line of 1,000 units where a usual line has two is a wholesale order or a typed-in quantity; the data cannot tell
which. Deleting it would hide a real customer's purchase, keeping it silently lets one line decide which segment
"brings the most revenue". So it is kept, and the documents say so where revenue shares are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from campaign_report.analysis.data.clean import QualityIssue
from campaign_report.analysis.engines.base import Engine

# A line is flagged when it alone carries this share of all revenue ...
MIN_REVENUE_SHARE = 0.05
# ... and is this many times the median line: a large basket in a small log is not an anomaly.
MIN_TIMES_MEDIAN = 100.0


@dataclass(frozen=True)
class LargeLine:
    customer_id: str
    date: str  # ISO date, as everywhere in results.json
    amount: float
    quantity: float | None  # units on the line, when the data has quantities
    unit_price: float | None  # amount / quantity, with the quantity
    product: str | None
    revenue_share: float


@dataclass(frozen=True)
class LargeLines:
    """The flagged lines, largest first (at most 1 / MIN_REVENUE_SHARE of them), and what they weigh together."""

    lines: tuple[LargeLine, ...]
    count: int
    revenue_share: float
    median_amount: float

    def by_customer(self) -> dict[str, float]:
        """The flagged amount per customer: what comes off a segment's revenue when the lines are set aside."""
        amounts: dict[str, float] = {}
        for line in self.lines:
            amounts[line.customer_id] = amounts.get(line.customer_id, 0.0) + line.amount
        return amounts

    @property
    def times_median(self) -> float:
        return self.lines[0].amount / self.median_amount if self.median_amount > 0 else float("inf")


def find_large_lines(engine: Engine, table: str = "tx") -> LargeLines | None:
    """Lines that each carry MIN_REVENUE_SHARE of revenue and MIN_TIMES_MEDIAN the median line; None if none."""
    total, median = engine.rows(f"SELECT sum(amount), median(amount) FROM {table}")[0]
    if not total or not median or total <= 0:
        return None
    floor = max(MIN_REVENUE_SHARE * float(total), MIN_TIMES_MEDIAN * float(median))
    rows = engine.rows(f"SELECT customer_id, date, amount, quantity, product FROM {table} "
                       f"WHERE amount >= {floor!r} ORDER BY amount DESC")
    if not rows:
        return None
    lines = tuple(LargeLine(customer_id=str(r[0]), date=_iso(r[1]), amount=float(r[2]),
                            quantity=float(r[3]) if r[3] is not None and r[3] > 0 else None,
                            unit_price=float(r[2]) / float(r[3]) if r[3] is not None and r[3] > 0 else None,
                            product=str(r[4]) if r[4] is not None else None,
                            revenue_share=float(r[2]) / float(total)) for r in rows)
    return LargeLines(lines=lines, count=len(rows), revenue_share=sum(float(r[2]) for r in rows) / float(total),
                      median_amount=float(median))


def _iso(value: object) -> str:
    """Engines return a DATE as a date, a datetime or a pandas Timestamp."""
    day = value.date() if isinstance(value, datetime) else value
    return day.isoformat() if isinstance(day, date) else str(day)[:10]


def large_lines_issue(found: LargeLines, amount_column: str | None) -> QualityIssue:
    """The data-quality row: the lines kept, with the largest amount against the median line."""
    return QualityIssue("large_line", amount_column, found.count, "flagged",
                        maximum=found.lines[0].amount, median=found.median_amount)
