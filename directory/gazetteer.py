"""The offline gazetteer: places typed as text, found among the directory's own services.

This module owns `Place` (a labelled point), `normalise` (how a typed place is compared and
cached) and the search of the directory's names and addresses for every word typed, which
the bot falls back on when its geocoder is off, down or finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

import aiosqlite

MAX_PLACES = 5
MAX_WORDS = 6


@dataclass(frozen=True)
class Place:
    label: str
    lat: float
    lon: float


def normalise(query: str) -> str:
    """Lower case, commas as spaces, one space between words."""
    return " ".join(query.lower().replace(",", " ").split())


async def places_named(db: aiosqlite.Connection, query: str,
                       limit: int = MAX_PLACES) -> list[Place]:
    """The services whose name or address contains every word typed, by name, at most
    `limit`: words of one letter are left out, and only the first MAX_WORDS are used.

    Labelled "name, address" (or the name alone when there is no address).
    """
    words = [w for w in normalise(query).split() if len(w) > 1][:MAX_WORDS]
    if not words:
        return []
    where = " AND ".join("(lower(name) LIKE ? OR lower(address) LIKE ?)" for _ in words)
    values = [value for word in words for value in (f"%{word}%", f"%{word}%")]
    rows = await db.execute_fetchall(
        f"SELECT name, address, lat, lon FROM service WHERE {where} ORDER BY name LIMIT ?",
        (*values, limit))
    return [Place(f"{name}, {address}" if address else str(name), float(lat), float(lon))
            for name, address, lat, lon in rows]
