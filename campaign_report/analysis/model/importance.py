"""Permutation importance on the preprocessed holdout.

sklearn's `permutation_importance` on the whole pipeline re-runs the preprocessing for every feature and
repeat (about 100 transforms of the holdout; on the demo that was most of its 15 s). Imputing, scaling and
one-hot encoding act column by column, so permuting a customer column's rows is the same as permuting
the rows of the block it becomes (one column for a number, its one-hot columns for a category): the
holdout is transformed once and the blocks are permuted in place.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from campaign_report.analysis.model.search import raw_score


def _blocks(pipeline: Pipeline, numeric: list[str], categorical: list[str]) -> list[np.ndarray]:
    """For each input feature (numeric, then categorical), the columns it becomes after preprocessing."""
    prep = pipeline.named_steps["prep"]
    start = prep.output_indices_["num"].start
    blocks = [np.array([start + i]) for i in range(len(numeric))]
    if categorical:
        encoder = prep.named_transformers_["cat"][-1]
        position = prep.output_indices_["cat"].start
        for categories, infrequent in zip(encoder.categories_, encoder.infrequent_categories_, strict=True):
            width = len(categories) if infrequent is None else len(categories) - len(infrequent) + 1
            blocks.append(np.arange(position, position + width))
            position += width
    return blocks


def permutation_drops(pipeline: Pipeline, x, y: np.ndarray, numeric: list[str], categorical: list[str],
                      n_repeats: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean and SD of the ROC-AUC drop when each feature's values are shuffled across customers."""
    matrix = np.asarray(pipeline.named_steps["prep"].transform(x[numeric + categorical]), dtype=float)
    model = pipeline.named_steps["model"]
    baseline = roc_auc_score(y, raw_score(model, matrix))
    rng = np.random.default_rng(seed)
    drops = np.zeros((len(numeric) + len(categorical), n_repeats))
    for i, block in enumerate(_blocks(pipeline, numeric, categorical)):
        original = matrix[:, block].copy()
        for r in range(n_repeats):
            matrix[:, block] = original[rng.permutation(len(original))]
            drops[i, r] = baseline - roc_auc_score(y, raw_score(model, matrix))
        matrix[:, block] = original
    return drops.mean(axis=1), drops.std(axis=1)
