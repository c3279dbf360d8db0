"""Connecting to PostgreSQL, bringing its schema up to date, and units of work.

One pool per process. Migrations run under an advisory lock, so that several workers
starting at once migrate once; `schema_version` records how many have run.

A worker handles each update in a **unit of work** (`unit_of_work`): one transaction on one
connection, which every statement the stores make for that update joins, whatever store
makes it (the pool routes them: `Pool`), and which marks the update done in the inbox before
it commits. An update's database effects and its "done" commit together or not at all: a
worker that dies half-way leaves nothing of the update behind, and the update handled again
by another worker does everything once (a need ticked again is ticked, not unticked; an
invite spent again is not spent twice). A `transaction` inside a unit is a savepoint.
Statements from other tasks (jobs, lease renewals, LISTEN) use the pool as before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, cast

import asyncpg

from storage.postgres.schema import MIGRATIONS

_MIGRATION_LOCK = 0x6465666C  # "defl": the advisory lock migrations run under


class _Unit:
    """One update's transaction. The tasks the handling starts and awaits (PTB saves the
    conversation and the user's data side by side) join it too, one statement or savepoint
    at a time: a turn passes from task to task, and a task holding it keeps it through the
    statements it makes inside its own savepoint."""

    def __init__(self, connection: asyncpg.Connection) -> None:
        self.connection = connection
        self.open = True
        self._turn = asyncio.Lock()
        self._holder: asyncio.Task[Any] | None = None

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[asyncpg.Connection]:
        task = asyncio.current_task()
        if self._holder is task:
            yield self.connection
            return
        async with self._turn:
            self._holder = task
            try:
                yield self.connection
            finally:
                self._holder = None


_UNIT: ContextVar[_Unit | None] = ContextVar("deflect_unit_of_work", default=None)


def _open_unit() -> _Unit | None:
    """The unit of work this task (or the task that started it) is handling an update in;
    None outside one, and once it has ended (a task that outlives it uses the pool)."""
    unit = _UNIT.get()
    return unit if unit is not None and unit.open else None


class Pool:
    """asyncpg's pool, except that a statement made while handling an update in a unit of
    work runs on the unit's connection, inside its transaction. `acquire` always gives a
    connection of the pool's own (LISTEN, the leader's lock, a repeatable-read snapshot)."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.raw = pool

    async def _run(self, method: str, query: str, *args: Any) -> Any:
        unit = _open_unit()
        if unit is None:
            return await getattr(self.raw, method)(query, *args)
        async with unit.turn() as connection:
            return await getattr(connection, method)(query, *args)

    async def execute(self, query: str, *args: Any) -> str:
        return cast(str, await self._run("execute", query, *args))

    async def executemany(self, query: str, args: Any) -> None:
        await self._run("executemany", query, args)

    async def fetch(self, query: str, *args: Any) -> list[asyncpg.Record]:
        return cast(list[asyncpg.Record], await self._run("fetch", query, *args))

    async def fetchrow(self, query: str, *args: Any) -> asyncpg.Record | None:
        return cast("asyncpg.Record | None", await self._run("fetchrow", query, *args))

    async def fetchval(self, query: str, *args: Any) -> Any:
        return await self._run("fetchval", query, *args)

    def acquire(self) -> Any:
        return self.raw.acquire()

    async def release(self, connection: Any) -> None:
        await self.raw.release(connection)

    async def close(self) -> None:
        await self.raw.close()


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 24) -> Pool:
    """A pool on the database at `url`, migrated to the latest schema."""
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
    except BaseException:
        await pool.close()
        raise
    return Pool(pool)


async def migrate(connection: Any) -> int:
    """Run the migrations not run yet, each in its own transaction; returns the version."""
    await connection.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
    try:
        await connection.execute(
            "CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
        version = await connection.fetchval("SELECT max(version) FROM schema_version") or 0
        for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
            async with connection.transaction():
                await connection.execute(script)
                await connection.execute("INSERT INTO schema_version (version) VALUES ($1)",
                                         number)
        return len(MIGRATIONS)
    finally:
        await connection.execute("SELECT pg_advisory_unlock($1)", _MIGRATION_LOCK)


@asynccontextmanager
async def transaction(pool: Pool) -> AsyncIterator[asyncpg.Connection]:
    """A transaction of its own, or a savepoint of the unit of work this task is in."""
    unit = _open_unit()
    if unit is not None:
        async with unit.turn() as connection, connection.transaction():
            yield connection
        return
    async with pool.acquire() as connection, connection.transaction():
        # A pooled connection stands in for a connection (asyncpg's proxy).
        yield cast(asyncpg.Connection, connection)


@asynccontextmanager
async def unit_of_work(pool: Pool) -> AsyncIterator[asyncpg.Connection]:
    """One update's transaction (see the module's text): committed when the block ends,
    rolled back if it raises. Not nested."""
    if _open_unit() is not None:
        raise RuntimeError("a unit of work is already open in this context")
    async with pool.acquire() as pooled:
        connection = cast(asyncpg.Connection, pooled)
        work = connection.transaction()
        await work.start()
        unit = _Unit(connection)
        token = _UNIT.set(unit)
        try:
            yield connection
        except BaseException:
            async with unit.turn():
                unit.open = False
                await work.rollback()
            raise
        else:
            async with unit.turn():
                unit.open = False
                await work.commit()
        finally:
            _UNIT.reset(token)
