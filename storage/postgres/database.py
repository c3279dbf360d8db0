"""Connecting to PostgreSQL and bringing its schema up to date.

One pool per process. Migrations run under an advisory lock, so that several workers
starting at once migrate once; `schema_version` records how many have run.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

import asyncpg

from storage.postgres.schema import MIGRATIONS

_MIGRATION_LOCK = 0x6465666C  # "defl": the advisory lock migrations run under


async def open_pool(url: str, *, min_size: int = 1, max_size: int = 24) -> asyncpg.Pool:
    """A pool on the database at `url`, migrated to the latest schema."""
    pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size)
    try:
        async with pool.acquire() as connection:
            await migrate(connection)
    except BaseException:
        await pool.close()
        raise
    return pool


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
async def transaction(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    async with pool.acquire() as connection, connection.transaction():
        # A pooled connection stands in for a connection (asyncpg's proxy).
        yield cast(asyncpg.Connection, connection)
