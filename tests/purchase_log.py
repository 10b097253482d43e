"""A purchase log of a shop unlike the demo: one line per purchase, nothing but who, when, how many, how much.

Customers buy by the BG/NBD process (Fader, Hardie & Lee 2005) with the CDNOW estimates: purchases at a
Poisson rate λ ~ Gamma(r, α) per week while alive, and after each repeat purchase the customer leaves with
probability p ~ Beta(a, b); spend per purchase ~ Gamma(p_gg, ν) with ν ~ Gamma(q, γ). Everyone's first
purchase falls in the first 12 weeks of a 78-week window starting 1997-01-01. Vectorised over customers, so a
million customers take seconds (the benches use it too).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

CDNOW = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426, "p": 6.25, "q": 3.74, "gamma": 15.44}
START = date(1997, 1, 1)
WINDOW_DAYS = 78 * 7
MAX_PURCHASES = 400  # a customer's purchases are drawn up to this; at CDNOW's rates nobody comes close


@dataclass(frozen=True)
class PurchaseLog:
    lines: pd.DataFrame  # customer_id (int), day (0 = START), items, amount
    truth: pd.DataFrame  # customer_id, lam (per week), p, nu, alive (at the window's end)


def simulate_purchases(n: int, seed: int = 1, params: dict[str, float] | None = None) -> PurchaseLog:
    """n customers' purchases in the window, and their true parameters."""
    k = {**CDNOW, **(params or {})}
    rng = np.random.default_rng(seed)
    lam = rng.gamma(k["r"], 1 / k["alpha"], n)
    p = rng.beta(k["a"], k["b"], n)
    nu = rng.gamma(k["q"], 1 / k["gamma"], n)
    day0 = rng.integers(0, 84, n).astype(float)
    times, alive = [day0], np.ones(n, dtype=bool)
    t = day0.copy()
    # Purchase by purchase, for every customer at once: a gap, then (for a repeat) a chance to leave.
    counting = np.ones(n, dtype=bool)
    for _ in range(MAX_PURCHASES):
        if not counting.any():
            break
        t = t + rng.exponential(7 / np.maximum(lam, 1e-12))
        in_window = counting & (t < WINDOW_DAYS)
        times.append(np.where(in_window, t, np.nan))
        leaves = in_window & (rng.random(n) < p)
        alive &= ~leaves
        counting = in_window & ~leaves
    days = np.column_stack(times)
    rows, cols = np.nonzero(~np.isnan(days))
    day = np.floor(days[rows, cols]).astype(int)
    amount = np.maximum(np.round(rng.gamma(k["p"], 1 / nu[rows]), 2), 0.01)
    items = 1 + rng.poisson(0.8, len(rows))
    lines = pd.DataFrame({"customer_id": rows + 1, "day": day, "items": items, "amount": amount})
    truth = pd.DataFrame({"customer_id": np.arange(1, n + 1), "lam": lam, "p": p, "nu": nu, "alive": alive})
    return PurchaseLog(lines.sort_values(["customer_id", "day"], kind="stable").reset_index(drop=True), truth)


def write_aligned_log(log: PurchaseLog, path: Path, header: bool = True) -> Path:
    """The log as a CD shop's export writes it: zero-padded ids, YYYYMMDD, columns aligned with runs of
    spaces, CRLF line ends."""
    dates = (pd.Timestamp(START) + pd.to_timedelta(log.lines["day"], unit="D")).dt.strftime("%Y%m%d")
    body = [f"{c:05d}   {d}  {i:>4d}  {a:>10.2f}" for c, d, i, a in
            zip(log.lines["customer_id"], dates, log.lines["items"], log.lines["amount"], strict=True)]
    head = ["customer_id  date  number_of_cds  dollar_value"] if header else []
    path.write_bytes(("\r\n".join(head + body) + "\r\n").encode("ascii"))
    return path
