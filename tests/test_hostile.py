"""Hostile and broken input: every case an independent tester found, as a test. Bad config or data gets one
line naming the file, column and row and exit status 2; SQL from the config only reads, and only the folders
the config names; errors show a short excerpt of a value, never a file; the ledger and the disk are checked
before anything is published; names from the data stay text in the decks' workbooks."""

from __future__ import annotations

import dataclasses
import errno
import math
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_report.analysis.config import config_from_dict, load_config
from campaign_report.analysis.config_docs import SECTIONS
from campaign_report.analysis.errors import ConfigError
from tests.conftest import demo_config, write_config

PASSWD_FIRST_LINE = "root:x:0:0:root:/root:/bin/bash"


def _cli(config: Path, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "campaign_report", *(args or ("run",)), "--config", str(config)],
                          capture_output=True, text=True, timeout=900, cwd=cwd or config.parent)


def _case(small_demo: Path, tmp_path: Path, mutate=None, edit=None, extra: str = "") -> Path:
    """The small demo copied, one file broken by `mutate`, the config changed by `edit`."""
    data = tmp_path / "data"
    shutil.copytree(small_demo, data)
    if mutate is not None:
        mutate(data)
    text = demo_config(data, tmp_path / "out", extra)
    return write_config(tmp_path, edit(text) if edit else text)


def _one_clean_line(done: subprocess.CompletedProcess) -> str:
    assert done.returncode == 2, (done.returncode, done.stderr[-800:])
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def _rewrite(path: Path, change) -> None:
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    change(frame)
    frame.to_csv(path, index=False)


# ---------------------------------------------------------------------------------------------- config values

BASE = {"report": {"title": "t"},
        "data": {"customers": {"path": "c.csv", "id": "id"},
                 "transactions": {"path": "t.csv", "customer_id": "id", "date": "d", "amount": "a"},
                 "experiment": {"path": "e.csv", "customer_id": "id", "group": "g", "control": "c"}}}
CHECKED = [(section, field) for section, cls, _ in SECTIONS for field in dataclasses.fields(cls)
           if "range" in field.metadata or "date" in field.metadata]
REQUIRED = {"email": {"to": ["a@b.c"]}, "segments.rfm_rules": {"name": "x"},
            "offers.catalogue": {"id": "x", "type": "t", "ru": "р", "en": "e"}}


def _config_with(section: str, key: str, value) -> dict:
    data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in BASE.items()}
    if section == "experiment.observational":
        data["experiment"] = {"observational": {key: value}}
    else:
        data[section] = {**data.get(section, {}), **REQUIRED.get(section, {}), key: value}
    if (section, key) == ("segments", "k_min"):
        data[section]["k_max"] = 50  # k_min is also checked against k_max (default 8)
    return data


def _value(field: dataclasses.Field):
    text = str(field.type)
    if "date" in field.metadata:
        return st.one_of(st.dates().map(lambda d: f"{d.year:04d}-{d.month:02d}-{d.day:02d}"),
                         st.sampled_from(["2026-13-45", "0000-01-01", "2026-02-30", "26-10-01", ""]), st.text())
    edges = [0, 1, 2, -1, 5, 10, 20, 28, 50, 1000, 3650, 65535, 65536, 70000, 2**32]
    if text.startswith("int") or "tuple[int" in text:
        return st.one_of(st.sampled_from(edges), st.integers(-10**9, 10**9))
    return st.one_of(st.sampled_from([0.0, 1.0, 0.5, 0.05, 1.5, -1.0, 0.99, 1e-9, math.nan, math.inf, -math.inf]),
                     st.floats(-1e6, 1e6), st.sampled_from(edges))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_every_number_and_date_key_is_accepted_exactly_within_its_range(data, tmp_path):
    """Before: cv_folds = 1, holdout_share = 1.5, backoff_seconds = -1, smtp_port = 70000 and start =
    "2026-13-45" were accepted and failed later with exit 1 (or silently connected to port 4464)."""
    section, field = data.draw(st.sampled_from(CHECKED))
    value = data.draw(_value(field))
    written = [value, 5] if "tuple[int, int]" in str(field.type) else \
        [value] if str(field.type).startswith("tuple") else value
    try:
        config_from_dict(_config_with(section, field.name, written), folder=tmp_path)
        accepted = True
    except ConfigError:
        accepted = False
    if "date" in field.metadata:
        try:
            from datetime import date

            valid = isinstance(value, str) and 1900 <= date.fromisoformat(value).year <= 2200
        except ValueError:
            valid = False
    else:
        valid = field.metadata["range"].holds(value)
    if "tuple[int, int]" in str(field.type):  # [value, 5]: also needs value <= 5
        valid = valid and value <= 5
    assert accepted == valid, (section, field.name, value)


