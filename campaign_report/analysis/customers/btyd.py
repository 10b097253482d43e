"""Buy-till-you-die models fitted by maximum likelihood: BG/NBD for purchases, Gamma-Gamma for spend.

BG/NBD (Fader, Hardie & Lee 2005, "Counting your customers the easy way"): while alive a customer buys at a
Poisson rate λ ~ Gamma(r, α); after each repeat purchase they leave with probability p ~ Beta(a, b). A
customer is summarised by x (repeat purchases), t_x (time of the last purchase) and T (time observed), all
from their first purchase. Gamma-Gamma (Fader, Hardie & Lee 2005, "RFM and CLV"; Hardie's note 025): spend
per purchase ~ Gamma(p, ν) with ν ~ Gamma(q, γ), fitted on customers' mean repeat spend; it assumes spend
and frequency are independent, which the caller checks.

The likelihood sums over distinct (x, t_x, T) triples weighted by their counts, so a million customers fit
in seconds. Parameters are optimised on the log scale (L-BFGS-B); standard errors come from the observed
information (a central-difference Hessian of the log-likelihood on the log scale, by the delta method).
Time is in weeks. Checked against `lifetimes` 0.11.3 on the same summaries (tests/test_lifetime.py).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, special


@dataclass(frozen=True)
class Fit:
    params: dict[str, float]
    std_errors: dict[str, float]
    log_likelihood: float
    converged: bool

    def interval(self, name: str, z: float = 1.959964) -> tuple[float, float]:
        """A 95 % interval from the log-scale standard error (it stays positive)."""
        value, se = self.params[name], self.std_errors[name]
        if not math.isfinite(se) or value <= 0:
            return (math.nan, math.nan)
        spread = z * se / value
        return (value * math.exp(-spread), value * math.exp(spread))


def _hessian(f, x: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Central-difference Hessian of a scalar function (a few parameters)."""
    n = len(x)
    h = np.zeros((n, n))
    for i in range(n):
        for j in range(i, n):
            ei, ej = np.eye(n)[i] * step, np.eye(n)[j] * step
            h[i, j] = h[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * step**2)
    return h


BOUNDS = (math.log(1e-3), math.log(1e4))  # every parameter, on the scales the optimiser sees


def _fit(negative_ll, start: np.ndarray, names: tuple[str, ...]) -> Fit:
    # Bounded: where nobody leaves, the maximum lies at a, b -> 0 (all mass at p = 0 or 1), where the
    # expectations' hypergeometric functions overflow; 1e-3 is indistinguishable in every quantity reported.
    result = optimize.minimize(negative_ll, np.log(start), method="L-BFGS-B", bounds=[BOUNDS] * len(start),
                               options={"maxiter": 2000, "ftol": 1e-12, "gtol": 1e-9})
    log_params = result.x
    params = np.exp(log_params)
    try:
        covariance = np.linalg.inv(_hessian(negative_ll, log_params))
        se_log = np.sqrt(np.clip(np.diag(covariance), 0, None))
    except np.linalg.LinAlgError:
        se_log = np.full(len(params), np.nan)
    return Fit(dict(zip(names, params.tolist(), strict=True)),
               dict(zip(names, (params * se_log).tolist(), strict=True)), float(-result.fun), bool(result.success))


# --- BG/NBD -------------------------------------------------------------------------------------------------

@np.errstate(all="ignore")  # the optimiser's wilder steps overflow; they come back as -inf and are rejected
def bgnbd_log_likelihood(r: float, alpha: float, a: float, b: float, x: np.ndarray, t_x: np.ndarray,
                         t: np.ndarray) -> np.ndarray:
    """Each customer's log-likelihood (Fader, Hardie & Lee 2005, eq. 6)."""
    a1 = special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
    a2 = special.gammaln(a + b) + special.gammaln(b + x) - special.gammaln(b) - special.gammaln(a + b + x)
    a3 = -(r + x) * np.log(alpha + t)
    a4 = np.where(x > 0, np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) - (r + x) * np.log(alpha + t_x), -np.inf)
    return a1 + a2 + np.logaddexp(a3, a4)


def fit_bgnbd(x: np.ndarray, t_x: np.ndarray, t: np.ndarray, weights: np.ndarray | None = None) -> Fit:
    """Maximum-likelihood r, α, a, b from (x, t_x, T) per customer or per distinct triple with `weights`."""
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype=float)
    scale = max(float(np.max(t)), 1e-9)  # the optimiser sees α in units of the longest observation

    def negative(log_params: np.ndarray) -> float:
        r, alpha, a, b = np.exp(log_params)
        value = -float(np.sum(w * bgnbd_log_likelihood(r, alpha * scale, a, b, x, t_x, t)))
        return value if math.isfinite(value) else 1e300

    fit = _fit(negative, np.array([0.5, 0.1, 1.0, 1.0]), ("r", "alpha", "a", "b"))
    params, se = dict(fit.params), dict(fit.std_errors)
    params["alpha"] *= scale
    se["alpha"] *= scale
    return Fit(params, se, fit.log_likelihood, fit.converged)


