"""The referral log, its figures, the audit trail, hand-offs in PostgreSQL (referrals/ports.py).

The same rules as the SQLite stores, written once in the domain: `outcome_may_change` for
every outcome, a code clash redrawn inside the referral's own transaction (a savepoint), a
repeat of an id returning the row the log holds.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg

from members.keys import Sealer, SealError
from referrals.handoff_model import Handoff, HandoffState
from referrals.model import (
    Outcome,
    Referral,
    Refused,
    new_referral_code,
    outcome_may_change,
)
from referrals.ports import GuessLimit, Reminder, WeekRow
from storage.postgres.database import Pool, transaction
from storage.sqlite.referrals import REFERRAL_COLUMNS, WEEK_COLUMNS, referral_from_row

WriteReminder = Callable[[asyncpg.Connection, str, Reminder], Awaitable[None]]
_CODE_TRIES = 10
# A referral row in the weekly aggregate's shape (as storage/sqlite/referrals.py has it).
# The Monday of a day's week, by date arithmetic alone (date_trunc would go through a
# timestamp in the session's time zone).
_MONDAY = "to_char({day} - (extract(isodow FROM {day})::int - 1), 'YYYY-MM-DD')"
WEEK_OF_REFERRAL = f"""
{_MONDAY.format(day="substr(created_hour, 1, 10)::date")}, agency_id,
pathway, needs, service_id, area_cell, consent, outcome,
CASE WHEN outcome = 'engaged' AND outcome_day IS NOT NULL
     THEN outcome_day::date - substr(created_hour, 1, 10)::date END
