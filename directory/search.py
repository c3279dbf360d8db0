"""Nearest-open search: which services meeting a need are open now, nearest to here.

Order: open services nearest first, then those whose hours are unknown ("call first"), then
closed ones with when they open; ties broken by service id. The R*Tree gives the services in
a box around the point, widened until enough open ones are known to be the nearest; the
haversine distance bounds the geodesic for the many, and the exact geodesic is computed only
for the few whose order it could change. `brute_force_nearest` is the reference it must equal.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from directory import geo
from directory.hours import Hours, HoursStatus, State, localize
from directory.model import Need, Service, needs_mask
from directory.store import Candidate, Directory, Reader

_RANK = {State.OPEN: 0, State.UNKNOWN: 1, State.CLOSED: 2}
_FIRST_RADIUS_M = 2_000.0
_MIN_GROWTH, _MAX_GROWTH = 1.5, 4.0


@dataclass(frozen=True)
class Match:
    """One service in a result, with how far it is and whether it is open."""

    service: Service
    distance_m: float
    status: HoursStatus


def query_time(lat: float, lon: float, at: datetime | None) -> datetime:
    """The moment asked about: now, or `at` (wall time at the query point if it has no offset)."""
    if at is None:
        return datetime.now(UTC)
    return localize(at, geo.timezone_at(lat, lon) if at.tzinfo is None else "")


@dataclass
class _Seen:
    rank: int
    low: float
    high: float
    exact: float | None
    candidate: Candidate


async def nearest(
    directory: Directory, lat: float, lon: float, needs: Iterable[Need] = (),
    at: datetime | None = None, limit: int = 3, *, within_m: float | None = None,
) -> list[Match]:
    """The `limit` best services for these needs (any of them; none given: all services)."""
    if limit <= 0:
        return []
    moment = query_time(lat, lon, at)
    mask = needs_mask(tuple(needs)) or needs_mask(tuple(Need))
    ceiling = min(within_m if within_m is not None else geo.WHOLE_EARTH_M, geo.WHOLE_EARTH_M)

    def search(reader: Reader) -> list[Match]:
        with reader.snapshot():
            return _search(reader, lat, lon, mask, moment, limit, ceiling)

    return await directory.reader.run(search)


def _search(reader: Reader, lat: float, lon: float, mask: int, moment: datetime, limit: int,
            ceiling: float) -> list[Match]:
    hours = reader.hours()
    ranks: dict[int, int] = {}  # per hours key: many services share their hours

    def rank_of(hours_key: int) -> int:
        nonlocal hours
        rank = ranks.get(hours_key)
        if rank is None:
            if hours_key not in hours:
                hours = reader.hours(must_have=hours_key)
            rank = ranks[hours_key] = _RANK[hours[hours_key].state(moment)]
        return rank

    radius = min(_FIRST_RADIUS_M, ceiling)
    while True:
        inside: list[_Seen] = []
        for candidate in reader.candidates(geo.search_boxes(lat, lon, radius), mask):
            low, high = geo.geodesic_bounds(lat, lon, candidate.lat, candidate.lon)
            if low > radius:
                continue
            exact = None
            if high > radius:
                exact = geo.geodesic_m(lat, lon, candidate.lat, candidate.lon)
                if exact > radius:
                    continue
            inside.append(_Seen(rank_of(candidate.hours_key), low, high, exact, candidate))
        open_count = sum(1 for seen in inside if seen.rank == 0)
        # Enough open ones inside the circle are nearer than anything outside it; short of
        # that, an open service further away would still rank first, so look further.
        if open_count >= limit or radius >= ceiling:
            break
        # Grow by the area the open ones found so far suggest (density ~ open_count / r²),
        # with a margin; at least x1.5 so that sparse places are reached in a few steps.
        wanted = math.sqrt(limit / open_count) * 1.25 if open_count else 2.0
        radius = min(radius * min(max(wanted, _MIN_GROWTH), _MAX_GROWTH), ceiling)

    inside.sort(key=lambda seen: (seen.rank, seen.high))
    if len(inside) > limit:
        last = inside[limit - 1]
        # Only these can still be among the best once exact distances are known.
        inside = [seen for seen in inside if seen.rank < last.rank
                  or (seen.rank == last.rank and seen.low <= last.high)]
    for seen in inside:
        if seen.exact is None:
            seen.exact = geo.geodesic_m(lat, lon, seen.candidate.lat, seen.candidate.lon)
    services = reader.services([seen.candidate.key for seen in inside])
    ranked = sorted(inside, key=lambda seen: (seen.rank, seen.exact,
                                              services[seen.candidate.key].id))[:limit]
    return [
        Match(services[seen.candidate.key], float(seen.exact or 0.0),
              hours[seen.candidate.hours_key].status(moment))
        for seen in ranked
    ]


def brute_force_nearest(
    services: Sequence[tuple[Service, Hours]], lat: float, lon: float,
    needs: Iterable[Need] = (), at: datetime | None = None, limit: int = 3,
    *, within_m: float | None = None,
) -> list[Match]:
    """The reference answer: every service measured and evaluated, then sorted."""
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
        scored.append((_RANK[status.state], distance, service.id, service, status))
    scored.sort(key=lambda item: item[:3])
    return [Match(service, distance, status)
            for _rank, distance, _id, service, status in scored[:limit]]
