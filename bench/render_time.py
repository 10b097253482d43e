"""Render time of the brief (WeasyPrint) and the deck (python-pptx) for the demo report.

Usage: python bench/render_time.py   (needs demo_data/, as made by `make report`)
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from campaign_report.analysis.analyze import analyze  # noqa: E402
from campaign_report.analysis.config import load_config  # noqa: E402
from campaign_report.renderers.pdf import render_pdf  # noqa: E402
from campaign_report.renderers.pptx import render_pptx  # noqa: E402
from campaign_report.renderers.view import build_view  # noqa: E402


def main() -> None:
    results = analyze(load_config(ROOT / "config.toml"))
    out = Path(tempfile.mkdtemp())
    for name, render in (("brief.pdf", render_pdf), ("deck.pptx", render_pptx)):
        times = []
        for _ in range(3):
            t0 = time.perf_counter()
            render(build_view(results), out / name)
            times.append(time.perf_counter() - t0)
        print(f"{name}: best of 3 {min(times):.2f} s ({(out / name).stat().st_size / 1024:.0f} KB)")


if __name__ == "__main__":
    main()
