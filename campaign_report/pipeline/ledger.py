"""A small SQLite ledger in the output folder: every run and every delivery attempt.

It is what makes delivery exactly-once per change of the inputs: a delivery is recorded per recipient for an
inputs key (the hash of the config and of every input file), and a recipient is never sent the same inputs
again unless forced. Each attempt is written as "sending" before the first byte goes out and as "data_sent"
once the whole message went out, so an attempt that died half-way is visible to the next delivery: before the
data, it resends with the same Message-ID; after it, the delivery is "unknown" and is not repeated by itself.
Statuses: sending, data_sent, sent, failed (worth retrying), refused (the server said no to the recipient),
unknown (the message went out, no reply came back).
"""

from __future__ import annotations

import errno
import glob
import hashlib
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.config import Config
from campaign_report.analysis.data.load import file_sha256
from campaign_report.analysis.errors import UserError

LEDGER = "ledger.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (id INTEGER PRIMARY KEY, started TEXT, finished TEXT, status TEXT,
                                 inputs_key TEXT, detail TEXT);
CREATE TABLE IF NOT EXISTS deliveries (id INTEGER PRIMARY KEY, inputs_key TEXT, recipients TEXT, time TEXT,
                                       status TEXT, attempt INTEGER, detail TEXT, message_id TEXT);
