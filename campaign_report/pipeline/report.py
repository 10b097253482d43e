"""One run: config -> Results -> documents, published atomically and recorded in the ledger."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.analyze import StageCallback, analyze
from campaign_report.analysis.config import Config, load_config
from campaign_report.analysis.results import Results
from campaign_report.pipeline.ledger import LEDGER, Ledger, inputs_key
from campaign_report.pipeline.publish import check_writable, publish


@dataclass(frozen=True)
class RunOutcome:
    results: Results
    output_dir: Path
    files: dict[str, Path]  # every file the run wrote, the ledger included
    stage_seconds: dict[str, float]


def run_report(config: Config | str | Path, out_dir: str | Path | None = None,
               progress: StageCallback | None = None) -> RunOutcome:
    """Analyse, render and publish; nothing reaches out_dir unless everything succeeded.

    Every run is recorded in the output folder's ledger (a failed one only if the folder exists already).
    """
    from campaign_report.renderers.documents import document_writers

    if not isinstance(config, Config):
        config = load_config(config)
    target = Path(out_dir).resolve() if out_dir else config.output_dir
    started = datetime.now().astimezone().isoformat(timespec="seconds")
    check_writable(target)
    key = inputs_key(config)
    timings: dict[str, float] = {}
    try:
        results = analyze(config, progress, timings)
        if progress:
            progress("render", None)
        render_started = time.perf_counter()
        published = publish(target, document_writers(results), config.report.keep_history)
        timings["render"] = time.perf_counter() - render_started
        if progress:
            progress("render", timings["render"])
    except Exception as exc:
        if target.is_dir():
            ledger = Ledger(target)
            ledger.record_run(started, "failed", key, f"{type(exc).__name__}: {exc}")
            ledger.close()
        raise
    ledger = Ledger(target)
    ledger.record_run(started, "ok", key)
    ledger.close()
    return RunOutcome(results=results, output_dir=target, files={**published, LEDGER: target / LEDGER},
                      stage_seconds=timings)
