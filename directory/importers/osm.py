"""OpenStreetMap data as it is really exported: GeoJSON (overpass-turbo and osmtogeojson,
QGIS and QuickOSM, ogr2ogr) and the Overpass API's own JSON answer (`elements`).

This module owns the shapes of those files: reading each feature (or element) into one
record per OSM object with its tags as text, its id in the canonical form "node/123" (so
the same object from two exporters is the same service), and one point for its geometry.
An object exported twice into one file (a doctor that is also a dentist) is one record
with the needs of both. Each record is then checked once by `ServiceChecker`, which owns
what a field must be; needs come from the tags through `directory.mapping.OSM_TAGS`.
Rows in messages are feature (or element) numbers, counted from 1.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from directory.i18n import N_, Message
from directory.importers.common import (
    NOT_READ,
    Problem,
    Progress,
    ReadResult,
    ServiceChecker,
    Severity,
    read_json,
)
from directory.mapping import needs_from_osm
from directory.model import Need, Service

LonLat = tuple[float, float]
Shape = tuple[float, float, float]  # lon, lat and the area it stands for (0 if no area)
Missing = tuple[str, str, dict[str, object]]  # field, msgid and parameters of the warning

_TYPES = {"n": "node", "w": "way", "r": "relation",
          "node": "node", "way": "way", "relation": "relation"}
# "node/123" (overpass-turbo), an openstreetmap.org address, or "n123" (QGIS's full_id).
_TYPED_ID = re.compile(r"(?:https?://(?:www\.)?openstreetmap\.org/)?"
                       r"(?:(node|way|relation)/|([nwr]))(-?\d+)", re.I)
_NUMBER = re.compile(r"-?\d+")
# ogr2ogr keeps the tags without a column of their own in `other_tags`, as hstore text.
_HSTORE = re.compile(r'"((?:[^"\\]|\\.)*)"=>"((?:[^"\\]|\\.)*)"')
_ESCAPE = re.compile(r"\\(.)")
# GeoJSON advises against nesting collections; a bound keeps a hostile file from recursing.
_MAX_NESTING = 4
_NO_GEOMETRY: Missing = ("geometry", N_("%(feature)r has no geometry; left out"), {})
_NO_CENTER: Missing = ("center", N_("%(feature)r has no coordinates: export with `out center;` "
                                    "in the Overpass query; left out"), {})


@dataclass
class _Record:
    """One OSM object as read from the file (maybe from several features), not yet checked."""

    row: int
    osm_id: str
    tags: dict[str, str]
    needs: frozenset[Need]
    point: LonLat | None
    missing: Missing | None = None  # why there is no point
    not_an_object: str = ""  # msgid when the entry was not a JSON object at all


def read_osm(path: Path, *, source: str, region: str | None, encoding: str | None = None,
             progress: Progress | None = None) -> ReadResult:
    result = ReadResult()
    document = read_json(path, result.problems, encoding)
    if document is NOT_READ:
        return result
    records = _records(path.name, document, result)
    if records is None:
        return result
    checker = ServiceChecker(path.name, source, region, result)
    total = len(records)
    for done, record in enumerate(records, start=1):
        _check(checker, record)
        if progress is not None and (done % 1000 == 0 or done == total):
            progress(done, total)
    return checker.finish()


def _records(file: str, document: Any, result: ReadResult) -> list[_Record] | None:
    """The records of a FeatureCollection or an Overpass answer; None after a file error."""
    shape = document if isinstance(document, dict) else {}
    features, elements = shape.get("features"), shape.get("elements")
    if isinstance(features, list):
        if not features:
            result.problems.append(Problem(file, 1, "features", Message(
                N_("a FeatureCollection with no features"))))
            return None
        return _from_features(features)
    if not isinstance(elements, list):
        result.problems.append(Problem(file, 1, "file", Message(N_(
            "neither GeoJSON (an object with a \"features\" list) nor an Overpass API answer "
            "(an object with an \"elements\" list, from [out:json])"))))
        return None
    result.version = "Overpass API JSON"
    remark = shape.get("remark")
    if isinstance(remark, str) and remark.strip():
        # Overpass answers 200 with a partial result when a query times out or runs out of
        # memory, and says so only here.
        result.problems.append(Problem(file, 1, "remark", Message(
            N_("the Overpass answer says %(remark)r; it may be incomplete"),
            {"remark": remark.strip()}), Severity.WARNING))
    records = _from_elements(elements)
    if not records:
        result.problems.append(Problem(file, 1, "elements", Message(
            N_("none of the %(count)d elements has tags; export with `out center;` in the "
               "Overpass query"), {"count": len(elements)})))
        return None
    return records


def _from_features(features: list[Any]) -> list[_Record]:
    merged: dict[tuple[str, int], _Record] = {}
    for row, feature in enumerate(features, start=1):
        if not isinstance(feature, dict):
            _merge(merged, _Record(row, "", {}, frozenset(), None,
                                   not_an_object=N_("not a GeoJSON feature; left out")))
            continue
        properties = feature.get("properties")
        properties = properties if isinstance(properties, dict) else {}
        tags = _tags(properties)
        geometry = feature.get("geometry")
        shape = _shape(geometry) if isinstance(geometry, dict) else None
        _merge(merged, _Record(row, _feature_id(feature, properties, geometry), tags,
                               needs_from_osm(tags), shape[:2] if shape else None,
                               None if shape else _why_no_shape(geometry)))
    return list(merged.values())


def _from_elements(elements: list[Any]) -> list[_Record]:
    merged: dict[tuple[str, int], _Record] = {}
    for row, element in enumerate(elements, start=1):
        if not isinstance(element, dict):
            _merge(merged, _Record(row, "", {}, frozenset(), None,
                                   not_an_object=N_("not an Overpass element; left out")))
            continue
        raw = element.get("tags")
        if not isinstance(raw, dict) or not raw:
            continue  # a node that only makes up a way, or a way of a relation
        tags = _scalars(raw)
        point = _element_point(element)
        _merge(merged, _Record(row, _choose_id([(element.get("type"), element.get("id"))]),
                               tags, needs_from_osm(tags), point, None if point else _NO_CENTER))
    return list(merged.values())


def _merge(merged: dict[tuple[str, int], _Record], record: _Record) -> None:
    """Add a record, or fold it into the earlier one of the same OSM object: the needs of
    both, and what the first lacks (a tag, a point) taken from the second."""
    key = (record.osm_id, 0) if record.osm_id else ("", record.row)
    first = merged.get(key)
    if first is None:
        merged[key] = record
        return
    first.needs |= record.needs
    for name, value in record.tags.items():
        first.tags.setdefault(name, value)
    if first.point is None and record.point is not None:
        first.point, first.missing = record.point, None


def _tags(properties: Mapping[str, Any]) -> dict[str, str]:
    tags = _scalars(properties)
    nested = properties.get("tags")
    if isinstance(nested, dict):  # overpass-turbo's older output and others nest the tags
        tags.update(_scalars(nested))
    other = properties.get("other_tags")
    if isinstance(other, str):
        for key, value in _HSTORE.findall(other):
            tags.setdefault(_ESCAPE.sub(r"\1", key), _ESCAPE.sub(r"\1", value))
    return tags


def _scalars(values: Mapping[str, Any]) -> dict[str, str]:
    """Tags as text. JSON null is no tag at all (QGIS writes every column for every feature),
    numbers and booleans are their JSON text; objects and lists are not tags."""
    tags: dict[str, str] = {}
    for key, value in values.items():
        if value is None or isinstance(value, dict | list):
            continue
        text = value if isinstance(value, str) else json.dumps(value)
        if text.strip():
            tags[str(key)] = text
    return tags


def _feature_id(feature: Mapping[str, Any], properties: Mapping[str, Any],
                geometry: Any) -> str:
    """The id from the first field that has one, in the order exporters are common."""
    osm_type = properties.get("osm_type")
    if osm_type is None:
        # ogr2ogr's layers hold one kind each: its points are nodes, its lines ways.
        kind = geometry.get("type") if isinstance(geometry, dict) else None
        osm_type = {"Point": "node", "LineString": "way"}.get(kind) if isinstance(kind, str) \
            else None
    return _choose_id([
        (None, feature.get("id")), (None, properties.get("@id")),
        (properties.get("type"), properties.get("id")), (None, properties.get("full_id")),
        (osm_type, properties.get("osm_id")), ("way", properties.get("osm_way_id")),
    ])


def _choose_id(candidates: Sequence[tuple[Any, Any]]) -> str:
    """The first id among (type, id) pairs: "node/123" when its type is known, else as is.

    A bare number takes its type from a later field with the same number (QGIS writes the
    feature id beside full_id), so every exporter gives an object the same id.
    """
    found = (parsed for kind, value in candidates
             if (parsed := _parse_id(kind, value)) is not None)
    kind, number = next(found, (None, ""))
    if kind is None and _NUMBER.fullmatch(number):
        kind = next((k for k, n in found if k is not None and n == number), None)
    return f"{kind}/{number}" if kind else number


def _parse_id(kind: Any, value: Any) -> tuple[str | None, str] | None:
    if value is None or isinstance(value, bool | dict | list):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # a spreadsheet-like exporter wrote the id as a real
    text = value.strip() if isinstance(value, str) else json.dumps(value)
    if not text:
        return None
    typed = _TYPED_ID.fullmatch(text)
    if typed:
        return _TYPES[(typed.group(1) or typed.group(2)).lower()], typed.group(3)
    known = _TYPES.get(kind.strip().lower()) if isinstance(kind, str) else None
    return (known, text) if known and _NUMBER.fullmatch(text) else (None, text)


def _why_no_shape(geometry: Any) -> Missing:
    if not isinstance(geometry, dict):
        return _NO_GEOMETRY
    kind = geometry.get("type")
    if kind not in ("Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                    "MultiPolygon", "GeometryCollection"):
        return ("geometry", N_("%(feature)r has an unknown geometry type %(kind)r; left out"),
                {"kind": str(kind)})
    return ("geometry", N_("%(feature)r has a %(kind)s without usable coordinates; left out"),
            {"kind": kind})


def _shape(geometry: Mapping[str, Any], depth: int = 0) -> Shape | None:
    """A representative point of a geometry, with the area it stands for."""
    kind = geometry.get("type")
    coordinates: Any = geometry.get("coordinates")
    try:
        if kind == "Point":
            point = _position(coordinates)
            return (*point, 0.0) if point else None
        if kind in ("MultiPoint", "LineString"):
            return _mean(coordinates)
        if kind == "MultiLineString":
            return _mean([position for line in coordinates for position in line])
        if kind == "Polygon":
            return _polygon(coordinates)
        if kind == "MultiPolygon":
            parts = [shape for polygon in coordinates if (shape := _polygon(polygon))]
            return max(parts, key=lambda shape: shape[2], default=None)
        if kind == "GeometryCollection" and depth < _MAX_NESTING:
            members = [shape for member in geometry.get("geometries") or ()
                       if isinstance(member, dict) and (shape := _shape(member, depth + 1))]
            # The largest area; among members without one (points, lines) the first.
            return max(members, key=lambda shape: shape[2], default=None)
    except TypeError:  # coordinates of the wrong shape (a number where a list belongs)
        return None
    return None


def _position(value: Any) -> LonLat | None:
    if not isinstance(value, list) or len(value) < 2:
        return None
    lon, lat = value[0], value[1]
    if isinstance(lon, bool) or isinstance(lat, bool) or not isinstance(lon, int | float) \
            or not isinstance(lat, int | float):
        return None
    if not (math.isfinite(lon) and math.isfinite(lat)):  # json reads NaN and Infinity
        return None
    return float(lon), float(lat)


def _mean(positions: Any) -> Shape | None:
    points = [_position(position) for position in positions]
    if not points or None in points:
        return None
    usable = [point for point in points if point is not None]
    return (sum(p[0] for p in usable) / len(usable), sum(p[1] for p in usable) / len(usable),
            0.0)


def _polygon(rings: Any) -> Shape | None:
    """The area centroid of the outer ring (planar, in degrees: exact enough for a building
    or a block); the mean of its corners when it has no area."""
    if not isinstance(rings, list) or not rings:
        return None
    ring = [_position(position) for position in rings[0]]
    if not ring or None in ring:
        return None
    points = [point for point in ring if point is not None]
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    area /= 2
    if abs(area) < 1e-15:
        return _mean(rings[0])
    return cx / (6 * area), cy / (6 * area), abs(area)


def _element_point(element: Mapping[str, Any]) -> LonLat | None:
    """A node's own place; for a way or relation `out center;`, `out bb;` or `out geom;`."""
    if "lat" in element:
        return _position([element.get("lon"), element.get("lat")])
    center, bounds = element.get("center"), element.get("bounds")
    if isinstance(center, dict):
        return _position([center.get("lon"), center.get("lat")])
    if isinstance(bounds, dict):
        low = _position([bounds.get("minlon"), bounds.get("minlat")])
        high = _position([bounds.get("maxlon"), bounds.get("maxlat")])
        return ((low[0] + high[0]) / 2, (low[1] + high[1]) / 2) if low and high else None
    geometry = element.get("geometry")
    if isinstance(geometry, list):
        # `out geom;` leaves null where a node lies outside the query's bounding box.
        shape = _mean([[node.get("lon"), node.get("lat")] for node in geometry
                       if isinstance(node, dict)])
        return shape[:2] if shape else None
    return None


