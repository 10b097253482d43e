"""campaign-report's model stage vs PyCaret, side by side, alternated, on the same table and the same split.

For each data set (one_click: examples/one_click over the public data sets; demo: the generated demo):
- campaign-report runs its analysis; the model stage is timed (selection, calibration, out-of-fold scores,
  scoring every customer) and the customer table the model saw is captured with its train/holdout split;
- the table and the split go to CSV files, and a subprocess in PyCaret's own virtual environment runs
  `setup` + `compare_models` (5-fold, untuned, every model PyCaret compares by default, sorted by AUC)
  on the training part and scores the same holdout.
Runs alternate (ours, PyCaret, PyCaret, ours, ...) so that a busy machine slows both alike.

PyCaret pins older scikit-learn and pandas, so it lives in a virtual environment of its own, outside the
repository: --pycaret-venv or PYCARET_VENV (default /work/pycaret-venv); --create-venv makes it
(`python3 -m venv DIR && DIR/bin/pip install pycaret==3.3.2 six`). PyCaret's code is never committed.

Usage: python bench/vs_pycaret.py [--data one_click demo] [--rounds 2] [--pycaret-venv DIR] [--create-venv]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from campaign_report.analysis import analyze as analyze_module  # noqa: E402
from campaign_report.analysis.config import load_config  # noqa: E402
from campaign_report.analysis.model import run as model_run  # noqa: E402
from campaign_report.analysis.model.propensity import holdout_split  # noqa: E402

DATASETS = Path(os.environ.get("CAMPAIGN_REPORT_DATASETS", "/work/shared/datasets"))
PYCARET_VERSION = "3.3.2"

# Runs inside PyCaret's venv: reads train.csv / holdout.csv, prints one JSON line.
PYCARET_RUNNER = r'''
import json, sys, time, warnings
warnings.filterwarnings("ignore")
from importlib import metadata
import pandas as pd
from sklearn.metrics import roc_auc_score
t_import = time.perf_counter()
from pycaret.classification import setup, compare_models, pull, predict_model
import_seconds = time.perf_counter() - t_import
folder, seed, categorical = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3])
train = pd.read_csv(f"{folder}/train.csv")
holdout = pd.read_csv(f"{folder}/holdout.csv")
for col in categorical:
    train[col] = train[col].astype("string").astype(object)
    holdout[col] = holdout[col].astype("string").astype(object)
t0 = time.perf_counter()
setup(data=train, target="target", fold=5, session_id=seed, verbose=False, html=False,
      categorical_features=categorical or None)
best = compare_models(sort="AUC", verbose=False)
wall = time.perf_counter() - t0
grid = pull()
scored = predict_model(best, data=holdout.drop(columns=["target"]), raw_score=True, verbose=False)
column = [c for c in scored.columns if c.startswith("prediction_score_")][-1]
print(json.dumps({"seconds": wall, "import_seconds": import_seconds, "chosen": type(best).__name__,
                  "cv_auc": float(grid["AUC"].iloc[0]), "n_models": int(len(grid)),
                  "holdout_auc": float(roc_auc_score(holdout["target"], scored[column])),
                  "versions": {p: metadata.version(p) for p in ("pycaret", "scikit-learn", "pandas")}}))
'''


def pycaret_python(venv: Path, create: bool) -> Path:
    python = venv / "bin" / "python"
    if not python.exists():
        if not create:
            sys.exit(f"vs_pycaret: no PyCaret venv at {venv} (pass --create-venv, or --pycaret-venv DIR)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"pycaret=={PYCARET_VERSION}", "six"], check=True)
    return python


def config_for(name: str, work: Path):
    if name == "one_click":
        os.environ["CAMPAIGN_REPORT_DATASETS"] = str(DATASETS)
        return load_config(ROOT / "examples" / "one_click" / "config.toml")
    from campaign_report.analysis.demo import generate_demo
    from tests.conftest import demo_config

    if not (work / "demo" / "customers.csv").exists():
        generate_demo(work / "demo")
    path = work / "demo_config.toml"
    path.write_text(demo_config(work / "demo", work / "demo_out", fast=False), encoding="utf-8")
    return load_config(path)


def ours(config) -> tuple[dict, dict]:
    """One analysis; the model stage's seconds and metrics, and the table the model was fitted on."""
    captured: dict = {}
    original = model_run.fit_propensity

    def capture(train, y, settings, **kwargs):
        captured.update(train=train, y=y, settings=settings)
        fitted = original(train, y, settings, **kwargs)
        captured["result"] = fitted.result
        return fitted

    timings: dict[str, float] = {}
    with mock.patch.object(model_run, "fit_propensity", capture):
        results = analyze_module.analyze(config, timings=timings)
    p = results.propensity
    chosen = next(c for c in p.candidates if c.model == p.best)
    return ({"seconds": timings["propensity"], "chosen": p.best, "cv_auc": chosen.cv_score,
             "holdout_auc": p.holdout.roc_auc}, captured)


