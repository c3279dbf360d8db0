"""Reading the directory: search's own read-only connections, and the reads the bot makes.

This module owns every read of the directory's tables: `Reader`, the connections search
uses (on the event loop when all it needs is warm, else from a thread of its own), and
`DirectoryReads`, the reads made through the shared connection (the sources, ids other
sources use, the area covered, a service's name, the gazetteer of names and addresses, the
needs of every service, and everything for brute-force checks and export). It writes
nothing and reads no file (the importers are the demo module's).
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

import aiosqlite

from directory import gazetteer
from directory.gazetteer import Place
from directory.geo import Box, CandidateRow
from directory.hours import Hours, State
from directory.live import Live, LiveDirectory, LiveState, any_recent_report, staff_window
from directory.live import lives as read_lives
from directory.live import staff_states as read_staff_states
from directory.model import Need, Service, needs_from_mask
from directory.store_schema import HOURS_COLUMNS, SERVICE_COLUMNS, load_hours, service_from_row

T = TypeVar("T")


@dataclass(frozen=True)
class SourceInfo:
    name: str
    format: str
    origin: str
    region: str
    imported_at: str
    services: int


class Cold(Exception):
    """A search on the event loop met work too slow for it (hours to load or compile): it
    is run again in the reader's thread (directory/search.py), as is one that found the
    file busy (sqlite3.OperationalError after INLINE_BUSY_S)."""


class Reader:
    """Search's own read-only connections: one on the event loop, one in a dedicated thread.

    A search is a handful of small reads and some arithmetic, about half a millisecond once
    the hours are compiled: less than handing it to a thread and back costs
    (benchmarks/nearest.py). So it runs on the event loop (`inline`) and only what could
    take milliseconds (loading or compiling hours after an import or into a new year, a
    file busy past INLINE_BUSY_S) goes to the thread (`run`). Each connection is its own
    thread's and never waits behind an import (WAL lets readers run beside the writer); the
    compiled hours are shared.
    """

    INLINE_BUSY_S = 0.05  # the loop's connection waits this long for a busy file, no longer

    def __init__(self, path: str) -> None:
        self.path = path
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="directory-read",
                                            initializer=self._mark_thread)
        self._thread: int | None = None  # the executor's thread
        self._connections: dict[int, sqlite3.Connection] = {}  # by thread
        # By thread: (data_version, generation, window, states).
        self._staff: dict[int, tuple[int, int, tuple[float, float], dict[int, LiveState]]] = {}
        self._hours: dict[int, Hours] = {}
        self.generation = 0  # bumped by every import; cached hours are dropped when it moves
        self._loaded_generation = -1

    async def run(self, work: Callable[[Reader], T]) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work, self)

    def inline(self, work: Callable[[Reader], T]) -> T:
        """`work` here, on the event loop's thread; it raises Cold to be run by `run`."""
        return work(self)

    def _mark_thread(self) -> None:
        self._thread = threading.get_ident()

    @property
    def on_loop(self) -> bool:
        """Not in the reader's own thread: where slow work must not be done."""
        return threading.get_ident() != self._thread

    def _db(self) -> sqlite3.Connection:
        ident = threading.get_ident()
        connection = self._connections.get(ident)
        if connection is None:
            connection = sqlite3.connect(
                f"file:{self.path}?mode=ro", uri=True, isolation_level=None,
                timeout=self.INLINE_BUSY_S if self.on_loop else 5.0,
                check_same_thread=False)  # closed from the reader's thread at the end
            self._connections[ident] = connection
        return connection

    @contextmanager
    def snapshot(self) -> Iterator[Reader]:
        """One read transaction: a search sees one state of the directory throughout."""
        db = self._db()
        db.execute("BEGIN")  # deferred: the first read takes the snapshot (or finds it busy)
        try:
            yield self
        finally:
            db.execute("COMMIT")

    def candidates(self, boxes: Sequence[Box], needs: Iterable[Need],
                   besides: Sequence[Box] = ()) -> list[CandidateRow]:
        """Services meeting any of the needs with a point in one of the boxes and in none of
        `besides` (boxes asked about before: a search that widens reads only the new ring).

        A service that meets two of the needs comes back twice.
        """
        overlaps = "max_lat >= ? AND min_lat <= ? AND max_lon >= ? AND min_lon <= ?"
        # The exact complement of the same test: a row is in a box or in the ring, never both.
        ring = "".join(f" AND NOT ({overlaps})" for _box in besides)
        parts = [
            f"SELECT key, min_lat, max_lat, min_lon, max_lon, min_hours "
            f"FROM service_rtree_{need.value} WHERE {overlaps}{ring}"
            for need in needs for _box in boxes
        ]
        values = [value for _need in needs for box in boxes
                  for value in (*box, *(v for old in besides for v in old))]
        # Plain rows: a named tuple each would cost more than the search's own work on them.
        rows: list[CandidateRow] = self._db().execute(" UNION ALL ".join(parts),
                                                      values).fetchall()
        return rows

    def hours(self, *, must_have: int | None = None) -> dict[int, Hours]:
        """Compiled hours by key; a few hundred distinct ones even in a large directory.

        `must_have`: a key just read from the index; if an import committed since the cache
        was filled, it may be new, and the cache is reloaded.
        """
        if self._loaded_generation != self.generation or (
                must_have is not None and must_have not in self._hours):
            if self.on_loop:
                raise Cold  # hundreds of rules to parse: not on the event loop
            # The generation as of before the read: an import committing during it leaves
            # the cache stale under the old number, to be read again next time.
            generation = self.generation
            self._hours = load_hours(self._db().execute(
                f"SELECT {HOURS_COLUMNS} FROM hours_rule").fetchall())
            self._loaded_generation = generation
        return self._hours

    def warm(self, moment: datetime) -> int:
        """Compile every service's hours for the year of `moment` now, rather than in the
        first search that meets each (a few milliseconds each: holiday calendars rendered
        into the rules); returns how many. ~0.1 s for a 100,000-service directory's 460."""
        hours = self.hours()
        for compiled in hours.values():
            compiled.state(moment)
        return len(hours)

    def staff_states(self, moment: datetime) -> tuple[dict[int, LiveState], bool]:
        """The staff states holding at `moment` by service key, and whether any service has
        a recent field report (see `directory.live.staff_states`).

        The states are kept while nothing is written (SQLite's data_version, read in the
        search's own transaction: a commit by any other connection changes it) and `moment`
        is inside the window over which the same statuses hold: a search then reads no
        status (a join of every status with its service) but only whether reports exist."""
        db = self._db()
        version = int(db.execute("PRAGMA data_version").fetchone()[0])
        now = moment.timestamp()
        thread = threading.get_ident()
        kept = self._staff.get(thread)
        if kept is not None and kept[:2] == (version, self.generation) and (
                kept[2][0] <= now < kept[2][1]):
            states = kept[3]
        else:
            states = read_staff_states(db, moment)
            self._staff[thread] = (version, self.generation, staff_window(db, moment), states)
        return states, any_recent_report(db, moment)

    def lives(self, ids: Sequence[str], moment: datetime) -> dict[str, Live]:
        """What holds at `moment` for these services, by id."""
        return read_lives(self._db(), ids, moment)

    def services(self, keys: Sequence[int]) -> dict[int, Service]:
        marks = ",".join("?" * len(keys))
        rows = self._db().execute(
            f"SELECT {SERVICE_COLUMNS} FROM service WHERE key IN ({marks})", tuple(keys)
        ).fetchall()
        return {row[0]: service_from_row(row) for row in rows}

    def _close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    async def close(self) -> None:
        await self.run(lambda reader: reader._close())
        self._executor.shutdown(wait=True)


