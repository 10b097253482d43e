"""Who will buy or slip away: model search, honest holdout metrics, leakage guard, scoring, the target list."""
