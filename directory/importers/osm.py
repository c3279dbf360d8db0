"""OpenStreetMap GeoJSON, as Overpass (overpass-turbo) exports it.

Every feature is one place; its tags are the feature's properties. Needs come from the tags
through `directory.mapping.OSM_TAGS`; `opening_hours` is taken as is. Polygons use their
area centroid. Rows in messages are feature numbers, counted from 1.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from directory.i18n import N_, Message
from directory.importers.common import Problem, ReadResult, ServiceChecker, Severity, decode
from directory.mapping import needs_from_osm
from directory.model import Service


def read_osm(path: Path, *, source: str, region: str | None) -> ReadResult:
    result = ReadResult()
    text = decode(path, path.read_bytes(), result.problems)
    if text is None:
        return result
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        result.problems.append(Problem(path.name, error.lineno, "file", Message(
            N_("not valid JSON: %(detail)s (column %(column)d)"),
            {"detail": error.msg, "column": error.colno})))
        return result
    features = document.get("features") if isinstance(document, dict) else None
    if not isinstance(features, list):
        result.problems.append(Problem(path.name, 1, "features", Message(
            N_("not a GeoJSON FeatureCollection (no \"features\" list)"))))
        return result
    if not features:
        result.problems.append(Problem(path.name, 1, "features", Message(
            N_("a FeatureCollection with no features"))))
        return result
    checker = ServiceChecker(path.name, source, region, result)
    for number, feature in enumerate(features, start=1):
        _feature(checker, number, feature)
    return checker.finish()


def _feature(checker: ServiceChecker, row: int, feature: Any) -> None:
    file = checker.file
    problems = checker.result.problems
    if not isinstance(feature, dict):
        problems.append(Problem(file, row, "feature", Message(N_("not a GeoJSON feature"))))
        return
    raw_tags = feature.get("properties") or {}
    tags = {str(k): str(v) for k, v in raw_tags.items()} if isinstance(raw_tags, dict) else {}
    nested = raw_tags.get("tags") if isinstance(raw_tags, dict) else None
    if isinstance(nested, dict):  # some exporters nest the OSM tags one level down
        tags.update({str(k): str(v) for k, v in nested.items()})
    needs = needs_from_osm(tags)
    if not needs:
        checker.result.not_in_scope += 1
        return
    osm_id = str(feature.get("id") or tags.get("@id") or tags.get("id") or "")
    service_id = checker.unique_id(row, osm_id)
    point = _centroid(feature.get("geometry"))
    if point is None:
        problems.append(Problem(file, row, "geometry", Message(
            N_("missing or not a Point, LineString or Polygon"))))
        return
    coordinates = checker.coordinate(row, repr(point[1]), repr(point[0]))
    name = tags.get("name") or tags.get("operator") or tags.get("brand") or ""
    if not name.strip():
        problems.append(Problem(file, row, "name", Message(
            N_("no name, operator or brand tag; imported with its OSM id as name")),
            Severity.WARNING))
        name = osm_id
    languages = checker.languages(row, [key.split(":", 1)[1] for key, value in tags.items()
                                        if key.startswith("language:") and value == "yes"])
    website = checker.website(row, tags.get("website") or tags.get("contact:website") or "")
    opening_hours = checker.opening_hours(row, tags.get("opening_hours", ""))
    if service_id is None or coordinates is None or languages is None or website is None:
        return
    zone, region = checker.place(*coordinates)
    address = " ".join(part for part in (
        " ".join(p for p in (tags.get("addr:housenumber", ""), tags.get("addr:street", "")) if p),
        tags.get("addr:city", ""), tags.get("addr:postcode", "")) if part)
    checker.add(row, Service(
        id=service_id, name=name.strip(), categories=needs, lat=coordinates[0],
        lon=coordinates[1], address=address,
        phone=tags.get("phone") or tags.get("contact:phone") or "", website=website,
        description=tags.get("description", ""), opening_hours=opening_hours,
        languages=languages,
        walk_in=None, source=checker.source, timezone=zone, region=region,
    ))


def _centroid(geometry: Any) -> tuple[float, float] | None:
    """(lon, lat) of a Point, the middle of a line, or the area centroid of a polygon."""
    if not isinstance(geometry, dict):
        return None
    kind = geometry.get("type")
    coordinates: Any = geometry.get("coordinates")
    try:
        if kind == "Point":
            return float(coordinates[0]), float(coordinates[1])
        if kind == "LineString":
            return _mean(coordinates)
        if kind == "Polygon":
            return _ring_centroid(coordinates[0])
        if kind == "MultiPolygon":
            largest = max(coordinates, key=lambda polygon: abs(_ring_area(polygon[0])))
            return _ring_centroid(largest[0])
    except (TypeError, ValueError, IndexError):
        return None
    return None


def _mean(points: Sequence[Sequence[float]]) -> tuple[float, float]:
    return (sum(float(p[0]) for p in points) / len(points),
            sum(float(p[1]) for p in points) / len(points))


def _ring_area(ring: Sequence[Sequence[float]]) -> float:
    return sum(float(a[0]) * float(b[1]) - float(b[0]) * float(a[1])
               for a, b in zip(ring, ring[1:], strict=False)) / 2


def _ring_centroid(ring: Sequence[Sequence[float]]) -> tuple[float, float]:
    # Planar centroid in degrees: exact enough for a building or a block.
    area = _ring_area(ring)
    if abs(area) < 1e-15:
        return _mean(ring)
    cx = cy = 0.0
    for a, b in zip(ring, ring[1:], strict=False):
        cross = float(a[0]) * float(b[1]) - float(b[0]) * float(a[1])
        cx += (float(a[0]) + float(b[0])) * cross
        cy += (float(a[1]) + float(b[1])) * cross
    return cx / (6 * area), cy / (6 * area)
