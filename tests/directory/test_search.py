"""Search equals brute force, including near the antimeridian and the poles."""

from __future__ import annotations

import asyncio
import math
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from geographiclib.geodesic import Geodesic
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory import geo
from directory.hours import State
from directory.live import LiveState
from directory.model import Need, Service
from directory.search import brute_force_nearest, nearest
from directory.store import Directory
from tests.directory.support import directory_session

HOURS = ["24/7", "Mo-Fr 09:00-17:00", "", "Mo-Su 22:00-06:00", "off", "Sa-Su 10:00-14:00",
         "Mo-Su 08:00-20:00; PH off"]
ZONES = ["UTC", "America/Chicago", "Pacific/Auckland", "Asia/Kamchatka"]

latitudes = st.one_of(
    st.floats(-90, 90),
    st.floats(85, 90), st.floats(-90, -85),  # polar caps
    st.sampled_from([90.0, -90.0, 0.0]),
)
longitudes = st.one_of(
    st.floats(-180, 180),
    st.floats(175, 180), st.floats(-180, -175),  # either side of the antimeridian
    st.sampled_from([180.0, -180.0, 0.0]),
)


@st.composite
def clustered_points(draw: st.DrawFn) -> tuple[float, float]:
    """Points anywhere, or in a small cluster around a random centre (ties included)."""
    if draw(st.booleans()):
        return draw(latitudes), draw(longitudes)
    lat = draw(st.sampled_from([41.88, 89.99, -89.99, -17.7, 65.0]))
    lon = draw(st.sampled_from([-87.63, 179.99, -179.99, 178.4, 0.0]))
    return (max(-90.0, min(90.0, lat + draw(st.floats(-0.05, 0.05)))),
            ((lon + draw(st.floats(-0.05, 0.05)) + 180) % 360) - 180)


@st.composite
def services(draw: st.DrawFn) -> list[Service]:
    count = draw(st.integers(1, 40))
    made: list[Service] = []
    for index in range(count):
        lat, lon = draw(clustered_points())
        if made and draw(st.integers(0, 9)) == 0:  # exact duplicate location: tie on distance
            lat, lon = made[-1].lat, made[-1].lon
        needs = draw(st.sets(st.sampled_from(list(Need)), min_size=1, max_size=3))
        made.append(Service(
            id=f"s{draw(st.integers(0, 10_000)):05d}-{index}", name=f"S{index}",
            categories=frozenset(needs), lat=lat, lon=lon,
            opening_hours=draw(st.sampled_from(HOURS)), timezone=draw(st.sampled_from(ZONES)),
            region=draw(st.sampled_from(["", "US-IL", "GB-ENG"])), source="test",
        ))
    return made


async def _compare(made: list[Service], lat: float, lon: float, needs: list[Need],
                   moment: datetime, limit: int, within_m: float | None) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with directory_session(Path(folder) / "d.sqlite3", demo=False) as directory:
            await _compare_in(directory, made, lat, lon, needs, moment, limit, within_m)


async def _compare_in(directory: Directory, made: list[Service], lat: float, lon: float,
                      needs: list[Need], moment: datetime, limit: int,
                      within_m: float | None) -> None:
    await directory.replace_source("test", made, format="csv", origin="test", region="")
    hours = await directory.hours()
    everything = [(service, hours[hours_key])
                  for _key, hours_key, service in await directory.all_services()]
    want = brute_force_nearest(everything, lat, lon, needs, moment, limit,
                               within_m=within_m)
    # Just after an import the search is cold (the reader's thread loads and compiles the
    # hours); the same search again is warm and runs on the event loop: both must be right.
    for _path in ("cold", "warm"):
        got = await nearest(directory, lat, lon, needs, moment, limit, within_m=within_m)
        assert [(m.service.id, m.status.state) for m in got] == [
            (m.service.id, m.status.state) for m in want]
        for mine, reference in zip(got, want, strict=True):
            assert mine.distance_m == reference.distance_m
            assert mine.status == reference.status


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(made=services(), point=clustered_points(),
       needs=st.lists(st.sampled_from(list(Need)), max_size=2),
       hour=st.integers(0, 23), limit=st.integers(1, 6),
       within_km=st.one_of(st.none(), st.floats(0.5, 3000)))
