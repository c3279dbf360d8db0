"""The referral: anonymous by construction.

A row holds only this: a random id, a short random code, the hour it was made
(UTC, truncated), pathway, the referrer's role, agency, needs, the chosen service, a ~5 km area
cell (geohash of precision 5), a distance band, consent, outcome and the day the outcome was
recorded. No Telegram id (raw or hashed), name, username, phone number, exact coordinate,
exact time or free text ever reaches it; tests scan the database file to prove it.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

import pygeohash

from directory.model import NEEDS, Need
from members.keys import new_code
from members.model import Membership, Role

# A referral code is read aloud and typed on a phone: 8 characters of the code alphabet (no
# look-alikes), shown as two groups of four ("7H5S-3VQK"). 31^8 ≈ 8.5·10^11 codes: at a
# million referrals a year a clash is expected about once in two years, and a clash is never
# seen by anyone (the log draws another code, storage/sqlite/referrals.py). Codes made
# before were 6 characters; they are still read.
CODE_LENGTH = 8
LEGACY_CODE_LENGTH = 6
CODE_GROUP = 4


class Pathway(StrEnum):
    """PTACC's six deflection pathways."""

    SELF_REFERRAL = "self_referral"
    ACTIVE_OUTREACH = "active_outreach"
    NALOXONE_PLUS = "naloxone_plus"
    OFFICER_PREVENTION = "officer_prevention"
    OFFICER_INTERVENTION = "officer_intervention"
    COMMUNITY_RESPONSE = "community_response"


class Outcome(StrEnum):
    PENDING = "pending"
    DECLINED = "declined"  # consent refused: a contact, not a referral
    ENGAGED = "engaged"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"


class Refused(StrEnum):
    """Why a code was not even looked up: the hour's wrong codes reached a limit."""

    MEMBER = "member"  # this member's
    EVERYONE = "everyone"  # everyone's together: many accounts cannot share their guesses


class DistanceBand(StrEnum):
    UNDER_1_KM = "<1km"
    KM_1_TO_5 = "1-5km"
    KM_5_TO_20 = "5-20km"
    OVER_20_KM = ">20km"


def distance_band(distance_m: float | None) -> str | None:
    if distance_m is None:
        return None
    if distance_m < 1000:
        return DistanceBand.UNDER_1_KM.value
    if distance_m < 5000:
        return DistanceBand.KM_1_TO_5.value
    if distance_m < 20_000:
        return DistanceBand.KM_5_TO_20.value
    return DistanceBand.OVER_20_KM.value


AREA_CELL_PRECISION = 5


def area_cell(lat: float | None, lon: float | None) -> str | None:
    """A geohash cell of about 5 km: where, coarsely enough that it names no address."""
    if lat is None or lon is None:
        return None
    return str(pygeohash.encode(lat, lon, precision=AREA_CELL_PRECISION))


def new_referral_code() -> str:
    return new_code(CODE_LENGTH)


def normal_referral_code(code: str) -> str:
    """A referral code as typed ("7h5s-3vqk", "7H5S 3VQK", "7h5s3vqk") in the form it is
    kept in: upper case, no separator."""
    return "".join(code.split()).upper().replace("-", "")


def shown_code(code: str) -> str:
    """A code as shown to people: "7H5S-3VQK" (a 6-character code of before, as it was)."""
    if len(code) != CODE_LENGTH:
        return code
    return f"{code[:CODE_GROUP]}-{code[CODE_GROUP:]}"


@dataclass(frozen=True)
class Referral:
    id: str
    code: str
    created_hour: str
    pathway: Pathway
    referrer_role: str
    agency_id: int | None
    needs: tuple[Need, ...]
    service_id: str | None
    area_cell: str | None
    distance_band: str | None
    consent: bool
    outcome: Outcome

    @classmethod
    def new(cls, *, pathway: Pathway, referrer_role: str, agency_id: int | None,
            needs: Iterable[Need], service_id: str | None, lat: float | None, lon: float | None,
            distance_m: float | None, consent: bool, now: datetime | None = None,
            referral_id: str | None = None, code: str | None = None) -> Referral:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        return cls(
            id=referral_id or uuid.uuid4().hex,
            code=code or new_referral_code(),
            created_hour=moment.strftime("%Y-%m-%dT%H:00Z"),
            pathway=pathway, referrer_role=referrer_role, agency_id=agency_id,
            needs=tuple(sorted(set(needs), key=NEEDS.index)), service_id=service_id,
            area_cell=area_cell(lat, lon), distance_band=distance_band(distance_m),
            consent=consent, outcome=Outcome.PENDING if consent else Outcome.DECLINED,
        )

    @classmethod
    def made_by(cls, membership: Membership | None, *, pathway: Pathway,
                needs: Iterable[Need] = (), service_id: str | None = None,
                lat: float | None = None, lon: float | None = None,
                distance_m: float | None = None, consent: bool,
                referral_id: str | None = None, code: str | None = None,
                now: datetime | None = None) -> Referral:
        """A referral by this member, or by a member of the public (no membership). Its id
        and code are fixed before it is offered (the draft keeps them), so that every press
        of the button means this one referral."""
        return cls.new(
            pathway=pathway,
            referrer_role=membership.role.value if membership else Role.COMMUNITY.value,
            agency_id=membership.agency.id if membership else None, needs=needs,
            service_id=service_id, lat=lat, lon=lon, distance_m=distance_m, consent=consent,
            now=now, referral_id=referral_id, code=code)


def outcome_may_change(consent: bool, current: Outcome) -> bool:
    """The one rule for recording an outcome (every writer applies it): a declined contact
    (no consent) has no outcome to record, and an arrival confirmed (engaged) stands: a later
    "not yet" or "don't know", or a second confirmation, changes nothing."""
    return consent and current is not Outcome.ENGAGED
