"""Publishing a run's files into the output folder: all of them or none.

Files are written into a staging folder inside output_dir and moved to its top level only when every
writer succeeded; the previous good run is copied to history/ first. Staging folders left by killed runs
(their process is gone) are removed by the next run.
"""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

OUTPUT_FILES = ("results.json", "brief.pdf", "deck.pptx", "target_list.csv", "email.json")
Writer = Callable[[Path], Path]


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
    for folder in out_dir.glob(".staging-*"):
        pid = folder.name.split("-")[1]
        if not pid.isdigit() or not _process_alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
    return removed


def publish(out_dir: Path, files: dict[str, Writer], keep_history: int = 5) -> dict[str, Path]:
    """Write every file into a staging folder, then move them to the top level; keep the previous run."""
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_leftovers(out_dir)
    staging = out_dir / f".staging-{os.getpid()}-{int(time.time() * 1000)}"
    staging.mkdir()
    try:
        for name, write in files.items():
            write(staging / name)
        previous = [out_dir / n for n in OUTPUT_FILES if (out_dir / n).exists()]
        if previous:
            history = out_dir / "history" / datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            history.mkdir(parents=True)
            for p in previous:
                shutil.copy2(p, history / p.name)
            runs = sorted((out_dir / "history").iterdir())
            for old in runs[:-keep_history] if keep_history > 0 else runs:
                shutil.rmtree(old, ignore_errors=True)
        published = {}
        for name in files:
            target = out_dir / name
            os.replace(staging / name, target)
            published[name] = target
        for stale in set(OUTPUT_FILES) - set(files):
            (out_dir / stale).unlink(missing_ok=True)
        return published
    finally:
        shutil.rmtree(staging, ignore_errors=True)
