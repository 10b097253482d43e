"""campaign-report command line: run, demo-data (and send, watch in pipeline/delivery.py).

User errors (bad config, bad data) print one line and exit 2; bugs keep their traceback with --debug.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path

from rich.console import Console
from rich.markup import escape

from analysis.errors import UserError

STAGE_LABELS = {"load": "Загрузка данных", "validate": "Проверка и очистка", "features": "Признаки клиентов",
                "segments": "Сегменты", "experiment": "A/B-тест", "propensity": "Модель склонности",
                "offers": "Предложения", "render": "Документы"}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="campaign-report", description="After-campaign report for marketing.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="analyse the campaign and write the documents")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--out", type=Path, default=None, help="output folder (default: [report] output_dir)")
    run.add_argument("--send", action="store_true", help="e-mail the documents after a successful run")
    run.add_argument("--force", action="store_true", help="send even if these inputs were already sent")
    demo = sub.add_parser("demo-data", help="generate the demo data set with planted truths")
    demo.add_argument("--out", required=True, type=Path)
    demo.add_argument("--customers", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=2026)
    send = sub.add_parser("send", help="e-mail the documents of the last good run")
    send.add_argument("--config", required=True, type=Path)
    send.add_argument("--out", type=Path, default=None)
    send.add_argument("--force", action="store_true")
    watch = sub.add_parser("watch", help="run and send once per change of the inputs")
    watch.add_argument("--config", required=True, type=Path)
    watch.add_argument("--interval", type=float, default=300.0, help="seconds between checks")
    watch.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    return parser


def _run(args: argparse.Namespace, console: Console) -> int:
    from pipeline.run import run_report

    started = time.perf_counter()
    with console.status("…") as status:
        outcome = run_report(args.config, args.out,
                             progress=lambda stage: status.update(f"[bold]{STAGE_LABELS.get(stage, stage)}…"))
    for stage, seconds in outcome.stage_seconds.items():
        console.print(f"  {STAGE_LABELS.get(stage, stage):<22} {seconds:6.1f} s")
    console.print(f"[green]Готово[/green] за {time.perf_counter() - started:.1f} s → {escape(str(outcome.output_dir))}")
    for name in outcome.files:
        console.print(f"  {name}")
    if args.send:
        from pipeline.delivery import deliver

        return deliver(args.config, outcome.output_dir, force=args.force, console=console)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the campaign-report command."""
    args = _parser().parse_args(argv)
    if not args.debug:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
    console = Console(stderr=False)
    err = Console(stderr=True)
    try:
        if args.command == "run":
            return _run(args, console)
        if args.command == "demo-data":
            from analysis.demo import generate_demo

            truth = generate_demo(args.out, args.customers, args.seed)
            console.print(f"Demo data: {truth.n_customers} customers, {truth.n_lines} purchase lines → {args.out}")
            return 0
        if args.command == "send":
            from pipeline.delivery import deliver

            return deliver(args.config, args.out, force=args.force, console=console)
        if args.command == "watch":
            from pipeline.delivery import watch

            return watch(args.config, args.interval, args.once, console=console)
    except UserError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if args.debug:
            raise
        err.print(f"[red]internal error:[/red] {type(exc).__name__}: {escape(str(exc))} (rerun with --debug)",
                  highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
