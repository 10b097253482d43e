"""campaign-report: the after-campaign report — A/B readout, segments, propensity, offers -> brief, deck, JSON.

From Python or Jupyter::

    import campaign_report as cr

    config = cr.load_config("config.toml")         # or cr.config_from_dict({...}, folder=".")
    results = cr.analyze(config)                    # Results: frozen dataclasses, no printing, no exit
    results.experiment.to_frame()                   # the metrics table as a DataFrame
    results.frames()                                # every table, e.g. results.to_frame("segments.clusters")
    cr.render(results, "output/")                   # results.json, brief.pdf, deck.pptx, target_list.csv

Errors are exceptions (ConfigError, InputError — both UserError) carrying the command line's one-line message.
"""

from __future__ import annotations

import sys
from importlib import import_module, metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from campaign_report.analysis.analyze import StageCallback, analyze
    from campaign_report.analysis.config import Config, config_from_dict, load_config
    from campaign_report.analysis.errors import ConfigError, InputError, UserError
    from campaign_report.analysis.results import Results

# The public names load on first use (PEP 562): `campaign-report --version`, `--help` and the command line's
# own modules start without pandas, scikit-learn and DuckDB.
_LAZY = {"StageCallback": "analysis.analyze", "analyze": "analysis.analyze", "Config": "analysis.config",
         "config_from_dict": "analysis.config", "load_config": "analysis.config", "ConfigError": "analysis.errors",
         "InputError": "analysis.errors", "UserError": "analysis.errors", "Results": "analysis.results"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(f"campaign_report.{_LAZY[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'campaign_report' has no attribute {name!r}")


try:
    __version__ = metadata.version("campaign-report")
except metadata.PackageNotFoundError:  # a checkout that is not installed
    __version__ = "unknown"


def render(results: Results, out_dir: str | Path, keep_history: int = 5) -> dict[str, Path]:
    """Write the documents of `results` into out_dir, all of them or none; returns name -> path."""
    from campaign_report.pipeline.publish import publish
    from campaign_report.renderers.documents import document_writers

    return publish(Path(out_dir).resolve(), document_writers(results), keep_history)


def _register_notebook_view() -> None:
    """In IPython/Jupyter, Results display as the documents' formatted view (renderers/notebook.py), registered by
    name so that nothing heavy is imported until a Results is shown."""
    if "IPython" not in sys.modules:
        return
    shell = sys.modules["IPython"].get_ipython()
    if shell is None:
        return

    def show(results: Any) -> str:
        from campaign_report.renderers.notebook import notebook_html

        return notebook_html(results)

    shell.display_formatter.formatters["text/html"].for_type_by_name("campaign_report.analysis.results", "Results",
                                                                      show)


_register_notebook_view()

__all__ = ["Config", "ConfigError", "InputError", "Results", "StageCallback", "UserError", "analyze",
           "config_from_dict", "load_config", "render", "__version__"]