def p_alive(params: dict[str, float], x: np.ndarray, t_x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """P(still a customer | x, t_x, T); 1 for a customer who never came back (the model's convention)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    log_ratio = np.log(a) - np.log(np.maximum(b + x - 1, 1e-300)) + (r + x) * (np.log(alpha + t) - np.log(alpha + t_x))
    return np.where(x > 0, 1 / (1 + np.exp(np.minimum(log_ratio, 700))), 1.0)


def _hyp2f1(a: np.ndarray | float, b: np.ndarray | float, c: np.ndarray | float, z: np.ndarray) -> np.ndarray:
    return special.hyp2f1(a, b, c, z)


def expected_purchases(params: dict[str, float], horizon: float, x: np.ndarray, t_x: np.ndarray,
                       t: np.ndarray) -> np.ndarray:
    """E[purchases in the next `horizon` | x, t_x, T] (the paper's eq. 10)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    z = horizon / (alpha + t + horizon)
    first = (a + b + x - 1) / (a - 1)
    second = 1 - ((alpha + t) / (alpha + t + horizon)) ** (r + x) * _hyp2f1(r + x, b + x, a + b + x - 1, z)
    alive_odds = np.where(x > 0, a / np.maximum(b + x - 1, 1e-300) * ((alpha + t) / (alpha + t_x)) ** (r + x), 0.0)
    return first * second / (1 + alive_odds)


def expected_purchases_new(params: dict[str, float], t: np.ndarray) -> np.ndarray:
    """E[repeat purchases by time t since the first purchase] for a random customer (the paper's eq. 9)."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    return (a + b - 1) / (a - 1) * (1 - (alpha / (alpha + t)) ** r * _hyp2f1(r, b, a + b - 1, t / (alpha + t)))


def repeat_count_probability(params: dict[str, float], count: int, t: np.ndarray) -> np.ndarray:
    """P(X(t) = count) for a random customer observed for t (the paper's eq. 8): the fit check's histogram."""
    r, alpha, a, b = (params[k] for k in ("r", "alpha", "a", "b"))
    t = np.asarray(t, dtype=float)
    log_beta = special.betaln(a, b)
    base = alpha / (alpha + t)
    rest = t / (alpha + t)
    term = np.exp(special.betaln(a, b + count) - log_beta + special.gammaln(r + count) - special.gammaln(r)
                  - special.gammaln(count + 1) + r * np.log(base) + count * np.log(np.maximum(rest, 1e-300)))
    if count == 0:
        return term
    partial = sum(np.exp(special.gammaln(r + j) - special.gammaln(r) - special.gammaln(j + 1)
                         + j * np.log(np.maximum(rest, 1e-300))) for j in range(count))
    return term + np.exp(special.betaln(a + 1, b + count - 1) - log_beta) * (1 - base**r * partial)


# --- Gamma-Gamma ---------------------------------------------------------------------------------------------

@np.errstate(all="ignore")
def gamma_gamma_log_likelihood(p: float, q: float, v: float, x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Each repeat customer's log-likelihood of their mean spend m over x purchases."""
    return (special.gammaln(p * x + q) - special.gammaln(p * x) - special.gammaln(q) + q * np.log(v)
            + (p * x - 1) * np.log(m) + p * x * np.log(x) - (p * x + q) * np.log(x * m + v))


def fit_gamma_gamma(x: np.ndarray, m: np.ndarray) -> Fit:
    """Maximum-likelihood p, q, γ (`v`, as lifetimes calls it) from repeat customers' x and mean spend m."""
    keep = (x > 0) & (m > 0)
    x, m = x[keep].astype(float), m[keep].astype(float)
    scale = max(float(np.mean(m)), 1e-9)

    def negative(log_params: np.ndarray) -> float:
        p, q, v = np.exp(log_params)
        value = -float(np.sum(gamma_gamma_log_likelihood(p, q, v * scale, x, m)))
        return value if math.isfinite(value) else 1e300

    fit = _fit(negative, np.array([1.0, 1.0, 1.0]), ("p", "q", "v"))
    params, se = dict(fit.params), dict(fit.std_errors)
    params["v"] *= scale
    se["v"] *= scale
    return Fit(params, se, fit.log_likelihood, fit.converged)


def expected_spend(params: dict[str, float], x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """E[spend per purchase | x, m]: the customer's mean shrunk towards the population's (p·γ/(q−1))."""
    p, q, v = params["p"], params["q"], params["v"]
    population = p * v / (q - 1) if q > 1 else math.nan
    own = (v + x * m) * p / np.maximum(p * x + q - 1, 1e-300)
    return np.where(x > 0, own, population)
