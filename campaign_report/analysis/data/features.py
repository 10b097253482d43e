"""Customer features from purchase lines, aggregated inside the engine (one row per customer comes back).

Features, as of the day after the last purchase line in the data (`as_of`):
- recency_days: days from the customer's last purchase to as_of;
- orders: distinct orders (frequency);
- monetary: total amount; average_check: monetary / orders;
- tenure_days: days from the first purchase to as_of;
- promo_share: share of lines bought on promotion (when a promo flag is configured);
- cat_share::<category>, brand_share::<brand>: share of the customer's spend (top categories/brands,
  the rest pooled as "прочее").
Experiment outcomes for the campaign window and the CUPED pre-period are computed here as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from campaign_report.analysis.engines.base import Engine, sql_ident, sql_literal

MAX_CATEGORIES = 12
MAX_BRANDS = 10
CAT_PREFIX = "cat_share::"
BRAND_PREFIX = "brand_share::"


@dataclass(frozen=True)
class CustomerFeatures:
    frame: pd.DataFrame  # one row per customer, column "id" first
    as_of: date
    first_date: date
    categories: tuple[str, ...]
    brands: tuple[str, ...]
    has_promo: bool


def _top_values(engine: Engine, column: str, limit: int) -> list[str]:
    # Ties broken by name: the same columns on every engine.
    rows = engine.rows(f"SELECT {column}, sum(amount) s FROM tx WHERE {column} IS NOT NULL "
                       f"GROUP BY 1 ORDER BY s DESC, 1 LIMIT {limit}")
    return [r[0] for r in rows]


def build_customer_features(engine: Engine, customer_ids: pd.Series | None,
                            table: str = "tx", as_of: pd.Timestamp | None = None) -> CustomerFeatures:
    """Aggregate purchase lines to one row per customer; customers without purchases get zeros.

    `table` may be a view of tx cut at a date (for a target derived from the future); `as_of` defaults
    to the day after the last line.
    """
    first, last = engine.rows(f"SELECT min(date), max(date) FROM {table}")[0]
    if as_of is None:
        as_of = pd.Timestamp(last) + pd.Timedelta(days=1)
    categories = _top_values(engine, "category", MAX_CATEGORIES)
    brands = _top_values(engine, "brand", MAX_BRANDS)
    has_promo = engine.scalar(f"SELECT count(promo) FROM {table}") > 0
    share_sql = [f"sum(amount) FILTER (WHERE category = {sql_literal(c)}) / sum(amount) AS "
                 f"{sql_ident(CAT_PREFIX + c)}" for c in categories]
    share_sql += [f"sum(amount) FILTER (WHERE brand = {sql_literal(b)}) / sum(amount) AS "
                  f"{sql_ident(BRAND_PREFIX + b)}" for b in brands]
    promo_sql = ", avg(promo) AS promo_share" if has_promo else ""
    as_of_sql = f"DATE {sql_literal(as_of.strftime('%Y-%m-%d'))}"
    query = f"""
        SELECT customer_id AS id,
               date_diff('day', max(date), {as_of_sql}) AS recency_days,
               count(DISTINCT order_id) AS orders,
               sum(amount) AS monetary,
               sum(amount) / count(DISTINCT order_id) AS average_check,
               date_diff('day', min(date), {as_of_sql}) AS tenure_days
               {promo_sql}
               {''.join(', ' + s for s in share_sql)}
        FROM {table} GROUP BY customer_id ORDER BY customer_id"""
    frame = engine.frame(query)
    share_cols = [c for c in frame.columns if c.startswith((CAT_PREFIX, BRAND_PREFIX))]
    frame[share_cols] = frame[share_cols].fillna(0.0)
    if customer_ids is not None:
        frame = pd.DataFrame({"id": customer_ids.astype(str)}).merge(frame, on="id", how="left")
        no_purchase = frame["orders"].isna()
        span = (as_of - pd.Timestamp(first)).days
        zero_cols = ["orders", "monetary", *share_cols]
        frame.loc[no_purchase, zero_cols] = 0.0
        frame.loc[no_purchase, ["recency_days", "tenure_days"]] = float(span)
    for col in ("recency_days", "orders", "tenure_days"):
        frame[col] = frame[col].astype(float)
    return CustomerFeatures(frame=frame, as_of=as_of.date(), first_date=pd.Timestamp(first).date(),
                            categories=tuple(categories), brands=tuple(brands), has_promo=has_promo)


def experiment_outcomes(engine: Engine, assigned: str, window: tuple[date, date] | None,
                        name: str = "exp_units") -> int:
    """View `name`: per assigned customer, conversion, orders and revenue in the campaign window and in
    the pre-period; returns the pre-period length in days.

    `assigned` is an engine table with customer_id and grp; outcome columns it carries (converted,
    orders, revenue, pre_revenue: an export with outcomes already computed) win over the purchase lines,
    a missing value counting as none. `window` is None when there are no purchase lines. The pre-period
    (the CUPED covariate) is the 3x-as-long span right before start, at least 28 days: long enough to
    correlate with the outcome, short enough to describe current behaviour.
    """
    pre_days = 0
    if window is None:
        engine.view("_exp_tx", f"SELECT DISTINCT customer_id, 0 AS orders, CAST(0 AS DOUBLE) AS revenue, "
                               f"0 AS pre_orders, CAST(0 AS DOUBLE) AS pre_revenue FROM {assigned}")
    else:
        start, end = window
        pre_days = max(3 * ((end - start).days + 1), 28)
        pre_start = pd.Timestamp(start) - pd.Timedelta(days=pre_days)
        s, e, p = (sql_literal(pd.Timestamp(x).strftime("%Y-%m-%d")) for x in (start, end, pre_start))
        during, pre = f"t.date BETWEEN DATE {s} AND DATE {e}", f"t.date >= DATE {p} AND t.date < DATE {s}"
        engine.view("_exp_tx", f"""
            SELECT a.customer_id,
              count(DISTINCT t.order_id) FILTER (WHERE {during}) AS orders,
              coalesce(sum(t.amount) FILTER (WHERE {during}), 0) AS revenue,
              count(DISTINCT t.order_id) FILTER (WHERE {pre}) AS pre_orders,
              coalesce(sum(t.amount) FILTER (WHERE {pre}), 0) AS pre_revenue
            FROM (SELECT DISTINCT customer_id FROM {assigned}) a LEFT JOIN tx t ON t.customer_id = a.customer_id
            GROUP BY a.customer_id""")
    given = set(engine.schema(f"SELECT * FROM {assigned}"))

    def outcome(col: str) -> str:
        return f"coalesce(CAST(a.{col} AS DOUBLE), 0)" if col in given else f"CAST(o.{col} AS DOUBLE)"

    bought = outcome("orders") if window is not None else outcome("revenue")
    converted = "coalesce(CAST(a.converted AS DOUBLE), 0)" if "converted" in given else \
        f"CAST(CASE WHEN {bought} > 0 THEN 1 ELSE 0 END AS DOUBLE)"
    # An export with a conversion flag but no order count: a buyer made at least one order.
    orders = outcome("orders") if "orders" in given else f"greatest({outcome('orders')}, {converted})"
    # Materialised: the sums query reads it twice (overall and per segment); Spark would recompute the join.
    engine.table(name, f"""
        SELECT a.customer_id, a.grp, {converted} AS converted, {orders} AS orders,
               {outcome('revenue')} AS revenue,
               CAST(CASE WHEN o.pre_orders > 0 THEN 1 ELSE 0 END AS DOUBLE) AS pre_converted,
               CAST(o.pre_orders AS DOUBLE) AS pre_orders, {outcome('pre_revenue')} AS pre_revenue
        FROM {assigned} a LEFT JOIN _exp_tx o ON o.customer_id = a.customer_id""")
    return pre_days


def purchase_gaps(engine: Engine, table: str = "tx") -> tuple[dict[int, int], int]:
    """The shop's own purchase cycle: each returning customer's usual gap between purchase days (the span from
    first to last purchase over the gaps in it, in whole days), as a histogram over customers (days -> count),
    and the number of those customers. One value per customer, so frequent buyers do not outvote the rest."""
    rows = engine.rows(f"""
        WITH days AS (SELECT DISTINCT customer_id, date FROM {table}),
        usual AS (SELECT floor(CAST(date_diff('day', min(date), max(date)) AS DOUBLE) / (count(*) - 1) + 0.5) AS gap
                  FROM days GROUP BY customer_id HAVING count(*) > 1)
        SELECT CAST(gap AS BIGINT), count(*) FROM usual GROUP BY 1""")
    counts = {int(gap): int(n) for gap, n in rows}
    return counts, sum(counts.values())
