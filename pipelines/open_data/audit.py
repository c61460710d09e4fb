"""publish.audit_log in the warehouse: one row per publisher action (checked, created, updated, skipped, refused,
failed; a dry run's plan too, with result 'dry_run'), written on short connections every few seconds and at
the end, also when the publish fails, so a publish that dies half-way still leaves the record of what it did."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from pipelines import settings

DDL = """CREATE TABLE IF NOT EXISTS publish.audit_log (
  logged_at TIMESTAMP, run_id VARCHAR, portal_url VARCHAR, dataset VARCHAR, resource VARCHAR, action VARCHAR,
  sha256 VARCHAR, result VARCHAR, message VARCHAR)"""
FLUSH_SECONDS = 2.0
COLUMNS = ("logged_at", "run_id", "portal_url", "dataset", "resource", "action", "sha256", "result", "message")


@dataclass
class AuditRow:
    dataset: str | None
    resource: str | None
    action: str  # check_gates, check_key, create_organization, create_package, update_package, create_resource,
    # update_resource, delete_duplicate, skip_package, skip_resource, publish
    sha256: str | None
    result: str  # ok, skipped, dry_run, refused, failed
    message: str = ""


class AuditLog:
    """Appends to publish.audit_log of `warehouse` (None: no warehouse, rows kept in memory only)."""

    def __init__(self, run_id: str, portal_url: str, warehouse: Path | None = None, enabled: bool = True):
        self.run_id, self.portal_url = run_id, portal_url
        self.warehouse = (warehouse or settings.warehouse_path()) if enabled else None
        self.rows: list[AuditRow] = []
        self._pending: list[tuple[datetime, AuditRow]] = []
        self._flushed = float("-inf")

    def record(self, row: AuditRow) -> AuditRow:
        """Keep the row; write the rows kept so far at once for a refusal or failure, else at most every
        FLUSH_SECONDS (a connection costs tens of ms: not one per uploaded file). publish() flushes at its end,
        also when it fails, so only a hard kill can lose the last seconds of rows."""
        self.rows.append(row)
        self._pending.append((datetime.now(timezone.utc).replace(tzinfo=None), row))
        if (row.result in ("refused", "failed") or len(self._pending) >= 500
                or time.monotonic() - self._flushed >= FLUSH_SECONDS):
            self.flush()
        return row

    def flush(self) -> None:
        if self.warehouse is None or not self._pending:
            self._pending.clear()
            return
        from pipelines.ingest.load import connect

        with connect(self.warehouse) as con:
            con.execute("CREATE SCHEMA IF NOT EXISTS publish")
            con.execute(DDL)
            con.executemany(f"INSERT INTO publish.audit_log ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                            [[at, self.run_id, self.portal_url, r.dataset, r.resource, r.action, r.sha256, r.result,
                              r.message] for at, r in self._pending])
        self._pending.clear()
        self._flushed = time.monotonic()


def read(warehouse: Path | None = None, run_id: str | None = None) -> list[dict]:
    """The audit rows (of one run), oldest first."""
    from pipelines.ingest.load import connect

    path = warehouse or settings.warehouse_path()
    if not path.exists():
        return []
    with connect(path, read_only=True) as con:
        have = con.execute("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'publish' "
                           "AND table_name = 'audit_log'").fetchone()[0]
        if not have:
            return []
        where, params = ("WHERE run_id = ?", [run_id]) if run_id else ("", [])
        cur = con.execute(f"SELECT {', '.join(COLUMNS)} FROM publish.audit_log {where} ORDER BY logged_at, rowid", params)
        return [dict(zip(COLUMNS, r)) for r in cur.fetchall()]