"""
_FILE_IN_SQL = re.compile(r"'([^']+\.(?:csv|tsv|txt|parquet|pq|xlsx|json|jsonl|ndjson)(?:\.gz|\.zst)?)'",
                          re.IGNORECASE)


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


def sql_files(sql: str, folder: Path) -> list[Path]:
    """The files a SQL source reads: quoted file names, globs (`'exports/*.csv'`, `**`) expanded."""
    files: list[Path] = []
    for reference in _FILE_IN_SQL.findall(sql):
        pattern = str(reference if Path(reference).is_absolute() else folder / reference)
        if any(c in pattern for c in "*?["):
            files += [Path(m).resolve() for m in sorted(glob.glob(pattern, recursive=True))]
            files.append(Path(pattern))  # the pattern itself, so that "no file matched" is part of the key
        else:
            files.append(Path(pattern).resolve())
    return files


def inputs_key(config: Config) -> str:
    """Hash of the config file and every input file (files named inside SQL sources and every file a
    glob in them matches included: a changed, added or removed file is a new run)."""
    digest = hashlib.sha256(config.digest.encode())
    for name in sorted(config.tables):
        source = config.tables[name]
        paths = [source.path] if source.path else sql_files(source.sql or "", config.path.parent)
        for path in paths:
            digest.update(str(path).encode())
            digest.update(file_sha256(path).encode() if path and path.is_file() else b"missing")
    return digest.hexdigest()


def disk_full(exc: BaseException) -> bool:
    """No space left: the OS's ENOSPC / EDQUOT, or SQLite's own words for it."""
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, sqlite3.OperationalError) and "disk is full" in str(exc)


def open_checked(path: Path, schema: str, purpose: str,
                 upgrade: Callable[[sqlite3.Connection], None] | None = None) -> tuple[sqlite3.Connection, str]:
    """An SQLite file of the output folder, its tables created (and an older file's brought up to date by
    `upgrade`), with its integrity check: "ok" or what is damaged. A full disk is a one-line error (`purpose`:
    what could not be recorded)."""
    db = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(path, timeout=30)
        db.executescript(schema)
        if upgrade is not None:
            upgrade(db)
        return db, str(db.execute("PRAGMA quick_check").fetchone()[0])
    except (sqlite3.DatabaseError, OSError) as exc:
        if disk_full(exc):
            raise UserError(f"{path}: no space left on the disk to record {purpose}; free some space and run again") \
                from None
        if db is None:
            raise UserError(f"{path}: cannot be opened ({exc})") from None
        return db, str(exc)


def _upgrade_ledger(db: sqlite3.Connection) -> None:
    columns = {row[1] for row in db.execute("PRAGMA table_info(deliveries)")}
    if "message_id" not in columns:  # a ledger written before Message-IDs were recorded
        with db:
            db.execute("ALTER TABLE deliveries ADD COLUMN message_id TEXT")
    run_columns = {row[1] for row in db.execute("PRAGMA table_info(runs)")}
    for column in ("campaign TEXT", "look_day INTEGER", "look_days INTEGER"):  # older ledgers
        if column.split()[0] not in run_columns:
            with db:
                db.execute(f"ALTER TABLE runs ADD COLUMN {column}")


class Ledger:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / LEDGER
        self.db, damage = open_checked(self.path, SCHEMA, "the run", _upgrade_ledger)
        if damage != "ok":
            # Not rebuilt silently: the ledger is what keeps a message from being sent twice.
            raise UserError(f"{self.path}: the ledger is damaged ({damage}); it records what was e-mailed, so it "
                            "is not replaced by itself: move it aside and run again (the current documents may "
                            "then be e-mailed once more)")

    def begin_run(self, started: str, key: str) -> int:
        """A run about to publish, recorded first: a disk too full to record it stops it before the documents
        change."""
        with self.db:
            cursor = self.db.execute("INSERT INTO runs (started, finished, status, inputs_key, detail) "
                                     "VALUES (?,?,?,?,?)", (started, None, "publishing", key, ""))
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, detail: str = "", campaign: str | None = None,
                   look: tuple[int, int] | None = None) -> None:
        """The run's outcome, and for a campaign read from its purchases, which campaign and how far into its
        window the data reached (day, days)."""
        with self.db:
            self.db.execute("UPDATE runs SET finished = ?, status = ?, detail = ?, campaign = ?, look_day = ?, "
                            "look_days = ? WHERE id = ?",
                            (_now(), status, detail[:500], campaign, *(look or (None, None)), run_id))

    def interim_looks(self, campaign: str) -> int:
        """Published reads of this campaign whose data ended before its window did."""
        row = self.db.execute("SELECT count(*) FROM runs WHERE status = 'ok' AND campaign = ? AND look_day < look_days",
                              (campaign,)).fetchone()
        return int(row[0])

    def close(self) -> None:
        self.db.close()

    def record_run(self, started: str, status: str, key: str, detail: str = "") -> None:
        with self.db:
            self.db.execute("INSERT INTO runs (started, finished, status, inputs_key, detail) VALUES (?,?,?,?,?)",
                            (started, _now(), status, key, detail[:500]))

    def last_good_key(self) -> str | None:
        row = self.db.execute("SELECT inputs_key FROM runs WHERE status = 'ok' ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def _rows(self, key: str, recipient: str) -> list[tuple[str, str]]:
        """(status, message_id) of every attempt for this recipient, oldest first. Ledgers written before
        per-recipient records hold one row per send to every recipient, joined by ", "."""
        rows = self.db.execute("SELECT recipients, status, message_id FROM deliveries WHERE inputs_key = ? "
                               "ORDER BY id", (key,)).fetchall()
        return [(status, message_id) for recipients, status, message_id in rows
                if recipients == recipient or recipient in recipients.split(", ")]

    def last_status(self, key: str, recipient: str) -> tuple[str, str] | None:
        """The last word on this recipient for these inputs: (status, message_id), or None."""
        rows = self._rows(key, recipient)
        return rows[-1] if rows else None

    def was_sent(self, key: str, recipient: str) -> bool:
        return any(status == "sent" for status, _ in self._rows(key, recipient))

    def sent_count(self, key: str, recipient: str) -> int:
        return sum(status == "sent" for status, _ in self._rows(key, recipient))

    def record_delivery(self, key: str, recipients: str, status: str, attempt: int, detail: str = "",
                        message_id: str = "") -> None:
        with self.db:
            self.db.execute("INSERT INTO deliveries (inputs_key, recipients, time, status, attempt, detail, "
                            "message_id) VALUES (?,?,?,?,?,?,?)",
                            (key, recipients, _now(), status, attempt, detail[:500], message_id))
