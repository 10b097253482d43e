"""The config reference (docs/config.md) and the config's JSON Schema, generated from the settings.

Both are written from one walk over the settings dataclasses (each key's default and its `doc`) and the
table-key registries, so the documentation and the schema an editor validates against say exactly what the
parser accepts. `python -m campaign_report.analysis.config_docs` rewrites both files; a test fails when they
and the settings part.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from campaign_report.analysis.settings import (
    SOURCE_KEYS,
    TABLE_DOCS,
    TABLE_OPTIONS,
    TABLE_ROLES,
    EmailConfig,
    EngineConfig,
    ExperimentConfig,
    LifetimeConfig,
    ObservationalConfig,
    OfferRule,
    OffersConfig,
    PropensityConfig,
    Range,
    ReportConfig,
    RfmRule,
    SegmentsConfig,
    UpliftConfig,
)

PACKAGE = Path(__file__).resolve().parent.parent
SCHEMA_PATH = PACKAGE / "schema" / "config.schema.json"
REFERENCE_PATH = PACKAGE.parent / "docs" / "config.md"


@dataclass(frozen=True)
class Key:
    name: str  # as written in the config
    kind: str  # str, int, float, bool, number-or-text, list of str, ...
    default: Any  # dataclasses.MISSING when required
    doc: str
    valid: Range | None = None  # the values a number may take
    is_date: bool = False


@dataclass(frozen=True)
class Part:
    """A section of the config: its keys, and what it is for."""

    title: str  # "[report]", "[data.transactions]", "[[offers.catalogue]]"
    doc: str
    keys: tuple[Key, ...]
    array: bool = False  # an array of tables ([[…]])
    open_keys: str = ""  # a table whose keys are free (the user's names): what its values are


# Sections and the dataclass each is read into, in the order the reference lists them.
SECTIONS: tuple[tuple[str, type, str], ...] = (
    ("report", ReportConfig, "The report itself: title, language, money. Required."),
    ("experiment", ExperimentConfig, "The A/B test's readout (needs [data.experiment])."),
    ("experiment.observational", ObservationalConfig, "A promo without a control group: which days were promo "
                                                      "days."),
    ("segments", SegmentsConfig, "Customer segments: KMeans portraits and RFM (needs [data.transactions])."),
    ("propensity", PropensityConfig, "The model of the label (or of no purchase in horizon_days) and the target "
                                     "list."),
    ("offers", OffersConfig, "What to offer whom: the catalogue's rules and guardrails."),
    ("uplift", UpliftConfig, "Whom to contact next time, learned from the test (needs an experiment and customer "
                             "traits)."),
    ("lifetime", LifetimeConfig, "What each customer is worth from purchases alone: P(alive), expected purchases "
                                 "and value (BG/NBD + Gamma-Gamma; needs [data.transactions])."),
    ("engine", EngineConfig, "Where the heavy SQL runs."),
    ("email", EmailConfig, "Sending the documents (the password comes from SMTP_PASSWORD)."),
)
NESTED = {"report": ("names",), "experiment": ("observational",), "segments": ("rfm_rules",),
          "offers": ("catalogue",), "engine": ("conf",)}  # written as their own tables, not keys
RENAMED = {("email", "sender"): "from"}


def _kind(field: dataclasses.Field) -> str:
    text = str(field.type).replace(" | None", "")
    return {"tuple[tuple[str, float], ...]": "table of group = share",
            "tuple[tuple[str, str, float], ...]": "list of [evidence, operator, threshold]",
            "tuple[int, int]": "[low, high]", "tuple[str, ...]": "list of strings",
            "tuple[int, ...]": "list of integers", "int | str": "integer or \"auto\"",
            "bool | str": "true, false or \"auto\""}.get(text, text)


def _keys(cls: type, section: str) -> tuple[Key, ...]:
    skip = NESTED.get(section, ())
    return tuple(Key(RENAMED.get((section, f.name), f.name), _kind(f), f.default, f.metadata.get("doc", ""),
                     f.metadata.get("range"), bool(f.metadata.get("date")))
                 for f in dataclasses.fields(cls) if f.name not in skip)


def parts() -> list[Part]:
    """Every section of the config with its keys."""
    out = [Part("[report]", SECTIONS[0][2], _keys(ReportConfig, "report")),
           Part("[report.names]", "Business names for what the data call otherwise.", (),
                open_keys="a value or column of the data = the name the documents use")]
    for table, (required, optional) in TABLE_ROLES.items():
        keys = [Key(k, "str", None, doc) for k, doc in SOURCE_KEYS.items()]
        keys += [Key(k, "column", dataclasses.MISSING, doc) for k, doc in required.items()]
        keys += [Key(k, "column", None, doc) for k, doc in optional.items()]
        keys += [Key(k, kind, None, doc) for k, (kind, doc) in TABLE_OPTIONS.get(table, {}).items()]
        out.append(Part(f"[data.{table}]", TABLE_DOCS[table] + " Give path or sql; the role keys name your columns.",
                        tuple(keys)))
    for section, cls, doc in SECTIONS[1:]:
        out.append(Part(f"[{section}]", doc, _keys(cls, section)))
        if section == "segments":
            out.append(Part("[[segments.rfm_rules]]", "Your own RFM segments, tried in order (first match wins).",
                            _keys(RfmRule, "rfm_rules"), array=True))
        if section == "offers":
            out.append(Part("[[offers.catalogue]]", "Offers of your own; one with a default offer's id replaces it.",
                            _keys(OfferRule, "catalogue"), array=True))
        if section == "engine":
            out.append(Part("[engine.conf]", "Spark settings, passed as they are.", (),
                            open_keys="a Spark setting = its value"))
    return out


def _default_text(key: Key) -> str:
    if key.default is dataclasses.MISSING:
        return "required"
    if key.default is None or key.default == () or key.default == "":
        return "—"
    if isinstance(key.default, bool):
        return "true" if key.default else "false"
    if isinstance(key.default, tuple):
        return json.dumps(list(key.default), ensure_ascii=False)
    return json.dumps(key.default, ensure_ascii=False) if isinstance(key.default, str) else str(key.default)


def reference_markdown() -> str:
    """docs/config.md: every key with its meaning and default."""
    lines = ["# config.toml reference", "",
             "Generated from `campaign_report/analysis/settings.py` by",
             "`python -m campaign_report.analysis.config_docs`; do not edit by hand. Relative paths start at the",
             "config file's folder; `${NAME}` and",
             "`${NAME:-default}` in `path` and `sql` read the environment. Editors validate and complete the config",
             "with the JSON Schema `campaign_report/schema/config.schema.json` (first line of a config:",
             "`#:schema <path to it>`).", ""]
    for part in parts():
        lines += [f"## {part.title}", "", part.doc, ""]
        if part.open_keys:
            lines += [f"Keys are free: {part.open_keys}.", ""]
            continue
        lines += ["| key | default | meaning |", "|---|---|---|"]
        for key in part.keys:
            doc = key.doc + (f" ({key.valid.text()})" if key.valid is not None else "")
            doc = doc.replace("|", "\\|")
            lines.append(f"| `{key.name}` | {_default_text(key).replace('|', chr(92) + '|')} | {doc} |")
        lines.append("")
    return "\n".join(lines)


def _key_schema(key: Key) -> dict[str, Any]:
    kind = key.kind
    schemas: dict[str, dict[str, Any]] = {
        "str": {"type": "string"}, "column": {"type": "string"}, "int": {"type": "integer"},
        "float": {"type": "number"}, "bool": {"type": "boolean"},
        "list of strings": {"type": "array", "items": {"type": "string"}},
        "list of integers": {"type": "array", "items": {"type": "integer"}},
        "[low, high]": {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 5},
                        "minItems": 2, "maxItems": 2},
        "list of [evidence, operator, threshold]": {"type": "array", "items": {
            "type": "array", "prefixItems": [{"type": "string"}, {"enum": [">=", "<=", ">", "<"]}, {"type": "number"}],
            "minItems": 3, "maxItems": 3}},
        "table of group = share": {"type": "object", "additionalProperties": {"type": "number"}},
        "integer or \"auto\"": {"anyOf": [{"type": "integer", "minimum": 2}, {"const": "auto"}]},
        "true, false or \"auto\"": {"anyOf": [{"type": "boolean"}, {"const": "auto"}]},
    }
    schema = dict(schemas[kind], description=key.doc)
    if key.valid is not None:
        bounds = _bounds(key.valid)
        if schema.get("type") == "array":
            schema["items"] = {**schema["items"], **bounds}
        else:
            schema.update(bounds)
    if key.is_date:
        date_form = {"type": "string", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
        if schema.get("type") == "array":
            schema["items"] = date_form
        else:
            schema.update(date_form)
    if key.default not in (dataclasses.MISSING, None) and not isinstance(key.default, tuple):
        schema["default"] = key.default
    if key.name == "sheet":
        schema = {"anyOf": [{"type": "string"}, {"type": "integer"}], "description": key.doc}
    return schema


def _bounds(valid: Range) -> dict[str, float]:
    names = {"at_least": "minimum", "above": "exclusiveMinimum", "at_most": "maximum", "below": "exclusiveMaximum"}
    return {schema_name: getattr(valid, name) for name, schema_name in names.items()
            if getattr(valid, name) is not None}


def _part_schema(part: Part) -> dict[str, Any]:
    if part.open_keys:
        return {"type": "object", "description": part.doc, "additionalProperties": {"type": "string"}}
    required = [k.name for k in part.keys if k.default is dataclasses.MISSING]
    body = {"type": "object", "description": part.doc, "additionalProperties": False,
            "properties": {k.name: _key_schema(k) for k in part.keys}}
    if required:
        body["required"] = required
    return {"type": "array", "items": body} if part.array else body


def config_schema() -> dict[str, Any]:
    """The JSON Schema of config.toml (draft 2020-12), for editors (taplo / Even Better TOML) and tests."""
    by_title = {p.title.strip("[]"): _part_schema(p) for p in parts()}
    report = dict(by_title["report"])
    report["properties"] = {**report["properties"], "names": by_title["report.names"]}
    data = {"type": "object", "additionalProperties": False, "description": "The tables: where each comes from and "
            "which of its columns play which role.",
            "properties": {t: by_title[f"data.{t}"] for t in TABLE_ROLES}}
    sections: dict[str, Any] = {"report": report, "data": data}
    for section, _, _ in SECTIONS[1:]:
        if "." in section:
            continue
        body = dict(by_title[section])
        extra = {name: by_title[f"{section}.{name}"] for name in NESTED.get(section, ())
                 if f"{section}.{name}" in by_title}
        if section == "experiment":
            extra["observational"] = by_title["experiment.observational"]
        body["properties"] = {**body["properties"], **extra}
        sections[section] = body
    return {"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://campaign-report/config.schema.json", "title": "campaign-report config.toml",
            "description": "Generated from campaign_report/analysis/settings.py; see docs/config.md.",
            "type": "object", "additionalProperties": False, "required": ["report"], "properties": sections}


def schema_text() -> str:
    """The schema as written to SCHEMA_PATH."""
    return json.dumps(config_schema(), ensure_ascii=False, indent=1) + "\n"


if __name__ == "__main__":
    SCHEMA_PATH.write_text(schema_text(), encoding="utf-8")
    REFERENCE_PATH.parent.mkdir(exist_ok=True)
    REFERENCE_PATH.write_text(reference_markdown(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_PATH}\nwrote {REFERENCE_PATH}\n")
