"""The JSON Schema of results.json, generated from the result dataclasses.

Each section's schema is derived from the dataclass type hints, then amended where exports.py reshapes
the JSON (verdict sentences, cluster names and profiles, offers flattened one per row). The generated
file ships as campaign_report/schema/results.schema.json; a test fails when it and the dataclasses part.
Regenerate with `python -m campaign_report.renderers.schema`.
"""

from __future__ import annotations

import dataclasses
import json
import sys
import types
import typing
from pathlib import Path
from typing import Any

from campaign_report.analysis.customers.lifetime import LifetimeResult
from campaign_report.analysis.customers.rfm import RfmResult
from campaign_report.analysis.customers.segments import ClusterPortrait, SegmentsResult
from campaign_report.analysis.data.clean import TableQuality
from campaign_report.analysis.experiment.result import Decision, ExperimentResult, SegmentEffect
from campaign_report.analysis.history.result import CampaignEntry, HistoryResult
from campaign_report.analysis.meaning import DataMeaning
from campaign_report.analysis.model.propensity import PropensityResult
from campaign_report.analysis.offers.recommend import CategoryPair
from campaign_report.analysis.results import Meta
from campaign_report.analysis.uplift.result import UpliftResult
from campaign_report.renderers.exports import SCHEMA_VERSION

SCHEMA_PATH = Path(__file__).resolve().parent.parent / "schema" / "results.schema.json"
NUMBER = {"type": ["number", "null"]}  # NaN and infinities are written as null


def type_schema(hint: Any) -> dict[str, Any]:
    """JSON Schema of one Python type hint as exports._plain writes it."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is type(None):
        return {"type": "null"}
    if hint is bool:
        return {"type": "boolean"}
    if hint is int:
        return {"type": "integer"}
    if hint is float:
        return dict(NUMBER)
    if hint is str:
        return {"type": "string"}
    if hint is Any:
        return {}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [type_schema(a) for a in args]}
    if origin in (tuple, list):
        if len(args) == 2 and args[1] is Ellipsis:
            return {"type": "array", "items": type_schema(args[0])}
        if origin is list:
            return {"type": "array", "items": type_schema(args[0]) if args else {}}
        return {"type": "array", "prefixItems": [type_schema(a) for a in args], "items": False,
                "minItems": len(args)}
    if origin is dict:
        return {"type": "object", "additionalProperties": type_schema(args[1]) if args else {}}
    if dataclasses.is_dataclass(hint):
        return dataclass_schema(hint)  # type: ignore[arg-type]
    raise TypeError(f"no JSON Schema for {hint!r}")


def dataclass_schema(cls: type) -> dict[str, Any]:
    """An object with one required property per field (fields marked json=False are left out)."""
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if f.metadata.get("json", True)]
    return {"type": "object", "properties": {f.name: type_schema(hints[f.name]) for f in fields},
            "required": [f.name for f in fields], "additionalProperties": False}


def _with(schema: dict[str, Any], **properties: dict[str, Any]) -> dict[str, Any]:
    out = json.loads(json.dumps(schema))
    out["properties"].update(properties)
    out["required"] = sorted(set(out["required"]) | set(properties))
    return out


def results_schema() -> dict[str, Any]:
    """The schema of the whole results.json document."""
    text = {"type": "string"}
    experiment = dataclass_schema(ExperimentResult)
    decision = _with(dataclass_schema(Decision), text=text)
    experiment["properties"]["decisions"] = {"type": "array", "items": decision}
    experiment["properties"]["decision"] = decision
    segments = dataclass_schema(SegmentsResult)
    portrait = dataclass_schema(ClusterPortrait)
    profile_keys = ("mean_age", "gender_shares", "top_categories", "top_brands", "average_check", "orders_mean",
                    "promo_share", "recency_mean", "revenue_share", "distinctions")
    profile = {"type": "object", "properties": {k: portrait["properties"][k] for k in profile_keys},
               "required": list(profile_keys), "additionalProperties": False}
    segments["properties"]["clusters"] = {"type": "array", "items": _with(portrait, name=text, profile=profile)}
    optional_number = {"anyOf": [NUMBER, {"type": "null"}]}
    offer: dict[str, Any] = {"type": "object", "additionalProperties": False, "properties": {
        "segment": text, "offer": text, "type": text, "text_ru": text, "text_en": text, "rank": {"type": "integer"},
        "rationale": {"type": "array", "items": text},
        "evidence": {"type": "object", "properties": {
            "size": {"type": "integer"}, "top_category": {"type": ["string", "null"]},
            "related": {"type": "array", "items": text},
            "ab": {"anyOf": [dataclass_schema(SegmentEffect), {"type": "null"}]}},
            "required": ["size", "top_category", "related", "ab"], "additionalProperties": NUMBER},
        "expected_effect": optional_number, "expected_low": optional_number, "expected_high": optional_number}}
    offer["required"] = sorted(offer["properties"])
    blocked = {"type": "object", "properties": {"segment": text, "offer": text, "reason": text},
               "required": ["segment", "offer", "reason"], "additionalProperties": False}
    lifetime_body = dataclass_schema(LifetimeResult)
    estimate = {"type": "object", "properties": {k: NUMBER for k in ("value", "ci_low", "ci_high")},
                "required": ["value", "ci_low", "ci_high"], "additionalProperties": False}
    lifetime = _with(lifetime_body, params={"type": "object", "additionalProperties": estimate},
                     holdout_check=lifetime_body["properties"]["holdout"])
    history = dataclass_schema(HistoryResult)
    optional = {"anyOf": [NUMBER, {"type": "null"}]}
    history["properties"]["campaigns"] = {"type": "array", "items": _with(
        dataclass_schema(CampaignEntry), rel_lift=optional, ci_low=optional, ci_high=optional,
        extra_revenue=optional, extra_profit=optional, current={"type": "boolean"})}
    history = _with(history, rank={"type": "integer"})
    meaning = dataclass_schema(DataMeaning)
    meaning["properties"]["money"] = _with(meaning["properties"]["money"], value_basis=text)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://campaign-report/results.schema.json",
        "title": "campaign-report results.json",
        "description": "Every number of one report run. Sections are present only for the analyses that ran.",
        "type": "object", "additionalProperties": False,
        "required": ["schema_version", "meta", "meaning", "data_quality"],
        "properties": {
            "schema_version": {"const": SCHEMA_VERSION},
            "meta": dataclass_schema(Meta),
            "meaning": meaning,
            "data_quality": {"type": "object", "additionalProperties": False, "required": ["tables"],
                             "properties": {"tables": {"type": "array", "items": dataclass_schema(TableQuality)}}},
            "experiment": experiment, "segments": segments, "rfm": dataclass_schema(RfmResult),
            "propensity": dataclass_schema(PropensityResult),
            "offers": {"type": "array", "items": offer}, "offers_blocked": {"type": "array", "items": blocked},
            "category_pairs": {"type": "array", "items": dataclass_schema(CategoryPair)},
            "uplift": dataclass_schema(UpliftResult),
            "lifetime": lifetime, "history": history,
        },
    }


def schema_text() -> str:
    """The schema as written to SCHEMA_PATH."""
    return json.dumps(results_schema(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\n")
