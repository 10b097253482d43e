"""campaign-report command line: run, demo-data, send, watch.

User errors (bad config, bad data) print one line and exit 2; bugs print one line and exit 1, with the
traceback under --debug. Each stage prints a line when it finishes, with or without a terminal.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.markup import escape

from campaign_report.analysis.errors import UserError
from campaign_report.pipeline.messages import say

if TYPE_CHECKING:
    from campaign_report.analysis.config import Config


def _version() -> str:
    try:
        return metadata.version("campaign-report")
    except metadata.PackageNotFoundError:  # run from a checkout that is not installed
        return "unknown"


def _parser() -> argparse.ArgumentParser:
    # --debug and --quiet are accepted before and after the subcommand: a parent parser on both levels,
    # with SUPPRESS defaults so that the subcommand's absence does not reset the top level's value.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show tracebacks")
    common.add_argument("--quiet", action="store_true", default=argparse.SUPPRESS,
                        help="print only errors and the list of files")
    parser = argparse.ArgumentParser(prog="campaign-report", parents=[common],
                                     description="After-campaign report for marketing.")
    parser.add_argument("--version", action="version", version=f"campaign-report {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", parents=[common], help="analyse the campaign and write the documents")
    run.add_argument("--config", required=True, type=Path)
    run.add_argument("--out", type=Path, default=None, help="output folder (default: [report] output_dir)")
    run.add_argument("--send", action="store_true", help="e-mail the documents after a successful run")
    run.add_argument("--force", action="store_true", help="send even if these inputs were already sent")
    demo = sub.add_parser("demo-data", parents=[common], help="generate the demo data set with planted truths")
    demo.add_argument("--out", required=True, type=Path)
    demo.add_argument("--customers", type=int, default=20_000)
    demo.add_argument("--seed", type=int, default=2026)
    demo.add_argument("--campaigns", type=int, default=3,
                      help="campaigns in the demo's history: October and up to two earlier ones (default 3)")
    send = sub.add_parser("send", parents=[common], help="e-mail the documents of the last good run")
    send.add_argument("--config", required=True, type=Path)
    send.add_argument("--out", type=Path, default=None)
    send.add_argument("--force", action="store_true")
    plan = sub.add_parser("plan", parents=[common], help="size the next test from this test's variance")
    plan.add_argument("--config", required=True, type=Path)
    plan.add_argument("--effect", type=float, default=None,
                      help="the relative change to detect, e.g. 0.05 (default: [experiment] min_effect)")
    history = sub.add_parser("history", parents=[common], help="the campaigns read into the output folder")
    history.add_argument("--config", required=True, type=Path)
    history.add_argument("--out", type=Path, default=None, help="output folder (default: [report] output_dir)")
    history.add_argument("--csv", type=Path, default=None, help="write the table to this CSV file")
    history.add_argument("--rebuild", action="store_true",
                         help="rebuild a damaged history from the runs kept in the output folder")
    watch = sub.add_parser("watch", parents=[common], help="run and send once per change of the inputs")
    watch.add_argument("--config", required=True, type=Path)
    watch.add_argument("--interval", type=float, default=300.0, help="seconds between checks")
    watch.add_argument("--once", action="store_true", help="check once and exit (for cron)")
    return parser


def _run(args: argparse.Namespace, config: Config, console: Console, quiet: bool) -> int:
    from campaign_report.pipeline.progress import StageProgress
    from campaign_report.pipeline.report import run_report

    lang = config.report.language
    started = time.perf_counter()
    progress = StageProgress(console, lang, quiet)

    from campaign_report.renderers.textmetrics import font_available

    if not font_available():
        # The documents' layout is measured in Liberation Sans (Arial's metrics): without it, text falls back
        # to another font and titles and tables may wrap differently. Said, not silent.
        console.print(f"[yellow]{escape(say(lang, 'no_font'))}[/yellow]", highlight=False)
    try:
        outcome = run_report(config, args.out, progress=progress)
    finally:
        progress.close()
    if outcome.results.meta.run_notes:
        from campaign_report.renderers.format import Formatter
        from campaign_report.renderers.wording import run_note_text

        f = Formatter(lang, outcome.results.meta.currency)
        for code, detail in outcome.results.meta.run_notes:
            console.print(f"[yellow]{escape(run_note_text(f, code, detail))}[/yellow]", highlight=False)
    if not quiet:
        seconds = f"{time.perf_counter() - started:.1f}"
        console.print(f"[green]{say(lang, 'done', seconds=seconds)}[/green] {escape(str(outcome.output_dir))}",
                      highlight=False)
        console.print(say(lang, "files"))
    for path in outcome.files.values():
        console.print(f"  {escape(str(path))}", highlight=False, soft_wrap=True)
    if args.send:
        from campaign_report.pipeline.delivery import deliver

        return deliver(args.config, outcome.output_dir, force=args.force, console=console)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the campaign-report command."""
    args = _parser().parse_args(argv)
    debug, quiet = getattr(args, "debug", False), getattr(args, "quiet", False)
    if not debug:
        warnings.filterwarnings("ignore", category=FutureWarning)
        warnings.filterwarnings("ignore", category=UserWarning)
    # Text from the user's data and config is printed as written: no ":x:" emoji codes, no markup.
    console = Console(stderr=False, emoji=False)
    err = Console(stderr=True, emoji=False)
    lang = "en"
    try:
        if getattr(args, "config", None) is not None:
            from campaign_report.analysis.config import load_config

            config = load_config(args.config)
            lang = config.report.language  # errors from here on are in the report's language
        if args.command == "run":
            return _run(args, config, console, quiet)
        if args.command == "demo-data":
            from campaign_report.analysis.demo import generate_demo

            truth = generate_demo(args.out, args.customers, args.seed, args.campaigns)
            console.print(say("en", "demo", customers=truth.n_customers, lines=truth.n_lines, out=args.out))
            return 0
        if args.command == "send":
            from campaign_report.pipeline.delivery import deliver

            return deliver(args.config, args.out, force=args.force, console=console)
        if args.command == "plan":
            from campaign_report.pipeline.plan import plan_next

            return plan_next(config, args.effect, console)
        if args.command == "history":
            from campaign_report.pipeline.history import show_history

            return show_history(config, args.out, args.csv, args.rebuild, console)
        if args.command == "watch":
            from campaign_report.pipeline.delivery import watch

            return watch(args.config, args.interval, args.once, console=console)
    except UserError as exc:
        err.print(f"[red]{say(lang, 'error')}:[/red] {escape(str(exc))}", highlight=False, soft_wrap=True)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # a bug: one line unless --debug
        if debug:
            raise
        err.print(f"[red]{say(lang, 'internal')}:[/red] {type(exc).__name__}: {escape(str(exc))} "
                  f"{say(lang, 'rerun_debug')}", highlight=False, soft_wrap=True)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
