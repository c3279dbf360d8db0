"""Geodesy for the directory: a typed "lat,lon" read as a point, distances, search boxes,
where a point's clocks run and whose public holidays it keeps.

Ranking uses the exact WGS84 geodesic: Karney's algorithm, as geopy and geographiclib compute
it, through PROJ's C implementation (pyproj), about 0.6 µs against geographiclib's 40 µs in
pure Python, and equal to it within nanometres (tests/directory/test_geo.py). Search still
bounds it first with the haversine distance, which is within 0.6% of the geodesic everywhere
on Earth, and computes the exact one only where the bound cannot decide.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from functools import cache
from importlib import resources

from pyproj import Geod

_WGS84 = Geod(ellps="WGS84")
_MEAN_RADIUS_M = 6_371_008.8
# Smallest meridional radius of curvature of WGS84 (at the equator): one radian of latitude
# is never shorter than this along the ground, so it bounds latitude spans from above.
_MIN_RADIUS_M = 6_335_439.0
# The spherical (haversine) distance differs from the ellipsoidal geodesic by under 0.56%
# (flattening is 0.335%); the margin leaves room and is checked by a property test.
HAVERSINE_SLACK = 0.007
# How far the midpoint of an R*Tree entry (32-bit floats rounded outwards) can be from the
# point it stands for: under one float32 step at 180 degrees (2^-16 deg, 1.7 m) in each axis.
COORDINATE_SLACK_M = 3.0
# Longer than any geodesic on WGS84 (half the meridian is 20,003,931 m; the longest
# geodesic, between near-antipodal points on the equator, is 20,037,508 m).
WHOLE_EARTH_M = 20_100_000.0


def geodesic_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """The exact WGS84 geodesic distance in metres."""
    _forward, _back, distance = _WGS84.inv(lon1, lat1, lon2, lat2)
    return float(distance)


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean-radius sphere: an estimate of the geodesic."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


# Degrees as people type them: a point or nothing, no exponent, no sign but a minus; the two
# numbers separated by a comma, a semicolon or a space.
_LAT_LON = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,; ]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")


def parse_lat_lon(text: str) -> tuple[float, float] | None:
    """A point typed as "lat,lon" in decimal degrees ("41.88,-87.63", "41.88; -87.63",
    "41.88 -87.63"); None if the text is not one or lies outside -90..90, -180..180."""
    match = _LAT_LON.match(text)
    if match is None:
        return None
    lat, lon = float(match[1]), float(match[2])
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return lat, lon


class Bounder:
    """Cheap (low, high) intervals around the geodesic from one fixed point.

    The haversine estimate widened by HAVERSINE_SLACK; the point's trigonometry done once.
    """

    __slots__ = ("_cos_lat", "_lat", "_lon")

    def __init__(self, lat: float, lon: float) -> None:
        self._lat = math.radians(lat)
        self._lon = math.radians(lon)
        self._cos_lat = math.cos(self._lat)

    def bounded(self, rows: Iterable[CandidateRow], slack_m: float
                ) -> Iterator[tuple[CandidateRow, float, float]]:
        """The rows (key, min_lat, max_lat, min_lon, max_lon, ...), each with the (low, high)
        of its box's midpoint: `bounds` for many at once, the loop written out because search
        runs it for every candidate (benchmarks/nearest.py)."""
        lat0, lon0, cos0 = self._lat, self._lon, self._cos_lat
        radians, sin, cos, asin, sqrt = math.radians, math.sin, math.cos, math.asin, math.sqrt
        across = 2 * _MEAN_RADIUS_M
        below, above = 1 - HAVERSINE_SLACK, 1 + HAVERSINE_SLACK
        margin = 0.001 + slack_m
        for row in rows:
            p2 = radians((row[1] + row[2]) / 2)
            a = (sin((p2 - lat0) / 2) ** 2
                 + cos0 * cos(p2) * sin((radians((row[3] + row[4]) / 2) - lon0) / 2) ** 2)
            estimate = across * asin(min(1.0, sqrt(a)))
            yield row, max(0.0, estimate * below - margin), estimate * above + margin

    def bounds(self, lat: float, lon: float, slack_m: float = 0.0) -> tuple[float, float]:
        """(low, high) around the geodesic to (lat, lon), known to within slack_m."""
        p2 = math.radians(lat)
        a = (math.sin((p2 - self._lat) / 2) ** 2
             + self._cos_lat * math.cos(p2) * math.sin((math.radians(lon) - self._lon) / 2) ** 2)
        estimate = 2 * _MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
        return (max(0.0, estimate * (1 - HAVERSINE_SLACK) - 0.001 - slack_m),
                estimate * (1 + HAVERSINE_SLACK) + 0.001 + slack_m)


Box = tuple[float, float, float, float]  # min_lat, max_lat, min_lon, max_lon
# A search candidate as the R*Tree gives it: key, min_lat, max_lat, min_lon, max_lon, hours.
CandidateRow = tuple[int, float, float, float, float, int]


def search_boxes(lat: float, lon: float, radius_m: float) -> list[Box]:
    """Latitude/longitude boxes that together contain every point within radius_m.

    After Matuschek, "Finding Points Within a Distance of a Latitude/Longitude Using Bounding
    Coordinates", made conservative for the ellipsoid; split in two across the antimeridian and
    widened to all longitudes when the circle reaches a pole.
    """
    if radius_m >= WHOLE_EARTH_M:
        return [(-90.0, 90.0, -180.0, 180.0)]
    angle = radius_m / _MIN_RADIUS_M * 1.01
    lat_r = math.radians(lat)
    min_lat = lat_r - angle
    max_lat = lat_r + angle
    if min_lat <= -math.pi / 2 or max_lat >= math.pi / 2 or angle >= math.pi / 2:
        return [
            (math.degrees(max(min_lat, -math.pi / 2)), math.degrees(min(max_lat, math.pi / 2)),
             -180.0, 180.0)
        ]
    ratio = math.sin(angle) / math.cos(lat_r)
    if ratio >= 1.0:
        return [(math.degrees(min_lat), math.degrees(max_lat), -180.0, 180.0)]
    delta = math.degrees(math.asin(ratio))
    lo_lat, hi_lat = math.degrees(min_lat), math.degrees(max_lat)
    west, east = lon - delta, lon + delta
    if west < -180.0:
        return [(lo_lat, hi_lat, west + 360.0, 180.0), (lo_lat, hi_lat, -180.0, east)]
    if east > 180.0:
        return [(lo_lat, hi_lat, west, 180.0), (lo_lat, hi_lat, -180.0, east - 360.0)]
    return [(lo_lat, hi_lat, west, east)]


@cache
def _timezone_finder() -> object:
    # Loaded on first use (~40 ms, ~35 MB), never at import time; held in memory rather than
    # memory-mapped, so no file stays open for the life of the process.
    from timezonefinder import TimezoneFinder

    return TimezoneFinder(in_memory=True)


def timezone_at(lat: float, lon: float) -> str:
    """The IANA timezone in force at a point (an Etc/GMT zone at sea)."""
    finder = _timezone_finder()
    zone = finder.timezone_at(lat=lat, lng=lon)  # type: ignore[attr-defined]
    return str(zone) if zone else "UTC"


@cache
def _zone_countries() -> dict[str, str]:
    text = resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text(encoding="utf-8")
    countries: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        code, _coordinates, zone, *_ = line.split("\t")
        countries[zone] = code
    return countries


def country_of_zone(zone: str) -> str:
    """The ISO 3166 country a timezone belongs to, or "" for sea and polar zones.

    An approximation at borders: tzdata gives each zone one country (zone.tab), and the
    boundary data gives each country its own zone for nearly every populated place.
    """
    return _zone_countries().get(zone, "")


# Which subdivision (ISO 3166-2) a point lies in, for its regional public holidays: that of the
# nearest populated place of its country in the countries-states-cities database (152,000
# places, each with the ISO 3166-2 code of its state, province, county or department), climbed
# through ISO 3166-2's own hierarchy (pycountry: Glasgow City GB-GLG is in Scotland GB-SCT,
# Barcelona province ES-B in Catalonia ES-CT) to the first level python-holidays has a
# calendar for. Offline: both packages ship their data. No package found on PyPI ships admin-1
# boundaries with ISO codes, so this is the nearest place, not a point-in-polygon test: within
# a few kilometres of a state line (Neu-Ulm BY / Ulm BW) the neighbour's region can be given,
# and --region overrides it for a whole source.
_CELL_DEG = 0.05  # index cells ~5 km: two or three places each where people live
_COLUMNS = round(360 / _CELL_DEG)
_MAX_RINGS = 40  # ~2 degrees; farther than that from every known place: the country alone

_Place = tuple[float, float, str]  # lat, lon, holiday region ("DE-BY", or the country)


def _cell(lat: float, lon: float) -> tuple[int, int]:
    return math.floor(lat / _CELL_DEG), math.floor((lon + 180.0) / _CELL_DEG) % _COLUMNS


class _Places:
    """The populated places of one country by cell (keyed row * _COLUMNS + column), and what
    each cell asked about answers: the holiday region where every place that can be nearest
    to a point of the cell has the same one (all but the cells along a border), else those
    places, to compare for each point ("" where there is no place within reach)."""

    __slots__ = ("answers", "cells")

    def __init__(self, cells: dict[int, list[_Place]]) -> None:
        self.cells = cells
        self.answers: dict[int, str | list[_Place]] = {}

    def answer(self, row: int, column: int) -> str | list[_Place]:
        lat, lon = (row + 0.5) * _CELL_DEG, (column + 0.5) * _CELL_DEG - 180.0
        scale = math.cos(math.radians(lat))
        nearest = self.within(row, column, lat, lon, scale, math.inf, nearest_only=True)
        found: str | list[_Place] = ""
        if nearest:
            # A point of the cell is within `half` of its centre: its nearest place is within
            # d + half of it, so within d + 2 half of the centre (the margin: the metric's
            # scale changes a little across the cell).
            half = 0.5 * _CELL_DEG * math.hypot(1.0, scale)
            reach = (_distance(nearest[0], lat, lon, scale) + 2 * half) * 1.02
            found = self.within(row, column, lat, lon, scale, reach)
            regions = {region for _, _, region in found}
            if len(regions) == 1:
                found = regions.pop()
        self.answers[row * _COLUMNS + column] = found
        return found

    def within(self, row: int, column: int, lat: float, lon: float, scale: float,
               reach: float, nearest_only: bool = False) -> list[_Place]:
        """The places within `reach` (degrees) of a point of a cell, or only the nearest."""
        found: list[_Place] = []
        best = reach
        cells = self.cells
        for radius in range(_MAX_RINGS + 1):
            floor = max(0, radius - 1) * _CELL_DEG * scale  # no place in this ring is nearer
            if floor > best:
                break
            for i, j in _ring(row, column, radius):
                for place in cells.get(i * _COLUMNS + j, ()):
                    dx = ((place[1] - lon + 180.0) % 360.0 - 180.0) * scale
                    distance = math.sqrt(dx * dx + (place[0] - lat) ** 2)
                    if distance > best:
                        continue
                    if nearest_only:
                        best, found = distance, [place]
                    else:
                        found.append(place)
        return found


def _distance(place: _Place, lat: float, lon: float, scale: float) -> float:
    """Equirectangular distance in degrees at the point's latitude: exact enough to rank
    places a few kilometres apart."""
    return math.hypot(((place[1] - lon + 180.0) % 360.0 - 180.0) * scale, place[0] - lat)


@cache
def _places(country: str) -> _Places | None:
    """The populated places of a country with the holiday regions they lie in; None where
    python-holidays has no subdivision calendars for the country.

    The cities are read as the package's own loader gives them: its API makes a pydantic
    model of each, which doubles the time (0.13 s for the 16,720 of the United States).
    """
    if not _holiday_subdivisions(country):
        return None
    from countrystatecity_countries import get_states_of_country
    from countrystatecity_countries.loaders import DataLoader

    cells: defaultdict[int, list[_Place]] = defaultdict(list)
    for state in get_states_of_country(country):
        region = _holiday_region_of(country, state.state_code)
        for city in DataLoader.load_cities(country, state.state_code):
            try:
                lat, lon = float(city["latitude"]), float(city["longitude"])
            except (KeyError, TypeError, ValueError):
                continue
            row, column = _cell(lat, lon)
            cells[row * _COLUMNS + column].append((lat, lon, region))
    DataLoader.clear_cache()  # the loader keeps every file it read: 38 MB for five countries
    return _Places(dict(cells))


def _ring(row: int, column: int, radius: int) -> Iterator[tuple[int, int]]:
    """The cells at Chebyshev distance `radius` around one cell."""
    if radius == 0:
        yield row, column
        return
    for j in range(column - radius, column + radius + 1):
        yield row - radius, j % _COLUMNS
        yield row + radius, j % _COLUMNS
    for i in range(row - radius + 1, row + radius):
        yield i, (column - radius) % _COLUMNS
        yield i, (column + radius) % _COLUMNS


@cache
def _holiday_subdivisions(country: str) -> frozenset[str]:
    """The subdivisions python-holidays has a calendar for (none for unknown countries)."""
    import holidays

    try:
        return frozenset(holidays.country_holidays(country).subdivisions)
    except NotImplementedError:
        return frozenset()


@cache
def _holiday_region_of(country: str, subdivision: str) -> str:
    """The subdivision itself, or the nearest one enclosing it, that python-holidays has a
    calendar for ("DE-BY", "GB-SCT", "FR-6AE"); else the country."""
    import pycountry

    known = _holiday_subdivisions(country)
    code: str | None = f"{country}-{subdivision}"
    for _ in range(5):  # ISO 3166-2 has at most three levels
        if code is None:
            break
        if code.partition("-")[2] in known:
            return code
        found = pycountry.subdivisions.get(code=code)  # type: ignore[no-untyped-call]
        parent = getattr(found, "parent_code", None) if found is not None else None
        code = (parent if "-" in parent else f"{country}-{parent}") if parent else None
    return country


def holiday_region(lat: float, lon: float, country: str) -> str:
    """The region whose public holidays apply at a point of `country` (its ISO 3166 code, as
    `country_of_zone` gives it): "DE-BW" in Stuttgart, "GB-SCT" in Glasgow, "US-IL" in
    Chicago; the country where python-holidays has no calendar for the point's subdivision
    (Paris: "FR") or no place of the country is within about 2 degrees; "" for "" (at sea)."""
    places = _places(country) if country else None
    if places is None:
        return country
    row = math.floor(lat / _CELL_DEG)
    column = math.floor((lon + 180.0) / _CELL_DEG) % _COLUMNS
    found = places.answers.get(row * _COLUMNS + column)
    if found is None:
        found = places.answer(row, column)
    if isinstance(found, str):
        return found or country
    scale = math.cos(math.radians(lat))
    return min(found, key=lambda place: _distance(place, lat, lon, scale))[2]
