"""results.json against its JSON Schema, and the schema against the dataclasses it is generated from."""

from __future__ import annotations

import copy
import json

import jsonschema
import pytest

from campaign_report.renderers.schema import SCHEMA_PATH, schema_text
from tests.conftest import DATASETS, ROOT


def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def test_shipped_schema_is_the_generated_one():
    # Fails when a result dataclass changes and the schema is not regenerated
    # (python -m campaign_report.renderers.schema).
    assert SCHEMA_PATH.read_text(encoding="utf-8") == schema_text()


def test_demo_results_json_is_valid(small_run):
    data = json.loads((small_run.output_dir / "results.json").read_text(encoding="utf-8"))
    errors = list(_validator().iter_errors(data))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_schema_rejects_what_the_contract_forbids(small_run):
    data = json.loads((small_run.output_dir / "results.json").read_text(encoding="utf-8"))
    for mutate in (lambda d: d["experiment"]["metrics"][0].update(p_value="0.01"),
                   lambda d: d["experiment"]["metrics"][0].pop("ci_low"),
                   lambda d: d["segments"]["clusters"][0].update(surprise=1),
                   lambda d: d["propensity"]["holdout"].update(n=1.5),
                   lambda d: d.update(schema_version=99)):
        broken = copy.deepcopy(data)
        mutate(broken)
        assert list(_validator().iter_errors(broken)), "a broken document passed"


@pytest.mark.slow
@pytest.mark.parametrize("example", ["hillstrom", "one_click", "ecom_profiles"])
def test_example_results_json_is_valid(example, tmp_path):
    if not DATASETS.is_dir():
        pytest.skip("../shared/datasets is absent")
    from campaign_report.pipeline.report import run_report

    outcome = run_report(ROOT / "examples" / example / "config.toml", tmp_path / "out")
    data = json.loads(outcome.files["results.json"].read_text(encoding="utf-8"))
    errors = list(_validator().iter_errors(data))
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]


def test_config_schema_validates_every_shipped_config_and_rejects_a_misspelt_key():
    """Editors (taplo / Even Better TOML) check config.toml against the schema named on its first line."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    from campaign_report.analysis.config_docs import SCHEMA_PATH as CONFIG_SCHEMA

    root = SCHEMA_PATH.parents[2]
    validator = jsonschema.Draft202012Validator(json.loads(CONFIG_SCHEMA.read_text(encoding="utf-8")))
    configs = [root / "config.toml", *sorted((root / "examples").glob("*/config.toml"))]
    assert len(configs) >= 4
    for path in configs:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("#:schema ") and (path.parent / first.split(" ", 1)[1]).resolve() == CONFIG_SCHEMA
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        assert not [e.message for e in validator.iter_errors(data)], path
    data = tomllib.loads(configs[0].read_text(encoding="utf-8"))
    data["report"]["titel"] = data["report"].pop("title")
    assert any("titel" in e.message for e in validator.iter_errors(data))
