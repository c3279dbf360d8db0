"""Search with live statuses: staff know better than the hours, full and closed rank after
the open ones, an expired status is ignored, and search still equals brute force."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from directory.hours import Hours, State
from directory.live import BED_NEEDS, Live, LiveState
from directory.model import Need, Service
from directory.search import brute_force_nearest, nearest
from directory.store import Directory
from tests.directory.support import directory_session
from tests.directory.test_search import clustered_points, services

# Noon in Chicago (CDT), a Wednesday.
NOON = datetime(2025, 6, 11, 17, 0, tzinfo=UTC)
BEFORE = NOON - timedelta(hours=1)


def service(id_: str, lat: float, hours: str) -> Service:
    return Service(id=id_, name=id_, categories=frozenset({Need.DETOX}), lat=lat, lon=-87.63,
                   opening_hours=hours, timezone="America/Chicago", region="US-IL")


async def test_full_and_closed_by_staff_rank_after_open_and_unknown(
        directory: Directory) -> None:
    await directory.replace_source("t", [
        service("full-nearest", 41.8801, "24/7"),
        service("closed-by-staff", 41.8802, "24/7"),
        service("unknown", 41.8803, ""),
        service("closed-by-hours", 41.8804, "Mo-Fr 06:00-07:00"),
        service("open-far", 41.95, "24/7"),
    ], format="csv", origin="t", region="")
    await directory.live.set_status("full-nearest", LiveState.FULL, now=BEFORE)
    await directory.live.set_status("closed-by-staff", LiveState.CLOSED, now=BEFORE)
    matches = await nearest(directory, 41.88, -87.63, [Need.DETOX], NOON, limit=5)
    assert [m.service.id for m in matches] == [
        "open-far", "unknown", "full-nearest", "closed-by-staff", "closed-by-hours"]
    assert [m.closed for m in matches] == [False, False, False, True, True]
    assert matches[2].live is not None
    assert matches[2].live.state is LiveState.FULL
    assert matches[2].status.state is State.OPEN  # what the hours say is kept beside it
    assert matches[0].live is None


async def test_open_by_staff_beats_unknown_and_closed_hours(directory: Directory) -> None:
    await directory.replace_source("t", [
        service("unknown-said-open", 41.8801, ""),
        service("closed-said-open", 41.8802, "Mo-Fr 06:00-07:00"),
        service("unknown", 41.8803, ""),
        service("open-far", 41.95, "24/7"),
    ], format="csv", origin="t", region="")
    for service_id in ("unknown-said-open", "closed-said-open"):
        await directory.live.set_status(service_id, LiveState.OPEN, now=BEFORE)
    await directory.live.report_closed("unknown", now=BEFORE)  # shown, never ranked
    matches = await nearest(directory, 41.88, -87.63, [Need.DETOX], NOON, limit=4)
    assert [m.service.id for m in matches] == [
        "unknown-said-open", "closed-said-open", "open-far", "unknown"]
    assert matches[1].status.state is State.CLOSED
    assert not matches[1].closed
    assert matches[3].live is not None
    assert matches[3].live.reported_closed
    assert matches[3].live.state is None
    # Far from any open service: staff-open ones are found as the search widens.
    far = await nearest(directory, 43.0, -87.63, [Need.DETOX], NOON, limit=2)
    assert [m.service.id for m in far] == ["open-far", "closed-said-open"]


async def test_an_expired_status_is_ignored(directory: Directory) -> None:
    await directory.replace_source("t", [service("near", 41.8801, "24/7"),
                                         service("far", 41.95, "24/7")],
                                   format="csv", origin="t", region="")
    await directory.live.set_status("near", LiveState.CLOSED, until=datetime(2025, 6, 11, 11, 0),
                                    now=NOON - timedelta(hours=3))  # 09:00 until 11:00
    matches = await nearest(directory, 41.88, -87.63, [Need.DETOX], NOON, limit=2)
    assert [(m.service.id, m.live) for m in matches] == [("near", None), ("far", None)]
    # An hour earlier it held: the near one ranked last.
    earlier = await nearest(directory, 41.88, -87.63, [Need.DETOX], NOON - timedelta(hours=2),
                            limit=2)
    assert [m.service.id for m in earlier] == ["far", "near"]


@st.composite
def statuses(draw: st.DrawFn, made: list[Service]) -> list[tuple[str, str, int, int | None]]:
    """(service id, what, minutes, beds): a status set an hour before the search, holding
    until `minutes` (modulo 20 hours) after it; an "earlier" open status set `minutes` before
    the search (expired unless that was the same local day); or a field report that many
    minutes before."""
    chosen = draw(st.lists(st.sampled_from(made), unique_by=lambda s: s.id,
                           max_size=len(made)))
    made_statuses = []
    for target in chosen:
        what = draw(st.sampled_from(["open", "full", "closed", "report", "earlier"]))
        beds = (draw(st.one_of(st.none(), st.integers(0, 5)))
                if what == "open" and target.categories & BED_NEEDS else None)
        made_statuses.append((target.id, what, draw(st.integers(1, 12 * 24 * 60)), beds))
    return made_statuses


async def _compare_live(made: list[Service], said: list[tuple[str, str, int, int | None]],
                        lat: float, lon: float, needs: list[Need], moment: datetime,
                        limit: int) -> None:
    with tempfile.TemporaryDirectory() as folder:
        async with directory_session(Path(folder) / "d.sqlite3", demo=False) as directory:
            await directory.replace_source("test", made, format="csv", origin="t", region="")
            for service_id, what, minutes, beds in said:
                if what == "report":
                    await directory.live.report_closed(
                        service_id, now=moment - timedelta(minutes=minutes))
                elif what == "earlier":
                    await directory.live.set_status(
                        service_id, LiveState.OPEN, now=moment - timedelta(minutes=minutes))
                else:
                    await directory.live.set_status(
                        service_id, LiveState(what), beds=beds, now=moment - timedelta(hours=1),
                        until=moment + timedelta(minutes=minutes % 1200))
            hours = await directory.hours()
            everything = [(service, hours[hours_key])
                          for _key, hours_key, service in await directory.all_services()]
            live = await directory.live.current(now=moment)
            got = await nearest(directory, lat, lon, needs, moment, limit)
    want = brute_force_nearest(everything, lat, lon, needs, moment, limit, live=live)
    assert [(m.service.id, m.status, m.live, m.closed) for m in got] == [
        (m.service.id, m.status, m.live, m.closed) for m in want]
    assert [m.distance_m for m in got] == [m.distance_m for m in want]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), made=services(), point=clustered_points(),
       needs=st.lists(st.sampled_from(list(Need)), max_size=2), hour=st.integers(0, 23),
       limit=st.integers(1, 6))
def test_nearest_equals_brute_force_with_live_statuses(
        data: st.DataObject, made: list[Service], point: tuple[float, float],
        needs: list[Need], hour: int, limit: int) -> None:
    said = data.draw(statuses(made))
    moment = datetime(2025, 12, 25, hour, 30, tzinfo=UTC)
    asyncio.run(_compare_live(made, said, point[0], point[1], needs, moment, limit))


def test_brute_force_takes_the_live_statuses_it_is_given() -> None:
    near, far = service("near", 41.8801, "24/7"), service("far", 41.95, "24/7")
    everything = [(s, Hours(s.opening_hours, s.timezone, s.region)) for s in (near, far)]
    assert [m.service.id for m in brute_force_nearest(everything, 41.88, -87.63)] == [
        "near", "far"]
    full = {"near": Live(LiveState.FULL, until=NOON, updated=BEFORE)}
    ranked = brute_force_nearest(everything, 41.88, -87.63, live=full)
    assert [(m.service.id, m.live) for m in ranked] == [("far", None), ("near", full["near"])]


async def test_statuses_kept_between_searches_follow_every_write_and_every_expiry(
        directory: Directory) -> None:
    """Search keeps the statuses it read while nothing is written and the moment stays
    inside the window over which they hold (directory/store_reader.py): a new status, one
    replaced, and one that ended must each show in the very next search."""
    await directory.replace_source("t", [
        service("near", 41.8801, "24/7"), service("far", 41.95, "24/7"),
    ], format="csv", origin="t", region="")

    async def first(at: datetime) -> tuple[str, LiveState | None]:
        best = (await nearest(directory, 41.88, -87.63, [Need.DETOX], at, limit=2))[0]
        return best.service.id, best.live.state if best.live else None

    assert await first(NOON) == ("near", None)
    assert await first(NOON) == ("near", None)  # warm, and kept
    ends = NOON + timedelta(hours=2)
    await directory.live.set_status("near", LiveState.CLOSED, until=ends.astimezone(
        UTC).replace(tzinfo=None) - timedelta(hours=5), now=BEFORE)  # 14:00 CDT, local
    assert await first(NOON) == ("far", None)  # the write is seen at once
    assert await first(ends - timedelta(seconds=1)) == ("far", None)
    assert await first(ends) == ("near", None)  # the status has ended: its window with it
    assert await first(NOON) == ("far", None)  # and back inside it, it holds again
    await directory.live.set_status("near", LiveState.OPEN, now=BEFORE)  # replaced
    assert await first(NOON) == ("near", LiveState.OPEN)