"""
_UNITED = f"""
SELECT {WEEK_OF_REFERRAL}, 1 FROM referral
UNION ALL
SELECT {WEEK_COLUMNS} FROM referral_week
"""


async def write_outcome(db: asyncpg.Connection, where: str, key: str, outcome: Outcome,
                        day: date) -> Outcome | None:
    """Inside a transaction: as storage/sqlite/referrals.write_outcome."""
    row = await db.fetchrow(
        f"SELECT consent, outcome, service_id FROM referral WHERE {where} = $1 FOR UPDATE",
        key)
    if row is None:
        return None
    before = Outcome(row["outcome"])
    if outcome_may_change(bool(row["consent"]), before):
        await db.execute(f"UPDATE referral SET outcome = $1, outcome_day = $2 "
                         f"WHERE {where} = $3", outcome.value, day.isoformat(), key)
        if outcome is Outcome.ENGAGED and row["service_id"] is not None:
            await db.execute(
                "INSERT INTO service_arrival (service_id, day) VALUES ($1, $2) "
                "ON CONFLICT (service_id) DO UPDATE SET "
                "day = greatest(service_arrival.day, excluded.day)",
                row["service_id"], day.isoformat())
    return before


class PostgresReferralStore:
    def __init__(self, pool: Pool, write_reminder: WriteReminder | None = None
                 ) -> None:
        self.pool = pool
        self.write_reminder = write_reminder

    async def add(self, referral: Referral, reminder: Reminder | None = None) -> Referral:
        if reminder is not None and self.write_reminder is None:
            raise ValueError("this referral store was opened without reminders")
        async with transaction(self.pool) as db:
            # Two presses of one referral on two workers: the second waits for the first.
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('referral'), hashtext($1))",
                             referral.id)
            row = await db.fetchrow(f"SELECT {REFERRAL_COLUMNS} FROM referral WHERE id = $1",
                                    referral.id)
            if row is not None:
                return referral_from_row(row)
            for _try in range(_CODE_TRIES):
                try:
                    async with db.transaction():  # a savepoint: a clash undoes only this
                        await db.execute(
                            f"INSERT INTO referral ({REFERRAL_COLUMNS}) VALUES ($1, $2, $3, $4, "
                            "$5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT (id) DO NOTHING",
                            referral.id, referral.code, referral.created_hour,
                            referral.pathway.value, referral.referrer_role, referral.agency_id,
                            ";".join(n.value for n in referral.needs), referral.service_id,
                            referral.area_cell, referral.distance_band, int(referral.consent),
                            referral.outcome.value)
                    break
                except asyncpg.UniqueViolationError:
                    referral = dataclasses.replace(referral, code=new_referral_code())
            else:
                raise RuntimeError(f"no free referral code in {_CODE_TRIES} draws")
            if reminder is not None and self.write_reminder is not None:
                await self.write_reminder(db, referral.id, reminder)
        return referral

    async def get(self, referral_id: str) -> Referral | None:
        row = await self.pool.fetchrow(f"SELECT {REFERRAL_COLUMNS} FROM referral WHERE id = $1",
                                       referral_id)
        return referral_from_row(row) if row else None

    async def set_outcome(self, code: str, outcome: Outcome, day: date, agency_id: int
                          ) -> Outcome | None:
        async with transaction(self.pool) as db:
            return await self._set_outcome(db, code, outcome, day, agency_id)

    async def set_outcome_by_id(self, referral_id: str, outcome: Outcome, day: date
                                ) -> Outcome | None:
        async with transaction(self.pool) as db:
            return await write_outcome(db, "id", referral_id, outcome, day)

    async def set_outcome_limited(self, code: str, outcome: Outcome, day: date,
                                  agency_id: int, limit: GuessLimit
                                  ) -> Outcome | Refused | None:
        async with transaction(self.pool) as db:
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('guess_attempt'))")
            row = await db.fetchrow(
                "SELECT coalesce(sum(failures), 0) AS everyone, coalesce(sum(CASE WHEN "
                "member_hmac = $1 THEN failures END), 0) AS own FROM guess_attempt "
                "WHERE kind = 'arrived' AND hour = $2", limit.member_key, limit.hour)
            assert row is not None  # an aggregate always has its row
            if int(row["own"]) >= limit.per_member:
                return Refused.MEMBER
            if int(row["everyone"]) >= limit.everyone:
                return Refused.EVERYONE
            before = await self._set_outcome(db, code, outcome, day, agency_id)
            if before is None:
                await db.execute(
                    "INSERT INTO guess_attempt (kind, member_hmac, hour, failures) VALUES "
                    "('arrived', $1, $2, 1) ON CONFLICT (kind, hour, member_hmac) DO UPDATE "
                    "SET failures = guess_attempt.failures + 1", limit.member_key, limit.hour)
            return before

    async def _set_outcome(self, db: asyncpg.Connection, code: str, outcome: Outcome,
                           day: date, agency_id: int) -> Outcome | None:
        if await db.fetchval("SELECT 1 FROM referral WHERE code = $1 AND consent = 1 AND "
                             "agency_id = $2", code, agency_id) is None:
            return None
        return await write_outcome(db, "code", code, outcome, day)

    async def count(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM referral"))


class PostgresFigureStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    def _in_period(self, select: str, start: date, end: date, agency_id: int | None,
                   tail: str = "") -> tuple[str, list[object]]:
        query = (f"WITH united ({WEEK_COLUMNS}) AS ({_UNITED}) SELECT {select} FROM united "
                 f"WHERE week >= {_MONDAY.format(day='$1::date')} AND week <= $2")
        params: list[object] = [start, end.isoformat()]
        if agency_id is not None:
            query += " AND agency_id = $3"
            params.append(agency_id)
        return f"{query} {tail}", params

    async def week_rows(self, start: date, end: date, agency_id: int | None) -> list[WeekRow]:
        query, params = self._in_period(WEEK_COLUMNS, start, end, agency_id)
        return [WeekRow(week=r["week"], agency_id=r["agency_id"], pathway=r["pathway"],
                        needs=r["needs"], service_id=r["service_id"], area_cell=r["area_cell"],
                        consent=bool(r["consent"]), outcome=r["outcome"],
                        engaged_days=r["engaged_days"], weight=int(r["weight"]))
                for r in await self.pool.fetch(query, *params)]

    async def referrals_by_week_and_pathway(self, start: date, end: date,
                                            agency_id: int | None
                                            ) -> list[tuple[str, str, int]]:
        query, params = self._in_period("week, pathway, sum(weight) AS n", start, end,
                                        agency_id, tail="AND consent = 1 GROUP BY week, pathway")
        return [(r["week"], r["pathway"], int(r["n"]))
                for r in await self.pool.fetch(query, *params)]


class PostgresAuditStore:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def add(self, day: date, member_key: bytes | None, role: str, command: str) -> None:
        await self.pool.execute("INSERT INTO audit (day, member_hmac, role, command) VALUES "
                                "($1, $2, $3, $4)", day.isoformat(), member_key, role, command)

    async def entries(self) -> list[tuple[str, bytes | None, str, str]]:
        rows = await self.pool.fetch(
            "SELECT day, member_hmac, role, command FROM audit ORDER BY day, seq")
        return [(r["day"], None if r["member_hmac"] is None else bytes(r["member_hmac"]),
                 r["role"], r["command"]) for r in rows]


class PostgresHandoffStore:
    def __init__(self, pool: Pool, sealer: Sealer) -> None:
        self.pool = pool
        self.sealer = sealer

    def _open(self, referral_id: str, sealed: bytes) -> HandoffState | None:
        try:
            return HandoffState.from_json(json.loads(
                self.sealer.open(sealed, referral_id.encode())))
        except SealError:
            return None

    async def save(self, state: HandoffState, deadline: int) -> None:
        sealed = self.sealer.seal(json.dumps(state.to_json()).encode(),
                                  state.referral_id.encode())
        await self.pool.execute(
            "INSERT INTO handoff (referral_id, sealed, deadline) VALUES ($1, $2, $3) "
            "ON CONFLICT (referral_id) DO UPDATE SET sealed = excluded.sealed, "
            "deadline = excluded.deadline", state.referral_id, sealed, deadline)

    async def get(self, referral_id: str) -> HandoffState | None:
        sealed = await self.pool.fetchval("SELECT sealed FROM handoff WHERE referral_id = $1",
                                          referral_id)
        return None if sealed is None else self._open(referral_id, bytes(sealed))

    async def due(self, moment: int) -> list[HandoffState]:
        states = []
        for row in await self.pool.fetch("SELECT referral_id, sealed FROM handoff WHERE "
                                         "deadline <= $1 ORDER BY deadline", moment):
            state = self._open(row["referral_id"], bytes(row["sealed"]))
            if state is None:
                await self.end(row["referral_id"])
            else:
                states.append(state)
        return states

    async def end(self, referral_id: str) -> None:
        await self.pool.execute("DELETE FROM handoff WHERE referral_id = $1", referral_id)

    async def set_handoff(self, referral_id: str, handoff: Handoff) -> None:
        await self.pool.execute("UPDATE referral SET handoff = $1 WHERE id = $2",
                                handoff.value, referral_id)

    async def move(self, referral_id: str, service_id: str, distance_band: str | None
                   ) -> None:
        await self.pool.execute(
            "UPDATE referral SET service_id = $1, distance_band = $2, moves = moves + 1, "
            "handoff = $3 WHERE id = $4", service_id, distance_band, Handoff.MOVED.value,
            referral_id)
