"""The typed-place cache in SQLite (directory/geocoder.py's GeocodeCache): found by a keyed
tag of the normalised query, the places sealed, and only the day they were looked up (never
who asked, never the text typed, never the exact time). Retention deletes entries past
their age (storage/sqlite/maintenance.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import aiosqlite

from directory.gazetteer import Place
from directory.sqlite import write_lock
from members.keys import Sealer


def _today() -> datetime:
    return datetime.now(UTC)


class SqliteGeocodeCache:
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    async def get(self, query: str, max_age_s: float) -> list[Place] | None:
        tag = self.sealer.tag(query.encode())
        rows = list(await self.db.execute_fetchall(
            "SELECT sealed_places, day FROM geocode_cache WHERE query_tag = ?", (tag,)))
        oldest = (_today() - timedelta(seconds=max_age_s)).date().isoformat()
        if not rows or str(rows[0][1]) < oldest:
            return None
        return [Place(*item) for item in json.loads(self.sealer.open(bytes(rows[0][0]), tag))]

    async def put(self, query: str, places: list[Place]) -> None:
        tag = self.sealer.tag(query.encode())
        sealed = self.sealer.seal(json.dumps([[p.label, p.lat, p.lon] for p in places]).encode(),
                                  tag)
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO geocode_cache (query_tag, sealed_places, day) VALUES (?, ?, ?) "
                "ON CONFLICT (query_tag) DO UPDATE SET sealed_places = excluded.sealed_places, "
                "day = excluded.day", (tag, sealed, _today().date().isoformat()))