def _check(checker: ServiceChecker, record: _Record) -> None:
    row, tags = record.row, record.tags
    checker.begin(row, record.osm_id)
    if record.not_an_object:
        checker.warn(row, "feature", record.not_an_object)
        return
    name = next((" ".join(tags[key].split()) for key in ("name", "operator", "brand")
                 if tags.get(key, "").strip()), "")
    label = name or record.osm_id or f"{checker.file}:{row}"
    # Scope first: a bench or a bus stop with a broken geometry is not worth a warning.
    if not record.needs:
        checker.out_of_scope(label)
        return
    if record.point is None:
        field, msgid, params = record.missing or _NO_GEOMETRY
        checker.warn(row, field, msgid, feature=label, **params)
        checker.left_out(label)
        return
    service_id = checker.unique_id(row, record.osm_id)
    if not name:
        checker.problem(row, "name", N_("no name, operator or brand tag"))
    else:
        checker.named(name)
    lon, lat = record.point
    point = checker.coordinate(row, repr(lat), repr(lon))
    # The place first: phone numbers are read for the service's own country.
    zone, region = checker.place(*point) if point is not None else ("", "")
    languages = checker.languages(row, [key.split(":", 1)[1] for key, value in tags.items()
                                        if key.startswith("language:")
                                        and value.strip().lower() == "yes"])
    website = checker.website(row, _first(tags, "website", "contact:website", "url")[1])
    phone_tag, phone_text = _first(tags, "phone", "contact:phone", "contact:mobile")
    phone = checker.phone(row, phone_text, phone_tag)
    opening_hours = checker.opening_hours(row, tags.get("opening_hours", ""))
    if service_id is None or not name or point is None:
        return
    checker.add(row, Service(
        id=service_id, name=name, categories=record.needs, lat=point[0], lon=point[1],
        address=_address(tags), phone=phone, website=website,
        description=" ".join(tags.get("description", "").split()),
        opening_hours=opening_hours, languages=languages, walk_in=None,
        source=checker.source, timezone=zone, region=region,
    ))


def _first(tags: Mapping[str, str], *keys: str) -> tuple[str, str]:
    """The first of `keys` with a value, and that value; (keys[0], "") when none has one."""
    return next(((key, tags[key]) for key in keys if tags.get(key, "").strip()), (keys[0], ""))


def _address(tags: Mapping[str, str]) -> str:
    street = " ".join(p for p in (tags.get("addr:housenumber", ""), tags.get("addr:street", ""))
                      if p)
    parts = " ".join(" ".join(part.split()) for part in (
        street, tags.get("addr:city", ""), tags.get("addr:postcode", "")) if part.strip())
    return parts or " ".join(tags.get("addr:full", "").split())
