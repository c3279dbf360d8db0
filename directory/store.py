"""The directory's tables: services, their spatial index, distinct hours, and sources.

The spatial index is SQLite's R*Tree, one per need, written in the same transaction as the
services it indexes and persisted with them, so opening a database never rebuilds it. Each
entry is a service's point plus its hours key as a third dimension: everything search needs
for a candidate sits in the R*Tree's own nodes. (Auxiliary columns and a needs column to
filter on cost a lookup per row and made search four times slower; see benchmarks/.) The
nodes hold 32-bit floats rounded outwards, so search treats a point as known to within
COORDINATE_SLACK_M and reads exact coordinates only for the few services it may show.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from importlib import resources
from typing import Any, NamedTuple, TypeVar

import aiosqlite

from directory.geo import Box
from directory.hours import Hours, uses_sun_times
from directory.model import Capacity, Need, Service, needs_from_mask, needs_mask
from directory.sqlite import transaction

MIGRATION_1 = """
CREATE TABLE directory_source (
    name TEXT PRIMARY KEY,
    format TEXT NOT NULL,
    origin TEXT NOT NULL,
    region TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    services INTEGER NOT NULL
);
CREATE TABLE hours_rule (
    key INTEGER PRIMARY KEY,
    opening_hours TEXT NOT NULL,
    timezone TEXT NOT NULL,
    region TEXT NOT NULL,
    UNIQUE (opening_hours, timezone, region)
);
CREATE TABLE service (
    key INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    source TEXT NOT NULL REFERENCES directory_source(name) ON DELETE CASCADE,
    name TEXT NOT NULL,
    needs INTEGER NOT NULL,
    lat REAL NOT NULL,
    lon REAL NOT NULL,
    address TEXT NOT NULL,
    phone TEXT NOT NULL,
    website TEXT NOT NULL,
    description TEXT NOT NULL,
    opening_hours TEXT NOT NULL,
    hours_key INTEGER NOT NULL REFERENCES hours_rule(key),
    languages TEXT NOT NULL,
    walk_in INTEGER,
    min_age INTEGER,
    max_age INTEGER,
    capacity TEXT,
    timezone TEXT NOT NULL,
    region TEXT NOT NULL
);
CREATE INDEX service_source ON service(source);
""" + "".join(
    f"CREATE VIRTUAL TABLE service_rtree_{need.value} USING rtree("
    "key, min_lat, max_lat, min_lon, max_lon, min_hours, max_hours);\n"
    for need in Need
)

# Which sources list which service, and the needs each gives it: one OSM object exported
# under two tags (a doctor that is also a dentist) is one service with the needs of both.
MIGRATION_2 = """
CREATE TABLE service_contribution (
    source TEXT NOT NULL,
    id TEXT NOT NULL,
    needs INTEGER NOT NULL,
    PRIMARY KEY (id, source)
);
CREATE INDEX service_contribution_source ON service_contribution(source);
INSERT INTO service_contribution (source, id, needs) SELECT source, id, needs FROM service;
"""

# Sunrise and sunset hours are evaluated at the service's own place: compiled hours are
# shared by (expression, zone, region) and, for those alone, the place. SQLite cannot change
# a UNIQUE constraint in place: the table is rebuilt (migrations run with foreign keys off
# and are checked with foreign_key_check before they commit).
MIGRATION_3 = """
CREATE TABLE hours_rule_new (
    key INTEGER PRIMARY KEY,
    opening_hours TEXT NOT NULL,
    timezone TEXT NOT NULL,
    region TEXT NOT NULL,
    sun_at TEXT NOT NULL DEFAULT '',
    UNIQUE (opening_hours, timezone, region, sun_at)
);
INSERT INTO hours_rule_new (key, opening_hours, timezone, region)
    SELECT key, opening_hours, timezone, region FROM hours_rule;
