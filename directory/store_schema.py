"""The directory's tables and how a service is written in them.

This module owns the schema (MIGRATION_1..3, run in order by the database that holds the
directory, among its other migrations) and the row codecs shared by the reader and the
writer: the columns of a service row, a row as a `Service`, the rows of `hours_rule` as
compiled `Hours`, and the key compiled hours are shared by.

The spatial index is SQLite's R*Tree, one per need, written in the same transaction as the
services it indexes and persisted with them, so opening a database never rebuilds it. Each
entry is a service's point plus its hours key as a third dimension: everything search needs
for a candidate sits in the R*Tree's own nodes. (Auxiliary columns and a needs column to
filter on cost a lookup per row and made search four times slower; see benchmarks/.) The
nodes hold 32-bit floats rounded outwards, so search treats a point as known to within
COORDINATE_SLACK_M and reads exact coordinates only for the few services it may show.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from directory.hours import Hours, uses_sun_times
from directory.model import Capacity, Need, Service, needs_from_mask

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

# The live directory: what service staff say of their service now (a status that expires:
# open, full, closed, beds free), what officers report (a count of "closed / turned them away"
# per service and day), and the last day an arrival there was confirmed. Facts about services,
# never about people (no member, chat or referral in any of them); keyed by the service's id,
# so that they survive a re-import of its source.
MIGRATION_4 = """
CREATE TABLE service_status (
    service_id TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    beds INTEGER,
    until INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE TABLE service_report (
    service_id TEXT NOT NULL,
    day TEXT NOT NULL,
    reports INTEGER NOT NULL,
    PRIMARY KEY (service_id, day)
);
CREATE TABLE service_arrival (
    service_id TEXT PRIMARY KEY,
    day TEXT NOT NULL
);
"""

SERVICE_COLUMNS = (
    "key, id, source, name, needs, lat, lon, address, phone, website, description, "
    "opening_hours, languages, walk_in, min_age, max_age, capacity, timezone, region"
)
HOURS_COLUMNS = "key, opening_hours, timezone, region, sun_at"
HoursKey = tuple[str, str, str, str]  # expression, timezone, region, sun_at


def hours_key_of(service: Service) -> HoursKey:
    """What compiled hours are shared by: the expression, zone and holiday region, and, only
    for sunrise/sunset hours, the place (so a city's hundred clinics share one entry)."""
    sun_at = (f"{service.lat:.5f},{service.lon:.5f}"
              if uses_sun_times(service.opening_hours) else "")
    return service.opening_hours, service.timezone, service.region, sun_at


def load_hours(rows: Iterable[Sequence[Any]]) -> dict[int, Hours]:
    """Rows of `hours_rule` (HOURS_COLUMNS) compiled, by key."""
    compiled: dict[int, Hours] = {}
    for key, expression, zone, region, sun_at in rows:
        lat, _, lon = str(sun_at).partition(",")
        compiled[int(key)] = Hours(str(expression), str(zone), str(region),
                                   float(lat) if lat else None, float(lon) if lon else None)
    return compiled


def capacity_json(capacity: Capacity | None) -> str | None:
    """The `capacity` column of a service."""
    if capacity is None:
        return None
    return json.dumps({"available": capacity.available, "total": capacity.total,
                       "updated": capacity.updated})


def service_from_row(row: Sequence[object]) -> Service:
    """A row of SERVICE_COLUMNS as the service it stores."""
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
