"""Publishing a run's files into the output folder: the whole set at once, or nothing.

Each run is written into its own folder `runs/<stamp>/`, staged under a dot-name until every writer
succeeded and then renamed. One symlink, `current`, points at the newest complete run; it is switched
with a single atomic rename, so a reader sees the previous complete set or the new one, never a mix.
The top-level names (`brief.pdf`, `deck.pptx`, ...) are fixed links through `current`: opening
`output/brief.pdf` opens the current run's brief. A reader that needs several files of one run resolves
`current` once (`current_run`). Older runs beyond `keep_history` are removed; staging folders of runs
whose process is gone are removed by the next run.

Where symlinks are not allowed (Windows without developer mode), the files are moved to the top level
one by one, as before: there the set is complete only after the run returns.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.errors import UserError

OUTPUT_FILES = ("results.json", "brief.pdf", "report.html", "deck.pptx", "target_list.csv", "uplift_list.csv",
                "customer_value.csv", "email.json")
RUNS = "runs"
CURRENT = "current"
Writer = Callable[[Path], Path]


def check_writable(out_dir: Path) -> None:
    """Stop before any analysis when the output folder cannot be written: a file in its place, or a
    folder without write permission (found after the analysis, it would waste the whole run)."""
    existing = out_dir
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise UserError(f"{out_dir}: the output folder's path runs into a file, {existing}; set [report] output_dir")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserError(f"{out_dir}: no permission to write into {existing}; set [report] output_dir")


def _process_alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) terminates the process on Windows: assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def remove_leftovers(out_dir: Path) -> list[Path]:
    """Remove the staging folders of runs whose process is gone (killed while rendering)."""
    removed = []
    for folder in [*out_dir.glob(".staging-*"), *(out_dir / RUNS).glob(".staging-*")]:
        pid = folder.name.split("-")[1]
        if not pid.isdigit() or not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def current_run(out_dir: Path) -> Path:
    """The folder holding the newest complete run (the output folder itself for a flat, older layout)."""
    link = out_dir / CURRENT
    return link.resolve() if link.is_symlink() else out_dir


def _switch_link(link: Path, target: str) -> None:
    """Point `link` at `target` with one rename: there is no moment without a link."""
    temporary = link.with_name(f".{link.name}-{os.getpid()}-{time.time_ns()}")
    os.symlink(target, temporary)
    os.replace(temporary, link)


def _adopt_flat_run(out_dir: Path) -> None:
    """Files of an older flat layout become a run of their own, so they stay in the history."""
    flat = [out_dir / n for n in OUTPUT_FILES if (out_dir / n).is_file() and not (out_dir / n).is_symlink()]
    if not flat:
        return
    folder = out_dir / RUNS / "00000000-000000-earlier"  # sorts before every dated run
    folder.mkdir(parents=True, exist_ok=True)
    for path in flat:
        shutil.copy2(path, folder / path.name)
    if not (out_dir / CURRENT).is_symlink():
        _switch_link(out_dir / CURRENT, f"{RUNS}/{folder.name}")


def _prune(out_dir: Path, keep_history: int) -> None:
    current = current_run(out_dir).name
    runs = sorted(p for p in (out_dir / RUNS).iterdir() if p.is_dir() and not p.name.startswith("."))
    older = [p for p in runs if p.name != current]
    for old in older[:-keep_history] if keep_history > 0 else older:
        shutil.rmtree(old, ignore_errors=True)


def _publish_flat(out_dir: Path, run: Path, names: list[str]) -> None:
    for name in names:
        os.replace(run / name, out_dir / name)
    for stale in set(OUTPUT_FILES) - set(names):
        (out_dir / stale).unlink(missing_ok=True)
    shutil.rmtree(run, ignore_errors=True)


def publish(out_dir: Path, files: dict[str, Writer], keep_history: int = 5) -> dict[str, Path]:
    """Write every file into a new run folder, then make it the current run in one step."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / RUNS).mkdir(exist_ok=True)
    remove_leftovers(out_dir)
    staging = out_dir / RUNS / f".staging-{os.getpid()}-{time.time_ns()}"
    staging.mkdir()
    try:
        for name, write in files.items():
            write(staging / name)
        run = out_dir / RUNS / f"{datetime.now().strftime('%Y%m%d-%H%M%S-%f')}-{os.getpid()}"
        os.rename(staging, run)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    try:
        _adopt_flat_run(out_dir)
        _switch_link(out_dir / CURRENT, f"{RUNS}/{run.name}")
    except (OSError, NotImplementedError):  # no symlinks here: the older, file-by-file publishing
        _publish_flat(out_dir, run, list(files))
        return {name: out_dir / name for name in files}
    for name in OUTPUT_FILES:
        entry = out_dir / name
        if name in files and not (entry.is_symlink() and os.readlink(entry) == f"{CURRENT}/{name}"):
            _switch_link(entry, f"{CURRENT}/{name}")
        elif name not in files and (entry.is_symlink() or entry.exists()):
            entry.unlink()  # the current run has no such file
    _prune(out_dir, keep_history)
    return {name: out_dir / name for name in files}