class DirectoryReads:
    """The reads `Directory` makes through the shared connection."""

    db: aiosqlite.Connection
    reader: Reader
    live: LiveDirectory

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

    async def services_by_id(self, ids: Iterable[str]) -> dict[str, Service]:
        """The services with these ids that the directory still has, by id."""
        found: dict[str, Service] = {}
        wanted = list(dict.fromkeys(ids))
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            rows = await self.db.execute_fetchall(
                f"SELECT {SERVICE_COLUMNS} FROM service WHERE id IN ({','.join('?' * len(chunk))})",
                chunk)
            found.update((service.id, service) for service in map(service_from_row, rows))
        return found

    async def open_now(self, ids: Iterable[str], now: datetime | None = None) -> set[str]:
        """Those of these services that are open now as search ranks them first: said open
        by their staff, or open by their hours with no current staff status."""
        wanted = list(dict.fromkeys(ids))
        if not wanted:
            return set()
        moment = now or datetime.now(UTC)
        said = await self.live.current(wanted, moment)
        rows = list(await self.db.execute_fetchall(
            "SELECT service.id, hours_rule.key, hours_rule.opening_hours, hours_rule.timezone, "
            "hours_rule.region, hours_rule.sun_at FROM service "
            "JOIN hours_rule ON hours_rule.key = service.hours_key "
            f"WHERE service.id IN ({','.join('?' * len(wanted))})", wanted))
        hours = load_hours({row[1]: row[1:] for row in rows}.values())
        open_ids: set[str] = set()
        for service_id, hours_key, *_rule in rows:
            staff = said[service_id].state if service_id in said else None
            if staff is LiveState.OPEN or (
                    staff is None and hours[int(hours_key)].state(moment) is State.OPEN):
                open_ids.add(str(service_id))
        return open_ids

    async def places_named(self, query: str, limit: int = gazetteer.MAX_PLACES) -> list[Place]:
        """The services whose name or address contains every word typed (the offline
        gazetteer), by name; see `directory.gazetteer.places_named`."""
        return await gazetteer.places_named(self.db, query, limit)

    async def needs_by_service(self) -> dict[str, tuple[str, ...]]:
        """Every service's id and the values of the needs it meets (as the figures read them:
        in the iteration order of `needs_from_mask`'s frozenset, so compare them as sets)."""
        return {str(service_id): tuple(n.value for n in needs_from_mask(int(mask)))
                for service_id, mask in await self.db.execute_fetchall(
                    "SELECT id, needs FROM service")}

    async def all_services(self) -> list[tuple[int, int, Service]]:
        """Every service as (key, hours key, service): for brute-force checks and export."""
        async with self.db.execute(
            f"SELECT {SERVICE_COLUMNS}, hours_key FROM service ORDER BY key"
        ) as cursor:
            return [(row[0], row[-1], service_from_row(row[:-1]))
                    for row in await cursor.fetchall()]

    async def hours(self) -> dict[int, Hours]:
        """Compiled hours by key, freshly loaded (for brute-force checks and export)."""
        return load_hours(await self.db.execute_fetchall(
            f"SELECT {HOURS_COLUMNS} FROM hours_rule"))
