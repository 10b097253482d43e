"""A small SQLite ledger in the output folder: every run and every delivery attempt.

It is what makes delivery exactly-once per change of the inputs: a delivery is "sent" for an inputs key
(the hash of the config and of every input file) and a recipient list, and never sent again for them
unless forced. Each attempt is written as "sending" before the first byte goes out, so an attempt that
died half-way (a crash, a kill) is visible to the next delivery, which reuses its Message-ID.
"""

from __future__ import annotations

import glob
import hashlib
import re
import sqlite3
from datetime import datetime
from pathlib import Path

from campaign_report.analysis.config import Config
from campaign_report.analysis.data.load import file_sha256

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


class Ledger:
    def __init__(self, out_dir: Path) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.path = out_dir / LEDGER
        self.db = sqlite3.connect(self.path, timeout=30)
        self.db.executescript(SCHEMA)
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(deliveries)")}
        if "message_id" not in columns:  # a ledger written before Message-IDs were recorded
            with self.db:
                self.db.execute("ALTER TABLE deliveries ADD COLUMN message_id TEXT")

    def close(self) -> None:
        self.db.close()

    def record_run(self, started: str, status: str, key: str, detail: str = "") -> None:
        with self.db:
            self.db.execute("INSERT INTO runs (started, finished, status, inputs_key, detail) VALUES (?,?,?,?,?)",
                            (started, _now(), status, key, detail[:500]))

    def last_good_key(self) -> str | None:
        row = self.db.execute("SELECT inputs_key FROM runs WHERE status = 'ok' ORDER BY id DESC LIMIT 1").fetchone()
        return row[0] if row else None

    def was_sent(self, key: str, recipients: str) -> bool:
        row = self.db.execute("SELECT 1 FROM deliveries WHERE inputs_key = ? AND recipients = ? AND status = 'sent'",
                              (key, recipients)).fetchone()
        return row is not None

    def sent_count(self, key: str, recipients: str) -> int:
        row = self.db.execute("SELECT count(*) FROM deliveries WHERE inputs_key = ? AND recipients = ? "
                              "AND status = 'sent'", (key, recipients)).fetchone()
        return int(row[0])

    def interrupted_message_id(self, key: str, recipients: str) -> str | None:
        """The Message-ID of an attempt that started and never ended ("sending" is the last word on it)."""
        row = self.db.execute("SELECT status, message_id FROM deliveries WHERE inputs_key = ? AND recipients = ? "
                              "ORDER BY id DESC LIMIT 1", (key, recipients)).fetchone()
        if row is None or row[0] != "sending":
            return None
        return str(row[1])

    def record_delivery(self, key: str, recipients: str, status: str, attempt: int, detail: str = "",
                        message_id: str = "") -> None:
        with self.db:
            self.db.execute("INSERT INTO deliveries (inputs_key, recipients, time, status, attempt, detail, "
                            "message_id) VALUES (?,?,?,?,?,?,?)",
                            (key, recipients, _now(), status, attempt, detail[:500], message_id))
