"""Command-line conventions: --version, flags after the subcommand, stage lines without a TTY, the
report's language on the console, every file listed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from campaign_report.pipeline.cli import _parser, main
from tests.conftest import write_config


def _segments_config(data_dir, out_dir, language: str) -> str:
    return (f'[report]\ntitle = "CLI"\nlanguage = "{language}"\noutput_dir = "{out_dir}"\n'
            f'[data.transactions]\npath = "{data_dir}/transactions.csv"\ncustomer_id = "customer_id"\n'
            f'date = "date"\namount = "amount"\norder_id = "order_id"\ncategory = "category"\n'
            f'[segments]\nk = 3\n')


def test_version(capsys):
    with pytest.raises(SystemExit) as done:
        main(["--version"])
    assert done.value.code == 0 and re.match(r"campaign-report \S+", capsys.readouterr().out)


@pytest.mark.parametrize("argv", [["--debug", "run", "--config", "c.toml"], ["run", "--config", "c.toml", "--debug"],
                                  ["run", "--quiet", "--config", "c.toml"], ["--quiet", "send", "--config", "c"]])
def test_flags_before_or_after_the_subcommand(argv):
    args = _parser().parse_args(argv)
    assert getattr(args, "debug", False) or getattr(args, "quiet", False)


@pytest.mark.parametrize("language, stage, done", [("en", "Loading data", "Done in"),
                                                    ("ru", "Загрузка данных", "Готово за")])
def test_run_without_tty_prints_stages_and_files(small_demo, tmp_path, language, stage, done):
    config = write_config(tmp_path, _segments_config(small_demo, tmp_path / "out", language))
    run = subprocess.run([sys.executable, "-m", "campaign_report", "run", "--config", str(config)],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert any(stage in line and re.search(r"\d+\.\d s$", line) for line in lines), run.stdout
    assert sum(bool(re.search(r"\d+\.\d s$", line)) for line in lines) >= 4  # one line per finished stage
    assert any(line.startswith(done) for line in lines)
    for name in ("results.json", "brief.pdf", "deck.pptx", "email.json", "ledger.sqlite"):
        assert any(line.strip() == str(tmp_path / "out" / name) for line in lines), name
    if language == "en":
        assert not re.search("[А-Яа-яЁё]", run.stdout), run.stdout


def test_quiet_lists_only_the_files(small_demo, tmp_path):
    config = write_config(tmp_path, _segments_config(small_demo, tmp_path / "out", "en"))
    run = subprocess.run([sys.executable, "-m", "campaign_report", "run", "--config", str(config), "--quiet"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert all(line.strip().startswith(str(tmp_path)) for line in run.stdout.splitlines()), run.stdout


def test_user_error_is_one_line_exit_2(tmp_path):
    config = write_config(tmp_path, '[report]\ntitle = "t"\nlanguage = "en"\n[data.transactions]\npath = "no.csv"\n'
                                    'customer_id = "c"\ndate = "d"\namount = "a"\n')
    run = subprocess.run([sys.executable, "-m", "campaign_report", "run", "--config", str(config)],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and len(run.stderr.strip().splitlines()) == 1 and "no.csv" in run.stderr
    assert run.stderr.startswith("error:")


def test_version_and_help_start_without_the_analysis_stack():
    """`--version` and `--help` import neither pandas, scikit-learn nor DuckDB: the package's names load on
    first use, so a start costs tens of milliseconds rather than seconds (bench: `time campaign-report --version`)."""
    probe = ("import sys, runpy\n"
             "sys.argv = ['campaign-report', '--version']\n"
             "try:\n    runpy.run_module('campaign_report', run_name='__main__')\n"
             "except SystemExit:\n    pass\n"
             "print(sorted(m for m in ('pandas', 'sklearn', 'duckdb', 'scipy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.strip().splitlines()[-1] == "[]", out
    assert "campaign-report " in out
    import campaign_report as cr  # and the public names still resolve, lazily
    assert callable(cr.analyze) and cr.ConfigError.__name__ == "ConfigError"


def test_a_long_stage_shows_signs_of_life_without_a_terminal() -> None:
    """Without a terminal (cron, make): a line every few seconds while a stage runs, then the stage's own line."""
    import io
    import time

    from rich.console import Console

    from campaign_report.pipeline.progress import StageProgress

    out = io.StringIO()
    progress = StageProgress(Console(file=out, force_terminal=False, width=100), "en", quiet=False, heartbeat=0.05)
    progress("segments", None)
    time.sleep(0.32)
    progress("segments", 0.32)
    lines = out.getvalue().splitlines()
    assert sum("Segments" in line and "running for" in line for line in lines) >= 3
    assert lines[-1].split() == ["Segments", "0.3", "s"]
    time.sleep(0.15)
    assert len(out.getvalue().splitlines()) == len(lines)  # the heartbeat stopped with the stage


def test_a_terminal_gets_a_bar_that_leaves_only_the_stage_line() -> None:
    import io

    from rich.console import Console

    from campaign_report.pipeline.progress import StageProgress

    out = io.StringIO()
    progress = StageProgress(Console(file=out, force_terminal=True, width=100), "ru", quiet=False)
    progress("propensity", None)
    progress("propensity", 1.5)
    progress.close()
    assert "Модель склонности" in out.getvalue() and "1.5 s" in out.getvalue()
