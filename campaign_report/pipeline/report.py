"""One run: config -> Results -> documents, published atomically and recorded in the ledger."""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.analyze import StageCallback, analyze
from campaign_report.analysis.config import Config, load_config
from campaign_report.analysis.errors import UserError
from campaign_report.analysis.history.entry import campaign_id
from campaign_report.analysis.results import Results
from campaign_report.pipeline.campaigns import STORE, earlier_campaigns, record_campaign
from campaign_report.pipeline.ledger import LEDGER, Ledger, disk_full, inputs_key
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
    campaign = campaign_id(config)
    earlier_looks = 0
    if (target / LEDGER).exists():
        ledger = Ledger(target)  # a damaged ledger stops the run before anything is computed or published
        earlier_looks = ledger.interim_looks(campaign) if campaign else 0
        ledger.close()
    earlier = earlier_campaigns(target)  # a damaged history stops the run here, before the analysis
    key = inputs_key(config)
    timings: dict[str, float] = {}
    published: dict[str, Path] = {}
    try:
        results = analyze(config, progress, timings, earlier_looks, earlier)
        look = results.experiment.look if results.experiment is not None else None
        if progress:
            progress("render", None)
        render_started = time.perf_counter()
        ledger = Ledger(target)
        try:
            run_id = ledger.begin_run(started, key)
            published = publish(target, document_writers(results), config.report.keep_history)
            if results.history is not None:  # written only once its run published
                record_campaign(target, results.history.this)
            ledger.finish_run(run_id, "ok", campaign=campaign if look is not None else None,
                              look=(look.day, look.days) if look is not None else None)
        finally:
            ledger.close()
        timings["render"] = time.perf_counter() - render_started
        if progress:
            progress("render", timings["render"])
    except Exception as exc:
        if target.is_dir():
            _record_failure(target, started, key, exc)
        if disk_full(exc):
            outcome = ("the documents were published, but the ledger could not record the run, so they will not "
                       "be e-mailed by themselves" if published else
                       "nothing was published, the previous documents are unchanged")
            raise UserError(f"{target}: no space left on the disk; {outcome} — free some space and run again") \
                from None
        raise
    stores = {name: target / name for name in (LEDGER, STORE) if (target / name).exists()}
    return RunOutcome(results=results, output_dir=target, files={**published, **stores},
                      stage_seconds=timings)


def _record_failure(target: Path, started: str, key: str, exc: BaseException) -> None:
    """A failed run in the ledger, when the ledger can take it (a full disk or a damaged ledger cannot)."""
    try:
        ledger = Ledger(target)
        ledger.record_run(started, "failed", key, f"{type(exc).__name__}: {exc}")
        ledger.close()
    except (UserError, OSError, sqlite3.Error):
        pass

