"""The referral log, its figures and the audit trail in SQLite (referrals/ports.py).

A referral row's columns are named once here: `REFERRAL_WEEK_COLUMNS` is how a row reads in
the weekly aggregate's shape, used both by the figures and by retention's fold
(storage/sqlite/maintenance.py), so the two can never disagree.
"""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import aiosqlite

from directory.model import Need
from directory.sqlite import transaction, write_lock
from referrals.model import (
    Outcome,
    Pathway,
    Referral,
    Refused,
    new_referral_code,
    outcome_may_change,
)
from referrals.ports import GuessLimit, Reminder, WeekRow

# Inside the caller's transaction: start a referral's reminder series (storage/sqlite/followups).
WriteReminder = Callable[[str, Reminder], Awaitable[None]]
# A clash of codes is about once in two years at a million referrals a year (referrals/model);
# ten in a row means the code generator is broken, and the referral is not logged.
_CODE_TRIES = 10
REFERRAL_COLUMNS = ("id, code, created_hour, pathway, referrer_role, agency_id, needs, "
                     "service_id, area_cell, distance_band, consent, outcome")

# A referral row in the weekly aggregate's columns: the week (its Monday), agency, pathway,
# needs, service, area cell, consent, outcome, and days from referral to recorded engagement.
REFERRAL_WEEK_COLUMNS = """
date(substr(created_hour, 1, 10), '-6 days', 'weekday 1'), agency_id, pathway, needs,
service_id, area_cell, consent, outcome,
CASE WHEN outcome = 'engaged' AND outcome_day IS NOT NULL
     THEN CAST(julianday(outcome_day) - julianday(substr(created_hour, 1, 10)) AS INTEGER)
END
"""
WEEK_COLUMNS = ("week, agency_id, pathway, needs, service_id, area_cell, consent, outcome, "
                "engaged_days, weight")
# One row per referral, or per group of folded referrals (weight = how many).
_UNITED = f"""
SELECT {REFERRAL_WEEK_COLUMNS}, 1 FROM referral
UNION ALL
SELECT {WEEK_COLUMNS} FROM referral_week
"""


async def write_outcome(db: aiosqlite.Connection, where: str, key: str, outcome: Outcome,
                        day: date) -> Outcome | None:
    """Inside a transaction: set the outcome of the referral `where` (`id` or `code`) = key,
    as `outcome_may_change` allows; returns the outcome it had (None: no such referral).
    The one place an outcome is written, for the log and for follow-up answers."""
    rows = list(await db.execute_fetchall(
        f"SELECT consent, outcome, service_id FROM referral WHERE {where} = ?", (key,)))
    if not rows:
        return None
    consent, before, service_id = bool(rows[0][0]), Outcome(rows[0][1]), rows[0][2]
    if outcome_may_change(consent, before):
        await db.execute(f"UPDATE referral SET outcome = ?, outcome_day = ? WHERE {where} = ?",
                         (outcome.value, day.isoformat(), key))
        if outcome is Outcome.ENGAGED and service_id is not None:
            # The live directory's "last confirmed arrival" (directory/live.py): a fact
            # about the service, kept after the referral row is folded away.
            await db.execute(
                "INSERT INTO service_arrival (service_id, day) VALUES (?, ?) "
                "ON CONFLICT (service_id) DO UPDATE SET day = max(day, excluded.day)",
                (service_id, day.isoformat()))
    return before


_ARRIVED = "arrived"  # guess_attempt.kind of the referral codes /arrived is sent


async def _refused_guess(db: aiosqlite.Connection, kind: str, limit: GuessLimit
                        ) -> Refused | None:
    """Inside a transaction: whether `limit`'s member, or everyone, has reached its limit of
    wrong codes of this kind in this hour."""
    rows = list(await db.execute_fetchall(
        "SELECT coalesce(sum(failures), 0), "
        "coalesce(sum(CASE WHEN member_hmac = ? THEN failures END), 0) "
        "FROM guess_attempt WHERE kind = ? AND hour = ?", (limit.member_key, kind, limit.hour)))
    everyone, member = int(rows[0][0]), int(rows[0][1])
    if member >= limit.per_member:
        return Refused.MEMBER
    if everyone >= limit.everyone:
        return Refused.EVERYONE
    return None


async def _count_wrong_guess(db: aiosqlite.Connection, kind: str, limit: GuessLimit) -> None:
    """Inside a transaction: one more wrong code of this kind for the member this hour."""
    await db.execute(
        "INSERT INTO guess_attempt (kind, member_hmac, hour, failures) VALUES (?, ?, ?, 1) "
        "ON CONFLICT (kind, hour, member_hmac) DO UPDATE SET failures = failures + 1",
        (kind, limit.member_key, limit.hour))


def referral_from_row(row: Any) -> Referral:
    """A referral from a row of REFERRAL_COLUMNS, in that order (either backend's row)."""
    needs = str(row[6])
    return Referral(
        id=str(row[0]), code=str(row[1]), created_hour=str(row[2]), pathway=Pathway(str(row[3])),
        referrer_role=str(row[4]), agency_id=None if row[5] is None else int(str(row[5])),
        needs=tuple(Need(n) for n in needs.split(";")) if needs else (),
        service_id=None if row[7] is None else str(row[7]),
        area_cell=None if row[8] is None else str(row[8]),
        distance_band=None if row[9] is None else str(row[9]), consent=bool(row[10]),
        outcome=Outcome(str(row[11])))


