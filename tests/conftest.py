"""Shared fixtures: demo data sets (generated once per session) and a small end-to-end run."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from campaign_report.analysis.demo import generate_demo

ROOT = Path(__file__).resolve().parent.parent
DATASETS = Path(os.environ.get("CAMPAIGN_REPORT_DATASETS", ROOT.parent / "shared" / "datasets"))


def demo_config(data_dir: Path, out_dir: Path, extra: str = "", fast: bool = True,
                language: str = "ru") -> str:
    """The demo config.toml pointed at data_dir/out_dir; `fast` shrinks the model search."""
    text = (ROOT / "config.toml").read_text(encoding="utf-8")
    text = text.replace('"demo_data/', f'"{data_dir}/').replace('output_dir = "output"', f'output_dir = "{out_dir}"')
    text = text.replace('language = "ru"', f'language = "{language}"')
    if fast:
        text = text.replace("threshold = 0.8", "threshold = 0.8\nn_iter = 2\nsearch_sample = 1200\ncv_folds = 3")
    return text + "\n" + extra


@pytest.fixture(scope="session")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The full demo (20,000 customers), as `make report` uses it."""
    path = tmp_path_factory.mktemp("demo")
    generate_demo(path)
    return path


@pytest.fixture(scope="session")
def small_demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("small_demo")
    generate_demo(path, n_customers=3000, seed=7)
    return path


@pytest.fixture(scope="session")
def small_run(small_demo: Path, tmp_path_factory: pytest.TempPathFactory):
    from campaign_report.pipeline.report import run_report

    work = tmp_path_factory.mktemp("small_run")
    config = work / "config.toml"
    config.write_text(demo_config(small_demo, work / "output"), encoding="utf-8")
    return run_report(config)


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path
