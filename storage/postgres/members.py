"""Members, invites, service staff and language choices in PostgreSQL (members/ports.py).

Several workers share these rows, so what the SQLite store keeps in memory for one process
(the language choices, read on every update) is kept current here by LISTEN/NOTIFY: a
worker that writes a choice notifies the others, with the keyed hash (never an id)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from members.model import Agency, JoinResult, Membership, Role
from members.ports import MemberCount, Selection
from storage.postgres.database import Pool, transaction
from storage.sqlite.schema import KEYED_TABLES

_SEPARATOR = ";"
LANGUAGE_CHANNEL = "deflect_language"


class PostgresMemberStore:
    def __init__(self, pool: Pool, languages: dict[bytes, str]) -> None:
        self.pool = pool
        self._languages = languages
        self._listener: Any = None  # a pooled connection kept for LISTEN

    @classmethod
    async def open(cls, pool: Pool) -> PostgresMemberStore:
        store = cls(pool, {})
        store._listener = await pool.acquire()
        # Listening first, then reading: a choice made in between is heard, not missed.
        await store._listener.add_listener(LANGUAGE_CHANNEL, store._heard)
        for row in await pool.fetch("SELECT user_hmac, locale FROM language_choice"):
            store._languages.setdefault(bytes(row["user_hmac"]), str(row["locale"]))
        return store

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        key, _sep, locale = str(payload).partition(":")
        self._languages[bytes.fromhex(key)] = locale

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.remove_listener(LANGUAGE_CHANNEL, self._heard)
            await self.pool.release(self._listener)
            self._listener = None

    async def legacy_secret(self) -> bytes | None:
        value = await self.pool.fetchval("SELECT secret FROM installation WHERE id = 1")
        return None if value is None else bytes(value)

    async def forget_legacy_secret(self) -> None:
        await self.pool.execute("DELETE FROM installation")

    async def key_check(self) -> bytes | None:
        value = await self.pool.fetchval("SELECT value FROM key_check WHERE id = 1")
        return None if value is None else bytes(value)

    async def set_key_check(self, value: bytes) -> None:
        await self.pool.execute("INSERT INTO key_check (id, value) VALUES (1, $1) "
                                "ON CONFLICT (id) DO UPDATE SET value = excluded.value", value)

    async def holds_data(self) -> bool:
        query = " OR ".join(f"EXISTS (SELECT 1 FROM {table})" for table in KEYED_TABLES)
        return bool(await self.pool.fetchval(f"SELECT {query}"))

    def language(self, user_key: bytes) -> str | None:
        return self._languages.get(user_key) if self._languages else None

    async def set_language(self, user_key: bytes, locale: str) -> None:
        async with transaction(self.pool) as connection:
            await connection.execute(
                "INSERT INTO language_choice (user_hmac, locale, day) VALUES ($1, $2, $3) "
                "ON CONFLICT (user_hmac) DO UPDATE SET locale = excluded.locale, "
                "day = excluded.day", user_key, locale, datetime.now(UTC).date().isoformat())
            await connection.execute("SELECT pg_notify($1, $2)", LANGUAGE_CHANNEL,
                                     f"{user_key.hex()}:{locale}")
        self._languages[user_key] = locale

    async def ensure_agency(self, name: str, country: str) -> Agency:
        await self.pool.execute("INSERT INTO agency (name, country) VALUES ($1, $2) "
                                "ON CONFLICT (name) DO NOTHING", name, country)
        found = await self.agency_named(name)
        assert found is not None  # just made, and agencies are never deleted
        return found

    async def agency_named(self, name: str) -> Agency | None:
        row = await self.pool.fetchrow("SELECT id, name, country FROM agency WHERE name = $1",
                                       name)
        return Agency(int(row["id"]), str(row["name"]), str(row["country"])) if row else None

    async def add_invite(self, code_key: bytes, agency: Agency, role: Role, uses: int,
                         expires: date, services: Sequence[str] = ()) -> None:
        await self.pool.execute(
            "INSERT INTO invite (code_hash, agency_id, role, uses_left, expires_day, services) "
            "VALUES ($1, $2, $3, $4, $5, $6)", code_key, agency.id, role.value, uses,
            expires.isoformat(), _SEPARATOR.join(services))

    async def redeem_invite(self, user_key: bytes, code_key: bytes, hour: str, today: date,
                            max_failures: int, max_failures_everyone: int,
                            seal_chat: Callable[[str], bytes]
                            ) -> tuple[JoinResult, Membership | None]:
        async with transaction(self.pool) as db:
            # One join at a time decides against the hour's count of wrong codes.
            await db.execute("SELECT pg_advisory_xact_lock(hashtext('join_attempt'))")
            row = await db.fetchrow(
                "SELECT coalesce(sum(failures), 0) AS everyone, coalesce(sum(CASE WHEN "
                "user_hmac = $1 THEN failures END), 0) AS own FROM join_attempt "
                "WHERE hour = $2", user_key, hour)
            assert row is not None  # an aggregate always has its row
            if int(row["own"]) >= max_failures:
                return JoinResult.TOO_MANY_TRIES, None
            if int(row["everyone"]) >= max_failures_everyone:
                return JoinResult.CEILING, None
            found = await db.fetchrow(
                "SELECT invite.agency_id, invite.role, agency.name, agency.country, "
                "invite.services FROM invite JOIN agency ON agency.id = invite.agency_id "
                "WHERE code_hash = $1 AND uses_left > 0 AND expires_day >= $2 FOR UPDATE",
                code_key, today.isoformat())
            if found is None:
                await db.execute(
                    "INSERT INTO join_attempt (user_hmac, hour, failures) VALUES ($1, $2, 1) "
                    "ON CONFLICT (user_hmac, hour) DO UPDATE SET "
                    "failures = join_attempt.failures + 1", user_key, hour)
                return JoinResult.WRONG_CODE, None
            services = tuple(found["services"].split(_SEPARATOR)) if found["services"] else ()
            await db.execute("UPDATE invite SET uses_left = uses_left - 1 WHERE code_hash = $1",
                             code_key)
            await _set_membership(db, user_key, found["agency_id"], found["role"], code_key,
                                  [(service, seal_chat(service)) for service in services])
        return JoinResult.JOINED, Membership(
            Agency(found["agency_id"], found["name"], found["country"]), Role(found["role"]),
            services)

    async def membership(self, user_key: bytes) -> Membership | None:
        row = await self.pool.fetchrow(
            "SELECT agency.id, agency.name, agency.country, member.role FROM member "
            "JOIN agency ON agency.id = member.agency_id WHERE member.user_hmac = $1", user_key)
        if row is None:
            return None
        services = await self.pool.fetch(
            "SELECT service_id FROM staff WHERE member_hmac = $1 ORDER BY seq", user_key)
        return Membership(Agency(int(row["id"]), str(row["name"]), str(row["country"])),
                          Role(row["role"]), tuple(str(s["service_id"]) for s in services))

    async def set_membership(self, user_key: bytes, agency: Agency, role: Role,
                             staff: Sequence[tuple[str, bytes]] = ()) -> None:
        async with transaction(self.pool) as db:
            await _set_membership(db, user_key, agency.id, role.value, None, staff)

    async def staff(self, service_id: str) -> list[tuple[bytes, bytes]]:
        rows = await self.pool.fetch(
            "SELECT member_hmac, sealed_chat FROM staff WHERE service_id = $1 ORDER BY seq",
            service_id)
        return [(bytes(r["member_hmac"]), bytes(r["sealed_chat"])) for r in rows]

    async def remove_members(self, selection: Selection, *, dry_run: bool = False) -> int:
        where, values = _where(selection)
        if dry_run:
            return int(await self.pool.fetchval(f"SELECT count(*) FROM member WHERE {where}",
                                                *values))
        async with transaction(self.pool) as db:
            if selection.invite_key is not None:
                await db.execute("UPDATE invite SET uses_left = 0 WHERE code_hash = $1",
                                 selection.invite_key)
            status = await db.execute(f"DELETE FROM member WHERE {where}", *values)
        return int(status.split()[-1])

    async def member_counts(self, agency_id: int | None = None) -> list[MemberCount]:
        rows = await self.pool.fetch(
            "SELECT agency.name, member.role, count(*) AS n FROM member "
            "JOIN agency ON agency.id = member.agency_id "
            "WHERE $1::int IS NULL OR agency.id = $1 GROUP BY agency.name, member.role "
            "ORDER BY agency.name, member.role", agency_id)
        return [MemberCount(str(r["name"]), Role(r["role"]), int(r["n"])) for r in rows]


async def _set_membership(db: asyncpg.Connection, user_key: bytes, agency_id: int, role: str,
                          invite_key: bytes | None, staff: Sequence[tuple[str, bytes]]) -> None:
    await db.execute(
        "INSERT INTO member (user_hmac, agency_id, role, invite_hash) VALUES ($1, $2, $3, $4) "
        "ON CONFLICT (user_hmac) DO UPDATE SET agency_id = excluded.agency_id, "
        "role = excluded.role, invite_hash = excluded.invite_hash",
        user_key, agency_id, role, invite_key)
    await db.execute("DELETE FROM staff WHERE member_hmac = $1", user_key)
    await db.executemany(
        "INSERT INTO staff (service_id, member_hmac, sealed_chat) VALUES ($1, $2, $3)",
        [(service, user_key, sealed) for service, sealed in staff])


def _where(selection: Selection) -> tuple[str, tuple[object, ...]]:
    if (selection.invite_key is None) == (selection.agency_id is None):
        raise ValueError("select members by invite or by agency")
    values: tuple[object, ...]
    if selection.invite_key is not None:
        where, values = "invite_hash = $1", (selection.invite_key,)
    else:
        where, values = "agency_id = $1", (selection.agency_id,)
    if selection.role is not None:
        return f"{where} AND role = $2", (*values, selection.role.value)
    return where, values
