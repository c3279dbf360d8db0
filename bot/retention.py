"""Retention: raw referral rows are kept for DEFLECT_RETENTION_DAYS, then folded into the
weekly aggregate (bot/stats.py reads both) and deleted; expired conversation states, invite
codes, join attempts and follow-up reminders go too. Afterwards the file is vacuumed, so the
deleted rows leave no trace in it, and the write-ahead log is emptied."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import aiosqlite

from bot.followups import FollowUps
from bot.persistence import delete_idle
from bot.stats import REFERRAL_WEEK_COLUMNS
from directory.sqlite import transaction

DEFAULT_RETENTION_DAYS = 365

_FOLD = f"""
INSERT INTO referral_week (week, agency_id, pathway, needs, service_id, area_cell, consent,
                           outcome, engaged_days, weight)
SELECT {REFERRAL_WEEK_COLUMNS}, count(*) FROM referral WHERE created_hour < ?
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
"""


@dataclass(frozen=True)
class Purged:
    referrals: int
    conversations: int
    invites: int
    join_attempts: int
    followups: int


async def purge(db: aiosqlite.Connection, older_than_days: int, followups: FollowUps, *,
                conversation_idle_s: float = 30 * 60, now: datetime | None = None) -> Purged:
    """Fold and delete referral rows made more than `older_than_days` days ago (by UTC day),
    delete what else has expired, then VACUUM. Reminders of deleted referrals go with them
    (foreign key); others when past their answer window."""
    if older_than_days < 1:
        raise ValueError("the retention period must be at least one day")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    cutoff = (moment.date() - timedelta(days=older_than_days)).isoformat()
    today = moment.date().isoformat()
    epoch = moment.timestamp() if now else time.time()
    expired_reminders = await followups.purge(epoch)
    async with transaction(db):
        await db.execute(_FOLD, (cutoff,))
        referrals = (await db.execute("DELETE FROM referral WHERE created_hour < ?",
                                      (cutoff,))).rowcount
        conversations = await delete_idle(db, epoch - conversation_idle_s)
        invites = (await db.execute(
            "DELETE FROM invite WHERE expires_day < ? OR uses_left <= 0", (today,))).rowcount
        joins = (await db.execute("DELETE FROM join_attempt WHERE substr(hour, 1, 10) < ?",
                                  (today,))).rowcount
    await db.execute("VACUUM")
    await db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return Purged(referrals, conversations, invites, joins, expired_reminders)