def test_nearest_equals_brute_force(made: list[Service], point: tuple[float, float],
                                    needs: list[Need], hour: int, limit: int,
                                    within_km: float | None) -> None:
    moment = datetime(2025, 12, 25, hour, 30, tzinfo=UTC)
    asyncio.run(_compare(made, point[0], point[1], needs, moment, limit,
                         None if within_km is None else within_km * 1000))


@settings(max_examples=500, deadline=None)
@given(lat=latitudes, lon=longitudes, azimuth=st.floats(-180, 180),
       radius=st.floats(1, 19_000_000))
def test_search_boxes_contain_every_point_within_the_radius(
        lat: float, lon: float, azimuth: float, radius: float) -> None:
    """A point reached by travelling just under `radius` along a geodesic is in a box."""
    end = Geodesic.WGS84.Direct(lat, lon, azimuth, radius * 0.9999)
    end_lat, end_lon = end["lat2"], ((end["lon2"] + 180) % 360) - 180
    boxes = geo.search_boxes(lat, lon, radius)
    assert any(lo_lat <= end_lat <= hi_lat and lo_lon <= end_lon <= hi_lon
               for lo_lat, hi_lat, lo_lon, hi_lon in boxes), (boxes, end_lat, end_lon)


@settings(max_examples=2000, deadline=None)
@given(a=clustered_points(), b=clustered_points())
def test_haversine_bounds_the_geodesic(a: tuple[float, float], b: tuple[float, float]) -> None:
    low, high = geo.Bounder(*a).bounds(*b)
    assert low <= geo.geodesic_m(*a, *b) <= high


@settings(max_examples=3000, deadline=None)
@given(a=st.tuples(latitudes, longitudes), b=st.tuples(latitudes, longitudes))
def test_the_geodesic_is_geographiclibs_everywhere(a: tuple[float, float],
                                                   b: tuple[float, float]) -> None:
    """PROJ's C geodesic (the hot path) against geographiclib's (geopy's own engine):
    the same Karney algorithm, equal within a micrometre, near-antipodal pairs included."""
    reference = Geodesic.WGS84.Inverse(*a, *b, Geodesic.DISTANCE)["s12"]
    assert geo.geodesic_m(*a, *b) == pytest.approx(reference, abs=1e-6)


def test_known_distance_against_geopy() -> None:
    from geopy.distance import geodesic

    here, there = (41.8806, -87.6298), (41.8925, -87.6262)
    assert geo.geodesic_m(*here, *there) == pytest.approx(geodesic(here, there).meters, abs=1e-6)


async def test_open_first_then_unknown_then_closed(directory: Directory) -> None:
    def service(id_: str, lat: float, hours: str) -> Service:
        return Service(id=id_, name=id_, categories=frozenset({Need.DETOX}), lat=lat,
                       lon=-87.63, opening_hours=hours, timezone="America/Chicago",
                       region="US-IL")
    await directory.replace_source("t", [
        service("closed-near", 41.8801, "Mo-Fr 09:00-10:00"),
        service("unknown-mid", 41.8802, ""),
        service("open-far", 41.95, "24/7"),
        service("open-farther", 42.20, "24/7"),
    ], format="csv", origin="t", region="")
    noon = datetime(2025, 6, 11, 12, 0)  # local time at the query point (naive)
    matches = await nearest(directory, 41.88, -87.63, [Need.DETOX], noon, limit=4)
    assert [m.service.id for m in matches] == ["open-far", "open-farther", "unknown-mid",
                                               "closed-near"]
    assert [m.status.state for m in matches] == [State.OPEN, State.OPEN, State.UNKNOWN,
                                                 State.CLOSED]
    assert matches[3].status.next_change == datetime(2025, 6, 12, 9, 0,
                                                     tzinfo=ZoneInfo("America/Chicago"))
    within = await nearest(directory, 41.88, -87.63, [Need.DETOX], noon, limit=4, within_m=10_000)
    assert [m.service.id for m in within] == ["open-far", "unknown-mid", "closed-near"]
    assert await nearest(directory, 41.88, -87.63, [Need.SHELTER], noon) == []
    assert all(not math.isnan(m.distance_m) for m in matches)


