"""The referral log: referrals kept once, and the only way an outcome is recorded."""

from __future__ import annotations

from datetime import UTC, date, datetime

from referrals.model import Outcome, Referral, normal_referral_code
from referrals.ports import ReferralStore


class ReferralLog:
    def __init__(self, store: ReferralStore) -> None:
        self.store = store

    async def record(self, referral: Referral) -> bool:
        """Write a referral once: a second write of the same id changes nothing (False)."""
        return await self.store.add(referral)

    async def record_outcome(self, code: str, outcome: Outcome, day: date | None = None
                             ) -> Outcome | None:
        """Set the outcome of the referral with this code; returns the outcome it had before
        (None: no such referral, nothing changed). Declined contacts have no outcome to set,
        and a confirmed arrival stands (referrals.model.outcome_may_change)."""
        return await self.store.set_outcome(normal_referral_code(code), outcome,
                                            day or datetime.now(UTC).date())

    async def count(self) -> int:
        return await self.store.count()
