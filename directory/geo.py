"""Geodesy for the directory: distances, search boxes, and where a point's clocks run.

Ranking uses the exact WGS84 geodesic (Karney's algorithm, via geographiclib, which geopy
itself uses). It costs ~40 µs, so search first bounds it with the haversine distance, which is
within 0.6% of the geodesic everywhere on Earth, and computes the exact one only where the
bound cannot decide.
"""

from __future__ import annotations

import math
from functools import cache
from importlib import resources

from geographiclib.geodesic import Geodesic

_WGS84 = Geodesic.WGS84
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
    result = _WGS84.Inverse(lat1, lon1, lat2, lon2, Geodesic.DISTANCE)
    return float(result["s12"])


def haversine_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance on the mean-radius sphere: an estimate of the geodesic."""
    p1 = math.radians(lat1)
    p2 = math.radians(lat2)
    dp = p2 - p1
    dl = math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))


class Bounder:
    """Cheap (low, high) intervals around the geodesic from one fixed point.

    The haversine estimate widened by HAVERSINE_SLACK; the point's trigonometry done once.
    """

    __slots__ = ("_cos_lat", "_lat", "_lon")

    def __init__(self, lat: float, lon: float) -> None:
        self._lat = math.radians(lat)
        self._lon = math.radians(lon)
        self._cos_lat = math.cos(self._lat)

    def bounds(self, lat: float, lon: float, slack_m: float = 0.0) -> tuple[float, float]:
        """(low, high) around the geodesic to (lat, lon), known to within slack_m."""
        p2 = math.radians(lat)
        a = (math.sin((p2 - self._lat) / 2) ** 2
             + self._cos_lat * math.cos(p2) * math.sin((math.radians(lon) - self._lon) / 2) ** 2)
        estimate = 2 * _MEAN_RADIUS_M * math.asin(min(1.0, math.sqrt(a)))
        return (max(0.0, estimate * (1 - HAVERSINE_SLACK) - 0.001 - slack_m),
                estimate * (1 + HAVERSINE_SLACK) + 0.001 + slack_m)


Box = tuple[float, float, float, float]  # min_lat, max_lat, min_lon, max_lon


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
