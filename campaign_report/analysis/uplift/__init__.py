"""Whom to contact next time: uplift models learned from the campaign's own A/B test."""
