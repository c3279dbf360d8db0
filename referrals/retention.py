"""Retention: raw referral rows are kept for DEFLECT_RETENTION_DAYS, then folded into the
weekly aggregate (referrals/figures.py reads both) and deleted; expired conversation states,
invite codes, join attempts, wrong /arrived codes and follow-up reminders go too. Afterwards
the storage compacts, so the deleted rows leave no trace in its files."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from directory.geocoder import CACHE_MAX_AGE_S
from referrals.followups import FollowUps
from referrals.ports import Maintenance

DEFAULT_RETENTION_DAYS = 365
# A confirmation a member never came back for is of no use after a month.
UNDELIVERED_DAYS = 30
# Typed places are looked up again after the geocoder's cache age; then they go.
PLACES_DAYS = round(CACHE_MAX_AGE_S / 86_400)


@dataclass(frozen=True)
class Purged:
    referrals: int
    conversations: int
    invites: int
    join_attempts: int
    guess_attempts: int
    followups: int
    undelivered: int = 0
    languages: int = 0
    places: int = 0


async def purge(maintenance: Maintenance, older_than_days: int, followups: FollowUps, *,
                conversation_idle_s: float = 30 * 60, now: datetime | None = None) -> Purged:
    """Fold and delete referral rows made more than `older_than_days` days ago (by UTC day),
    delete what else has expired, then compact. Reminders of deleted referrals go with them;
    others when past their answer window."""
    if older_than_days < 1:
        raise ValueError("the retention period must be at least one day")
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    epoch = moment.timestamp() if now else time.time()
    expired_reminders = await followups.purge(epoch)
    today = moment.date()
    expired = await maintenance.expire(
        today - timedelta(days=older_than_days), today, epoch - conversation_idle_s,
        today - timedelta(days=UNDELIVERED_DAYS), today - timedelta(days=PLACES_DAYS))
    await maintenance.compact()
    return Purged(expired.referrals, expired.conversations, expired.invites,
                  expired.join_attempts, expired.guess_attempts, expired_reminders,
                  expired.undelivered, expired.languages, expired.places)
