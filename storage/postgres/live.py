"""The live directory shared by several workers (directory/live.py's LiveShare): staff
statuses, field reports and arrival days in PostgreSQL; each worker's SQLite copy is refreshed
from them (bot/app.py, every few seconds), and what a worker sets is written to both."""

from __future__ import annotations

from directory.live import Rows
from storage.postgres.database import Pool


class PostgresLiveShare:
    def __init__(self, pool: Pool) -> None:
        self.pool = pool

    async def status(self, row: tuple[str, str, int | None, int, int]) -> None:
        await self.pool.execute(
            "INSERT INTO service_status (service_id, state, beds, until, updated) VALUES "
            "($1, $2, $3, $4, $5) ON CONFLICT (service_id) DO UPDATE SET state = "
            "excluded.state, beds = excluded.beds, until = excluded.until, "
            "updated = excluded.updated", *row)

    async def report(self, service_id: str, day: str) -> None:
        await self.pool.execute(
            "INSERT INTO service_report (service_id, day, reports) VALUES ($1, $2, 1) "
            "ON CONFLICT (service_id, day) DO UPDATE SET reports = service_report.reports + 1",
            service_id, day)

    async def rows(self) -> tuple[Rows, Rows, Rows]:
        async with self.pool.acquire() as db, db.transaction(isolation="repeatable_read"):
            statuses = await db.fetch(
                "SELECT service_id, state, beds, until, updated FROM service_status")
            reports = await db.fetch("SELECT service_id, day, reports FROM service_report")
            arrivals = await db.fetch("SELECT service_id, day FROM service_arrival")
        return ([tuple(r) for r in statuses], [tuple(r) for r in reports],
                [tuple(r) for r in arrivals])

    async def expire(self, statuses_before: int, reports_before: str) -> None:
        await self.pool.execute("DELETE FROM service_status WHERE until < $1",
                                statuses_before)
        await self.pool.execute("DELETE FROM service_report WHERE day < $1", reports_before)
