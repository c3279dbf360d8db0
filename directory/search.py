"""Nearest-open search: which services meeting a need are open now, nearest to here.

Order (the rank, then the distance, then the service id):

0. open: by its opening hours with no staff status, or said open by its staff (a current
   staff status wins over the hours, either way: staff know better);
1. hours unknown, no staff status ("call first");
2. full, said by its staff;
3. closed: by its hours with no staff status, or said closed by its staff.

Field reports ("reported closed recently") are shown, never ranked: they are unchecked.

The R*Tree gives the services in a box around the point, widened until enough open ones are
known to be the nearest; the haversine distance bounds the geodesic for the many, and the
exact geodesic is computed only for the few whose order it could change.
`brute_force_nearest` is the reference it must equal.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from directory import geo
from directory.hours import Hours, HoursStatus, State, localize
from directory.live import Live, LiveState
from directory.model import NEEDS, Need, Service
from directory.store import Directory, Reader
from directory.store_reader import Cold

_HOURS_RANK = {State.OPEN: 0, State.UNKNOWN: 1, State.CLOSED: 3}
_LIVE_RANK = {LiveState.OPEN: 0, LiveState.FULL: 2, LiveState.CLOSED: 3}
_FIRST_RADIUS_M = 2_000.0
_MIN_GROWTH, _MAX_GROWTH = 1.5, 4.0


@dataclass(frozen=True)
class Match:
    """One service in a result, with how far it is, whether its hours say it is open, and
    what its staff or field reports say now (`live`, None when nothing)."""

    service: Service
    distance_m: float
    status: HoursStatus
    live: Live | None = None

    @property
    def closed(self) -> bool:
        """Closed now: said closed by its staff, or closed by its hours and not said open by
        its staff. (Full is not closed: it is shown, ranked after the open ones.)"""
        staff = self.live.state if self.live is not None else None
        if staff is not None:
            return staff is LiveState.CLOSED
        return self.status.state is State.CLOSED


def query_time(lat: float, lon: float, at: datetime | None) -> datetime:
    """The moment asked about: now, or `at` (wall time at the query point if it has no offset)."""
    if at is None:
        return datetime.now(UTC)
    return localize(at, geo.timezone_at(lat, lon) if at.tzinfo is None else "")


@dataclass
class _Seen:
    rank: int
    low: float  # bounds on the geodesic distance; both the exact one once it is known
    high: float
    key: int
    hours_key: int
    exact: bool = False


async def nearest(
    directory: Directory, lat: float, lon: float, needs: Iterable[Need] = (),
    at: datetime | None = None, limit: int = 3, *, within_m: float | None = None,
) -> list[Match]:
    """The `limit` best services for these needs (any of them; none given: all services)."""
    if limit <= 0:
        return []
    moment = query_time(lat, lon, at)
    wanted = sorted(set(needs), key=NEEDS.index) or list(NEEDS)
    ceiling = min(within_m if within_m is not None else geo.WHOLE_EARTH_M, geo.WHOLE_EARTH_M)

    def search(reader: Reader) -> list[Match]:
        with reader.snapshot():
            return _Search(reader, lat, lon, wanted, moment, limit, ceiling).run()

    try:  # on the event loop while everything it needs is warm; else in the reader's thread
        return directory.reader.inline(search)
    except (Cold, sqlite3.OperationalError):  # OperationalError: busy past INLINE_BUSY_S
        return await directory.reader.run(search)


class _Search:
    """One search, run in the reader's thread inside one read transaction."""

    def __init__(self, reader: Reader, lat: float, lon: float, needs: list[Need],
                 moment: datetime, limit: int, ceiling: float) -> None:
        self.reader = reader
        self.lat, self.lon = lat, lon
        self.needs = needs
        self.moment = moment
        self.limit = limit
        self.ceiling = ceiling
        self.inline = reader.on_loop
        self.hours = reader.hours()
        self.ranks: dict[int, int] = {}  # per hours key: many services share their hours
        # By service key: usually none, or the few whose staff set a status today.
        staff, self.any_reports = reader.staff_states(moment)
        self.staff_ranks = {key: _LIVE_RANK[state] for key, state in staff.items()}
        self.services: dict[int, Service] = {}
        self.found: dict[int, _Seen] = {}  # by key: every service within a radius so far
        self.asked: list[geo.Box] = []  # the boxes read so far
        self.further: list[tuple[geo.CandidateRow, float, float]] = []  # read, beyond it
        self.bounder = geo.Bounder(lat, lon)

    def hours_of(self, hours_key: int) -> Hours:
        """A service's hours, ready to answer at the search's moment."""
        if hours_key not in self.hours:  # an import committed since the cache was filled
            self.hours = self.reader.hours(must_have=hours_key)
        hours = self.hours[hours_key]
        if self.inline and not hours.ready(self.moment):
            raise Cold  # compiling a year's rules takes milliseconds: not on the loop
        return hours

    def rank_of(self, hours_key: int) -> int:
        rank = self.ranks.get(hours_key)
        if rank is None:
            rank = self.ranks[hours_key] = _HOURS_RANK[
                self.hours_of(hours_key).state(self.moment)]
        return rank

    def measure(self, seen: Iterable[_Seen]) -> None:
        """Exact geodesic distances for these, from their exact coordinates."""
        missing = [s.key for s in seen if not s.exact and s.key not in self.services]
        if missing:
            self.services.update(self.reader.services(missing))
        for item in seen:
            if not item.exact:
                service = self.services[item.key]
                item.low = item.high = geo.geodesic_m(self.lat, self.lon, service.lat,
                                                      service.lon)
                item.exact = True

    def gather(self, radius: float) -> list[_Seen]:
        """Every service that may lie within radius (a few just outside, not yet told).

        Widening reads only the ring the boxes gained; what earlier boxes held beyond the
        earlier radius waits in `self.further`, its bounds known, for a wider circle."""
        boxes = geo.search_boxes(self.lat, self.lon, radius)
        rows = self.reader.candidates(boxes, self.needs, self.asked)
        self.asked = boxes
        further = self.further
        further.extend(self.bounder.bounded(rows, geo.COORDINATE_SLACK_M))
        found, staff_ranks, rank_of = self.found, self.staff_ranks, self.rank_of
        waiting = []
        for row, low, high in further:
            if low > radius:
                waiting.append((row, low, high))
                continue
            key = row[0]
            if key in found:  # a service meeting two of the needs comes twice
                continue
            hours_key = int(row[5])
            rank = staff_ranks.get(key)
            found[key] = _Seen(rank_of(hours_key) if rank is None else rank, low, high, key,
                               hours_key)
        self.further = waiting
        return list(found.values())

    def enough_open(self, pool: list[_Seen], radius: float) -> bool:
        """Are `limit` open services certainly within radius?"""
        sure = sum(1 for s in pool if s.rank == 0 and s.high <= radius)
        if sure >= self.limit:
            return True
        maybe = [s for s in pool if s.rank == 0 and s.low <= radius < s.high]
        if sure + len(maybe) < self.limit:
            return False
        self.measure(maybe)
        return sure + sum(1 for s in maybe if s.high <= radius) >= self.limit

    def run(self) -> list[Match]:
        radius = min(_FIRST_RADIUS_M, self.ceiling)
        while True:
            pool = self.gather(radius)
            # Enough open ones inside the circle are nearer than anything outside it; short
            # of that, an open service further away would still rank first: look further.
            if radius >= self.ceiling or self.enough_open(pool, radius):
                break
            open_count = sum(1 for s in pool if s.rank == 0 and s.low <= radius)
            # Grow by the area the open ones found so far suggest (density ~ count / r²),
            # with a margin; at least x1.5 so that sparse places are reached in a few steps.
            wanted = math.sqrt(self.limit / open_count) * 1.25 if open_count else 2.0
            radius = min(radius * min(max(wanted, _MIN_GROWTH), _MAX_GROWTH), self.ceiling)
        return self.best(pool, radius)

    def best(self, pool: list[_Seen], radius: float) -> list[Match]:
        while True:
            pool.sort(key=lambda s: (s.rank, s.high))
            contenders = pool
            if len(pool) > self.limit:
                last = pool[self.limit - 1]
                # Only these can still be among the best once exact distances are known.
                contenders = [s for s in pool if s.rank < last.rank
                              or (s.rank == last.rank and s.low <= last.high)]
            self.measure(contenders)
            outside = {s.key for s in contenders if s.high > radius}
            if not outside:
                break
            pool = [s for s in pool if s.key not in outside]
        ranked = sorted(contenders, key=lambda s: (s.rank, s.high, self.services[s.key].id))
        shown = ranked[: self.limit]
        # What staff and reports say is read for the few shown, and only if there is any.
        said = [self.services[s.key].id for s in shown
                if self.any_reports or s.key in self.staff_ranks]
        lives = self.reader.lives(said, self.moment) if said else {}
        # A service ranked by its staff's word has had its hours neither read nor made ready.
        statuses = [self.hours_of(s.hours_key).status(self.moment) for s in shown]
        return [Match(self.services[s.key], s.high, status, lives.get(self.services[s.key].id))
                for s, status in zip(shown, statuses, strict=True)]


def brute_force_nearest(
    services: Sequence[tuple[Service, Hours]], lat: float, lon: float,
    needs: Iterable[Need] = (), at: datetime | None = None, limit: int = 3,
    *, within_m: float | None = None, live: Mapping[str, Live] | None = None,
) -> list[Match]:
    """The reference answer: every service measured and evaluated, then sorted.

    `live`: what holds at that moment, by service id (`LiveDirectory.current(now=moment)`).
    """
    live = live or {}
    moment = query_time(lat, lon, at)
    wanted = set(needs) or set(Need)
    scored = []
    for service, service_hours in services:
        if not service.categories & wanted:
            continue
        distance = geo.geodesic_m(lat, lon, service.lat, service.lon)
        if within_m is not None and distance > within_m:
            continue
        status = service_hours.status(moment)
        said = live.get(service.id)
        rank = (_LIVE_RANK[said.state] if said is not None and said.state is not None
                else _HOURS_RANK[status.state])
        scored.append((rank, distance, service.id, service, status, said))
    scored.sort(key=lambda item: item[:3])
    return [Match(service, distance, status, said)
            for _rank, distance, _id, service, status, said in scored[:limit]]