DROP TABLE hours_rule;
ALTER TABLE hours_rule_new RENAME TO hours_rule;
"""

T = TypeVar("T")

DEMO_SOURCE = "demo"
DEMO_REGION = "US-IL"


class Candidate(NamedTuple):
    """What the spatial index returns for one service near a point (32-bit bounds)."""

    key: int
    min_lat: float
    max_lat: float
    min_lon: float
    max_lon: float
    hours_key: float


@dataclass(frozen=True)
class SourceInfo:
    name: str
    format: str
    origin: str
    region: str
    imported_at: str
    services: int


_SERVICE_COLUMNS = (
    "key, id, source, name, needs, lat, lon, address, phone, website, description, "
    "opening_hours, languages, walk_in, min_age, max_age, capacity, timezone, region"
)


class Reader:
    """Search's own read-only connection, used from one dedicated thread.

    A search is a handful of small reads and some arithmetic; doing all of it in one hop to
    a thread, on a connection of its own, costs one hand-off instead of one per statement
    and never waits behind an import (WAL lets readers run beside the writer).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="directory-read")
        self._connection: sqlite3.Connection | None = None
        self._hours: dict[int, Hours] = {}
        self.generation = 0  # bumped by every import; cached hours are dropped when it moves
        self._loaded_generation = -1

    async def run(self, work: Callable[[Reader], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True,
                                               isolation_level=None)
        return self._connection

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        """One read transaction: a search sees one state of the directory throughout."""
        db = self._db()
        db.execute("BEGIN")
        try:
            yield self
        finally:
            db.execute("COMMIT")

    def candidates(self, boxes: Sequence[Box], needs: Iterable[Need]) -> list[Candidate]:
        """Services meeting any of the needs with a point in one of the boxes.

        A service that meets two of the needs comes back twice.
        """
        parts = [
            f"SELECT key, min_lat, max_lat, min_lon, max_lon, min_hours "
            f"FROM service_rtree_{need.value} "
            "WHERE max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?"
            for need in needs for _box in boxes
        ]
        values = [value for _need in needs for box in boxes for value in box]
        rows = self._db().execute(" UNION ALL ".join(parts), values).fetchall()
        return [Candidate._make(row) for row in rows]

    def hours(self, *, must_have: int | None = None) -> dict[int, Hours]:
        """Compiled hours by key; a few hundred distinct ones even in a large directory.

        `must_have`: a key just read from the index; if an import committed since the cache
        was filled, it may be new, and the cache is reloaded.
        """
        if self._loaded_generation != self.generation or (
                must_have is not None and must_have not in self._hours):
            self._hours = _load_hours(self._db().execute(
                f"SELECT {_HOURS_COLUMNS} FROM hours_rule").fetchall())
            self._loaded_generation = self.generation
        return self._hours

    def services(self, keys: Sequence[int]) -> dict[int, Service]:
        marks = ",".join("?" * len(keys))
        rows = self._db().execute(
            f"SELECT {_SERVICE_COLUMNS} FROM service WHERE key IN ({marks})", tuple(keys)
        ).fetchall()
        return {row[0]: _service(row) for row in rows}

    def _close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    async def close(self) -> None:
        await self.run(lambda reader: reader._close())
        self._executor.shutdown(wait=True)


_HOURS_COLUMNS = "key, opening_hours, timezone, region, sun_at"
HoursKey = tuple[str, str, str, str]  # expression, timezone, region, sun_at


def hours_key_of(service: Service) -> HoursKey:
    """What compiled hours are shared by: the expression, zone and holiday region, and, only
    for sunrise/sunset hours, the place (so a city's hundred clinics share one entry)."""
    sun_at = (f"{service.lat:.5f},{service.lon:.5f}"
              if uses_sun_times(service.opening_hours) else "")
    return service.opening_hours, service.timezone, service.region, sun_at


def _load_hours(rows: Iterable[Sequence[Any]]) -> dict[int, Hours]:
    compiled: dict[int, Hours] = {}
    for key, expression, zone, region, sun_at in rows:
        lat, _, lon = str(sun_at).partition(",")
        compiled[int(key)] = Hours(str(expression), str(zone), str(region),
                                   float(lat) if lat else None, float(lon) if lon else None)
    return compiled


class Directory:
    """The services of every source: writes through the shared connection, searches through
    a reader of their own."""

    def __init__(self, db: aiosqlite.Connection, reader: Reader) -> None:
        self.db = db
        self.reader = reader

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> Directory:
        rows = await db.execute_fetchall("PRAGMA database_list")
        path = next((str(row[2]) for row in rows if row[1] == "main"), "")
        if not path:
            raise ValueError("the directory needs a database file (not :memory:)")
        return cls(db, Reader(path))

    async def close(self) -> None:
        await self.reader.close()

    async def sources(self) -> list[SourceInfo]:
        async with self.db.execute(
            "SELECT name, format, origin, region, imported_at, services "
            "FROM directory_source ORDER BY name"
        ) as cursor:
            return [SourceInfo(*row) async for row in cursor]

    async def ids_elsewhere(self, ids: Iterable[str], source: str) -> dict[str, tuple[str, str]]:
        """Which of these ids other sources already use: id -> (that source, its format)."""
        wanted = list(ids)
        found: dict[str, tuple[str, str]] = {}
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            marks = ",".join("?" * len(chunk))
            async with self.db.execute(
                "SELECT service.id, service.source, directory_source.format FROM service "
                "JOIN directory_source ON directory_source.name = service.source "
                f"WHERE service.source != ? AND service.id IN ({marks})",
                (source, *chunk),
            ) as cursor:
                found.update({row[0]: (row[1], row[2]) async for row in cursor})
        return found

    async def replace_source(
        self, source: str, services: Sequence[Service], *, format: str, origin: str,
        region: str,
    ) -> None:
        """Swap one source's services for these, in one transaction: all or nothing.

        A real source replaces the bundled demo directory, which is only there so that a new
        installation answers at once. An id another source also lists (the same
        OpenStreetMap object exported under two tags, the caller allows it only there) stays
        one service whose needs are those of every source that lists it; each source's
        share is kept in `service_contribution`, so replacing one source takes back only its
        own.
        """
        try:
            async with transaction(self.db):
                doomed = [source] if source == DEMO_SOURCE else [source, DEMO_SOURCE]
                needs = await self._contribute(doomed, source, services)
                await self._upsert_source(source, format, origin, region, len(services))
                # Only a service another source also lists changes (replace() is slow).
                merged = [s if needs[s.id] == needs_mask(s.categories)
                          else replace(s, categories=needs_from_mask(needs[s.id]))
                          for s in services]
                await self._insert(merged, source, await self._hours_keys(merged))
                others = [name for name in doomed if name != source]
                await self.db.executemany("DELETE FROM directory_source WHERE name = ?",
                                          [(name,) for name in others])
                await self.db.execute(
                    "DELETE FROM hours_rule WHERE key NOT IN (SELECT hours_key FROM service)"
                )
        finally:
            self.reader.generation += 1

    async def _contribute(self, doomed: list[str], source: str,
                          services: Sequence[Service]) -> dict[str, int]:
        """Record the new contributions and settle every service they touch.

        Rows the new services replace, and rows no source lists any more, are deleted; rows
        other sources still list keep their place with the needs those sources give.
        Returns the merged needs mask of each new service.
        """
        marks = ",".join("?" * len(doomed))
        await self.db.execute("CREATE TEMP TABLE IF NOT EXISTS touched (id TEXT PRIMARY KEY)")
        await self.db.execute("DELETE FROM temp.touched")
        await self.db.execute(
            f"INSERT OR IGNORE INTO temp.touched SELECT id FROM service_contribution "
            f"WHERE source IN ({marks})", doomed)
        await self.db.executemany("INSERT OR IGNORE INTO temp.touched VALUES (?)",
                                  [(s.id,) for s in services])
        await self.db.execute(f"DELETE FROM service_contribution WHERE source IN ({marks})",
                              doomed)
        await self.db.executemany(
            "INSERT INTO service_contribution (source, id, needs) VALUES (?, ?, ?)",
            [(source, s.id, needs_mask(s.categories)) for s in services])
        remaining: dict[str, dict[str, int]] = {}
        # execute_fetchall: one hop to the database thread, not one per 64 rows.
        for id_, holder, mask in await self.db.execute_fetchall(
                "SELECT id, source, needs FROM service_contribution WHERE id IN temp.touched"):
            remaining.setdefault(id_, {})[holder] = int(mask)
        new_ids = {s.id for s in services}
        gone: list[int] = []
        kept: list[tuple[int, int, str]] = []  # key, needs, owner
        for key, id_, owner in await self.db.execute_fetchall(
                "SELECT key, id, source FROM service WHERE id IN temp.touched"):
            holders = remaining.get(id_, {})
            if id_ in new_ids or not holders:
                gone.append(int(key))
            else:
                mask = 0
                for value in holders.values():
                    mask |= value
                kept.append((int(key), mask, owner if owner in holders else min(holders)))
        await self.db.execute("CREATE TEMP TABLE IF NOT EXISTS settled (key INTEGER PRIMARY KEY)")
        await self.db.execute("DELETE FROM temp.settled")
        await self.db.executemany("INSERT INTO temp.settled VALUES (?)",
                                  [(key,) for key in gone] + [(key,) for key, _m, _o in kept])
        for need in Need:  # one statement per index, not one per row: imports replace 100k
            await self.db.execute(
                f"DELETE FROM service_rtree_{need.value} WHERE key IN temp.settled")
        await self.db.executemany("DELETE FROM service WHERE key = ?", [(k,) for k in gone])
        await self.db.executemany("UPDATE service SET needs = ?, source = ? WHERE key = ?",
                                  [(mask, owner, key) for key, mask, owner in kept])
        await self._index_keys([key for key, _mask, _owner in kept])
        merged: dict[str, int] = {}
        for id_ in new_ids:
            mask = 0
            for value in remaining.get(id_, {}).values():
                mask |= value
            merged[id_] = mask
        return merged

    async def _upsert_source(self, source: str, format: str, origin: str, region: str,
                             count: int) -> None:
        # UPDATE, not INSERT OR REPLACE: a replaced row would cascade to its services.
        values = (format, origin, region, datetime.now(UTC).replace(microsecond=0).isoformat(),
                  count, source)
        cursor = await self.db.execute(
            "UPDATE directory_source SET format = ?, origin = ?, region = ?, imported_at = ?, "
            "services = ? WHERE name = ?", values)
        if cursor.rowcount == 0:
            await self.db.execute(
                "INSERT INTO directory_source (format, origin, region, imported_at, services, "
                "name) VALUES (?, ?, ?, ?, ?, ?)", values)

    async def _index_keys(self, keys: list[int]) -> None:
        """(Re)write the spatial index entries of these services from their rows."""
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.execute_fetchall(
                f"SELECT key, lat, lon, hours_key, needs FROM service WHERE key IN ({marks})",
                chunk)
            for need in Need:
                await self.db.executemany(
                    f"INSERT INTO service_rtree_{need.value} VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(key, lat, lat, lon, lon, hours, hours)
                     for key, lat, lon, hours, mask in rows if int(mask) & need.bit])

    async def _hours_keys(self, services: Sequence[Service]) -> dict[HoursKey, int]:
        distinct = {hours_key_of(s) for s in services}
        await self.db.executemany(
            "INSERT OR IGNORE INTO hours_rule (opening_hours, timezone, region, sun_at) "
            "VALUES (?, ?, ?, ?)", sorted(distinct))
        keys: dict[HoursKey, int] = {}
        for key, expression, zone, region, sun_at in await self.db.execute_fetchall(
                "SELECT key, opening_hours, timezone, region, sun_at FROM hours_rule"):
            keys[(expression, zone, region, sun_at)] = key
        return keys

    async def _insert(
        self, services: Sequence[Service], source: str,
        hours_keys: dict[HoursKey, int],
    ) -> None:
        async with self.db.execute("SELECT coalesce(max(key), 0) FROM service") as cursor:
            row = await cursor.fetchone()
        first_key = (int(row[0]) if row else 0) + 1
        rows = []
        index_rows: dict[Need, list[tuple[int, float, float, float, float, int, int]]] = {
            need: [] for need in Need}
        for key, service in enumerate(services, start=first_key):
            hours_key = hours_keys[hours_key_of(service)]
            mask = needs_mask(service.categories)
            capacity = service.capacity
            rows.append((
                key, service.id, source, service.name, mask, service.lat, service.lon,
                service.address, service.phone, service.website, service.description,
                service.opening_hours, hours_key, ";".join(service.languages),
                None if service.walk_in is None else int(service.walk_in),
                service.min_age, service.max_age,
                json.dumps({"available": capacity.available, "total": capacity.total,
                            "updated": capacity.updated}) if capacity else None,
                service.timezone, service.region,
            ))
            for need in service.categories:
                index_rows[need].append((key, service.lat, service.lat, service.lon,
                                         service.lon, hours_key, hours_key))
        await self.db.executemany(
            "INSERT INTO service (key, id, source, name, needs, lat, lon, address, phone, "
            "website, description, opening_hours, hours_key, languages, walk_in, min_age, "
            "max_age, capacity, timezone, region) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        for need, entries in index_rows.items():
            await self.db.executemany(
                f"INSERT INTO service_rtree_{need.value} VALUES (?, ?, ?, ?, ?, ?, ?)", entries)

    async def extent(self) -> tuple[tuple[float, float], tuple[float, float]] | None:
        """The corners (south-west, north-east) of the area the directory covers."""
        rows = list(await self.db.execute_fetchall(
            "SELECT min(lat), min(lon), max(lat), max(lon) FROM service"))
        if not rows or rows[0][0] is None:
            return None
        south, west, north, east = (float(value) for value in rows[0])
        return (south, west), (north, east)

    async def name_of(self, service_id: str) -> str | None:
        """The name of the service with this id, if the directory still has it."""
        rows = list(await self.db.execute_fetchall("SELECT name FROM service WHERE id = ?",
                                                   (service_id,)))
        return str(rows[0][0]) if rows else None

    async def all_services(self) -> list[tuple[int, int, Service]]:
        """Every service as (key, hours key, service): for brute-force checks and export."""
        async with self.db.execute(
            f"SELECT {_SERVICE_COLUMNS}, hours_key FROM service ORDER BY key"
        ) as cursor:
            return [(row[0], row[-1], _service(row[:-1])) for row in await cursor.fetchall()]

    async def hours(self) -> dict[int, Hours]:
        """Compiled hours by key, freshly loaded (for brute-force checks and export)."""
        return _load_hours(await self.db.execute_fetchall(
            f"SELECT {_HOURS_COLUMNS} FROM hours_rule"))

    async def ensure_demo(self) -> bool:
        """Load the bundled demo directory if there is no directory yet; True if it did."""
        async with self.db.execute("SELECT 1 FROM directory_source LIMIT 1") as cursor:
            if await cursor.fetchone() is not None:
                return False
        from directory.importers import read_path  # the importers build on this module

        demo = resources.files("directory.data").joinpath("demo_chicago.csv")
        with resources.as_file(demo) as path:
            result = read_path(path, format="csv", region=DEMO_REGION)
        if result.errors:
            raise RuntimeError("the bundled demo directory does not import: "
                               + "; ".join(p.render_english() for p in result.errors))
        await self.replace_source(DEMO_SOURCE, result.services, format="csv",
                                  origin="bundled demo", region=DEMO_REGION)
        return True


def _service(row: Sequence[object]) -> Service:
    (_key, id_, source, name, needs, lat, lon, address, phone, website, description,
     opening_hours, languages, walk_in, min_age, max_age, capacity, zone, region) = row
    cap = None
    if isinstance(capacity, str):
        parsed = json.loads(capacity)
        cap = Capacity(parsed["available"], parsed.get("total"), parsed.get("updated"))
    return Service(
        id=str(id_), name=str(name), categories=needs_from_mask(int(str(needs))),
        lat=float(str(lat)), lon=float(str(lon)), address=str(address), phone=str(phone),
        website=str(website), description=str(description), opening_hours=str(opening_hours),
        languages=tuple(x for x in str(languages).split(";") if x),
        walk_in=None if walk_in is None else bool(walk_in),
        min_age=None if min_age is None else int(str(min_age)),
        max_age=None if max_age is None else int(str(max_age)),
        capacity=cap, source=str(source), timezone=str(zone), region=str(region),
    )


async def open_directory(db: aiosqlite.Connection, *, demo: bool = True) -> Directory:
    """The directory over an open, migrated database; loads the demo if it has none.

    Close it (`await directory.close()`) before the connection.
    """
    directory = await Directory.open(db)
    if demo:
        await directory.ensure_demo()
    return directory


__all__ = ["DEMO_SOURCE", "Candidate", "Directory", "Need", "Reader", "SourceInfo",
           "open_directory"]
