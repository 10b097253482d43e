"""Publishing the output folder as a set: a reader sees the previous complete run or the new one."""

from __future__ import annotations

import os

import pytest

from campaign_report.pipeline import publish as publishing
from campaign_report.pipeline.publish import current_run, publish


def _writers(tag: str, names: tuple[str, ...]):
    def writer(name):
        def write(path):
            path.write_text(f"{tag}:{name}", encoding="utf-8")
            return path
        return write
    return {name: writer(name) for name in names}


FULL = ("results.json", "brief.pdf", "deck.pptx", "target_list.csv", "email.json")
NO_LIST = ("results.json", "brief.pdf", "deck.pptx", "email.json")


def _seen(out):
    """What a reader opening each top-level file sees: {name: run tag or None when absent}."""
    seen = {}
    for name in FULL:
        try:
            seen[name] = (out / name).read_text(encoding="utf-8").split(":")[0]
        except FileNotFoundError:
            seen[name] = None
    return seen


def _consistent(seen, tag, names):
    return all(seen[n] == (tag if n in names else None) for n in FULL)


class Crash(BaseException):
    """A kill at this point: nothing after it runs (BaseException passes the `except OSError` fallback)."""


@pytest.mark.parametrize("crash_at", range(1, 12))
def test_a_run_killed_at_any_step_leaves_one_complete_set(tmp_path, monkeypatch, crash_at):
    out = tmp_path / "out"
    publish(out, _writers("A", FULL))
    calls = {"n": 0}
    real_replace, real_rename, real_symlink = os.replace, os.rename, os.symlink

    def counting(real):
        def step(*args, **kwargs):
            calls["n"] += 1
            if calls["n"] == crash_at:
                raise Crash()
            return real(*args, **kwargs)
        return step

    monkeypatch.setattr(publishing.os, "replace", counting(real_replace))
    monkeypatch.setattr(publishing.os, "rename", counting(real_rename))
    monkeypatch.setattr(publishing.os, "symlink", counting(real_symlink))
    try:
        publish(out, _writers("B", NO_LIST))
        crashed = False
    except Crash:
        crashed = True
    monkeypatch.undo()
    seen = _seen(out)
    assert _consistent(seen, "A", FULL) or _consistent(seen, "B", NO_LIST), seen
    # Resolving `current` once gives one complete run as well.
    run = current_run(out)
    tags = {p.read_text(encoding="utf-8").split(":")[0] for p in run.iterdir()}
    assert len(tags) == 1
    if not crashed:
        assert _consistent(seen, "B", NO_LIST)
    publish(out, _writers("C", FULL))  # the next run cleans up and publishes normally
    assert _consistent(_seen(out), "C", FULL)


def test_history_keeps_the_last_runs_and_adopts_a_flat_folder(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "brief.pdf").write_text("old:brief.pdf", encoding="utf-8")  # an output folder of an older version
    for tag in "ABCD":
        publish(out, _writers(tag, FULL), keep_history=2)
    runs = sorted(p.name for p in (out / "runs").iterdir())
    assert len(runs) == 3 and current_run(out).name == runs[-1]
    assert _consistent(_seen(out), "D", FULL)
    assert (out / "brief.pdf").is_symlink() and os.readlink(out / "brief.pdf") == "current/brief.pdf"


def test_flat_publishing_where_symlinks_are_refused(tmp_path, monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("symbolic links are not allowed here")

    monkeypatch.setattr(publishing.os, "symlink", refuse)
    out = tmp_path / "out"
    publish(out, _writers("A", FULL))
    publish(out, _writers("B", NO_LIST))
    assert _consistent(_seen(out), "B", NO_LIST)
    assert not (out / "brief.pdf").is_symlink()


def test_inputs_key_sees_every_file_a_sql_glob_reads(tmp_path):
    """Before: a `sql` source over 'parts/*.csv' hashed nothing, so `watch` said "Already sent" forever."""
    from campaign_report.analysis.config import config_from_dict
    from campaign_report.pipeline.ledger import inputs_key

    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "a.csv").write_text("customer_id,date,amount\n1,2026-10-01,5\n", encoding="utf-8")
    config = config_from_dict({"report": {"title": "t"}, "data": {"transactions": {
        "sql": "SELECT * FROM read_csv_auto('parts/*.csv')", "customer_id": "customer_id", "date": "date",
        "amount": "amount"}}}, folder=tmp_path)
    keys = [inputs_key(config)]
    (parts / "a.csv").write_text("customer_id,date,amount\n1,2026-10-01,6\n", encoding="utf-8")  # changed
    keys.append(inputs_key(config))
    (parts / "b.csv").write_text("customer_id,date,amount\n2,2026-10-02,7\n", encoding="utf-8")  # added
    keys.append(inputs_key(config))
    (parts / "a.csv").unlink()  # removed
    keys.append(inputs_key(config))
    assert len(set(keys)) == 4
    assert inputs_key(config) == keys[-1]  # and unchanged inputs give the same key