@pytest.mark.parametrize("extra", ["[propensity]\ncv_folds = 1\n", "[propensity]\nholdout_share = 1.5\n",
                                   "[experiment]\nstart = \"2026-13-45\"\n"])
def test_a_value_out_of_range_stops_the_run_before_any_work(tmp_path, extra):
    text = '[report]\ntitle = "t"\n[data.customers]\npath = "c.csv"\nid = "id"\nlabel = "l"\npositive = "1"\n' \
           '[data.experiment]\npath = "e.csv"\ncustomer_id = "id"\ngroup = "g"\ncontrol = "c"\n' + extra
    line = _one_clean_line(_cli(write_config(tmp_path, text)))
    assert "config.toml" in line and ("must be" in line)
    assert not (tmp_path / "output").exists()


# ----------------------------------------------------------------------------------------------------- SQL

@pytest.mark.parametrize("section", ["propensity", "uplift"])
@pytest.mark.parametrize("condition", ["1=1; COPY (SELECT 42 AS id) TO 'pwned.csv'; SELECT 1",
                                       "1=1; DROP TABLE customers", "1=1) UNION SELECT 1 --",
                                       "city IN (SELECT 1 FROM (COPY (SELECT 1) TO 'x.csv'))"])
def test_a_score_filter_is_one_condition_and_runs_nothing(small_demo, tmp_path, section, condition):
    """Before: the COPY wrote pwned.csv (then exit 1) and the DROP ran."""
    line = f'score_filter = "{condition}"'
    config = _case(small_demo, tmp_path, edit=lambda t: t.replace(
        "score_filter = \"city = 'Новосибирск'\"", line) if section == "propensity" else
        t.replace("[uplift]", f"[uplift]\n{line}", 1))
    with pytest.raises(ConfigError, match="score_filter"):
        load_config(config)
    line = _one_clean_line(_cli(config))
    assert "score_filter" in line
    assert not list(tmp_path.rglob("pwned.csv")) and not list(tmp_path.rglob("x.csv"))


@pytest.mark.parametrize("sql, words", [
    ("COPY (SELECT 42 AS id) TO 'pwned.csv'", "COPY is not allowed"),
    ("SELECT 1 AS id; DROP TABLE x", "must be one query"),
    ("ATTACH 'other.db'", "ATTACH is not allowed"),
    ("INSTALL httpfs", "INSTALL is not allowed"),
    ("SET enable_external_access = true", "SET is not allowed"),
    ("CREATE TABLE x AS SELECT 1 AS id", "CREATE is not allowed"),
])
def test_a_source_query_only_reads(tmp_path, sql, words):
    text = f'[report]\ntitle = "t"\n[data.customers]\nsql = "{sql}"\nid = "id"\n[segments]\n'
    with pytest.raises(ConfigError, match=words):
        load_config(write_config(tmp_path, text))
    assert not list(tmp_path.rglob("pwned.csv"))


def test_a_query_reads_only_the_folders_the_config_names(small_demo, tmp_path):
    """Before: read_csv('/etc/passwd') made the system's users "customers" and the run went on."""
    config = _case(small_demo, tmp_path, edit=lambda t: t.replace(
        f'path = "{tmp_path}/data/customers.csv"',
        "sql = \"SELECT * FROM read_csv('/etc/passwd', delim = ':', header = false, "
        "names = ['customer_id', 'x', 'age', 'gender', 'city', 'activity', 'profit'])\""))
    line = _one_clean_line(_cli(config))
    assert "/etc/passwd" in line and "not allowed" in line and "root" not in line.replace("/root", "")
    assert not (tmp_path / "out").exists()