def export(captured: dict, folder: Path) -> list[str]:
    """The model's feature table and its train/holdout split as CSV; returns the categorical columns."""
    result = captured["result"]
    frame = captured["train"][list(result.features)].reset_index(drop=True).copy()
    frame["target"] = np.asarray(captured["y"]).astype(int)
    train_idx, hold_idx = holdout_split(np.asarray(captured["y"]), captured["settings"])
    frame.iloc[train_idx].to_csv(folder / "train.csv", index=False)
    frame.iloc[hold_idx].to_csv(folder / "holdout.csv", index=False)
    return [c for c in result.features if not pd.api.types.is_numeric_dtype(frame[c])
            or pd.api.types.is_bool_dtype(frame[c])]


def pycaret(python: Path, folder: Path, seed: int, categorical: list[str]) -> dict:
    # cwd: PyCaret writes its logs.log into the working folder; keep it beside the exported table, not in the checkout.
    out = subprocess.run([str(python), "-c", PYCARET_RUNNER, str(folder), str(seed), json.dumps(categorical)],
                         capture_output=True, text=True, cwd=folder)
    if out.returncode != 0:
        sys.exit(f"vs_pycaret: PyCaret failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--data", nargs="*", default=["one_click", "demo"], choices=["one_click", "demo"])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--pycaret-venv", type=Path,
                        default=Path(os.environ.get("PYCARET_VENV", "/work/pycaret-venv")))
    parser.add_argument("--create-venv", action="store_true")
    args = parser.parse_args()
    python = pycaret_python(args.pycaret_venv, args.create_venv)
    rows = []
    versions: dict = {}
    with tempfile.TemporaryDirectory(prefix="vs-pycaret-") as tmp:
        work = Path(tmp)
        for name in args.data:
            if name == "one_click" and not (DATASETS / "one_click").exists():
                print(f"one_click: skipped ({DATASETS / 'one_click'} not found)")
                continue
            config = config_for(name, work)
            folder = work / name
            folder.mkdir(exist_ok=True)
            runs: dict[str, list[dict]] = {"campaign-report": [], "PyCaret": []}
            categorical: list[str] | None = None
            for r in range(args.rounds):
                order = ("campaign-report", "PyCaret") if r % 2 == 0 else ("PyCaret", "campaign-report")
                for system in order:
                    if system == "campaign-report" or categorical is None:
                        t0 = time.perf_counter()
                        metrics, captured = ours(config)
                        if system == "campaign-report":
                            runs[system].append(metrics)
                        categorical = export(captured, folder)
                        print(f"  {name}: campaign-report run {time.perf_counter() - t0:.1f} s", file=sys.stderr)
                    if system == "PyCaret":
                        done = pycaret(python, folder, config.propensity.seed, categorical)
                        versions = done["versions"]
                        runs[system].append(done)
                        print(f"  {name}: PyCaret {done['seconds']:.1f} s", file=sys.stderr)
            for system, done in runs.items():
                last = done[-1]
                rows.append((name, system, last["chosen"], last["cv_auc"], last["holdout_auc"],
                             [d["seconds"] for d in done], last.get("n_models")))
    print(f"PyCaret {versions.get('pycaret', '?')} (scikit-learn {versions.get('scikit-learn', '?')}, pandas "
          f"{versions.get('pandas', '?')}) in {args.pycaret_venv}; campaign-report with scikit-learn "
          f"{_version('scikit-learn')}, pandas {pd.__version__}; {args.rounds} alternated round(s)")
    print(f"{'data':<10} {'system':<16} {'chosen':<34} {'CV AUC':>7} {'holdout AUC':>11} {'seconds (each run)':>22}")
    by_data: dict[str, dict[str, tuple]] = {}
    for name, system, chosen, cv, hold, secs, n_models in rows:
        label = f"{chosen} (best of {n_models})" if n_models else chosen
        print(f"{name:<10} {system:<16} {label:<34} {cv:>7.4f} {hold:>11.4f} "
              f"{' / '.join(f'{s:.1f}' for s in secs):>22}")
        by_data.setdefault(name, {})[system] = (hold, statistics.median(secs))
    for name, pair in by_data.items():
        if len(pair) == 2:
            (h_ours, s_ours), (h_pc, s_pc) = pair["campaign-report"], pair["PyCaret"]
            print(f"{name}: holdout AUC ours − PyCaret {h_ours - h_pc:+.4f} (target ≥ −0.005); "
                  f"time ours / PyCaret {s_ours / s_pc:.2f} (median seconds {s_ours:.1f} / {s_pc:.1f})")


def _version(package: str) -> str:
    from importlib import metadata

    return metadata.version(package)


if __name__ == "__main__":
    main()
