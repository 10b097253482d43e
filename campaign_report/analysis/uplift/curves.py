"""Uplift-gain curve, Qini area, bootstrap band and per-decile uplift of a ranking on an A/B test.

Definitions (per customer of the base, so the numbers read as "incremental outcome per customer"):
- gain(φ) = (mean outcome of the treated − mean outcome of the control among the top φ by score) × φ.
  gain(1) is the average effect; contacting a random φ gains φ × gain(1) (the random line).
- Qini area = ∫ (gain(φ) − φ·gain(1)) dφ over φ in (0, 1]: zero for a ranking that knows nothing, positive
  when the top of the ranking responds more. Up to the normalisation by the number of customers it is
  scikit-uplift's uplift-curve area minus the random area (`uplift_auc_score`'s numerator).
The band resamples customers (Poisson bootstrap, treated and control alike) with the ranking fixed: it
is the sampling uncertainty of the curve given the model.
"""

from __future__ import annotations

import numpy as np
from scipy import integrate, stats

GRID = np.round(np.arange(0.05, 1.0001, 0.05), 2)  # the contact shares the curve is read at


def sorted_by_score(score: np.ndarray, treated: np.ndarray, y: np.ndarray,
                    seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Group and outcome ordered by score, highest first. Ties are broken at random: a constant score must
    behave like a random ranking, not like the file order."""
    jitter = np.random.default_rng(seed).random(len(score))
    order = np.lexsort((jitter, -score))
    return treated[order].astype(bool), y[order].astype(float)


def gain_at(treated: np.ndarray, y: np.ndarray, weights: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """gain(φ) for rows already sorted by score; `weights` (reps × n) are bootstrap counts (or ones).

    Returns reps × len(shares). A top share with no treated or no control customer gains nothing.
    """
    n = treated.shape[0]
    wt = weights * treated
    wc = weights * ~treated
    ct_n, cc_n = np.cumsum(wt, axis=1), np.cumsum(wc, axis=1)
    ct_y, cc_y = np.cumsum(wt * y, axis=1), np.cumsum(wc * y, axis=1)
    idx = np.clip(np.ceil(shares * n).astype(int) - 1, 0, n - 1)
    nt, nc, yt, yc = ct_n[:, idx], cc_n[:, idx], ct_y[:, idx], cc_y[:, idx]
    total = weights.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff = np.where((nt > 0) & (nc > 0), yt / np.maximum(nt, 1e-12) - yc / np.maximum(nc, 1e-12), 0.0)
    return diff * (nt + nc) / total


def qini_area(gains: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Area between the gain curve and the random line (trapezoids from φ = 0, where both are 0)."""
    x = np.concatenate([[0.0], shares])
    excess = gains - shares[None, :] * gains[:, -1:]
    excess = np.concatenate([np.zeros((gains.shape[0], 1)), excess], axis=1)
    return integrate.trapezoid(excess, x, axis=1)


FINE = np.linspace(0.01, 1.0, 100)  # the area is read on a finer grid than the curve shown


def bootstrap_weights(n: int, reps: int, seed: int) -> np.ndarray:
    """Poisson(1) counts per customer and replicate (reps × n): a bootstrap that needs no resampling."""
    return np.random.default_rng(seed).poisson(1.0, size=(reps, n)).astype(np.float32)


def curve_and_area(score: np.ndarray, treated: np.ndarray, y: np.ndarray, weights: np.ndarray,
                   ) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """(gain on GRID, Qini area, bootstrap gains on GRID (reps × grid), bootstrap areas (reps))."""
    t, yy = sorted_by_score(score, treated, y)
    ones = np.ones((1, len(t)))
    shares = np.concatenate([FINE, GRID])
    point = gain_at(t, yy, ones, shares)
    boot = np.concatenate([gain_at(t, yy, weights[i:i + 50], shares) for i in range(0, len(weights), 50)])
    k = len(FINE)
    return point[0, k:], float(qini_area(point[:, :k], FINE)[0]), boot[:, k:], qini_area(boot[:, :k], FINE)


def top_share_uplift(score: np.ndarray, treated: np.ndarray, y: np.ndarray, share: float) -> float:
    """Measured uplift (mean treated − mean control) among the top `share` by score."""
    t, yy = sorted_by_score(score, treated, y)
    top = slice(0, max(int(np.ceil(share * len(t))), 1))
    tt, ty = t[top], yy[top]
    if tt.all() or not tt.any():
        return float("nan")
    return float(ty[tt].mean() - ty[~tt].mean())


def deciles(score: np.ndarray, treated: np.ndarray, y: np.ndarray, confidence: float,
            ) -> list[tuple[int, int, int, int, float, float, float, float]]:
    """Per decile of the score (1 = highest): n, n treated, n control, mean score, uplift and its interval.

    The interval is Welch's normal approximation (difference of two means): with a few hundred customers
    per cell it covers the true decile effect at the stated level (tests/test_uplift.py simulates it).
    """
    t, yy = sorted_by_score(score, treated, y)
    s = np.sort(score)[::-1]
    z = stats.norm.ppf(0.5 + confidence / 2)
    out = []
    for d, part in enumerate(np.array_split(np.arange(len(t)), 10), start=1):
        tt, ty = t[part], yy[part]
        a, b = ty[tt], ty[~tt]
        if len(a) < 2 or len(b) < 2:
            out.append((d, len(part), len(a), len(b), float(s[part].mean()), float("nan"), float("nan"),
                        float("nan")))
            continue
        diff = float(a.mean() - b.mean())
        se = float(np.sqrt(a.var(ddof=1) / len(a) + b.var(ddof=1) / len(b)))
        out.append((d, len(part), len(a), len(b), float(s[part].mean()), diff, diff - z * se, diff + z * se))
    return out
