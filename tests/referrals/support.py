"""A program's referral log to compute figures from: two agencies, this week and a year ago;
and raw SQL on either backend, for the tests that look at the rows a store wrote."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from directory.model import Need
from members import Members
from members.keys import Keys, new_master_key
from referrals.log import ReferralLog
from referrals.model import Outcome, Pathway, Referral
from storage.ports import Storage
from storage.postgres import PostgresStorage
from storage.sqlite import SqliteStorage

S = TypeVar("S", bound=Storage)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


async def log_referral(storage: Storage, pathway: Pathway, *, consent: bool = True,
               agency_id: int | None = 1, engaged_after: int | None = None,
               when: datetime = NOW, service: str = "demo-001",
               needs: tuple[Need, ...] = (Need.DETOX,)) -> Referral:
    referral = Referral.new(pathway=pathway, referrer_role="officer", agency_id=agency_id,
                            needs=needs, service_id=service, lat=41.88, lon=-87.63,
                            distance_m=900, consent=consent, now=when)
    await ReferralLog(storage.referrals).record(referral)
    if engaged_after is not None:
        assert agency_id is not None  # an outcome is recorded by the referral's own agency
        await ReferralLog(storage.referrals).record_outcome(
            referral.code, Outcome.ENGAGED, (when + timedelta(days=engaged_after)).date(),
            agency_id=agency_id)
    return referral


async def seed_program(storage: S) -> S:
    """Two agencies; Chicago has 30 referrals and 12 declines this week, and 12 referrals a
    year ago; Evanston has 5."""
    members = await Members.open(storage.members, Keys(new_master_key()))
    chicago = await members.ensure_agency("Chicago PD", "US")
    evanston = await members.ensure_agency("Evanston PD", "US")
    for index in range(30):
        await log_referral(storage, Pathway.ACTIVE_OUTREACH if index % 3 else Pathway.NALOXONE_PLUS,
                   agency_id=chicago.id, engaged_after=index % 5 if index < 20 else None,
                   needs=(Need.DETOX, Need.SHELTER) if index % 2 else (Need.TREATMENT,))
    for _ in range(12):
        await log_referral(storage, Pathway.ACTIVE_OUTREACH, consent=False, agency_id=chicago.id)
    for _ in range(12):
        await log_referral(storage, Pathway.SELF_REFERRAL, agency_id=chicago.id,
                   when=NOW - timedelta(days=400))
    for _ in range(5):
        await log_referral(storage, Pathway.ACTIVE_OUTREACH, agency_id=evanston.id)
    return storage


def _numbered(sql: str) -> str:
    """`?` placeholders as PostgreSQL's `$1, $2, ...` (the queries here quote no `?`)."""
    count = itertools.count(1)
    return re.sub(r"\?", lambda _match: f"${next(count)}", sql)


async def select(storage: Storage, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """The rows of a SELECT (`?` placeholders) on whichever backend `storage` is, as tuples:
    the same values on both (keyed hashes and sealed values as bytes, days as ISO text)."""
    if isinstance(storage, SqliteStorage):
        return [tuple(row) for row in await storage.db.execute_fetchall(sql, args)]
    if isinstance(storage, PostgresStorage):
        return [tuple(row) for row in await storage.pool.fetch(_numbered(sql), *args)]
    raise TypeError(f"no raw SQL on {type(storage).__name__}")


async def execute(storage: Storage, sql: str, *args: Any) -> None:
    """One statement (`?` placeholders) on whichever backend `storage` is."""
    if isinstance(storage, SqliteStorage):
        await storage.db.execute(sql, args)
    elif isinstance(storage, PostgresStorage):
        await storage.pool.execute(_numbered(sql), *args)
    else:
        raise TypeError(f"no raw SQL on {type(storage).__name__}")
