"""The typed-place cache in SQLite (directory/geocoder.py's GeocodeCache): the normalised
query and the places found, never who asked."""

from __future__ import annotations

import json
import time

import aiosqlite

from directory.gazetteer import Place
from directory.sqlite import write_lock


class SqliteGeocodeCache:
    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db

    async def get(self, query: str, max_age_s: float) -> list[Place] | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT places, created_at FROM geocode_cache WHERE query = ?", (query,)))
        if not rows or time.time() - float(rows[0][1]) > max_age_s:
            return None
        return [Place(*item) for item in json.loads(rows[0][0])]

    async def put(self, query: str, places: list[Place]) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO geocode_cache (query, places, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (query) DO UPDATE SET places = excluded.places, "
                "created_at = excluded.created_at",
                (query, json.dumps([[p.label, p.lat, p.lon] for p in places]), time.time()))
