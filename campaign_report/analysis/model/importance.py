"""Permutation importance on the preprocessed holdout, and the direction of each driver.

sklearn's `permutation_importance` on the whole pipeline re-runs the preprocessing for every feature and
repeat (about 100 transforms of the holdout; on the demo that was most of its 15 s). Imputing, scaling and
one-hot encoding act column by column, so permuting a customer column's rows is the same as permuting
the rows of the block it becomes (one column for a number, its one-hot columns for a category): the
holdout is transformed once and the blocks are permuted in place.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score
from sklearn.pipeline import Pipeline

from campaign_report.analysis.model.search import raw_score

STACK_BYTES = 64 * 2**20  # shuffled copies scored per call: at most this much memory


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
    """Mean and SD of the ROC-AUC drop when each feature's values are shuffled across customers.

    Every shuffled copy of the holdout is scored in a few large calls rather than one call per copy: a
    forest's predict costs about the same for 300 rows as for 30,000 (one_click: 75 calls took 3 s)."""
    matrix = np.asarray(pipeline.named_steps["prep"].transform(x[numeric + categorical]), dtype=float)
    model = pipeline.named_steps["model"]
    baseline = roc_auc_score(y, raw_score(model, matrix))
    rng = np.random.default_rng(seed)
    copies = [(i, block, rng.permutation(len(matrix)))  # drawn in the order the one-call-per-copy loop drew
              for i, block in enumerate(_blocks(pipeline, numeric, categorical)) for _ in range(n_repeats)]
    per_call = max(1, STACK_BYTES // max(matrix.nbytes, 1))
    drops = np.zeros((len(numeric) + len(categorical), n_repeats))
    for start in range(0, len(copies), per_call):
        batch = copies[start:start + per_call]
        stacked = np.tile(matrix, (len(batch), 1))
        for k, (_, block, order) in enumerate(batch):
            rows = slice(k * len(matrix), (k + 1) * len(matrix))
            stacked[rows, block] = matrix[order][:, block]
        scores = raw_score(model, stacked).reshape(len(batch), len(matrix))
        for k in range(len(batch)):
            i = (start + k) // n_repeats
            drops[i, (start + k) % n_repeats] = baseline - roc_auc_score(y, scores[k])
    return drops.mean(axis=1), drops.std(axis=1)


def conditional_directions(pipeline, x: pd.DataFrame, columns: list[str]) -> dict[str, int]:
    """Which way the model moves the probability when each column goes from its lower to its upper quartile with
    every other trait of each customer held as it is (two points of the partial dependence). The rank
    correlation of the column with the predictions said the opposite of the truth on the demo: customers who buy
    little on promotion also buy rarely, and rare buyers decline (promo share's own effect is the other way).

    All columns are scored in one call: a forest's predict costs per call as much as per row (54 calls on 1,000
    customers took 5 s of CPU, one call 0.5 s)."""
    copies, shifted = [], []
    for column in columns:
        values = x[column].astype(float)
        low, high = values.quantile(0.25), values.quantile(0.75)
        if not np.isfinite(low) or not np.isfinite(high) or low == high:
            low, high = values.min(), values.max()
        if not np.isfinite(low) or low == high:
            continue
        for value in (low, high):
            copies.append(x.assign(**{column: value}))
        shifted.append(column)
    directions = dict.fromkeys(columns, 1)
    if not shifted:
        return directions
    scores = raw_score(pipeline, pd.concat(copies, ignore_index=True)).reshape(len(shifted), 2, len(x))
    for column, (at_low, at_high) in zip(shifted, scores, strict=True):
        directions[column] = 1 if float(np.mean(at_high - at_low)) >= 0 else -1
    return directions
