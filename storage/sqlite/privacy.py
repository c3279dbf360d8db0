"""`deflect privacy-check` on an SQLite file: every value of every table that is not the
directory's, looked at with referrals/privacy.py's rules; rows kept past their table's time;
and the write-ahead log's raw pages. Read-only: the file is copied and the copy read, so
nothing is changed and the log is read as it is."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from referrals.followups import ANSWER_WINDOW_S, DEFAULT_FOLLOWUP_HOURS, HOUR_S
from referrals.privacy import (
    COORDINATE,
    DIRECTORY_TABLES,
    ID_SHAPED,
    TRANSIENT,
    Finding,
    inspect,
)
from referrals.retention import DEFAULT_RETENTION_DAYS, PLACES_DAYS, UNDELIVERED_DAYS

# Retention runs daily and the idle-conversation purge every minute: rows are stale only
# once past their time by more than that.
_DAY_SLACK = timedelta(days=1)
_IDLE_SLACK_S = 5 * 60


@dataclass(frozen=True)
class Ages:
    """How long each kind of row may be kept (the running bot's settings)."""

    conversation_idle_s: float = 30 * 60
    retention_days: int = DEFAULT_RETENTION_DAYS
    followup_hours: Sequence[float] = DEFAULT_FOLLOWUP_HOURS


def _stale(ages: Ages, now: float) -> dict[str, tuple[str, object]]:
    today = datetime.fromtimestamp(now, UTC).date()

    def day(days: int) -> str:
        return (today - timedelta(days=days) - _DAY_SLACK).isoformat()

    idle = now - ages.conversation_idle_s - _IDLE_SLACK_S
    reminders_end = now - max(ages.followup_hours) * HOUR_S - ANSWER_WINDOW_S - 86_400
    return {
        "conversation_state": ("updated_at < ?", idle),
        "user_state": ("updated_at < ?", idle),
        "followup": ("made_at < ?", reminders_end),
        # A hand-off's deadline is at most its end (KEEP_S after the referral); the job that
        # ends them runs every minute.
        "handoff": ("deadline < ?", now - _IDLE_SLACK_S),
        "geocode_cache": ("day < ?", day(PLACES_DAYS)),
        "language_choice": ("day < ?", day(ages.retention_days)),
        "undelivered": ("referral_id IN (SELECT id FROM referral WHERE created_hour < ?)",
                        day(UNDELIVERED_DAYS)),
        "referral": ("created_hour < ?", day(ages.retention_days)),
        "join_attempt": ("substr(hour, 1, 10) < ?", day(0)),
        "guess_attempt": ("substr(hour, 1, 10) < ?", day(0)),
        "invite": ("expires_day < ?", day(0)),
        "installation": ("1", None),  # a key kept in the data: there should be none
    }


# In the log's raw pages only text can be recognised: numbers written as text.
_RAW = [(ID_SHAPED, "a number shaped like a Telegram id"),
        (COORDINATE, "a coordinate with more than 3 decimals")]


def check(path: Path, ages: Ages | None = None, now: float | None = None
          ) -> tuple[list[Finding], dict[str, int]]:
    """Findings, and the row counts of the tables that hold transient data by design."""
    with tempfile.TemporaryDirectory() as folder:
        copy = Path(folder) / "copy.sqlite3"
        shutil.copyfile(path, copy)
        wal = path.with_name(path.name + "-wal")
        raw_wal = wal.read_bytes() if wal.exists() else b""
        if raw_wal:
            (Path(folder) / "copy.sqlite3-wal").write_bytes(raw_wal)
        connection = sqlite3.connect(copy)
        try:
            findings, transient = _tables(connection, ages or Ages(),
                                          time.time() if now is None else now)
        finally:
            connection.close()
    text = raw_wal.decode("latin-1")
    for pattern, what in _RAW:
        match = pattern.search(text)
        if match is not None:
            findings.append(Finding("(write-ahead log)", "(pages)", what,
                                    match.group()[:2] + "…"))
    return findings, transient


def _tables(connection: sqlite3.Connection, ages: Ages, now: float
            ) -> tuple[list[Finding], dict[str, int]]:
    findings: list[Finding] = []
    transient: dict[str, int] = {}
    stale = _stale(ages, now)
    tables = [row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")]
    for table in tables:
        if DIRECTORY_TABLES.match(table) or "_rtree" in table:
            continue
        if table in TRANSIENT:
            transient[table] = connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
        cursor = connection.execute(f'SELECT * FROM "{table}"')
        columns = [d[0] for d in cursor.description]
        for row in cursor:
            for column, value in zip(columns, row, strict=True):
                finding = inspect(table, column, value)
                if finding is not None:
                    findings.append(finding)
        if table in stale:
            where, value = stale[table]
            params = () if value is None else (value,)
            try:
                old = connection.execute(f'SELECT count(*) FROM "{table}" WHERE {where}',
                                         params).fetchone()[0]
            except sqlite3.OperationalError:  # a file from before the column existed
                findings.append(Finding(table, "(schema)", "an older schema: start Deflect "
                                        "once to upgrade it, then check again", "-"))
                continue
            if old:
                findings.append(Finding(table, "(rows)", "rows kept past their time",
                                        str(old)))
    return findings, transient


__all__ = ["Ages", "check"]
