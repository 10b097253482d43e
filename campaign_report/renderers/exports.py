"""results.json (the public contract in DESIGN.md) and target_list.csv.

JSON comes straight from Results (raw numbers, snake_case); only the verdict's sentence is taken
from the view so that the JSON and the documents say the same words.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

from campaign_report.analysis.results import Results
from campaign_report.renderers.view_model import View

SCHEMA_VERSION = 1


def _plain(value: Any) -> Any:
    """Dataclasses, tuples and floats to JSON values; NaN and infinities become null."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)
                if f.metadata.get("json", True)}
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if hasattr(value, "item"):  # numpy scalars
        return _plain(value.item())
    return value


def results_to_dict(results: Results, view: View) -> dict[str, Any]:
    """The results.json document."""
    meaning = _plain(results.meaning)
    meaning["money"]["value_basis"] = results.meaning.money.value_basis
    out: dict[str, Any] = {"schema_version": SCHEMA_VERSION, "meta": _plain(results.meta), "meaning": meaning,
                           "data_quality": {"tables": _plain(results.data_quality)}}
    exp = results.experiment
    if exp is not None:
        body = _plain(exp)
        body["groups"] = [{"name": g.name, "n": g.n, "expected_share": g.expected_share,
                           "actual_share": g.actual_share} for g in exp.groups]
        body["srm"] = {"p_value": exp.srm.p_value, "ok": exp.srm.ok, "chi2": exp.srm.chi2}
        sentences = {v.treatment: v for v in view.summary.verdicts}
        body["decisions"] = [{**_plain(d), "text": sentences[d.treatment].sentence} for d in exp.decisions]
        body["decision"] = {**_plain(exp.decision), "text": sentences[exp.decision.treatment].sentence}
        out["experiment"] = body
    if results.segments is not None:
        seg = _plain(results.segments)
        for cluster, c in zip(seg["clusters"], results.segments.clusters, strict=True):
            cluster["name"] = c.name_ru if results.meta.language == "ru" else c.name_en
            cluster["profile"] = {k: cluster[k] for k in (
                "mean_age", "gender_shares", "top_categories", "top_brands", "average_check", "orders_mean",
                "promo_share", "recency_mean", "revenue_share", "distinctions")}
        out["segments"] = seg
    if results.rfm is not None:
        out["rfm"] = _plain(results.rfm)
    if results.propensity is not None:
        out["propensity"] = _plain(results.propensity)
    if results.offers is not None:
        offers = []
        for s in results.offers.segments:
            for o in s.offers:
                offers.append({"segment": f"{s.kind}:{s.key}", "offer": o.offer_id, "type": o.offer_type,
                               "text_ru": o.text_ru, "text_en": o.text_en, "rank": o.rank,
                               "rationale": [_rationale(*reason) for reason in o.reasons],
                               "evidence": _plain(s.evidence.values) | {
                                   "size": s.size, "top_category": s.evidence.top_category,
                                   "related": list(s.evidence.related),
                                   "ab": _plain(s.evidence.ab)},
                               "expected_effect": _plain(o.expected_effect),
                               "expected_low": _plain(o.expected_low), "expected_high": _plain(o.expected_high)})
        out["offers"] = offers
        out["offers_blocked"] = [{"segment": f"{s.kind}:{s.key}", "offer": b[0], "reason": b[1]}
                                 for s in results.offers.segments for b in s.blocked]
        out["category_pairs"] = _plain(results.offers.pairs)
    if results.uplift is not None:
        out["uplift"] = _plain(results.uplift)
    if results.lifetime is not None:
        life = _plain(results.lifetime)
        # DESIGN.md's keys: the parameters by name with their intervals, and the holdout check.
        life["params"] = {p["name"]: {"value": p["value"], "ci_low": p["ci_low"], "ci_high": p["ci_high"]}
                          for p in [*life["bgnbd"], *life["gamma_gamma"]]}
        life["holdout_check"] = life["holdout"]
        out["lifetime"] = life
    if results.history is not None:
        out["history"] = history_dict(results)
    return out


def history_dict(results: Results) -> dict[str, Any]:
    """`history`: every campaign of the output folder with its stored entry (what rebuilds the store) and, for
    readers, the lead arm's lift and the money at the top level."""
    history = results.history
    assert history is not None
    body = _plain(history)
    for raw, entry in zip(body["campaigns"], history.campaigns, strict=True):
        lead = entry.lead_arm
        raw.update(_plain({"rel_lift": lead.rel_lift, "ci_low": lead.rel_ci_low, "ci_high": lead.rel_ci_high,
                           "extra_revenue": entry.extra_revenue, "extra_profit": entry.extra_profit,
                           "current": entry.campaign_id == history.current}))
    body["rank"] = history.rank
    return body


def write_results_json(results: Results, view: View, out_path: Path) -> Path:
    """Write results.json (UTF-8, Cyrillic kept readable)."""
    out_path.write_text(json.dumps(results_to_dict(results, view), ensure_ascii=False, indent=2), encoding="utf-8")
    return out_path


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+([.,]\d*)?|[.,]\d+)([eE][+-]?\d+)?")


def spreadsheet_safe(value: object) -> object:
    """A text cell a spreadsheet would run as a formula (=, +, -, @, tab, CR first) gets a leading apostrophe.

    Numbers stay numbers, in numeric columns and as text ("-12.5"), so nothing a user sums is changed.
    """
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def write_target_list(frame: pd.DataFrame, out_path: Path) -> Path:
    """UTF-8 with BOM so that Excel opens Cyrillic correctly; text cells neutralised against formula injection."""
    safe = frame.copy()
    for column in safe.columns:
        if not pd.api.types.is_numeric_dtype(safe[column]):
            safe[column] = safe[column].map(spreadsheet_safe)
    safe.columns = [spreadsheet_safe(str(c)) for c in safe.columns]
    safe.to_csv(out_path, index=False, encoding="utf-8-sig", lineterminator="\r\n")  # CRLF: a CR in a cell is quoted
    return out_path


def _rationale(key: str, op: str, threshold: float, actual: float) -> str:
    # NaN: an `unless` guard on evidence the data do not have (see analysis/offers/recommend.py).
    observed = "no data" if math.isnan(actual) else f"actual {actual:.3g}"
    return f"{key} {op} {threshold} ({observed})"
