"""Signs of life during a run: each stage's line when it ends, and while a long stage runs, a pulsing bar with
the elapsed time on a terminal, or a line every few seconds without one (cron, make, CI logs)."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from campaign_report.pipeline.messages import say

HEARTBEAT_SECONDS = 10.0  # without a terminal: a line after this long, and again every this long


class StageProgress:
    """The StageCallback of the command line: `(stage, None)` when a stage starts, `(stage, seconds)` when it ends."""

    def __init__(self, console: Console, language: str, quiet: bool, heartbeat: float = HEARTBEAT_SECONDS) -> None:
        self.console, self.language, self.quiet, self.heartbeat = console, language, quiet, heartbeat
        self._bar: Progress | None = None
        self._stop = threading.Event()
        self._ticker: threading.Thread | None = None

    def _name(self, stage: str) -> str:
        return say(self.language, "stage." + stage)

    def __call__(self, stage: str, seconds: float | None) -> None:
        if self.quiet:
            return
        if seconds is None:
            self._start(stage)
            return
        self._finish()
        self.console.print(f"  {self._name(stage):<26} {seconds:6.1f} s", highlight=False)

    def _start(self, stage: str) -> None:
        self._finish()
        if self.console.is_terminal:
            self._bar = Progress(TextColumn("  {task.description:<26}"), BarColumn(), TimeElapsedColumn(),
                                 console=self.console, transient=True)
            self._bar.add_task(self._name(stage), total=None)  # no total: a pulsing bar, the stage has no count
            self._bar.start()
            return
        self._stop = threading.Event()
        started = time.monotonic()

        def beat(stop: threading.Event) -> None:
            while not stop.wait(self.heartbeat):
                running = say(self.language, "still_running", seconds=f"{time.monotonic() - started:.0f}")
                self.console.print(f"  {self._name(stage):<26} … {running}", highlight=False)

        self._ticker = threading.Thread(target=beat, args=(self._stop,), daemon=True)
        self._ticker.start()

    def _finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        if self._ticker is not None:
            self._stop.set()
            self._ticker.join()
            self._ticker = None

    def close(self) -> None:
        """Stop the bar or the heartbeat (a run that failed mid-stage)."""
        self._finish()
