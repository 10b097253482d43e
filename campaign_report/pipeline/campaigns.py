"""The campaign store: one entry per campaign read into an output folder (`campaigns.sqlite`, beside the ledger).

Keyed by the campaign's id (name and window), so a re-run replaces its campaign's entry and never adds one.
An entry is written only after its run published (pipeline.report), in one transaction, so two runs at once
each keep theirs. Pruning old document folders (`keep_history`) never touches it. Every run's results.json
carries the whole history, so a damaged store is rebuilt from the runs kept in `runs/`
(`campaign-report history --rebuild`).
"""

from __future__ import annotations

import json
import math
import sqlite3
from pathlib import Path
from typing import Any

from campaign_report.analysis.errors import UserError
from campaign_report.analysis.history.result import CampaignEntry
from campaign_report.pipeline.ledger import open_checked
from campaign_report.pipeline.publish import RUNS

STORE = "campaigns.sqlite"
SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (campaign_id TEXT PRIMARY KEY, name TEXT, start TEXT, "end" TEXT,
                                      read TEXT, entry TEXT NOT NULL);
"""


def _json(value: Any) -> Any:
    """NaN as null: the stored JSON stays standard."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json(v) for v in value]
    return value


class CampaignStore:
    def __init__(self, out_dir: Path) -> None:
        self.path = out_dir / STORE
        self.db, damage = open_checked(self.path, SCHEMA, "the campaign")
        if damage != "ok":
            raise UserError(f"{self.path}: the campaign history is damaged ({damage}); rebuild it from the runs "
                            f"kept in {out_dir / RUNS}: campaign-report history --config … --rebuild")

    def entries(self) -> tuple[CampaignEntry, ...]:
        try:
            rows = self.db.execute("SELECT campaign_id, entry FROM campaigns ORDER BY start, read").fetchall()
            return tuple(CampaignEntry.from_dict(json.loads(entry)) for _, entry in rows)
        except (sqlite3.DatabaseError, ValueError, TypeError, KeyError) as exc:
            raise UserError(f"{self.path}: the campaign history cannot be read ({type(exc).__name__}: {exc}); "
                            "rebuild it: campaign-report history --config … --rebuild") from None

    def put(self, entry: CampaignEntry) -> None:
        """Insert or replace the campaign's entry (one transaction)."""
        with self.db:
            self.db.execute('INSERT INTO campaigns (campaign_id, name, start, "end", read, entry) VALUES (?,?,?,?,?,?) '
                            'ON CONFLICT(campaign_id) DO UPDATE SET name = excluded.name, start = excluded.start, '
                            '"end" = excluded."end", read = excluded.read, entry = excluded.entry',
                            (entry.campaign_id, entry.name, entry.start, entry.end, entry.read,
                             json.dumps(_json(entry.to_dict()), ensure_ascii=False)))

    def close(self) -> None:
        self.db.close()


def earlier_campaigns(out_dir: Path) -> tuple[CampaignEntry, ...]:
    """The campaigns recorded in this output folder (none when it has no store yet)."""
    if not (out_dir / STORE).exists():
        return ()
    store = CampaignStore(out_dir)
    try:
        return store.entries()
    finally:
        store.close()


def record_campaign(out_dir: Path, entry: CampaignEntry) -> None:
    """This run's campaign into the folder's store, replacing an earlier read of it."""
    store = CampaignStore(out_dir)
    try:
        store.put(entry)
    finally:
        store.close()


def rebuild(out_dir: Path) -> int:
    """Rebuild the store from every kept run's results.json (the newest read of each campaign wins); the damaged
    file is kept beside it. Returns the number of campaigns recovered."""
    found: dict[str, CampaignEntry] = {}
    for results in sorted((out_dir / RUNS).glob("*/results.json")):
        try:
            history = json.loads(results.read_text(encoding="utf-8")).get("history") or {}
            for raw in history.get("campaigns", []):
                entry = CampaignEntry.from_dict(raw)
                if entry.campaign_id not in found or entry.read >= found[entry.campaign_id].read:
                    found[entry.campaign_id] = entry
        except (OSError, ValueError, TypeError, KeyError):
            continue  # an unreadable run: the others may still hold its campaigns
    if (out_dir / STORE).exists():
        (out_dir / STORE).replace(out_dir / f"{STORE}.damaged")
    store = CampaignStore(out_dir)
    try:
        for entry in found.values():
            store.put(entry)
    finally:
        store.close()
    return len(found)
