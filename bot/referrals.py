"""The referral log: anonymous by construction.

A row holds only what DESIGN.md lists: a random id, a short random code, the hour it was made
(UTC, truncated), pathway, the referrer's role, agency, needs, the chosen service, a ~5 km area
cell (geohash of precision 5), a distance band, consent, outcome and the day the outcome was
recorded. No Telegram id (raw or hashed), name, username, phone number, exact coordinate,
exact time or free text ever reaches it; tests scan the database file to prove it.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from enum import StrEnum

import aiosqlite
import pygeohash

from directory.i18n import N_
from directory.model import NEEDS, Need
from directory.sqlite import write_lock

MIGRATION = """
CREATE TABLE referral (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    created_hour TEXT NOT NULL,
    pathway TEXT NOT NULL,
    referrer_role TEXT NOT NULL,
    agency_id INTEGER REFERENCES agency(id),
    needs TEXT NOT NULL,
    service_id TEXT,
    area_cell TEXT,
    distance_band TEXT,
    consent INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    outcome_day TEXT
);
CREATE INDEX referral_created ON referral(created_hour);
"""


class Pathway(StrEnum):
    """PTACC's six deflection pathways."""

    SELF_REFERRAL = "self_referral"
    ACTIVE_OUTREACH = "active_outreach"
    NALOXONE_PLUS = "naloxone_plus"
    OFFICER_PREVENTION = "officer_prevention"
    OFFICER_INTERVENTION = "officer_intervention"
    COMMUNITY_RESPONSE = "community_response"


PATHWAY_NAMES = {
    Pathway.SELF_REFERRAL: N_("Self-referral"),
    Pathway.ACTIVE_OUTREACH: N_("Active outreach"),
    Pathway.NALOXONE_PLUS: N_("Naloxone Plus (after an overdose)"),
    Pathway.OFFICER_PREVENTION: N_("Officer prevention (no charges)"),
    Pathway.OFFICER_INTERVENTION: N_("Officer intervention (charges held)"),
    Pathway.COMMUNITY_RESPONSE: N_("Community response"),
}


class Outcome(StrEnum):
    PENDING = "pending"
    DECLINED = "declined"  # consent refused: a contact, not a referral
    ENGAGED = "engaged"
    NOT_YET = "not_yet"
    UNKNOWN = "unknown"


_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def distance_band(distance_m: float | None) -> str | None:
    if distance_m is None:
        return None
    if distance_m < 1000:
        return "<1km"
    if distance_m < 5000:
        return "1-5km"
    if distance_m < 20_000:
        return "5-20km"
    return ">20km"


def area_cell(lat: float | None, lon: float | None) -> str | None:
    """A geohash cell of about 5 km: where, coarsely enough that it names no address."""
    if lat is None or lon is None:
        return None
    return str(pygeohash.encode(lat, lon, precision=5))


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
            distance_m: float | None, consent: bool, now: datetime | None = None) -> Referral:
        moment = (now or datetime.now(UTC)).astimezone(UTC)
        return cls(
            id=uuid.uuid4().hex,
            code="".join(secrets.choice(_CODE_ALPHABET) for _ in range(6)),
            created_hour=moment.strftime("%Y-%m-%dT%H:00Z"),
            pathway=pathway, referrer_role=referrer_role, agency_id=agency_id,
            needs=tuple(sorted(set(needs), key=NEEDS.index)), service_id=service_id,
            area_cell=area_cell(lat, lon), distance_band=distance_band(distance_m),
            consent=consent, outcome=Outcome.PENDING if consent else Outcome.DECLINED,
        )


class ReferralLog:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def record(self, referral: Referral) -> bool:
        """Write a referral once: a second write of the same id changes nothing (False)."""
        async with write_lock(self.db):
            cursor = await self.db.execute(
                "INSERT OR IGNORE INTO referral (id, code, created_hour, pathway, referrer_role, "
                "agency_id, needs, service_id, area_cell, distance_band, consent, outcome, "
                "outcome_day) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)",
                (referral.id, referral.code, referral.created_hour, referral.pathway.value,
                 referral.referrer_role, referral.agency_id,
                 ";".join(need.value for need in referral.needs), referral.service_id,
                 referral.area_cell, referral.distance_band, int(referral.consent),
                 referral.outcome.value),
            )
        return cursor.rowcount == 1

    async def record_outcome(self, code: str, outcome: Outcome, day: date | None = None
                             ) -> Outcome | None:
        """Set the outcome of the referral with this code; returns the outcome it had before
        (None: no such referral, nothing changed). Declined contacts have no outcome to set."""
        normal = "".join(code.split()).upper()
        rows = list(await self.db.execute_fetchall(
            "SELECT outcome FROM referral WHERE code = ? AND consent = 1", (normal,)))
        if not rows:
            return None
        day = day or datetime.now(UTC).date()
        async with write_lock(self.db):
            await self.db.execute(
                "UPDATE referral SET outcome = ?, outcome_day = ? WHERE code = ?",
                (outcome.value, day.isoformat(), normal))
        return Outcome(rows[0][0])

    async def count(self) -> int:
        rows = list(await self.db.execute_fetchall("SELECT count(*) FROM referral"))
        return int(rows[0][0])
