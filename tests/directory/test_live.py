"""The live directory: staff statuses that expire, field reports, health and retention."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from directory.live import Live, LiveState
from directory.model import Need, Service
from directory.store import Directory

# 14:00 in Chicago (CDT, UTC-5): the local day ends at 05:00 UTC on the 12th.
NOW = datetime(2025, 6, 11, 19, 0, tzinfo=UTC)
END_OF_DAY = datetime(2025, 6, 12, 5, 0, tzinfo=UTC)


def service(id_: str, needs: set[Need], hours: str = "24/7", lat: float = 41.88) -> Service:
    return Service(id=id_, name=id_.title(), categories=frozenset(needs), lat=lat, lon=-87.63,
                   opening_hours=hours, timezone="America/Chicago", region="US-IL")


@pytest.fixture
async def chicago(directory: Directory) -> Directory:
    await directory.replace_source("city", [
        service("detox", {Need.DETOX}), service("peers", {Need.PEER_SUPPORT}),
        service("shelter", {Need.SHELTER, Need.CRISIS}, "Mo-Fr 09:00-10:00"),
    ], format="csv", origin="t", region="US-IL")
    return directory


async def test_a_status_lasts_until_the_end_of_the_local_day(chicago: Directory) -> None:
    said = await chicago.live.set_status("peers", LiveState.CLOSED, now=NOW)
    assert said == Live(LiveState.CLOSED, None, END_OF_DAY, NOW)
    assert await chicago.live.current(now=END_OF_DAY - timedelta(seconds=1)) == {
        "peers": said}
    assert await chicago.live.current(now=END_OF_DAY) == {}  # expired: as if absent
    # Full until a time: a wall time without an offset is the service's own.
    full = await chicago.live.set_status("detox", LiveState.FULL,
                                         until=datetime(2025, 6, 11, 18, 0), now=NOW)
    assert full.until == datetime(2025, 6, 11, 23, 0, tzinfo=UTC)
    assert set(await chicago.live.current(["detox"], now=NOW)) == {"detox"}


async def test_an_until_past_or_beyond_tomorrow_is_refused(chicago: Directory) -> None:
    live = chicago.live
    with pytest.raises(ValueError, match="past"):
        await live.set_status("detox", LiveState.FULL, until=NOW, now=NOW)
    with pytest.raises(ValueError, match="next local day"):
        await live.set_status("detox", LiveState.FULL,
                              until=END_OF_DAY + timedelta(days=1, seconds=1), now=NOW)
    latest = await live.set_status("detox", LiveState.FULL, until=END_OF_DAY + timedelta(days=1),
                                   now=NOW)
    assert latest.until == datetime(2025, 6, 13, 5, 0, tzinfo=UTC)
    with pytest.raises(KeyError):
        await live.set_status("nowhere", LiveState.OPEN, now=NOW)
    with pytest.raises(ValueError, match="aware"):
        await live.set_status("detox", LiveState.OPEN, now=datetime(2025, 6, 11, 14, 0))


async def test_beds_only_for_detox_and_shelter_and_none_free_is_full(
        chicago: Directory) -> None:
    live = chicago.live
    assert (await live.set_status("detox", LiveState.OPEN, beds=3, now=NOW)).beds == 3
    assert (await live.set_status("shelter", LiveState.OPEN, beds=1, now=NOW)).beds == 1
    with pytest.raises(ValueError, match="beds"):
        await live.set_status("peers", LiveState.OPEN, beds=2, now=NOW)
    with pytest.raises(ValueError, match="beds"):
        await live.set_status("detox", LiveState.CLOSED, beds=2, now=NOW)
    with pytest.raises(ValueError, match="beds"):
        await live.set_status("detox", LiveState.OPEN, beds=-1, now=NOW)
    none_free = await live.set_status("detox", LiveState.OPEN, beds=0, now=NOW)
    assert (none_free.state, none_free.beds) == (LiveState.FULL, 0)
    assert (await live.current(now=NOW))["detox"] == none_free  # the latest replaces the first


async def test_reports_show_until_staff_say_otherwise(chicago: Directory) -> None:
    live = chicago.live
    await live.report_closed("detox", now=NOW)
    await live.report_closed("detox", now=NOW)
    assert await live.current(now=NOW) == {"detox": Live(None, reported_closed=True)}
    # Seven days: the report day and the six after it.
    assert (await live.current(now=NOW + timedelta(days=6)))["detox"].reported_closed
    assert await live.current(now=NOW + timedelta(days=7)) == {}
    # Staff set a status on the report's day: it answers the report while it holds...
    said = await live.set_status("detox", LiveState.OPEN, now=NOW + timedelta(hours=1))
    assert (await live.current(now=NOW + timedelta(hours=2)))["detox"] == said
    # ...and once it has lapsed, the recent report speaks again.
    assert await live.current(now=END_OF_DAY + timedelta(hours=1)) == {
        "detox": Live(None, reported_closed=True)}
    # A status older than the latest report day holds, and the report is shown beside it.
    older = await live.set_status("peers", LiveState.OPEN, until=END_OF_DAY + timedelta(days=1),
                                  now=NOW)
    await live.report_closed("peers", now=NOW + timedelta(days=1))
    tomorrow = await live.current(["peers"], now=NOW + timedelta(days=1))
    assert tomorrow == {"peers": Live(LiveState.OPEN, None, older.until, NOW, True)}


async def test_health_lists_the_stalest_first(chicago: Directory) -> None:
    live = chicago.live
    imported = datetime.fromisoformat((await chicago.sources())[0].imported_at)
    after = imported + timedelta(hours=1)  # the source was imported just now
    status = await live.set_status("detox", LiveState.FULL, now=after)
    await live.report_closed("shelter", now=after - timedelta(days=40))  # too old to count
    await live.report_closed("shelter", now=after - timedelta(days=3))
    await live.report_closed("shelter", now=after)
    # The storage writes arrivals; the directory only reads them.
    await chicago.db.execute("INSERT INTO service_arrival (service_id, day) VALUES (?, ?)",
                             ("peers", (imported + timedelta(days=2)).date().isoformat()))
    later = after + timedelta(days=1, hours=1)  # the status has expired: health still shows it
    rows = await live.health(later)
    assert [row.service_id for row in rows] == ["shelter", "detox", "peers"]
    shelter, detox, peers = rows
    assert shelter.imported_at == imported
    assert (shelter.status, shelter.arrival, shelter.reports) == (None, None, 2)
    assert shelter.checked == imported
    assert (detox.status, detox.status_updated, detox.status_until) == (
        LiveState.FULL, status.updated, status.until)
    assert detox.checked == status.updated
    assert peers.arrival == (imported + timedelta(days=2)).date()
    assert [row.service_id for row in await live.health(later, limit=1)] == ["shelter"]


async def test_expire_forgets_lapsed_statuses_and_old_reports(chicago: Directory) -> None:
    live = chicago.live
    await live.set_status("detox", LiveState.FULL, now=NOW)
    await live.report_closed("peers", now=NOW - timedelta(days=30))
    await live.report_closed("peers", now=NOW - timedelta(days=29))
    assert await live.expire(NOW) == (0, 1)  # reports of the last 30 days are kept
    assert {row.service_id: row.reports for row in await live.health(NOW)}["peers"] == 1
    assert await live.expire(END_OF_DAY + timedelta(days=1)) == (0, 1)  # lapsed a day ago
    assert {row.service_id: row.status for row in await live.health(NOW)}["detox"] is not None
    assert await live.expire(END_OF_DAY + timedelta(days=1, seconds=1)) == (1, 0)
    assert {row.service_id: row.status for row in await live.health(NOW)}["detox"] is None


async def test_live_round_trips_through_json(chicago: Directory) -> None:
    said = await chicago.live.set_status("detox", LiveState.OPEN, beds=2, now=NOW)
    assert Live.from_json(said.as_json()) == said
    reported = Live(None, reported_closed=True)
    assert Live.from_json(reported.as_json()) == reported


async def test_open_now_as_search_ranks_first(chicago: Directory) -> None:
    live = chicago.live
    everything = ["detox", "peers", "shelter", "gone"]
    # Hours: detox and peers 24/7, shelter Mo-Fr 09:00-10:00 (closed at 14:00).
    assert await chicago.open_now(everything, NOW) == {"detox", "peers"}
    await live.set_status("detox", LiveState.FULL, now=NOW)
    await live.set_status("shelter", LiveState.OPEN, beds=4, now=NOW)
    await live.report_closed("peers", now=NOW)  # reports are shown, never ranked
    assert await chicago.open_now(everything, NOW) == {"peers", "shelter"}
    assert await chicago.open_now([], NOW) == set()
    found = await chicago.services_by_id(["peers", "gone", "peers"])
    assert list(found) == ["peers"]
    assert found["peers"].categories == {Need.PEER_SUPPORT}
