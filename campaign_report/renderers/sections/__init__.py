"""The sections of the view model, one module per analysis. Formatting and arranging only."""

from campaign_report.renderers.sections.appendix import (
    acquisition_text,
    large_lines_text,
    methods_section,
    quality_section,
)
from campaign_report.renderers.sections.experiment import experiment_section, primary_lift_text
from campaign_report.renderers.sections.history import comparison_with_previous, history_section, previous_lift
from campaign_report.renderers.sections.lifetime import lifetime_section
from campaign_report.renderers.sections.offers import offers_section
from campaign_report.renderers.sections.propensity import propensity_section
from campaign_report.renderers.sections.segments import segments_section
from campaign_report.renderers.sections.uplift import uplift_section

__all__ = [
    "acquisition_text", "comparison_with_previous", "experiment_section", "history_section", "large_lines_text",
    "lifetime_section", "methods_section", "offers_section", "previous_lift", "primary_lift_text",
    "propensity_section", "quality_section", "segments_section", "uplift_section",
]
