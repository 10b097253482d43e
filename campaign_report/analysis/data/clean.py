"""Type and clean the raw tables, recording every fix.

Rules (each counted and listed in the data-quality appendix):
- a value that cannot be parsed in a typed role column is an error naming file, column, row, value;
- rows missing a required role (ids, dates, amounts, groups) are dropped;
- exact duplicate rows are dropped;
- purchase lines with amount <= 0 (returns, corrections) and dates after today are dropped;
- ages outside 0-110 become missing;
- a rare categorical value one edit away from a value at least 10x as common is merged into it
  ("стандартт" -> "стандарт"); values further away are kept;
- customers assigned to more than one experiment group are excluded from the experiment.
Purchase lines are cleaned inside the engine; the customer and experiment tables are small and go to pandas.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from campaign_report.analysis.config import TableSource
from campaign_report.analysis.data.load import RawTable, normalise_name
from campaign_report.analysis.data.typer import Typer, number_sql
from campaign_report.analysis.engines.base import Engine, sql_ident, sql_literal
from campaign_report.analysis.errors import InputError


@dataclass(frozen=True)
class QualityIssue:
    kind: str
    column: str | None
    count: int
    action: str  # a code: dropped, kept_first, set_missing, merged, imputed, kept, excluded, ...
    detail: str = ""  # the data behind it, e.g. "стандартт → стандарт"
    maximum: float | None = None  # outliers: the largest value and the column's median, formatted by the
    median: float | None = None  # documents in their language


@dataclass(frozen=True)
class TableQuality:
    name: str
    rows_in: int
    rows_out: int
    issues: tuple[QualityIssue, ...]


EARLIEST_DATE = "1900-01-01"

def one_edit_apart(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion or substitution."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i + (len(a) == len(b)):] == b[i + 1:]


MAX_CATEGORY_VALUES = 1000  # more distinct values than this is free text (names, products), not a category
MIN_WORD_LENGTH = 4


def _is_word(value: str) -> bool:
    """A value where one edit apart is likely a typo: letters, no digits, four characters or more. Codes ("1188",
    "A12") and short labels ("M" / "F", "v1" / "v2") are one edit from other real values by design."""
    return len(value) >= MIN_WORD_LENGTH and any(c.isalpha() for c in value) and not any(c.isdigit() for c in value)


def find_near_duplicates(counts: Mapping[str, int], max_share: float = 0.05,
                         min_ratio: float = 10.0, words_only: bool = True) -> dict[str, str]:
    """Map each rare value to the common value one edit away from it (typos of category labels).

    With `words_only` codes and short labels are never paired (see _is_word): what is merged must be a typo.
    Columns with more than MAX_CATEGORY_VALUES distinct values are left alone: the pairwise search is
    quadratic, and in free text a one-letter difference is usually a different thing.
    """
    if len(counts) > MAX_CATEGORY_VALUES:
        return {}
    total = sum(counts.values())
    merges: dict[str, str] = {}
    by_count = sorted(counts.items(), key=lambda kv: -kv[1])
    for value, count in by_count:
        if count > max_share * total:
            continue
        for common, common_count in by_count:
            if common_count < min_ratio * count:
                break
            typo_candidates = not words_only or (_is_word(value) and _is_word(common))
            if (value != common and value.lower() == common.lower()) or (
                    typo_candidates and one_edit_apart(value.lower(), common.lower())):
                merges[value] = common
                break
    return merges


def flag_leading_zero_ids(ids: pd.Series, column: str | None, issues: list[QualityIssue]) -> None:
    """"007" and "7" are different customers to the tool; when both forms occur, the export may have
    dropped zeros in one system and kept them in another: said in the data-quality appendix."""
    text = ids.dropna().astype(str)
    padded = text[text.str.fullmatch(r"0+\d+")]
    clashes = padded[padded.str.lstrip("0").isin(set(text))]
    if len(clashes):
        issues.append(QualityIssue("leading_zero_id", column, int(len(clashes)), "kept",
                                   f"{clashes.iloc[0]} ~ {clashes.iloc[0].lstrip('0')}"))


def _merge_typos(frame: pd.DataFrame, column: str, issues: list[QualityIssue]) -> None:
    counts = frame[column].value_counts()
    merges = find_near_duplicates({str(k): int(v) for k, v in counts.items()})
    for rare, common in merges.items():
        n = int(counts[rare])
        frame.loc[frame[column] == rare, column] = common
        issues.append(QualityIssue("near_duplicate_value", column, n, "merged", f"{rare} → {common}"))


def check_label(label: pd.Series, source: TableSource, file: str) -> None:
    """Before any heavy work: the label has two values or more, and the configured positive is one of them."""
    values = sorted(label.dropna().astype(str).unique())
    column, positive = source.column("label"), str(source.option("positive"))
    shown = ", ".join(repr(v) for v in values[:6]) + (", …" if len(values) > 6 else "")
    if len(values) < 2:
        raise InputError(file, f"the label needs at least two values to learn from (it has: {shown or 'none'})",
                         column=column)
    if positive not in values:
        raise InputError(file, f"positive = {positive!r} is not a value of the label (values: {shown}); set "
                               f"positive in [data.{source.name}] to one of them", column=column)


# What a dropping finding says when it left a table empty ("every row had …").
_DROPPED_FOR = {"missing_id": "{n} rows had an empty id", "missing_value": "{n} rows had an empty required value",
                "impossible_value": "{n} rows had an impossible value",
                "customer_in_several_groups": "{n} customers were in more than one group (such customers are left "
                                              "out of the test)",
                "duplicate_rows": "{n} rows repeated another"}


def nothing_left(label: str, issues: list[QualityIssue], what: str) -> InputError:
    """The error for a table that cleaning emptied: which finding removed the most rows, in which column."""
    dropping = [i for i in issues if i.action in ("dropped", "excluded")]
    if not dropping:
        return InputError(label, f"no {what} remain after cleaning")
    worst = max(dropping, key=lambda i: i.count)
    said = _DROPPED_FOR.get(worst.kind, "{n} rows were dropped for " + worst.kind).format(n=f"{worst.count:,}")
    return InputError(label, f"no {what} remain after cleaning: {said}", column=worst.column)


def clean_customers(engine: Engine, raw: RawTable, source: TableSource,
                    ) -> tuple[pd.DataFrame, TableQuality]:
    """Typed customers frame: id, age, gender, city, label, profit and feature columns."""
    typer = Typer(engine, raw, source)
    roles = {"id": typer.text("id"), "age": typer.number("age"), "gender": typer.text("gender"),
             "city": typer.text("city"), "label": typer.text("label"), "profit": typer.number("profit"),
             "consent": typer.flag("consent")}
    used = {normalise_name(column) for column in source.roles.values()}
    select = [f"{expr} AS {r}" for r, expr in roles.items() if expr is not None]
    for col in raw.columns:
        if col in used:
            continue
        q = sql_ident(col)
        if not raw.is_text(col):
            kind = raw.types[col]
            numeric = kind in ("DOUBLE", "FLOAT", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
                               "UBIGINT", "UINTEGER") or kind.startswith("DECIMAL")
            select.append(f"CAST({q} AS {'DOUBLE' if numeric else 'VARCHAR'}) AS {q}")
            continue
        num = number_sql(engine, q, typer.decimal, typer.thousands)
        unparsed = engine.scalar(f"SELECT count(*) FROM {raw.table} WHERE {q} IS NOT NULL AND trim({q}) <> '' "
                                 f"AND {num} IS NULL")
        text_expr = f"NULLIF(trim({q}), '')"
        select.append(f"{num if unparsed == 0 else text_expr} AS {sql_ident(col)}")
    frame = engine.frame(f"SELECT {', '.join(select)} FROM {raw.table} ORDER BY _line")
    if "label" in frame:
        check_label(frame["label"], source, raw.label)
    rows_in = len(frame)
    issues: list[QualityIssue] = []
    flag_leading_zero_ids(frame["id"], source.column("id"), issues)
    missing = frame["id"].isna()
    if missing.any():
        issues.append(QualityIssue("missing_id", source.column("id"), int(missing.sum()), "dropped"))
        frame = frame[~missing]
    dup = frame.duplicated()
    if dup.any():
        issues.append(QualityIssue("duplicate_rows", None, int(dup.sum()), "dropped"))
        frame = frame[~dup]
    dup_id = frame["id"].duplicated()
    if dup_id.any():
        issues.append(QualityIssue("duplicate_id", source.column("id"), int(dup_id.sum()),
                                   "kept_first"))
        frame = frame[~dup_id]
    frame = frame.copy()
    if "age" in frame:
        bad_age = frame["age"].notna() & ~frame["age"].between(0, 110)
        if bad_age.any():
            issues.append(QualityIssue("impossible_value", source.column("age"), int(bad_age.sum()),
                                       "set_missing", "0–110"))
            frame.loc[bad_age, "age"] = None
    for col in frame.columns:
        if col != "id" and (frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col])):
            _merge_typos(frame, col, issues)
    for col in ("gender", "age"):
        if col in frame and frame[col].isna().any():
            issues.append(QualityIssue("missing_value", source.column(col), int(frame[col].isna().sum()),
                                       "imputed" if col == "gender" else "kept"))
    if frame.empty:
        raise nothing_left(raw.label, issues, "customers")
    frame = frame.reset_index(drop=True)
    return frame, TableQuality("customers", rows_in, len(frame), tuple(issues))


def clean_experiment(engine: Engine, raw: RawTable, source: TableSource,
                     ) -> tuple[pd.DataFrame, TableQuality]:
    """Typed assignment frame: customer_id, group and optional outcome columns."""
    typer = Typer(engine, raw, source)
    roles = {"customer_id": typer.text("customer_id"), "grp": typer.text("group"),
             "converted": typer.flag("converted"), "revenue": typer.number("revenue"),
             "orders": typer.number("orders"), "pre_revenue": typer.number("pre_revenue")}
    select = ", ".join(f"{e} AS {r}" for r, e in roles.items() if e is not None)
    frame = engine.frame(f"SELECT {select} FROM {raw.table} ORDER BY _line")
    rows_in = len(frame)
    issues: list[QualityIssue] = []
    flag_leading_zero_ids(frame["customer_id"], source.column("customer_id"), issues)
    missing = frame["customer_id"].isna() | frame["grp"].isna()
    if missing.any():
        issues.append(QualityIssue("missing_value", source.column("group"), int(missing.sum()),
                                   "dropped"))
        frame = frame[~missing]
    dup = frame.duplicated()
    if dup.any():
        issues.append(QualityIssue("duplicate_rows", None, int(dup.sum()), "dropped"))
        frame = frame[~dup].copy()
    frame = frame.copy()
    # Group labels are never merged: a rare label one edit from a common one may be a third arm
    # (v1 / v2) or a holdout (1 / 0). It is flagged, and expected_split says which groups are compared.
    counts = frame["grp"].value_counts()
    for rare, common in find_near_duplicates({str(k): int(v) for k, v in counts.items()}, words_only=False).items():
        issues.append(QualityIssue("near_duplicate_group", source.column("group"), int(counts[rare]), "kept",
                                   f"{rare} ~ {common}"))
    groups_per_id = frame.groupby("customer_id")["grp"].nunique()
    multi = groups_per_id[groups_per_id > 1].index
    if len(multi):
        issues.append(QualityIssue("customer_in_several_groups", source.column("customer_id"), len(multi),
                                   "excluded"))
        frame = frame[~frame["customer_id"].isin(multi)]
    dup_id = frame["customer_id"].duplicated()
    if dup_id.any():
        issues.append(QualityIssue("duplicate_id", source.column("customer_id"), int(dup_id.sum()),
                                   "kept_first"))
        frame = frame[~dup_id]
    if frame.empty:
        raise nothing_left(raw.label, issues, "customers of the test")
    frame = frame.reset_index(drop=True)
    return frame, TableQuality("experiment", rows_in, len(frame), tuple(issues))


def clean_transactions(engine: Engine, raw: RawTable, source: TableSource,
                       today: pd.Timestamp) -> TableQuality:
    """Create the engine table `tx` with canonical columns; the rows never leave the engine."""
    typer = Typer(engine, raw, source)
    amount = typer.number("amount")
    if amount is None:
        price, quantity = typer.number("price"), typer.number("quantity")
        amount = f"({price}) * ({quantity})"
    cols = {
        "customer_id": typer.text("customer_id"), "date": typer.date("date"), "amount": amount,
        "order_id": typer.text("order_id"), "category": typer.text("category"),
        "brand": typer.text("brand"), "product": typer.text("product"),
        "quantity": typer.number("quantity"), "promo": typer.flag("promo"),
    }
    missing_role = {role for role, expr in cols.items() if expr is None}
    for role in ("promo", "quantity"):
        cols[role] = cols[role] or "CAST(NULL AS DOUBLE)"
    for role in ("category", "brand", "product"):
        cols[role] = cols[role] or "CAST(NULL AS VARCHAR)"
    select = ", ".join(f"{e} AS {r}" for r, e in cols.items() if e is not None)
    engine.view("_tx_typed", f"SELECT {select} FROM {raw.table}")
    rows_in = raw.input_file.rows
    issues: list[QualityIssue] = []
    today_sql = f"DATE {sql_literal(today.strftime('%Y-%m-%d'))}"
    # Before 1900 is a placeholder (0000-01-01, 1900-01-00) or a typo, never a purchase this report can use.
    earliest_sql = f"DATE {sql_literal(EARLIEST_DATE)}"
    valid = (f"customer_id IS NOT NULL AND date IS NOT NULL AND amount > 0 AND date <= {today_sql} "
             f"AND date >= {earliest_sql}")
    # One pass for every count: on 50M lines each extra scan costs seconds.
    missing, non_positive, future, ancient, before = (int(v) for v in engine.rows(f"""
        SELECT count(*) FILTER (WHERE customer_id IS NULL OR date IS NULL OR amount IS NULL),
               count(*) FILTER (WHERE amount <= 0), count(*) FILTER (WHERE date > {today_sql}),
               count(*) FILTER (WHERE date < {earliest_sql}), count(*) FILTER (WHERE {valid})
        FROM _tx_typed""")[0])
    if missing:
        issues.append(QualityIssue("missing_value", None, missing, "dropped"))
    if non_positive:
        issues.append(QualityIssue("impossible_value", source.column("amount") or source.column("price"),
                                   non_positive, "dropped", "≤ 0"))
    if future:
        issues.append(QualityIssue("impossible_value", source.column("date"), future,
                                   "dropped", "> today"))
    if ancient:
        issues.append(QualityIssue("impossible_value", source.column("date"), ancient,
                                   "dropped", f"< {EARLIEST_DATE[:4]}"))
    has_orders = "order_id" not in missing_role
    order_id = "order_id" if has_orders else \
        "customer_id || '|' || CAST(date AS VARCHAR) AS order_id"  # one order per customer and day
    # Identical lines within one order are a re-logged line; without order ids two identical lines can be two
    # real purchases of the same thing on one day: they are kept and counted unless the config says otherwise.
    drop = source.option("drop_duplicate_lines")
    drop = has_orders if drop is None else bool(drop)
    lines = f"SELECT DISTINCT * FROM _tx_typed WHERE {valid}" if drop else f"SELECT * FROM _tx_typed WHERE {valid}"
    engine.table("_tx_distinct", f"SELECT customer_id, date, amount, {order_id}, category, brand, product, "
                                 f"quantity, promo FROM ({lines}) AS d")
    after = int(engine.scalar("SELECT count(*) FROM _tx_distinct"))
    if drop and before > after:
        issues.append(QualityIssue("duplicate_rows", None, before - after, "dropped"))
    elif not drop:
        identical = before - int(engine.scalar(f"SELECT count(*) FROM (SELECT DISTINCT * FROM _tx_typed "
                                               f"WHERE {valid}) AS d"))
        if identical:
            issues.append(QualityIssue("identical_lines", None, identical,
                                       "kept_no_order_id" if not has_orders else "kept"))
    if "order_id" in missing_role:
        issues.append(QualityIssue("derived_column", "order_id", after, "one_order_per_customer_day"))
    merged = {}
    for role in ("category", "brand"):
        if role in missing_role:
            continue
        counts = dict(engine.rows(f"SELECT {role}, count(*) FROM _tx_distinct WHERE {role} IS NOT NULL GROUP BY 1"))
        if len(counts) > MAX_CATEGORY_VALUES:
            # Thousands of values are product names, not categories: portraits and offers named after single
            # products say nothing. Typo merging is skipped too (product names differ by one letter legitimately).
            issues.append(QualityIssue("free_text_category", source.column(role), len(counts), "warned",
                                       f"{len(counts)} > {MAX_CATEGORY_VALUES}"))
            continue
        merges = find_near_duplicates(counts)
        for rare, common in merges.items():
            issues.append(QualityIssue("near_duplicate_value", source.column(role), counts[rare],
                                       "merged", f"{rare} → {common}"))
        if merges:
            cases = " ".join(f"WHEN {sql_literal(rare)} THEN {sql_literal(common)}" for rare, common in merges.items())
            merged[role] = f"CASE {role} {cases} ELSE {role} END AS {role}"
    if merged:
        select = ", ".join(merged.get(c, c) for c in ("customer_id", "date", "amount", "order_id", "category",
                                                      "brand", "product", "quantity", "promo"))
        engine.table("tx", f"SELECT {select} FROM _tx_distinct")
        engine.drop("_tx_distinct")
    else:
        engine.view("tx", "SELECT * FROM _tx_distinct")
    if after == 0:
        raise nothing_left(raw.label, issues, "valid purchase lines")
    # The all-text copy of the lines served only to name a bad value's line in the checks above: freed here, it
    # no longer holds memory for the rest of the run (2.3 GB at 20M lines).
    engine.release("_tx_typed")
    engine.release(raw.table)
    return TableQuality("transactions", rows_in, after, tuple(issues))
