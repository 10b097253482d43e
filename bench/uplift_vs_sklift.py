"""Our uplift models next to scikit-uplift's on the same Hillstrom split (Womens E-Mail vs No E-Mail,
outcome visit, half of the customers held out, seed 20 — the split tests/test_uplift.py uses).

Two steps, because scikit-uplift lives in a throwaway virtual environment of its own:
  .venv/bin/python bench/uplift_vs_sklift.py prepare            # our models -> /tmp/uplift_hillstrom.npz
  /path/to/venv-with-scikit-uplift/bin/python bench/uplift_vs_sklift.py compare
`compare` fits scikit-uplift's SoloModel, TwoModels (vanilla and ddr_control) and ClassTransformation on
the same training half and prints, for every model, scikit-uplift's qini_auc_score, uplift_auc_score and
uplift_at_k(30 %) next to our Qini area, all on the held-out half.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
SAVED = Path("/tmp/uplift_hillstrom.npz")
FEATURES = ["recency", "history", "mens", "womens", "zip_code", "newbie", "channel", "history_segment"]


def _data() -> tuple[pd.DataFrame, np.ndarray]:
    datasets = Path(os.environ.get("CAMPAIGN_REPORT_DATASETS", ROOT.parent / "shared" / "datasets"))
    data = pd.read_csv(datasets / "hillstrom" / "hillstrom.csv")
    data = data[data["segment"].isin(["Womens E-Mail", "No E-Mail"])].reset_index(drop=True)
    held_out = np.random.default_rng(20).random(len(data)) < 0.5
    return data, held_out


def prepare() -> None:
    from threadpoolctl import threadpool_limits

    from campaign_report.analysis.settings import UpliftConfig
    from campaign_report.analysis.uplift.curves import curve_and_area
    from campaign_report.analysis.uplift.learners import UpliftLearner, cross_fitted
    from campaign_report.analysis.uplift.run import encode

    data, held_out = _data()
    x = encode(data[FEATURES]).to_numpy()
    t = (data["segment"] == "Womens E-Mail").to_numpy()
    y = data["visit"].to_numpy(dtype=float)
    fit = ~held_out
    settings = UpliftConfig()
    scores = {}
    with threadpool_limits(1):
        oof, _ = cross_fitted(settings.models, x[fit], t[fit], y[fit], True, settings.folds, settings.seed)
        ones = np.ones((1, int(fit.sum())))
        areas = {k: curve_and_area(v, t[fit], y[fit], ones)[1] for k, v in oof.items()}
        chosen = max(areas, key=lambda k: areas[k])
        print("cross-fitted Qini area on the training half:", {k: round(v, 5) for k, v in areas.items()})
        for kind in (*settings.models, "ensemble"):
            learner = UpliftLearner(kind, True, 42, members=settings.models)
            scores[kind] = learner.fit(x[fit], t[fit], y[fit]).predict(x[held_out])
    ones = np.ones((1, int(held_out.sum())))
    ours_area = {f"area_{k}": curve_and_area(v, t[held_out], y[held_out], ones)[1] for k, v in scores.items()}
    np.savez(SAVED, chosen=chosen, t=t[held_out], y=y[held_out], **{f"ours_{k}": v for k, v in scores.items()},
             **ours_area)
    print(f"chosen: {chosen}; saved {SAVED}")


def compare() -> None:
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import auc
    from sklift.metrics import qini_auc_score, uplift_at_k, uplift_auc_score, uplift_curve
    from sklift.models import ClassTransformation, SoloModel, TwoModels

    saved = np.load(SAVED)
    data, held_out = _data()
    x = pd.get_dummies(data[FEATURES], dtype=float).to_numpy()
    t = (data["segment"] == "Womens E-Mail").to_numpy().astype(int)
    y = data["visit"].to_numpy()
    fit = ~held_out
    assert (saved["t"] == t[held_out]).all() and (saved["y"] == y[held_out]).all(), "not the same split"

    def logistic():
        return LogisticRegression(max_iter=2000)

    def boosting():
        return HistGradientBoostingClassifier(max_iter=120, learning_rate=0.05, min_samples_leaf=200)

    theirs = {
        "sklift SoloModel (boosting)": SoloModel(boosting()),
        "sklift TwoModels vanilla (logistic)": TwoModels(logistic(), logistic(), method="vanilla"),
        "sklift TwoModels vanilla (boosting)": TwoModels(boosting(), boosting(), method="vanilla"),
        "sklift TwoModels ddr_control (boosting)": TwoModels(boosting(), boosting(), method="ddr_control"),
        "sklift ClassTransformation (boosting)": ClassTransformation(boosting()),
    }
    scores = {f"ours {k[5:]}" + (" (chosen)" if k[5:] == str(saved["chosen"]) else ""): saved[k]
              for k in saved.files if k.startswith("ours_")}
    for name, model in theirs.items():
        model.fit(x[fit], y[fit], t[fit])
        scores[name] = model.predict(x[held_out])
    yt, tt = y[held_out], t[held_out]
    n = len(yt)
    # Our Qini area is scikit-uplift's uplift-curve area above the random line, divided by n²: printed
    # side by side for our models (the last two columns agree up to the grid of 100 points ours is read on).
    print(f"{'model':45} {'qini_auc':>9} {'uplift_auc':>10} {'top30':>7} {'sklift area/n²':>14} {'our area':>9}")
    for name, s in scores.items():
        x_curve, y_curve = uplift_curve(yt, s, tt)
        area = (auc(x_curve, y_curve) - auc([0, x_curve[-1]], [0, y_curve[-1]])) / n**2
        key = "area_" + name.split(" ")[1]
        ours = f"{float(saved[key]):9.5f}" if name.startswith("ours") else f"{'':9}"
        print(f"{name:45} {qini_auc_score(yt, s, tt):9.4f} {uplift_auc_score(yt, s, tt):10.4f} "
              f"{uplift_at_k(yt, s, tt, strategy='overall', k=0.3):7.4f} {area:14.5f} {ours}")


if __name__ == "__main__":
    {"prepare": prepare, "compare": compare}[sys.argv[1]]()
