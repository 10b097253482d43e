"""The A/B readout: statistics, engine aggregates, verdicts, per-segment effects, the promo without a control."""