def test_relative_paths_in_a_query_start_at_the_configs_folder(small_demo, tmp_path):
    """DuckDB locked to named folders checks paths as written: the query's relative path is made absolute
    against the config's folder (the run's working folder is elsewhere), and only its literals change."""
    config = _case(small_demo, tmp_path, edit=lambda t: t.replace(
        f'path = "{tmp_path}/data/customers.csv"', "sql = \"SELECT * FROM read_csv('data/customers.csv') "
                                                     "WHERE city <> 'data/customers.csv'\""))
    done = _cli(config, "run", cwd=Path("/"))
    assert done.returncode == 0, done.stderr


def test_an_environment_value_is_data_in_sql(monkeypatch):
    from campaign_report.analysis.config_tables import expand_environment
    from campaign_report.analysis.engines.sql_guard import check_read_only_query

    monkeypatch.setenv("CITY", "x' OR 1=1; DROP TABLE t --")
    inside = expand_environment("SELECT * FROM t WHERE city = '${CITY}'", "sql", in_sql=True)
    outside = expand_environment("SELECT * FROM t WHERE city = ${CITY}", "sql", in_sql=True)
    assert inside == outside == "SELECT * FROM t WHERE city = 'x'' OR 1=1; DROP TABLE t --'"
    check_read_only_query(inside, "duckdb", "sql")  # one statement: the value stayed a string
    monkeypatch.setenv("DATA", "/srv/it's")
    assert expand_environment("read_csv('${DATA}/a.csv')", "sql", in_sql=True) == "read_csv('/srv/it''s/a.csv')"


def test_a_password_in_the_database_url_is_refused_and_never_shown(tmp_path):
    text = '[report]\ntitle = "t"\n[data.customers]\nurl = "postgresql://u@h/db?sslmode=require&password=S3CR3T"\n' \
           'sql = "SELECT 1 AS id"\nid = "id"\n'
    with pytest.raises(ConfigError, match="password") as raised:
        load_config(write_config(tmp_path, text))
    assert "S3CR3T" not in str(raised.value)
    line = _one_clean_line(_cli(tmp_path / "config.toml"))
    assert "S3CR3T" not in line


# ------------------------------------------------------------------------------------------ what errors show

def test_a_system_file_as_data_is_not_printed(small_demo, tmp_path):
    config = _case(small_demo, tmp_path, edit=lambda t: t.replace(f'"{tmp_path}/data/customers.csv"',
                                                                  '"/etc/passwd"'))
    line = _one_clean_line(_cli(config))
    assert "column not found" in line
    assert PASSWD_FIRST_LINE not in line and "bin/bash" not in line and "bin_bash" not in line  # an excerpt


def test_a_value_is_printed_as_written(small_demo, tmp_path):
    config = _case(small_demo, tmp_path, mutate=lambda d: _rewrite(
        d / "transactions.csv", lambda f: f.__setitem__("amount", f["amount"].where(f.index != 5, ":x:"))))
    line = _one_clean_line(_cli(config))
    assert "':x:'" in line and "❌" not in line and "row 7" in line and "amount" in line


def test_a_long_value_is_cut_in_the_error(small_demo, tmp_path):
    config = _case(small_demo, tmp_path, mutate=lambda d: _rewrite(
        d / "transactions.csv", lambda f: f.__setitem__("amount", f["amount"].where(f.index != 5, "z" * 5000))))
    line = _one_clean_line(_cli(config))
    assert len(line) < 300 and "row 7" in line


@pytest.mark.parametrize("case, words", [
    ("empty_ids", ["customer_id", "no customers remain", "empty id"]),
    ("everyone_in_both_groups", ["customer_id", "more than one group"]),
    ("five_megabyte_field", ["row 50", "5.0 MB"]),
])
def test_broken_data_gets_one_line_naming_what_is_wrong(small_demo, tmp_path, case, words):
    """Before: exit 1 (ids all empty), "control group value not found (groups: )", "CSV Error on Line: 1"."""
    def mutate(d: Path) -> None:
        if case == "empty_ids":
            _rewrite(d / "customers.csv", lambda f: f.__setitem__("customer_id", ""))
        elif case == "everyone_in_both_groups":
            frame = pd.read_csv(d / "assignment.csv", dtype=str)
            pd.concat([frame.assign(group="control"), frame.assign(group="treatment")]).to_csv(
                d / "assignment.csv", index=False)
        else:
            _rewrite(d / "customers.csv", lambda f: f.__setitem__("city", f["city"].where(f.index != 48,
                                                                                         "x" * 5_000_000)))
    line = _one_clean_line(_cli(_case(small_demo, tmp_path, mutate=mutate)))
    assert all(w in line for w in words), line


