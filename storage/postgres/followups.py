"""Follow-up reminders, undelivered confirmations, the typed-place cache, conversation state
and retention in PostgreSQL (the same Protocols and rules as storage/sqlite/)."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg

from directory.gazetteer import Place
from members.keys import Keys, Sealer
from referrals.model import Outcome
from referrals.ports import Due, Expired, Notice, Reminder
from storage.ports import StateWrite, UserWrite
from storage.postgres.database import Pool, open_pool, transaction
from storage.postgres.referrals import WEEK_OF_REFERRAL, write_outcome
from storage.sqlite.referrals import WEEK_COLUMNS
from storage.sqlite.schema import KEYED_TABLES

UNDELIVERED_CHANNEL = "deflect_undelivered"


class PostgresFollowUpStore:
    def __init__(self, pool: Pool, sealer: Sealer) -> None:
        self.pool = pool
        self.sealer = sealer

    def _seal(self, referral_id: str, chat_id: int) -> bytes:
        return self.sealer.seal(str(chat_id).encode(), referral_id.encode())

    def _chat(self, referral_id: str, sealed: bytes) -> int:
        return int(self.sealer.open(sealed, referral_id.encode()))

    async def schedule(self, referral_id: str, reminder: Reminder) -> None:
        async with transaction(self.pool) as db:
            await self.write(db, referral_id, reminder)

    async def write(self, db: asyncpg.Connection, referral_id: str, reminder: Reminder
                    ) -> None:
        """Inside the caller's transaction (the referral's own)."""
        await db.execute(
            "INSERT INTO followup (referral_id, sealed_chat, locale, made_at, sent, due_at) "
            "VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (referral_id) DO NOTHING",
            referral_id, self._seal(referral_id, reminder.chat_id), reminder.locale,
            reminder.made_at, reminder.due_at)

    async def due(self, moment: int, reminders: int, limit: int) -> list[Due]:
        await self.pool.execute(
            "DELETE FROM followup WHERE referral_id IN (SELECT id FROM referral "
            "WHERE outcome = $1)", Outcome.ENGAGED.value)
        rows = await self.pool.fetch(
            "SELECT f.referral_id, f.sealed_chat, f.made_at, f.sent, f.locale, r.code, "
            "r.service_id, r.created_hour FROM followup f JOIN referral r "
            "ON r.id = f.referral_id WHERE f.due_at <= $1 AND f.sent < $2 "
            "ORDER BY f.due_at LIMIT $3", moment, reminders, limit)
        return [Due(referral_id=r["referral_id"],
                    chat_id=self._chat(r["referral_id"], bytes(r["sealed_chat"])),
                    made_at=int(r["made_at"]), number=int(r["sent"]) + 1, locale=r["locale"],
                    code=r["code"], service_id=r["service_id"], created_hour=r["created_hour"])
                for r in rows]

    async def mark_sent(self, referral_id: str, sent: int, due_at: int) -> None:
        await self.pool.execute("UPDATE followup SET sent = $1, due_at = $2 "
                                "WHERE referral_id = $3", sent, due_at, referral_id)

    async def postpone(self, referral_id: str, due_at: int) -> None:
        await self.pool.execute("UPDATE followup SET due_at = $1 WHERE referral_id = $2",
                                due_at, referral_id)

    async def drop(self, referral_id: str) -> None:
        await self.pool.execute("DELETE FROM followup WHERE referral_id = $1", referral_id)

    async def answer(self, referral_id: str, chat_id: int, outcome: Outcome, day: date,
                     keep_below: int | None) -> tuple[str, int] | None:
        async with transaction(self.pool) as db:
            row = await db.fetchrow(
                "SELECT f.sent, r.code, f.sealed_chat FROM followup f JOIN referral r "
                "ON r.id = f.referral_id WHERE f.referral_id = $1 AND f.sent > 0 "
                "FOR UPDATE OF f", referral_id)
            if row is None or self._chat(referral_id, bytes(row["sealed_chat"])) != chat_id:
                return None
            sent = int(row["sent"])
            await write_outcome(db, "id", referral_id, outcome, day)
            if keep_below is None or sent >= keep_below:
                await db.execute("DELETE FROM followup WHERE referral_id = $1", referral_id)
        return str(row["code"]), sent

    async def purge(self, reminders: int, moment: int) -> int:
        status = await self.pool.execute(
            "DELETE FROM followup WHERE sent >= $1 AND due_at <= $2", reminders, moment)
        return int(status.split()[-1])

    async def pending(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM followup"))


class PostgresUndeliveredStore:
    """`any_waiting`/`waiting` are asked on nearly every update: kept in memory, and kept
    current across workers by NOTIFY (the keyed hash only)."""

    def __init__(self, pool: Pool, waiting: set[bytes]) -> None:
        self.pool = pool
        self._waiting = waiting
        self._listener: Any = None  # a pooled connection kept for LISTEN

    @classmethod
    async def open(cls, pool: Pool) -> PostgresUndeliveredStore:
        store = cls(pool, set())
        store._listener = await pool.acquire()
        await store._listener.add_listener(UNDELIVERED_CHANNEL, store._heard)  # then read
        for row in await pool.fetch("SELECT DISTINCT user_hmac FROM undelivered"):
            store._waiting.add(bytes(row["user_hmac"]))
        return store

    def _heard(self, _connection: Any, _pid: int, _channel: str, payload: object) -> None:
        change, _sep, key = str(payload).partition(":")
        if change == "+":
            self._waiting.add(bytes.fromhex(key))
        else:
            self._waiting.discard(bytes.fromhex(key))

    async def close(self) -> None:
        if self._listener is not None:
            await self._listener.remove_listener(UNDELIVERED_CHANNEL, self._heard)
            await self.pool.release(self._listener)
            self._listener = None

    def any_waiting(self) -> bool:
        return bool(self._waiting)

    def waiting(self, user_key: bytes) -> bool:
        return user_key in self._waiting

    async def keep(self, user_key: bytes, referral_id: str) -> None:
        async with transaction(self.pool) as db:
            await db.execute("INSERT INTO undelivered (user_hmac, referral_id) VALUES ($1, $2) "
                             "ON CONFLICT DO NOTHING", user_key, referral_id)
            await db.execute("SELECT pg_notify($1, $2)", UNDELIVERED_CHANNEL,
                             f"+:{user_key.hex()}")
        self._waiting.add(user_key)

    async def take(self, user_key: bytes) -> list[Notice]:
        if user_key not in self._waiting:
            return []
        async with transaction(self.pool) as db:
            # What is deleted is what is returned: one kept meanwhile is not lost.
            rows = await db.fetch(
                "WITH taken AS (DELETE FROM undelivered WHERE user_hmac = $1 "
                "RETURNING referral_id) SELECT t.referral_id, r.code, r.service_id FROM taken t "
                "JOIN referral r ON r.id = t.referral_id ORDER BY r.created_hour", user_key)
            await db.execute("SELECT pg_notify($1, $2)", UNDELIVERED_CHANNEL,
                             f"-:{user_key.hex()}")
        self._waiting.discard(user_key)
        return [Notice(r["referral_id"], r["code"], r["service_id"]) for r in rows]


class PostgresGeocodeCache:
    def __init__(self, pool: Pool, sealer: Sealer) -> None:
        self.pool = pool
        self.sealer = sealer

    async def get(self, query: str, max_age_s: float) -> list[Place] | None:
        tag = self.sealer.tag(query.encode())
        row = await self.pool.fetchrow(
            "SELECT sealed_places, day FROM geocode_cache WHERE query_tag = $1", tag)
        oldest = (datetime.now(UTC) - timedelta(seconds=max_age_s)).date().isoformat()
        if row is None or row["day"] < oldest:
            return None
        return [Place(*item) for item in json.loads(
            self.sealer.open(bytes(row["sealed_places"]), tag))]

    async def put(self, query: str, places: list[Place]) -> None:
        tag = self.sealer.tag(query.encode())
        sealed = self.sealer.seal(
            json.dumps([[p.label, p.lat, p.lon] for p in places]).encode(), tag)
        await self.pool.execute(
            "INSERT INTO geocode_cache (query_tag, sealed_places, day) VALUES ($1, $2, $3) "
            "ON CONFLICT (query_tag) DO UPDATE SET sealed_places = excluded.sealed_places, "
            "day = excluded.day", tag, sealed, datetime.now(UTC).date().isoformat())


_KEYS = ", ".join(str(n) for n in range(1, len(WEEK_COLUMNS.split(","))))


class PostgresMaintenance:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def expire(self, referrals_before: date, today: date, idle_before: float,
                     notices_before: date, places_before: date) -> Expired:
        cutoff, day = referrals_before.isoformat(), today.isoformat()

        def count(status: str) -> int:
            return int(status.split()[-1])

        async with transaction(self.pool) as db:
            await db.execute(f"INSERT INTO referral_week ({WEEK_COLUMNS}) SELECT "
                             f"{WEEK_OF_REFERRAL}, count(*) FROM referral "
                             f"WHERE created_hour < $1 GROUP BY {_KEYS}", cutoff)
            referrals = count(await db.execute("DELETE FROM referral WHERE created_hour < $1",
                                               cutoff))
            conversations = count(await db.execute(
                "DELETE FROM conversation_state WHERE updated_at < $1", idle_before)) + count(
                await db.execute("DELETE FROM user_state WHERE updated_at < $1", idle_before))
            invites = count(await db.execute(
                "DELETE FROM invite WHERE expires_day < $1 OR uses_left <= 0", day))
            joins = count(await db.execute(
                "DELETE FROM join_attempt WHERE substr(hour, 1, 10) < $1", day))
            guesses = count(await db.execute(
                "DELETE FROM guess_attempt WHERE substr(hour, 1, 10) < $1", day))
            undelivered = count(await db.execute(
                "DELETE FROM undelivered WHERE referral_id IN (SELECT id FROM referral WHERE "
                "created_hour < $1)", notices_before.isoformat()))
            languages = count(await db.execute("DELETE FROM language_choice WHERE day < $1",
                                               cutoff))
            places = count(await db.execute("DELETE FROM geocode_cache WHERE day < $1",
                                            places_before.isoformat()))
        return Expired(referrals, conversations, invites, joins, guesses, undelivered,
                       languages, places)

    async def ping(self) -> None:
        await self.pool.fetchval("SELECT 1 FROM referral LIMIT 1")

    async def checkpoint(self) -> None:
        return None  # PostgreSQL's own checkpoints; nothing of a conversation lingers in a file

    async def compact(self) -> None:
        for table in ("referral", "conversation_state", "user_state", "followup", "handoff"):
            await self.pool.execute(f"VACUUM {table}")


async def forget_keyed(pool: Pool) -> dict[str, int]:
    deleted = {}
    async with transaction(pool) as db:
        for table in (*KEYED_TABLES, "inbox"):  # updates waiting are sealed too
            deleted[table] = int((await db.execute(f"DELETE FROM {table}")).split()[-1])
    return deleted


class PostgresConversationStore:
    """As storage/sqlite/conversations.py: rows found by keyed tags, keys and data sealed."""

    def __init__(self, pool: Pool, sealer: Sealer, owns_pool: bool) -> None:
        self.pool = pool
        self.sealer = sealer
        self.owns_pool = owns_pool

    @classmethod
    async def open(cls, url: str, keys: Keys) -> PostgresConversationStore:
        return cls(await open_pool(url, max_size=16), keys.sealer("conversations"), True)

    async def close(self) -> None:
        if self.owns_pool:
            await self.pool.close()

    async def delete_idle(self, cutoff: float) -> int:
        async with transaction(self.pool) as db:
            first = await db.execute("DELETE FROM conversation_state WHERE updated_at < $1",
                                     cutoff)
            second = await db.execute("DELETE FROM user_state WHERE updated_at < $1", cutoff)
        return int(first.split()[-1]) + int(second.split()[-1])

    async def states(self, name: str) -> dict[tuple[Any, ...], int]:
        rows = await self.pool.fetch(
            "SELECT key_tag, sealed_key, state FROM conversation_state WHERE name = $1", name)
        return {tuple(json.loads(self.sealer.open(bytes(r["sealed_key"]), bytes(r["key_tag"])))):
                int(r["state"]) for r in rows}

    async def save(self, states: Sequence[StateWrite], users: Sequence[UserWrite]) -> None:
        if not states and not users:
            return
        async with transaction(self.pool) as db:
            for state in states:
                await self._set_state(db, *state)
            for user in users:
                await self._set_user_data(db, *user)

    async def set_state(self, name: str, key: tuple[Any, ...], state: int | None) -> None:
        await self._set_state(self.pool, name, key, state)

    async def _set_state(self, db: Any, name: str, key: tuple[Any, ...], state: int | None
                         ) -> None:
        tag = self.sealer.tag(json.dumps([name, *key]).encode())
        if state is None:
            await db.execute("DELETE FROM conversation_state WHERE name = $1 AND "
                             "key_tag = $2", name, tag)
            return
        await db.execute(
            "INSERT INTO conversation_state (name, key_tag, sealed_key, state, updated_at) "
            "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name, key_tag) DO UPDATE SET "
            "state = excluded.state, updated_at = excluded.updated_at", name, tag,
            self.sealer.seal(json.dumps(list(key)).encode(), tag), state, time.time())

    async def state(self, name: str, key: tuple[Any, ...]) -> int | None:
        value = await self.pool.fetchval(
            "SELECT state FROM conversation_state WHERE name = $1 AND key_tag = $2", name,
            self.sealer.tag(json.dumps([name, *key]).encode()))
        return None if value is None else int(value)

    async def user(self, user_id: int) -> dict[str, Any]:
        tag = self.sealer.tag(f"user:{user_id}".encode())
        sealed = await self.pool.fetchval("SELECT sealed FROM user_state WHERE user_tag = $1",
                                          tag)
        if sealed is None:
            return {}
        _user_id, data = json.loads(self.sealer.open(bytes(sealed), tag))
        return dict(data)

    async def user_data(self) -> dict[int, dict[str, Any]]:
        found: dict[int, dict[str, Any]] = {}
        for row in await self.pool.fetch("SELECT user_tag, sealed FROM user_state"):
            user_id, data = json.loads(self.sealer.open(bytes(row["sealed"]),
                                                        bytes(row["user_tag"])))
            found[int(user_id)] = data
        return found

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        await self._set_user_data(self.pool, user_id, data)

    async def _set_user_data(self, db: Any, user_id: int, data: dict[str, Any]) -> None:
        tag = self.sealer.tag(f"user:{user_id}".encode())
        if not data:
            await db.execute("DELETE FROM user_state WHERE user_tag = $1", tag)
            return
        await db.execute(
            "INSERT INTO user_state (user_tag, sealed, updated_at) VALUES ($1, $2, $3) "
            "ON CONFLICT (user_tag) DO UPDATE SET sealed = excluded.sealed, "
            "updated_at = excluded.updated_at", tag,
            self.sealer.seal(json.dumps([user_id, data]).encode(), tag), time.time())
