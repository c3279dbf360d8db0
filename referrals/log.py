"""The referral log: referrals kept once, and the only way an outcome is recorded.

An outcome is recorded only by the referral's own agency: a code of another agency is answered
as an unknown one. A coordinator's wrong codes are limited per hour, for each member and for
everyone together, so that codes cannot be found by guessing, nor by many accounts guessing
in turn.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

from referrals.model import Outcome, Referral, Refused, normal_referral_code
from referrals.ports import GuessLimit, ReferralStore, Reminder

_LOGGER = logging.getLogger(__name__)

# A coordinator mistypes a code now and then; ten an hour leaves room for that and none for
# searching. Together (the ceiling): ten coordinators' worth, so a program's own use never
# reaches it, while accounts sharing out guesses get no more than that between them.
MAX_UNKNOWN_CODES_PER_HOUR = 10
MAX_UNKNOWN_CODES_PER_HOUR_ALL = 100


class ReferralLog:
    def __init__(self, store: ReferralStore) -> None:
        self.store = store
        self._ceiling_logged: str | None = None  # the hour the ceiling was last logged

    async def record(self, referral: Referral, reminder: Reminder | None = None) -> Referral:
        """Log a referral and its reminders once, together; returns the referral as logged,
        which is the one to show: on a repeat (same id) the one logged first, and under a
        new code if its code was another's (ReferralStore.add)."""
        return await self.store.add(referral, reminder)

    async def get(self, referral_id: str) -> Referral | None:
        return await self.store.get(referral_id)

    async def record_outcome(self, code: str, outcome: Outcome, day: date | None = None, *,
                             agency_id: int) -> Outcome | None:
        """Set the outcome of the referral with this code made at this agency; returns the
        outcome it had before (None: no such referral of this agency, nothing changed).
        Declined contacts have no outcome to set, and a confirmed arrival stands
        (referrals.model.outcome_may_change)."""
        return await self.store.set_outcome(normal_referral_code(code), outcome,
                                            day or datetime.now(UTC).date(), agency_id)

    async def record_arrival(self, referral_id: str, day: date | None = None
                             ) -> Outcome | None:
        """Staff of the referral's service say the person arrived (engaged), as
        `record_outcome` would; the caller has checked that they work there. Returns the
        outcome before (None: no such referral)."""
        return await self.store.set_outcome_by_id(referral_id, Outcome.ENGAGED,
                                                  day or datetime.now(UTC).date())

    async def confirm_arrival(self, code: str, *, agency_id: int, member_key: bytes,
                              now: datetime | None = None) -> Outcome | Refused | None:
        """A coordinator's /arrived: the person reached the service (engaged), recorded as
        `record_outcome` does, unless this member (by its keyed hash) or everyone has tried
        too many unknown codes this hour (Refused; nothing looked up). A code that is unknown
        or another agency's counts as a wrong one."""
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        hour = moment.strftime("%Y-%m-%dT%H")
        result = await self.store.set_outcome_limited(
            normal_referral_code(code), Outcome.ENGAGED, moment.date(), agency_id,
            GuessLimit(member_key, hour, MAX_UNKNOWN_CODES_PER_HOUR,
                       MAX_UNKNOWN_CODES_PER_HOUR_ALL))
        if result is Refused.EVERYONE and self._ceiling_logged != hour:
            # Once an hour, not once a try: whoever is guessing must not flood the log.
            self._ceiling_logged = hour
            _LOGGER.warning("arrived: hourly ceiling of unknown codes reached; refusing "
                            "further tries this hour")
        return result

    async def count(self) -> int:
        return await self.store.count()