def test_impossible_dates_and_utf16_without_bom_are_read(small_demo, tmp_path):
    """A purchase dated 0000-01-01 was exit 1; a UTF-16 export without a BOM was "not a text file"."""
    def mutate(d: Path) -> None:
        _rewrite(d / "transactions.csv", lambda f: f.__setitem__("date", f["date"].where(f.index != 3,
                                                                                         "0000-01-01")))
        raw = (d / "customers.csv").read_text(encoding="utf-8")
        (d / "customers.csv").write_bytes(raw.encode("utf-16-le"))
    config = _case(small_demo, tmp_path, mutate=mutate)
    done = _cli(config)
    assert done.returncode == 0, done.stderr
    import json

    quality = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))["data_quality"]
    issues = [i for t in quality["tables"] if t["name"] == "transactions" for i in t["issues"]]
    assert any(i["column"] == "date" and i["detail"] == "< 1900" and i["count"] == 1 for i in issues)


# ------------------------------------------------------------------------------------------------ state

def test_a_damaged_ledger_stops_run_and_send_before_anything_changes(small_run, tmp_path):
    out = tmp_path / "out"
    shutil.copytree(small_run.output_dir, out, symlinks=True)
    (out / "ledger.sqlite").write_bytes(os.urandom(4096))
    runs_before = sorted(p.name for p in (out / "runs").iterdir())
    text = demo_config(small_run.output_dir.parent / "nonexistent", out,
                       extra='[email]\nto = ["a@b.c"]\nsmtp_host = "127.0.0.1"\nsmtp_port = 9\nsecurity = "none"\n')
    config = write_config(tmp_path, text)
    line = _one_clean_line(_cli(config, "run"))
    assert "ledger.sqlite" in line and "damaged" in line
    assert sorted(p.name for p in (out / "runs").iterdir()) == runs_before
    line = _one_clean_line(_cli(config, "send"))
    assert "ledger.sqlite" in line and "damaged" in line


def test_a_full_disk_is_exit_2_naming_the_folder_and_publishes_nothing(small_demo, tmp_path, monkeypatch, capsys):
    from campaign_report.pipeline import cli
    from campaign_report.renderers import documents

    config = _case(small_demo, tmp_path)
    assert cli.main(["run", "--config", str(config), "--quiet"]) == 0
    before = (tmp_path / "out" / "current").resolve()
    real = documents.document_writers

    def full_disk_writers(results):
        writers = dict(real(results))

        def no_space(path: Path) -> Path:
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        writers["deck.pptx"] = no_space
        return writers

    monkeypatch.setattr(documents, "document_writers", full_disk_writers)
    capsys.readouterr()
    assert cli.main(["run", "--config", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "out") in " ".join(err.split()) and "no space left" in err.lower()
    assert (tmp_path / "out" / "current").resolve() == before
    assert not list((tmp_path / "out" / "runs").glob(".staging-*"))


def test_names_from_the_data_stay_text_in_the_chart_workbooks(small_demo, tmp_path):
    """A group label `=HYPERLINK(…)` became a live formula in the deck's embedded chart workbook."""
    label = '=HYPERLINK("http://example.com","click")'
    config = _case(small_demo, tmp_path, mutate=lambda d: _rewrite(
        d / "assignment.csv", lambda f: f.__setitem__("group", f["group"].replace({"treatment": label}))))
    assert _cli(config).returncode == 0
    formulas = []
    with zipfile.ZipFile(tmp_path / "out" / "deck.pptx") as deck:
        for name in deck.namelist():
            if name.endswith(".xlsx"):
                with zipfile.ZipFile(deck.open(name)) as book:
                    sheet = book.read("xl/worksheets/sheet1.xml").decode("utf-8")
                    formulas += [name] if "<f>" in sheet else []
    assert not formulas