class SqliteReferralStore:
    def __init__(self, db: aiosqlite.Connection,
                 write_reminder: WriteReminder | None = None) -> None:
        self.db = db
        self.write_reminder = write_reminder

    async def add(self, referral: Referral, reminder: Reminder | None = None) -> Referral:
        if reminder is not None and self.write_reminder is None:
            raise ValueError("this referral store was opened without reminders")
        async with transaction(self.db):
            logged = await self._get(referral.id)
            if logged is not None:
                return logged  # a repeat: what the log holds, nothing written
            for _try in range(_CODE_TRIES):
                try:
                    await self.db.execute(
                        f"INSERT INTO referral ({REFERRAL_COLUMNS}, outcome_day) VALUES "
                        "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL) ON CONFLICT (id) DO NOTHING",
                        (referral.id, referral.code, referral.created_hour,
                         referral.pathway.value, referral.referrer_role, referral.agency_id,
                         ";".join(need.value for need in referral.needs), referral.service_id,
                         referral.area_cell, referral.distance_band, int(referral.consent),
                         referral.outcome.value))
                    break
                except sqlite3.IntegrityError:
                    # Only the code can clash here (the id's conflict does nothing): the
                    # statement is undone, the transaction goes on under a new code.
                    referral = dataclasses.replace(referral, code=new_referral_code())
            else:
                raise RuntimeError(f"no free referral code in {_CODE_TRIES} draws")
            if reminder is not None and self.write_reminder is not None:
                await self.write_reminder(referral.id, reminder)
        return referral

    async def get(self, referral_id: str) -> Referral | None:
        return await self._get(referral_id)

    async def _get(self, referral_id: str) -> Referral | None:
        rows = list(await self.db.execute_fetchall(
            f"SELECT {REFERRAL_COLUMNS} FROM referral WHERE id = ?", (referral_id,)))
        return referral_from_row(rows[0]) if rows else None

    async def set_outcome(self, code: str, outcome: Outcome, day: date, agency_id: int
                          ) -> Outcome | None:
        async with transaction(self.db):
            return await self._set_outcome(code, outcome, day, agency_id)

    async def set_outcome_by_id(self, referral_id: str, outcome: Outcome, day: date
                                ) -> Outcome | None:
        async with transaction(self.db):
            return await write_outcome(self.db, "id", referral_id, outcome, day)

    async def set_outcome_limited(self, code: str, outcome: Outcome, day: date,
                                  agency_id: int, limit: GuessLimit
                                  ) -> Outcome | Refused | None:
        async with transaction(self.db):
            refused = await _refused_guess(self.db, _ARRIVED, limit)
            if refused is not None:
                return refused
            before = await self._set_outcome(code, outcome, day, agency_id)
            if before is None:
                await _count_wrong_guess(self.db, _ARRIVED, limit)
            return before

    async def _set_outcome(self, code: str, outcome: Outcome, day: date, agency_id: int
                           ) -> Outcome | None:
        """Inside a transaction: only this agency's referral, and only one with a consent."""
        rows = list(await self.db.execute_fetchall(
            "SELECT 1 FROM referral WHERE code = ? AND consent = 1 AND agency_id = ?",
            (code, agency_id)))
        if not rows:
            return None
        return await write_outcome(self.db, "code", code, outcome, day)

    async def count(self) -> int:
        rows = list(await self.db.execute_fetchall("SELECT count(*) FROM referral"))
        return int(rows[0][0])


class SqliteFigureStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    def _in_period(self, select: str, start: date, end: date, agency_id: int | None,
                   tail: str = "") -> tuple[str, list[object]]:
        query = (f"WITH united ({WEEK_COLUMNS}) AS ({_UNITED}) SELECT {select} FROM united "
                 "WHERE week >= date(?, '-6 days', 'weekday 1') AND week <= ?")
        params: list[object] = [start.isoformat(), end.isoformat()]
        if agency_id is not None:
            query += " AND agency_id = ?"
            params.append(agency_id)
        return f"{query} {tail}", params

    async def week_rows(self, start: date, end: date, agency_id: int | None) -> list[WeekRow]:
        query, params = self._in_period(WEEK_COLUMNS, start, end, agency_id)
        return [WeekRow(week=str(r[0]), agency_id=None if r[1] is None else int(r[1]),
                        pathway=str(r[2]), needs=str(r[3]),
                        service_id=None if r[4] is None else str(r[4]),
                        area_cell=None if r[5] is None else str(r[5]), consent=bool(r[6]),
                        outcome=str(r[7]), engaged_days=None if r[8] is None else int(r[8]),
                        weight=int(r[9]))
                for r in await self.db.execute_fetchall(query, params)]

    async def referrals_by_week_and_pathway(self, start: date, end: date,
                                            agency_id: int | None
                                            ) -> list[tuple[str, str, int]]:
        query, params = self._in_period(
            "week, pathway, sum(weight)", start, end, agency_id,
            tail="AND consent = 1 GROUP BY week, pathway")
        return [(str(week), str(pathway), int(count))
                for week, pathway, count in await self.db.execute_fetchall(query, params)]


class SqliteAuditStore:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def add(self, day: date, member_key: bytes | None, role: str, command: str) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO audit (day, member_hmac, role, command) VALUES (?, ?, ?, ?)",
                (day.isoformat(), member_key, role, command))

    async def entries(self) -> list[tuple[str, bytes | None, str, str]]:
        rows = await self.db.execute_fetchall(
            "SELECT day, member_hmac, role, command FROM audit ORDER BY day, rowid")
        return [(str(day), None if key is None else bytes(key), str(role), str(command))
                for day, key, role, command in rows]