def searches_in_the_thread(directory: Directory, monkeypatch: pytest.MonkeyPatch
                           ) -> list[str]:
    """A list that gets "run" for each search handed to the reader's thread from now on."""
    threaded: list[str] = []
    run = directory.reader.run

    async def counted(work: object) -> object:
        threaded.append("run")
        return await run(work)  # type: ignore[arg-type]

    monkeypatch.setattr(directory.reader, "run", counted)
    return threaded


async def test_a_warm_search_runs_on_the_loop_and_a_cold_one_in_the_readers_thread(
        directory: Directory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Loading or compiling hours takes milliseconds, too long for the event loop: a search
    that meets it (after an import, in a year not compiled yet) is done in the thread."""
    made = [Service(id=f"s{i}", name=f"S{i}", categories=frozenset({Need.DETOX}),
                    lat=41.88 + i / 1000, lon=-87.63, opening_hours=HOURS[i % 3],
                    timezone="America/Chicago", region="US-IL", source="test")
            for i in range(12)]
    await directory.replace_source("test", made, format="csv", origin="test", region="")
    threaded = searches_in_the_thread(directory, monkeypatch)
    now = datetime(2026, 3, 4, 12, tzinfo=UTC)
    first = await nearest(directory, 41.88, -87.63, [Need.DETOX], now)
    assert threaded == ["run"]  # just imported: the hours were loaded in the thread
    again = await nearest(directory, 41.88, -87.63, [Need.DETOX], now)
    assert threaded == ["run"]  # warm: on the loop
    assert again == first
    later = datetime(2029, 3, 4, 12, tzinfo=UTC)  # a year no rule is compiled for
    hours = await directory.hours()
    assert not any(h.ready(later) for h in hours.values())
    cold = await nearest(directory, 41.88, -87.63, [Need.DETOX], later)
    assert threaded == ["run", "run"]
    assert [m.service.id for m in cold] == [m.service.id for m in first]
    await nearest(directory, 41.88, -87.63, [Need.DETOX], later)
    assert threaded == ["run", "run"]


async def test_a_service_ranked_by_its_staff_is_made_ready_off_the_loop_too(
        directory: Directory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A staff status ranks a service without reading its hours; the hours it shows beside
    the status must still be compiled in the thread, not on the event loop."""
    only = Service(id="s0", name="S0", categories=frozenset({Need.DETOX}), lat=41.88,
                   lon=-87.63, opening_hours="Mo-Fr 09:00-17:00", timezone="America/Chicago",
                   region="US-IL", source="test")
    await directory.replace_source("test", [only], format="csv", origin="test", region="")
    await nearest(directory, 41.88, -87.63, [Need.DETOX], datetime(2026, 3, 4, 12, tzinfo=UTC))
    later = datetime(2029, 3, 7, 15, tzinfo=UTC)  # a Wednesday, 9:00 in Chicago
    await directory.live.set_status("s0", LiveState.CLOSED, now=later)
    threaded = searches_in_the_thread(directory, monkeypatch)
    [match] = await nearest(directory, 41.88, -87.63, [Need.DETOX], later)
    assert threaded == ["run"]
    assert match.live is not None
    assert match.live.state is LiveState.CLOSED
    assert match.status.state is State.OPEN  # what the hours say, compiled in the thread
