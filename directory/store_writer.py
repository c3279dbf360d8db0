"""Writing the directory: one source's services swapped in, all or nothing.

This module owns every write of the directory's tables: `DirectoryWrites.replace_source`
and what it takes to keep them consistent (each source's contribution to a service listed
by several, the spatial index of each need, the shared compiled-hours rows, the source's
own row). It reads no file: a source's services are read by the importers, and the bundled
demo directory is loaded by the demo module.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime

import aiosqlite

from directory.model import Need, Service, needs_from_mask, needs_mask
from directory.sqlite import transaction
from directory.store_reader import Reader
from directory.store_schema import HoursKey, capacity_json, hours_key_of

# The bundled demo directory's source: any real source replaces it.
DEMO_SOURCE = "demo"


class DirectoryWrites:
    """The writes `Directory` makes, through the shared connection."""

    db: aiosqlite.Connection
    reader: Reader

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
            rows.append((
                key, service.id, source, service.name, mask, service.lat, service.lon,
                service.address, service.phone, service.website, service.description,
                service.opening_hours, hours_key, ";".join(service.languages),
                None if service.walk_in is None else int(service.walk_in),
                service.min_age, service.max_age,
                capacity_json(service.capacity),
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
