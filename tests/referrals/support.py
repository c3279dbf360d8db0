"""A program's referral log to compute figures from: two agencies, this week and a year ago."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TypeVar

from directory.model import Need
from members import Members
from members.keys import Keys, new_master_key
from referrals.log import ReferralLog
from referrals.model import Outcome, Pathway, Referral
from storage.ports import Storage

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
