"""A corpus of hostile inputs: every one ends in exit status 2 with one line naming what is wrong and
where, and nothing reaches the output folder. A property-based test feeds random bytes and mutated CSVs
to the loader: it succeeds or raises a user error, never anything else."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaign_report.analysis.config import load_config
from campaign_report.analysis.data.clean import clean_transactions
from campaign_report.analysis.data.load import load_raw
from campaign_report.analysis.engines.duckdb_engine import DuckDBEngine
from campaign_report.analysis.errors import UserError
from campaign_report.pipeline.cli import main
from tests.conftest import demo_config, write_config


def _amount(value: str):
    def mutate(data: Path, text: str) -> str:
        lines = (data / "transactions.csv").read_text(encoding="utf-8").splitlines()
        parts = lines[5].split(",")
        parts[5] = value
        lines[5] = ",".join(parts)
        (data / "transactions.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
        return text
    return mutate


def _bytes(content: bytes):
    def mutate(data: Path, text: str) -> str:
        (data / "transactions.csv").write_bytes(content)
        return text
    return mutate


def _config(old: str, new: str):
    def mutate(data: Path, text: str) -> str:
        assert old in text
        return text.replace(old, new, 1)
    return mutate


def _line(key: str, new: str):
    """Replace the first `key = …` line of the config."""
    def mutate(data: Path, text: str) -> str:
        return re.sub(rf"^{key} = .*$", new, text, count=1, flags=re.M)
    return mutate


def _output_is_a_file(data: Path, text: str) -> str:
    blocker = data.parent / "blocker"
    blocker.write_text("not a folder", encoding="utf-8")
    return text.replace(f'output_dir = "{data.parent / "out"}"', f'output_dir = "{blocker / "out"}"')


CORPUS = [
    # (case, mutation, words the one-line message must hold)
    ("amount_nan", _amount("nan"), ["transactions.csv", "column 'amount'", "row 6", "'nan'", "finite"]),
    ("amount_inf", _amount("-inf"), ["transactions.csv", "column 'amount'", "row 6", "'-inf'"]),
    ("amount_overflow", _amount("1e308"), ["transactions.csv", "column 'amount'", "row 6", "'1e308'"]),
    ("random_bytes", _bytes(bytes(range(256)) * 20), ["transactions.csv", "not a text file"]),
    ("empty_file", _bytes(b""), ["transactions.csv", "no rows"]),
    ("header_only", _bytes(b"order_id,customer_id,date,category,brand,amount,is_promo\n"),
     ["transactions.csv", "no rows"]),
    ("output_is_a_file", _output_is_a_file, ["output folder", "blocker"]),
    ("output_dir_number", _line("output_dir", "output_dir = 5"), ["output_dir", "string"]),
    ("path_number", _line("path", "path = 5"), ["[data.", "path must be a string"]),
    ("data_not_a_table", lambda d, t: "data = 5\n[report]\ntitle = 't'\n", ["data must be a section"]),
    ("to_not_a_list", lambda d, t: t + '\n[email]\nto = "x@y"\n', ["[email] to must be a list"]),
    ("to_not_an_address", lambda d, t: t + '\n[email]\nto = ["analyst"]\n', ["e-mail addresses", "'analyst'"]),
    ("typo_in_key", _config("[report]", "[report]\ntitel = 'x'"), ["unknown key 'titel'", "did you mean 'title'"]),
    ("typo_in_section", lambda d, t: t + "\n[segmnets]\n", ["unknown section [segmnets]", "did you mean"]),
    ("typo_in_table", _config("[data.transactions]", "[data.transactons]"), ["[data.transactons]",
                                                                             "did you mean 'transactions'"]),
    ("confidence_text", _line("confidence", "confidence = 'high'"), ["confidence", "number"]),
    ("split_as_list", _config("[experiment]", "[experiment]\nexpected_split = [0.5, 0.5]"),
     ["expected_split", "name each group"]),
    ("utf16_file", lambda d, t: _bytes((d / "transactions.csv").read_text(encoding="utf-8").encode("utf-16"))(d, t),
     None),  # read as UTF-16: the run succeeds
]


@pytest.mark.parametrize("case, mutate, words", CORPUS, ids=[c for c, _, _ in CORPUS])
def test_bad_input_corpus_exits_2_with_one_line(case, mutate, words, small_demo, tmp_path, capsys):
    data = tmp_path / "data"
    data.mkdir()
    for name in ("customers.csv", "transactions.csv", "assignment.csv"):
        (data / name).write_bytes((small_demo / name).read_bytes())
    out = tmp_path / "out"
    text = mutate(data, demo_config(data, out))
    code = main(["--quiet", "run", "--config", str(write_config(tmp_path, text))])
    err = capsys.readouterr().err.strip()
    if words is None:
        assert code == 0, err
        return
    assert code == 2, err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for word in words:
        assert word in err, (word, err)
    assert not out.exists() or not any(p.name != "ledger.sqlite" for p in out.iterdir())


def test_an_unwritable_output_folder_is_found_before_the_analysis(small_demo, tmp_path, monkeypatch, capsys):
    """As root every folder is writable, so the permission is denied through os.access."""
    import campaign_report.pipeline.publish as publishing

    monkeypatch.setattr(publishing.os, "access", lambda path, mode: False)
    started = []
    monkeypatch.setattr("campaign_report.pipeline.report.analyze", lambda *a, **k: started.append(1))
    code = main(["--quiet", "run", "--config", str(write_config(tmp_path, demo_config(small_demo, tmp_path / "o")))])
    assert code == 2 and "no permission to write" in capsys.readouterr().err and not started


# --- The loader under random input: a user error (exit 2) or a table, never an internal error (exit 1).

HEADER = "order_id,customer_id,date,category,brand,amount,is_promo\n"
ROWS = ["5000001,100001,2026-01-05,Обувь,Найк,1999.00,0", "5000002,100002,2026-01-06,Одежда,Джосс,549.50,1",
        '5000003,100003,2026-01-07,"Туризм, кемпинг",Нордвей,12 500,0', "5000004,100001,2026-02-01,Обувь,Найк,-10,0"]
CONFIG = """[report]
title = "t"
[data.transactions]
path = "transactions.csv"
customer_id = "customer_id"
date = "date"
amount = "amount"
order_id = "order_id"
category = "category"
"""


def _load(folder: Path, content: bytes) -> str:
    (folder / "transactions.csv").write_bytes(content)
    config = load_config(write_config(folder, CONFIG))
    engine = DuckDBEngine()
    try:
        raw = load_raw(engine, config.tables["transactions"], folder)
        clean_transactions(engine, raw, config.tables["transactions"], pd.Timestamp("2026-11-01"))
        return "ok"
    except UserError as exc:
        assert "\n" not in str(exc) and "Traceback" not in str(exc)
        return "user error"
    finally:
        engine.close()


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=3000))
def test_random_bytes_never_crash_the_loader(tmp_path, content):
    assert _load(tmp_path, content) in ("ok", "user error")


CELL = st.one_of(st.text(max_size=12), st.sampled_from(["nan", "inf", "-inf", "1e308", '"', '""', ",", ";", "\t",
                                                          "\r", "\x00", "31.02.2026", "=1+1", "٣", "1,5", "NULL"]))


@settings(max_examples=80, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(row=st.integers(0, len(ROWS) - 1), column=st.integers(0, 6), cell=CELL, cut=st.integers(0, 400),
       encoding=st.sampled_from(["utf-8", "cp1251", "utf-16"]), drop_header=st.booleans())
def test_mutated_csvs_never_crash_the_loader(tmp_path, row, column, cell, cut, encoding, drop_header):
    rows = [r.split(",") if '"' not in r else [r] for r in ROWS]
    if len(rows[row]) > column:
        rows[row][column] = cell
    text = ("" if drop_header else HEADER) + "\n".join(",".join(r) for r in rows) + "\n"
    content = text.encode(encoding, errors="replace")
    if cut:
        content = content[:-cut] if cut < len(content) else content
    assert _load(tmp_path, content) in ("ok", "user error")


def test_the_loader_survives_known_hostile_files(tmp_path):
    for content in (b"\xff\xfe" + HEADER.encode("utf-16-le"), os.urandom(2000), b"\n\n\n", HEADER.encode() * 3,
                    (HEADER + ROWS[0] + '\n"unterminated,1\n').encode()):
        assert _load(tmp_path, content) in ("ok", "user error")


def test_a_line_break_inside_a_quoted_value_is_read(tmp_path):
    """Before: refused ("CSV Error"), although the file is valid CSV."""
    content = (HEADER + ROWS[0] + '\n5000009,100009,2026-01-08,"Обувь\nдетская",Найк,10,0\n').encode()
    assert _load(tmp_path, content) == "ok"


def test_a_duplicated_header_names_the_column(tmp_path):
    """Before: the reader renamed the second copy and the message blamed a cell value."""
    content = b"order_id,customer_id,date,category,amount,Amount\n1,2,2026-01-01,x,5,6\n"
    (tmp_path / "transactions.csv").write_bytes(content)
    config = load_config(write_config(tmp_path, CONFIG))
    engine = DuckDBEngine()
    with pytest.raises(UserError, match=r"column 'Amount', row 1: the header names this column twice"):
        load_raw(engine, config.tables["transactions"], tmp_path)
    engine.close()


def test_leading_zero_ids_that_clash_are_flagged():
    from campaign_report.analysis.data.clean import flag_leading_zero_ids

    issues: list = []
    flag_leading_zero_ids(pd.Series(["007", "7", "0012", "100", "0"]), "id", issues)
    assert [(i.kind, i.count, i.detail) for i in issues] == [("leading_zero_id", 1, "007 ~ 7")]
    quiet: list = []
    flag_leading_zero_ids(pd.Series(["007", "008", "100"]), "id", quiet)  # zero-padded throughout: fine
    assert quiet == []


def test_plaintext_smtp_login_to_a_remote_server_is_refused(tmp_path):
    from campaign_report.analysis.config import config_from_dict
    from campaign_report.analysis.errors import ConfigError

    email = {"to": ["a@b.c"], "smtp_host": "mail.example.com", "username": "u", "security": "none"}
    with pytest.raises(ConfigError, match="password unencrypted to mail.example.com"):
        config_from_dict({"report": {"title": "t"}, "email": email})
    config_from_dict({"report": {"title": "t"}, "email": {**email, "smtp_host": "localhost"}})  # a local relay


def test_customers_with_nothing_to_analyse_stop_with_one_line(small_demo, tmp_path, capsys):
    """A customer table without a label, purchases or a test used to "succeed": a blank decision slide, notes
    reading "numbers behind it: —" and thirteen slides of data-quality table."""
    out = tmp_path / "out"
    text = (f'[report]\ntitle = "t"\nlanguage = "ru"\noutput_dir = "{out}"\n[data.customers]\n'
            f'path = "{small_demo / "customers.csv"}"\nid = "customer_id"\ncity = "city"\n'
            f'[engine]\nread_folders = ["{small_demo}"]\n')
    code = main(["--quiet", "run", "--config", str(write_config(tmp_path, text))])
    err = capsys.readouterr().err.strip()
    assert code == 2 and len(err.splitlines()) == 1 and "nothing to analyse" in err, err
    assert not out.exists() or not any(p.name != "ledger.sqlite" for p in out.iterdir())
