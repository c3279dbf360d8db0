"""The durable inbox: Telegram's webhook updates kept until a worker has handled them.

The receiver answers Telegram only after `put` commits, so an update it acknowledged is never
lost; a worker `claim`s the first waiting update of a chat whose earlier updates are all done
(each chat in update_id order, never two of one chat at once) with `FOR UPDATE SKIP LOCKED`,
under a lease: if the worker dies, the lease runs out and another worker claims it again.
A worker calls `done` inside the update's unit of work (storage/postgres/database.py), so the
number moves to `inbox_done` in the same transaction as the update's effects; `put` ignores a
number seen before (Telegram redelivering what it did not see acknowledged).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import asyncpg

from members.keys import Sealer, SealError
from storage.postgres.database import Pool, transaction

DONE_KEPT_S = 24 * 3600  # Telegram gives up redelivering well within a day
MAX_ATTEMPTS = 5  # an update whose handling failed this often is given up
_LOCKS = 0x6465666C  # advisory locks of the inbox: (this, 1) claims, (this, 2) the leader
_LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class Claimed:
    update_id: int
    body: dict[str, Any]


class Inbox:
    def __init__(self, pool: Pool, sealer: Sealer) -> None:
        self.pool = pool
        self.sealer = sealer

    def chat_tag(self, chat_id: int) -> int:
        """A keyed 63-bit tag of a chat: updates of one chat share it, nobody can read it."""
        digest = self.sealer.tag(f"chat:{chat_id}".encode())
        return int.from_bytes(hashlib.blake2b(digest, digest_size=8).digest(), "big") >> 1

    async def put(self, update_id: int, chat_id: int, body: dict[str, Any]) -> bool:
        """Keep an update (False: seen before, nothing written). Returns after it commits."""
        sealed = self.sealer.seal(json.dumps(body).encode(), str(update_id).encode())
        async with transaction(self.pool) as db:
            if await db.fetchval("SELECT 1 FROM inbox_done WHERE update_id = $1", update_id):
                return False
            status = await db.execute(
                "INSERT INTO inbox (update_id, chat_tag, sealed, received_at) "
                "VALUES ($1, $2, $3, $4) ON CONFLICT (update_id) DO NOTHING",
                update_id, self.chat_tag(chat_id), sealed, time.time())
        return status.endswith(" 1")

    async def claim(self, worker: str, lease_s: float) -> Claimed | None:
        """The first waiting update of a chat none of whose earlier updates is waiting and
        none of whose updates is under a live lease (an update that arrived late is not
        handled beside a later one in progress); leased to `worker`. An update tried
        MAX_ATTEMPTS times is given up (logged without ids) so its chat is not blocked."""
        now = time.time()
        async with transaction(self.pool) as db:
            # Two claims at once could each see the other's chat as free: one at a time.
            await db.execute("SELECT pg_advisory_xact_lock($1, 1)", _LOCKS)
            row = await db.fetchrow(
                "SELECT update_id, sealed, attempts FROM inbox i WHERE "
                "(claimed_until IS NULL OR claimed_until < $1) AND NOT EXISTS (SELECT 1 FROM "
                "inbox e WHERE e.chat_tag = i.chat_tag AND (e.update_id < i.update_id OR "
                "e.claimed_until >= $1)) ORDER BY update_id LIMIT 1 FOR UPDATE OF i SKIP LOCKED",
                now)
            if row is None:
                return None
            update_id = int(row["update_id"])
            if int(row["attempts"]) >= MAX_ATTEMPTS:
                await db.execute("DELETE FROM inbox WHERE update_id = $1", update_id)
                _LOGGER.error("inbox: an update failed %d times and was given up",
                              MAX_ATTEMPTS)
                return None
            await db.execute("UPDATE inbox SET claimed_by = $1, claimed_until = $2, "
                             "attempts = attempts + 1 WHERE update_id = $3", worker,
                             now + lease_s, update_id)
        try:
            body = json.loads(self.sealer.open(bytes(row["sealed"]), str(update_id).encode()))
        except SealError:  # sealed under another key: nobody can ever read it
            await self.pool.execute("DELETE FROM inbox WHERE update_id = $1", update_id)
            _LOGGER.error("inbox: an update sealed under another key was dropped")
            return None
        return Claimed(update_id, body)

    async def renew(self, update_id: int, worker: str, lease_s: float) -> bool:
        """Keep the lease of an update still being handled; False if it is not ours."""
        status = await self.pool.execute(
            "UPDATE inbox SET claimed_until = $1 WHERE update_id = $2 AND claimed_by = $3",
            time.time() + lease_s, update_id, worker)
        return status.endswith(" 1")

    async def done(self, update_id: int, worker: str | None = None) -> bool:
        """The update was handled by `worker` (None: by whoever): it leaves the inbox and its
        number is remembered. False, and nothing happens, if another worker holds it now. In
        a unit of work (bot/workers.py) this commits with the update's effects."""
        async with transaction(self.pool) as db:
            if worker is None:
                status = await db.execute("DELETE FROM inbox WHERE update_id = $1", update_id)
            else:
                status = await db.execute(
                    "DELETE FROM inbox WHERE update_id = $1 AND claimed_by = $2", update_id,
                    worker)
            if not status.endswith(" 1"):
                return False
            await db.execute("INSERT INTO inbox_done (update_id, done_at) VALUES ($1, $2) "
                             "ON CONFLICT DO NOTHING", update_id, time.time())
            return True

    async def forget_done(self, now: float | None = None) -> int:
        status = await self.pool.execute("DELETE FROM inbox_done WHERE done_at < $1",
                                         (now or time.time()) - DONE_KEPT_S)
        return int(status.split()[-1])

    async def waiting(self) -> int:
        return int(await self.pool.fetchval("SELECT count(*) FROM inbox"))

    async def stalled(self, stall_s: float, now: float | None = None) -> str | None:
        """Why the inbox is not moving, or None: updates kept longer than `stall_s` ago and
        none done by any worker for as long (one update failing and retried while the others
        flow is not a stall). Part of every worker's health (bot/ops.py): any of them can
        take any chat, so a stall is all of theirs."""
        row = await self.pool.fetchrow(
            "SELECT count(*) AS n, min(received_at) AS oldest, "
            "(SELECT max(done_at) FROM inbox_done) AS last_done FROM inbox")
        moment = now or time.time()
        if row is None or not row["n"] or moment - row["oldest"] <= stall_s:
            return None
        if row["last_done"] is not None and moment - row["last_done"] <= stall_s:
            return None
        return (f"{row['n']} updates in the inbox, the oldest kept more than {stall_s:.0f} s "
                f"ago, and none done since")


class Leader:
    """One worker at a time runs the repeating jobs: whoever holds a session advisory lock,
    released by PostgreSQL when that worker's connection goes (a killed worker included)."""


    def __init__(self, pool: Pool) -> None:
        self.pool = pool
        self._connection: Any = None
        self._held = False
        self._asking = asyncio.Lock()  # jobs falling due together share the one connection

    async def leads(self) -> bool:
        async with self._asking:
            try:
                if self._connection is None:
                    self._connection = await self.pool.acquire()
                if self._held:
                    # Still held only while its connection lives: ask it.
                    await self._connection.fetchval("SELECT 1")
                    return True
                self._held = bool(await self._connection.fetchval(
                    "SELECT pg_try_advisory_lock($1, 2)", _LOCKS))
                return self._held
            except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                # The connection went, and the lock with it: step down, ask again next time.
                _LOGGER.warning("leader: lost the database connection; stepping down")
                connection, self._connection, self._held = self._connection, None, False
                if connection is not None:
                    with contextlib.suppress(Exception):
                        await self.pool.release(connection)
                return False

    async def close(self) -> None:
        if self._connection is not None:
            await self.pool.release(self._connection)
            self._connection = None
            self._held = False
