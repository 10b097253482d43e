"""The embedded demo data set: a sports retailer with planted, documented truths.

Deterministic for a given seed and size. Everything a test needs to check the engine against is
returned in `PlantedTruth` and written to `planted_truth.json` next to the CSV files:

- four latent customer types with distinct categories, checks, promo use and age;
- an e-mail A/B test in October 2026 (≈50/50) whose treatment multiplies each customer's probability
  to buy in the window (capped at 0.95) and every line amount by a factor that depends on the customer's
  type: promo hunters respond strongly (×1.30 and ×1.50), premium customers not at all (×1), youth and
  family less (×1.10 and ×1.30); each customer's expected revenue uplift is in
  truth_customers.csv (`true_uplift`);
- an "activity declined" label drawn from a known logistic function of recency, frequency and
  promo share (the true probability of each customer is in truth_customers.csv);
- a banner promo on the 15th of every month lifting the daily order rate by 30 % (no control group);
- gender missing for ~15 % and correlated with categories, so a model can recover it;
- planted dirt: duplicated lines, a category typo, negative amounts, customers in both groups.

Layout: `world` (how the world works), `block` (one block of customers drawn), `generate` (the files, block by
block), `truth` (what was planted), `campaigns` (the earlier campaigns of the history).
"""

from campaign_report.analysis.demo.generate import generate_demo
from campaign_report.analysis.demo.truth import PlantedTruth, load_truth

__all__ = ["PlantedTruth", "generate_demo", "load_truth"]
