"""Typed places: an address, intersection, landmark or postcode, turned into coordinates.

geopy's Nominatim client (async, aiohttp) behind geopy's AsyncRateLimiter, one request a
second for all chats together as Nominatim's usage policy asks, biased to the directory's
area. Answers are cached in SQLite (the normalised query and the places, never who asked).
When the geocoder is off, down or finds nothing, the directory's own names and addresses
are searched instead (an offline gazetteer).
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiosqlite
from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim

from directory.sqlite import write_lock

_LOGGER = logging.getLogger(__name__)

MIGRATION = """
CREATE TABLE geocode_cache (
    query TEXT PRIMARY KEY,
    places TEXT NOT NULL,
    created_at REAL NOT NULL
);
"""

CACHE_MAX_AGE_S = 30 * 24 * 3600
MAX_PLACES = 5


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


def normalise(query: str) -> str:
    return " ".join(query.lower().replace(",", " ").split())


class Geocoder:
    """Places for a typed text: cache, then Nominatim, then the directory's own entries."""

    def __init__(self, db: aiosqlite.Connection, *, url: str | None, user_agent: str,
                 timeout_s: float = 10.0) -> None:
        self.db = db
        self.url = url
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self._nominatim: Nominatim | None = None
        self._geocode: Any = None

    async def open(self) -> None:
        if self.url is None:
            return
        scheme, _sep, domain = self.url.partition("://")
        self._nominatim = Nominatim(domain=domain.rstrip("/"), scheme=scheme,
                                    user_agent=self.user_agent, timeout=self.timeout_s,
                                    adapter_factory=AioHTTPAdapter)
        await self._nominatim.__aenter__()
        self._geocode = AsyncRateLimiter(self._nominatim.geocode, min_delay_seconds=1.0,
                                         max_retries=0, swallow_exceptions=False)

    async def close(self) -> None:
        if self._nominatim is not None:
            await self._nominatim.__aexit__(None, None, None)
            self._nominatim = None

    async def cached(self, query: str) -> list[Place] | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT places, created_at FROM geocode_cache WHERE query = ?", (normalise(query),)))
        if not rows or time.time() - float(rows[0][1]) > CACHE_MAX_AGE_S:
            return None
        return [Place(*item) for item in json.loads(rows[0][0])]

    async def _remember(self, query: str, places: list[Place]) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO geocode_cache (query, places, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (query) DO UPDATE SET places = excluded.places, "
                "created_at = excluded.created_at",
                (normalise(query), json.dumps([[p.label, p.lat, p.lon] for p in places]),
                 time.time()))

    async def geocode(self, query: str, viewbox: tuple[tuple[float, float],
                                                       tuple[float, float]] | None
                      ) -> list[Place] | None:
        """Nominatim's places for the query (None: geocoder off or unreachable)."""
        found = await self.cached(query)
        if found is not None:
            return found
        if self._geocode is None:
            return None
        try:
            answers = await self._geocode(query, exactly_one=False, limit=MAX_PLACES,
                                          viewbox=viewbox, bounded=False)
        except GeopyError as error:
            _LOGGER.warning("geocoder unavailable: %s", type(error).__name__)
            return None
        places = [Place(a.address, a.latitude, a.longitude) for a in answers or []]
        await self._remember(query, places)
        return places


async def gazetteer(db: aiosqlite.Connection, query: str) -> list[Place]:
    """The directory's own services whose name or address contains every word typed."""
    words = [w for w in normalise(query).split() if len(w) > 1][:6]
    if not words:
        return []
    where = " AND ".join("(lower(name) LIKE ? OR lower(address) LIKE ?)" for _ in words)
    values = [value for word in words for value in (f"%{word}%", f"%{word}%")]
    rows = await db.execute_fetchall(
        f"SELECT name, address, lat, lon FROM service WHERE {where} ORDER BY name LIMIT ?",
        (*values, MAX_PLACES))
    return [Place(f"{name}, {address}" if address else str(name), float(lat), float(lon))
            for name, address, lat, lon in rows]
