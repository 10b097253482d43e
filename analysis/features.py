"""Customer features from purchase lines, aggregated inside DuckDB (one row per customer comes back).

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

import duckdb
import pandas as pd

from analysis.load import sql_ident, sql_literal

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


def _top_values(con: duckdb.DuckDBPyConnection, column: str, limit: int) -> list[str]:
    rows = con.execute(f"SELECT {column}, sum(amount) s FROM tx WHERE {column} IS NOT NULL "
                       f"GROUP BY 1 ORDER BY s DESC LIMIT {limit}").fetchall()
    return [r[0] for r in rows]


def build_customer_features(con: duckdb.DuckDBPyConnection, customer_ids: pd.Series | None,
                            table: str = "tx", as_of: pd.Timestamp | None = None) -> CustomerFeatures:
    """Aggregate purchase lines to one row per customer; customers without purchases get zeros.

    `table` may be a view of tx cut at a date (for a target derived from the future); `as_of` defaults
    to the day after the last line.
    """
    first, last = con.execute(f"SELECT min(date), max(date) FROM {table}").fetchall()[0]
    if as_of is None:
        as_of = pd.Timestamp(last) + pd.Timedelta(days=1)
    categories = _top_values(con, "category", MAX_CATEGORIES)
    brands = _top_values(con, "brand", MAX_BRANDS)
    has_promo = con.execute(f"SELECT count(promo) FROM {table}").fetchall()[0][0] > 0
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
        FROM {table} GROUP BY customer_id"""
    frame = con.execute(query).df()
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


def experiment_outcomes(con: duckdb.DuckDBPyConnection, assignment: pd.DataFrame, start: date, end: date,
                        ) -> pd.DataFrame:
    """Per assigned customer: conversion, orders and revenue in [start, end] and in the pre-period.

    The pre-period (the CUPED covariate) is the 3x-as-long span right before start, at least 28 days:
    long enough to correlate with the outcome, short enough to describe current behaviour.
    """
    days = (end - start).days + 1
    pre_start = pd.Timestamp(start) - pd.Timedelta(days=max(3 * days, 28))
    con.register("_assigned", assignment[["customer_id"]])
    s, e, p = (sql_literal(pd.Timestamp(x).strftime("%Y-%m-%d")) for x in (start, end, pre_start))
    frame = con.execute(f"""
        SELECT a.customer_id,
          count(DISTINCT t.order_id) FILTER (WHERE t.date BETWEEN DATE {s} AND DATE {e}) AS orders,
          coalesce(sum(t.amount) FILTER (WHERE t.date BETWEEN DATE {s} AND DATE {e}), 0) AS revenue,
          count(DISTINCT t.order_id) FILTER (WHERE t.date >= DATE {p} AND t.date < DATE {s}) AS pre_orders,
          coalesce(sum(t.amount) FILTER (WHERE t.date >= DATE {p} AND t.date < DATE {s}), 0) AS pre_revenue
        FROM _assigned a LEFT JOIN tx t ON t.customer_id = a.customer_id
        GROUP BY a.customer_id""").df()
    con.unregister("_assigned")
    frame["converted"] = (frame["orders"] > 0).astype(float)
    frame["pre_converted"] = (frame["pre_orders"] > 0).astype(float)
    for col in ("orders", "revenue", "pre_orders", "pre_revenue"):
        frame[col] = frame[col].astype(float)
    return frame
