"""Storage: sources replace only themselves, the demo steps aside, the index persists."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import aiosqlite

from directory.importers import read_path
from directory.model import Need, Service
from directory.search import nearest
from directory.store import DEMO_SOURCE, Directory, open_directory
from tests.conftest import service_row
from tests.directory.support import directory_session, open_database


async def test_demo_loads_into_an_empty_database_and_covers_every_need(
        db: aiosqlite.Connection) -> None:
    directory = await open_directory(db)
    assert [s.name for s in await directory.sources()] == [DEMO_SOURCE]
    services = [service for _k, _h, service in await directory.all_services()]
    assert len(services) >= 40
    assert all(service.name.endswith("(demo)") for service in services)
    assert set().union(*(s.categories for s in services)) == set(Need)
    assert {s.region for s in services} == {"US-IL"}
    assert any(s.opening_hours == "" and "Mo-Fr 9am-5pm" not in s.opening_hours
               for s in services)  # the one whose hours do not parse is imported as unknown
    assert any("PH off" in s.opening_hours for s in services)
    assert any(s.opening_hours == "24/7" and Need.DETOX in s.categories for s in services)
    # Loading it again is a no-op.
    assert await directory.ensure_demo() is False
    await directory.close()


async def test_a_source_replaces_only_itself_and_the_demo(
        db: aiosqlite.Connection, write_csv: Callable[..., Path]) -> None:
    directory = await open_directory(db)
    city = read_path(write_csv([service_row(id="c1"), service_row(id="c2")], "city.csv"))
    teams = read_path(write_csv([service_row(id="t1", categories="peer_support")], "teams.csv"))
    await directory.replace_source("city", city.services, format="csv", origin="x", region="")
    await directory.replace_source("teams", teams.services, format="csv", origin="y", region="")
    assert [s.name for s in await directory.sources()] == ["city", "teams"]
    again = read_path(write_csv([service_row(id="c3")], "city.csv"))
    await directory.replace_source("city", again.services, format="csv", origin="x", region="")
    ids = sorted(s.id for _k, _h, s in await directory.all_services())
    assert ids == ["c3", "t1"]
    indexed = 0
    for need in Need:
        async with db.execute(f"SELECT count(*) FROM service_rtree_{need.value}") as cursor:
            row = await cursor.fetchone()
            indexed += row[0] if row else 0
    assert indexed == 3  # c3: detox and treatment; t1: peer_support
    async with db.execute("SELECT count(*) FROM hours_rule") as cursor:
        assert await cursor.fetchone() == (1,)  # unused hours are pruned
    await directory.close()


async def test_reopening_does_not_rebuild_the_index(
        db_path: Path, write_csv: Callable[..., Path]) -> None:
    result = read_path(write_csv([service_row(id=f"s{i}", lat=f"41.{i:04d}") for i in range(50)]))
    async with directory_session(db_path, demo=False) as directory:
        await directory.replace_source("city", result.services, format="csv", origin="x",
                                       region="")

    second = await open_database(db_path)
    try:
        reopened = await open_directory(second)
        matches = await nearest(reopened, 41.0, -87.6298, [Need.DETOX], limit=2)
        assert [m.service.id for m in matches] == ["s0", "s1"]
        # Opening, finding the demo unnecessary and searching wrote nothing.
        assert second.total_changes == 0
        await reopened.close()
    finally:
        await second.close()


async def test_one_osm_object_in_two_sources_is_one_service_with_the_needs_of_both(
        directory: Directory) -> None:
    """A clinic exported once as an addiction practice and once as a methadone clinic."""
    clinic = Service(id="node/7", name="Clinic", categories=frozenset({Need.TREATMENT}),
                     lat=48.2, lon=16.37, timezone="Europe/Vienna", region="AT")
    await directory.replace_source("addiction", [clinic], format="osm", origin="a", region="")
    await directory.replace_source(
        "methadone", [replace(clinic, categories=frozenset({Need.MOUD, Need.TREATMENT}))],
        format="osm", origin="b", region="")

    async def found(need: Need) -> list[tuple[str, frozenset[Need]]]:
        return [(m.service.id, m.service.categories)
                for m in await nearest(directory, 48.2, 16.37, [need], limit=5)]

    both = frozenset({Need.MOUD, Need.TREATMENT})
    assert await found(Need.MOUD) == [("node/7", both)]
    assert await found(Need.TREATMENT) == [("node/7", both)]
    # Taking the methadone export back leaves the clinic with what the other source says.
    await directory.replace_source("methadone", [], format="osm", origin="b", region="")
    assert await found(Need.MOUD) == []
    assert await found(Need.TREATMENT) == [("node/7", frozenset({Need.TREATMENT}))]
    # And when the first source drops it too, it is gone, index and all.
    await directory.replace_source("addiction", [], format="osm", origin="a", region="")
    assert await found(Need.TREATMENT) == []
    assert await directory.all_services() == []
    for need in Need:
        rows = await directory.db.execute_fetchall(
            f"SELECT count(*) FROM service_rtree_{need.value}")
        assert list(rows) == [(0,)]


async def test_the_second_source_re_imported_keeps_the_first_ones_share(
        directory: Directory) -> None:
    clinic = Service(id="node/7", name="Clinic", categories=frozenset({Need.TREATMENT}),
                     lat=48.2, lon=16.37, timezone="Europe/Vienna", region="AT")
    await directory.replace_source("a", [clinic], format="osm", origin="a", region="")
    moud = replace(clinic, name="Clinic (new name)", categories=frozenset({Need.MOUD}))
    for _ in range(2):
        await directory.replace_source("b", [moud], format="osm", origin="b", region="")
    (_key, _hours, service), = await directory.all_services()
    assert (service.name, service.categories, service.source) == (
        "Clinic (new name)", frozenset({Need.MOUD, Need.TREATMENT}), "b")
    await directory.replace_source("b", [], format="osm", origin="b", region="")
    (_key, _hours, service), = await directory.all_services()
    assert (service.name, service.categories, service.source) == (
        "Clinic (new name)", frozenset({Need.TREATMENT}), "a")


async def test_sunrise_sunset_hours_are_evaluated_at_each_services_own_place(
        directory: Directory, write_csv: Callable[..., Path]) -> None:
    """Same expression, same timezone (Europe/Madrid), sunsets 40 minutes apart."""
    path = write_csv([
        service_row(id="coruna", lat="43.3623", lon="-8.4115", opening_hours="sunrise-sunset"),
        service_row(id="barcelona", lat="41.3874", lon="2.1686",
                    opening_hours="sunrise-sunset")])
    result = read_path(path)
    await directory.replace_source("spain", result.services, format="csv", origin="x",
                                   region="")
    states = {}
    for lat, lon in ((43.3623, -8.4115), (41.3874, 2.1686)):
        (match,) = await nearest(directory, lat, lon, [Need.DETOX],
                                 datetime(2025, 12, 15, 17, 40), limit=1, within_m=1000)
        states[match.service.id] = match.status.state.value
    assert states == {"coruna": "open", "barcelona": "closed"}
