"""Retention's work in SQLite (referrals/ports.py's Maintenance): fold old referral rows into
the weekly aggregate, delete what has expired, and leave no trace of it in the files."""

from __future__ import annotations

import logging
import sqlite3
from datetime import date

import aiosqlite

from directory.sqlite import transaction
from referrals.ports import Expired
from storage.sqlite.conversations import delete_idle
from storage.sqlite.referrals import REFERRAL_WEEK_COLUMNS, WEEK_COLUMNS
from storage.sqlite.schema import KEYED_TABLES

_LOGGER = logging.getLogger(__name__)

# Every column of the weekly aggregate but the last (weight, the count) is a key of the group.
_KEYS = ", ".join(str(number) for number in range(1, len(WEEK_COLUMNS.split(","))))
_FOLD = f"""
INSERT INTO referral_week ({WEEK_COLUMNS})
SELECT {REFERRAL_WEEK_COLUMNS}, count(*) FROM referral WHERE created_hour < ?
GROUP BY {_KEYS}
"""


class SqliteMaintenance:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def expire(self, referrals_before: date, today: date, idle_before: float,
                     notices_before: date, places_before: date) -> Expired:
        db = self.db
        cutoff, day = referrals_before.isoformat(), today.isoformat()
        async with transaction(db):
            await db.execute(_FOLD, (cutoff,))
            referrals = (await db.execute("DELETE FROM referral WHERE created_hour < ?",
                                          (cutoff,))).rowcount
            conversations = await delete_idle(db, idle_before)
            invites = (await db.execute(
                "DELETE FROM invite WHERE expires_day < ? OR uses_left <= 0", (day,))).rowcount
            joins = (await db.execute("DELETE FROM join_attempt WHERE substr(hour, 1, 10) < ?",
                                      (day,))).rowcount
            guesses = (await db.execute(
                "DELETE FROM guess_attempt WHERE substr(hour, 1, 10) < ?", (day,))).rowcount
            undelivered = (await db.execute(
                "DELETE FROM undelivered WHERE referral_id IN (SELECT id FROM referral WHERE "
                "created_hour < ?)", (notices_before.isoformat(),))).rowcount
            languages = (await db.execute("DELETE FROM language_choice WHERE day < ?",
                                          (cutoff,))).rowcount
            places = (await db.execute("DELETE FROM geocode_cache WHERE day < ?",
                                       (places_before.isoformat(),))).rowcount
        return Expired(referrals, conversations, invites, joins, guesses, undelivered,
                       languages, places)

    async def ping(self) -> None:
        await self.db.execute_fetchall("SELECT 1 FROM referral LIMIT 1")

    async def checkpoint(self) -> None:
        try:
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.OperationalError as error:
            if "locked" not in str(error):
                raise
            # A read of this connection is in progress (a cursor between its rows): the
            # checkpoint waits for the next minute rather than for that read.
            _LOGGER.info("checkpoint postponed: the database is in use")

    async def compact(self) -> None:
        await self.db.execute("VACUUM")
        await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")




async def forget_keyed(db: aiosqlite.Connection) -> dict[str, int]:
    """Delete everything keyed (see KEYED_TABLES), for an installation that lost its key;
    returns the rows deleted per table. The next start makes a new key."""
    deleted = {}
    async with transaction(db):
        for table in KEYED_TABLES:
            deleted[table] = (await db.execute(f"DELETE FROM {table}")).rowcount
    await db.execute("VACUUM")
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return deleted
