"""OpenStreetMap import: GeoJSON as each exporter writes it and the raw Overpass answer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from directory.importers import ReadResult, read_path
from directory.importers.osm import read_osm
from directory.mapping import needs_from_osm
from directory.model import Need, Service

VIENNA = (16.37, 48.21)  # lon, lat
CHICAGO = (-87.63, 41.88)
SYRINGES = {"vending": "syringes"}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def feature(properties: dict[str, Any] | None, geometry: dict[str, Any] | None = None,
            osm_id: Any = "node/1", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"type": "Feature", "properties": properties,
                            "geometry": point(*CHICAGO) if geometry is None else geometry,
                            **extra}
    if osm_id is not None:
        item["id"] = osm_id
    return item


def write(tmp_path: Path, document: Any, name: str = "export.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def read(tmp_path: Path, *features: dict[str, Any]) -> ReadResult:
    path = write(tmp_path, {"type": "FeatureCollection", "features": list(features)})
    return read_osm(path, source="osm", region=None)


def errors(result: ReadResult) -> list[str]:
    return [p.render_english() for p in result.errors]


def warnings(result: ReadResult) -> list[str]:
    return [p.render_english() for p in result.warnings]


def only(result: ReadResult) -> Service:
    assert errors(result) == []
    (service,) = result.services
    return service


# --- tags ------------------------------------------------------------------------------------

def test_null_properties_are_empty_and_numbers_and_booleans_their_json_text(
        tmp_path: Path) -> None:
    service = only(read(tmp_path, feature({
        "name": None, "operator": "City Health", "vending": "syringes", "website": None,
        "phone": None, "opening_hours": None, "description": True, "addr:housenumber": 12,
        "addr:street": "Main St", "addr:city": None})))
    assert service.name == "City Health"  # a null name is no name: the operator stands in
    assert (service.website, service.phone, service.opening_hours) == ("", "", "")
    assert service.description == "true"
    assert service.address == "12 Main St"
    assert "'None'" not in repr(service)  # no null became the text None


def test_tags_nested_in_properties_as_overpass_turbo_used_to_write_them(tmp_path: Path) -> None:
    service = only(read(tmp_path, feature(
        {"type": "way", "id": 42, "tags": {"name": "Clinic", "healthcare:speciality":
                                           "methadone"},
         "meta": {"user": "someone"}, "relations": []}, osm_id=None)))
    assert (service.id, service.name) == ("way/42", "Clinic")
    assert service.categories == {Need.MOUD, Need.TREATMENT}


def test_ogr2ogr_other_tags_are_read(tmp_path: Path) -> None:
    service = only(read(tmp_path, feature(
        {"osm_id": "7", "name": "Needles", "other_tags":
         '"vending"=>"syringes","opening_hours"=>"24/7","description"=>"say \\"hi\\""'},
        osm_id=None)))
    assert (service.id, service.opening_hours) == ("node/7", "24/7")
    assert service.categories == {Need.HARM_REDUCTION}
    assert service.description == 'say "hi"'  # hstore escapes quotes with a backslash


def test_language_tags(tmp_path: Path) -> None:
    service = only(read(tmp_path, feature({"name": "A", **SYRINGES, "language:de": "yes",
                                           "language:en": "no", "language:tr": "yes"})))
    assert service.languages == ("de", "tr")


# --- ids -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("feature_id", "properties", "geometry", "expected"), [
    ("node/1", {}, None, "node/1"),
    (None, {"@id": "way/2"}, None, "way/2"),
    (None, {"type": "relation", "id": 3}, None, "relation/3"),
    (None, {"full_id": "n4"}, None, "node/4"),
    (None, {"full_id": "w5"}, None, "way/5"),
    (None, {"full_id": "r6"}, None, "relation/6"),
    (None, {"osm_type": "way", "osm_id": 7}, None, "way/7"),
    (None, {"osm_type": "node", "osm_id": "8"}, None, "node/8"),
    (None, {"osm_id": "9"}, None, "node/9"),  # ogr2ogr's points layer holds nodes only
    (None, {"osm_id": None, "osm_way_id": "10"},
     {"type": "MultiPolygon", "coordinates": [[[[16.3, 48.2], [16.4, 48.2], [16.4, 48.3],
                                                [16.3, 48.2]]]]}, "way/10"),
    (None, {"osm_id": "11"},
     {"type": "MultiPolygon", "coordinates": [[[[16.3, 48.2], [16.4, 48.2], [16.4, 48.3],
                                                [16.3, 48.2]]]]}, "11"),
    (12, {"full_id": "n12"}, None, "node/12"),  # QGIS: a bare feature id beside full_id
    (13, {}, None, "13"),
    ("https://www.openstreetmap.org/way/14", {}, None, "way/14"),
    ("clinic-15", {"full_id": "n15"}, None, "clinic-15"),
    ("node/16", {"@id": "way/99", "full_id": "r98"}, None, "node/16"),  # the first one wins
    (12.0, {"osm_type": "relation", "osm_id": 12}, None, "relation/12"),
])
def test_id_fields_in_order_and_canonical(tmp_path: Path, feature_id: Any,
                                          properties: dict[str, Any],
                                          geometry: dict[str, Any] | None,
                                          expected: str) -> None:
    service = only(read(tmp_path, feature({"name": "A", **SYRINGES, **properties},
                                          geometry, osm_id=feature_id)))
    assert service.id == expected


def test_an_id_of_zero_is_an_id(tmp_path: Path) -> None:
    result = read(tmp_path, feature({"name": "A", **SYRINGES}, osm_id=0),
                  feature({"name": "B", **SYRINGES, "osm_type": "node", "osm_id": 0},
                          osm_id=None),
                  feature({"name": "C", **SYRINGES, "full_id": "w0"}, osm_id=None))
    assert errors(result) == []
    assert [s.id for s in result.services] == ["0", "node/0", "way/0"]


def test_no_id_is_an_error_of_that_feature(tmp_path: Path) -> None:
    result = read(tmp_path, feature({"name": "A", **SYRINGES}, osm_id=None),
                  feature({"name": "B", **SYRINGES}, osm_id="node/2"))
    assert errors(result) == ["export.geojson:1: id: missing"]
    assert result.errors[0].record == "export.geojson:1"
    assert [s.id for s in result.without_invalid().services] == ["node/2"]


# --- geometry --------------------------------------------------------------------------------

SQUARE = [[[16.0, 48.0], [16.2, 48.0], [16.2, 48.2], [16.0, 48.2], [16.0, 48.0]]]
SMALL = [[[17.0, 47.0], [17.01, 47.0], [17.01, 47.01], [17.0, 47.0]]]


@pytest.mark.parametrize(("geometry", "lon", "lat"), [
    (point(16.37, 48.21), 16.37, 48.21),
    ({"type": "MultiPoint", "coordinates": [[16.0, 48.0], [16.2, 48.4]]}, 16.1, 48.2),
    ({"type": "LineString", "coordinates": [[16.0, 48.0], [16.2, 48.4]]}, 16.1, 48.2),
    ({"type": "MultiLineString", "coordinates": [[[16.0, 48.0], [16.2, 48.0]],
                                                 [[16.0, 48.4], [16.2, 48.4]]]}, 16.1, 48.2),
    ({"type": "Polygon", "coordinates": SQUARE}, 16.1, 48.1),
    ({"type": "MultiPolygon", "coordinates": [SMALL, SQUARE]}, 16.1, 48.1),  # the largest
    ({"type": "GeometryCollection", "geometries": [
        point(17.0, 47.0), {"type": "Polygon", "coordinates": SQUARE},
        {"type": "Polygon", "coordinates": SMALL}]}, 16.1, 48.1),  # the largest member
    ({"type": "GeometryCollection", "geometries": [
        {"type": "Point", "coordinates": []}, point(16.37, 48.21),
        {"type": "LineString", "coordinates": [[17.0, 47.0], [17.2, 47.2]]}]},
     16.37, 48.21),  # no areas: the first usable member
])
def test_every_geometry_type_has_a_point(tmp_path: Path, geometry: dict[str, Any],
                                         lon: float, lat: float) -> None:
    service = only(read(tmp_path, feature({"name": "A", **SYRINGES}, geometry)))
    assert service.lon == pytest.approx(lon)
    assert service.lat == pytest.approx(lat)
    assert service.timezone == "Europe/Vienna"


def test_null_or_unusable_geometry_is_a_warning_and_the_rest_imports(tmp_path: Path) -> None:
    result = read(
        tmp_path,
        {"type": "Feature", "id": "node/1", "properties": {"name": "A", **SYRINGES},
         "geometry": None},
        feature({"name": "B", **SYRINGES}, {"type": "Polygon", "coordinates": []}, "way/2"),
        feature({**SYRINGES}, {"type": "Circle", "radius": 3}, "way/3"),
        feature({"name": "D", **SYRINGES}, {"type": "LineString",
                                            "coordinates": [[16.0, 48.0], ["x", 48.0]]},
                "way/4"),
        feature({"name": "E", **SYRINGES}, point(*VIENNA), "node/5"),
        {"type": "Feature", "id": "node/6", "properties": {"name": "Bench"}, "geometry": None},
    )
    assert errors(result) == []
    assert result.file_errors == []
    assert warnings(result) == [
        "export.geojson:1: geometry: 'A' has no geometry; left out",
        "export.geojson:2: geometry: 'B' has a Polygon without usable coordinates; left out",
        "export.geojson:3: geometry: 'way/3' has an unknown geometry type 'Circle'; left out",
        "export.geojson:4: geometry: 'D' has a LineString without usable coordinates; "
        "left out",
    ]
    assert [s.name for s in result.services] == ["E"]
    assert result.out_of_scope == ["Bench"]  # out of scope before its geometry counts


def test_coordinates_out_of_range_are_an_error(tmp_path: Path) -> None:
    result = read(tmp_path, feature({"name": "A", **SYRINGES}, point(16.37, 148.21)))
    assert errors(result) == [
        "export.geojson:1: lat: 148.21 is out of range (-90 to 90); lat and lon look swapped"]
    assert result.services == []


# --- raw Overpass answer ---------------------------------------------------------------------

def overpass(*elements: Any, **extra: Any) -> dict[str, Any]:
    return {"version": 0.6, "generator": "Overpass API", "elements": list(elements), **extra}


def test_raw_overpass_elements(tmp_path: Path) -> None:
    tags = {"name": "Clinic", "healthcare:speciality": "addiction"}
    path = write(tmp_path, overpass(
        {"type": "node", "id": 1, "lat": 48.21, "lon": 16.37, "tags": tags},
        {"type": "node", "id": 2, "lat": 48.0, "lon": 16.0},  # only part of a way
        {"type": "way", "id": 3, "center": {"lat": 48.22, "lon": 16.38}, "tags": tags,
         "nodes": [2]},
        {"type": "relation", "id": 4, "bounds": {"minlat": 48.0, "minlon": 16.0,
                                                 "maxlat": 48.4, "maxlon": 16.2}, "tags": tags},
        {"type": "way", "id": 5, "geometry": [{"lat": 48.0, "lon": 16.0}, None,
                                              {"lat": 48.4, "lon": 16.2}], "tags": tags},
        {"type": "way", "id": 6, "nodes": [2], "tags": tags},
        {"type": "relation", "id": 7, "tags": {"name": "Park", "leisure": "park"}},
    ), "overpass.json")
    result = read_path(path)
    assert result.version == "Overpass API JSON"
    assert errors(result) == []
    assert warnings(result) == [
        "overpass.json:6: center: 'Clinic' has no coordinates: export with `out center;` in "
        "the Overpass query; left out"]
    assert [(s.id, s.lat, s.lon) for s in result.services] == [
        ("node/1", 48.21, 16.37), ("way/3", 48.22, 16.38),
        ("relation/4", pytest.approx(48.2), pytest.approx(16.1)),
        ("way/5", pytest.approx(48.2), pytest.approx(16.1))]
    assert result.rows == [1, 3, 4, 5]  # element numbers, counting the untagged node
    assert result.out_of_scope == ["Park"]


def test_overpass_remark_and_answers_without_tags(tmp_path: Path) -> None:
    partial = write(tmp_path, overpass(
        {"type": "node", "id": 1, "lat": 48.21, "lon": 16.37,
         "tags": {"name": "A", **SYRINGES}},
        remark="runtime error: Query timed out in \"query\" at line 3 after 26 seconds."),
        "partial.json")
    result = read_osm(partial, source="osm", region=None)
    assert warnings(result) == [
        "partial.json:1: remark: the Overpass answer says 'runtime error: Query timed out in "
        "\"query\" at line 3 after 26 seconds.'; it may be incomplete"]
    assert len(result.services) == 1
    skeleton = write(tmp_path, overpass({"type": "node", "id": 1, "lat": 48.2, "lon": 16.3}),
                     "skel.json")
    assert errors(read_osm(skeleton, source="osm", region=None)) == [
        "skel.json:1: elements: none of the 1 elements has tags; export with `out center;` in "
        "the Overpass query"]


@pytest.mark.parametrize("document", [{"type": "FeatureCollection"}, {"rows": []}, [1, 2],
                                      "text"])
def test_neither_features_nor_elements_is_a_file_error(tmp_path: Path, document: Any) -> None:
    result = read_osm(write(tmp_path, document), source="osm", region=None)
    assert [p.render_english() for p in result.file_errors] == [
        "export.geojson:1: file: neither GeoJSON (an object with a \"features\" list) nor an "
        "Overpass API answer (an object with an \"elements\" list, from [out:json])"]


# --- one object exported twice ---------------------------------------------------------------

def test_the_same_object_twice_in_a_file_is_one_service_with_the_needs_of_both(
        tmp_path: Path) -> None:
    result = read(
        tmp_path,
        feature({"name": "Dr. Huber", "healthcare:speciality": "addiction"}, osm_id="node/1"),
        feature({"name": "Other", **SYRINGES}, point(*VIENNA), osm_id="node/2"),
        # the same node again, from another exporter: its id written another way
        feature({"name": "Dr. Huber", "healthcare:speciality": "methadone",
                 "phone": "+1 312 555 0100", "full_id": "n1"}, osm_id=None),
    )
    assert errors(result) == []
    doctor, other = result.services
    assert doctor.id == "node/1"
    assert doctor.categories == {Need.TREATMENT, Need.MOUD}
    assert doctor.phone == "+1 312-555-0100"  # missing from the first, taken from the second
    assert result.rows == [1, 2]
    assert other.id == "node/2"


# --- fatal and repaired fields ---------------------------------------------------------------

def test_name_falls_back_to_operator_and_brand_and_none_is_an_error(tmp_path: Path) -> None:
    result = read(tmp_path,
                  feature({**SYRINGES, "operator": "City Health"}, osm_id="node/1"),
                  feature({**SYRINGES, "brand": "NaloxBox", "name": "  "}, osm_id="node/2"),
                  feature({**SYRINGES}, osm_id="node/3"))
    assert errors(result) == ["export.geojson:3: name: no name, operator or brand tag"]
    assert result.errors[0].record == "node/3"
    assert [s.name for s in result.without_invalid().services] == ["City Health", "NaloxBox"]


def test_website_repaired_or_left_out_with_a_warning(tmp_path: Path) -> None:
    result = read(tmp_path,
                  feature({"name": "A", **SYRINGES, "website": "www.example.org"}, osm_id="node/1"),
                  feature({"name": "B", **SYRINGES, "contact:website": "info@example.org"},
                          osm_id="node/2"),
                  feature({"name": "C", **SYRINGES, "url": "https://c.example.org"},
                          osm_id="node/3"))
    assert errors(result) == []
    assert warnings(result) == [
        "export.geojson:1: website: 'www.example.org' has no scheme; imported as "
        "https://www.example.org",
        "export.geojson:2: website: 'info@example.org' is an e-mail address, not a web "
        "address; left out"]
    assert [s.website for s in result.services] == ["https://www.example.org", "",
                                                    "https://c.example.org"]
    assert result.repaired_records() == {"node/1", "node/2"}


def test_phone_read_for_the_country_of_the_point(tmp_path: Path) -> None:
    result = read(tmp_path,
                  feature({"name": "A", **SYRINGES, "phone": "01 4000 0"}, point(*VIENNA),
                          "node/1"),
                  feature({"name": "B", **SYRINGES, "contact:phone": "(312) 555-0100"},
                          point(*CHICAGO), "node/2"),
                  feature({"name": "C", **SYRINGES, "contact:mobile": "0664 1234567"},
                          point(*VIENNA), "node/3"),
                  feature({"name": "D", **SYRINGES, "contact:phone": "call us"},
                          point(*VIENNA), "node/4"))
    assert [s.phone for s in result.services] == ["+43 1 40000", "+1 312-555-0100",
                                                  "+43 664 1234567", ""]
    assert [(s.region, s.timezone) for s in result.services[:2]] == [
        ("AT-9", "Europe/Vienna"), ("US-IL", "America/Chicago")]
    assert warnings(result) == [
        "export.geojson:4: contact:phone: 'call us' is not a phone number; left out"]


def test_opening_hours_and_walk_in(tmp_path: Path) -> None:
    result = read(tmp_path,
                  feature({"name": "A", **SYRINGES, "opening_hours": "Mo-Fr 08:00-17:00"},
                          osm_id="node/1"),
                  feature({"name": "B", **SYRINGES, "opening_hours": "by appointment"},
                          osm_id="node/2"))
    assert errors(result) == []
    assert [s.opening_hours for s in result.services] == ["Mo-Fr 08:00-17:00", ""]
    assert [s.walk_in for s in result.services] == [None, None]
    assert [w.field for w in result.warnings] == ["opening_hours"]
    assert result.warnings[0].record == "node/2"


def test_out_of_scope_features_are_counted_with_their_names(tmp_path: Path) -> None:
    result = read(tmp_path,
                  feature({"name": "Bus stop", "amenity": "shelter"}, osm_id="node/1"),
                  feature({"amenity": "bench"}, osm_id="node/2"),
                  feature(None, osm_id=None),
                  feature({"name": "A", **SYRINGES}, osm_id="node/4"))
    assert result.problems == []
    assert result.out_of_scope == ["Bus stop", "node/2", "export.geojson:3"]
    assert result.not_in_scope == 3
    assert [s.id for s in result.services] == ["node/4"]


def test_entries_that_are_not_features_are_left_out_with_a_warning(tmp_path: Path) -> None:
    result = read(tmp_path, "nonsense", feature({"name": "A", **SYRINGES}))  # type: ignore[arg-type]
    assert warnings(result) == ["export.geojson:1: feature: not a GeoJSON feature; left out"]
    assert len(result.services) == 1


# --- the file --------------------------------------------------------------------------------

def test_encoding_option_and_progress(tmp_path: Path) -> None:
    features = [feature({"name": f"Café {n}", **SYRINGES}, point(16.0 + n / 10_000, 48.2),
                        f"node/{n}") for n in range(1001)]
    path = tmp_path / "latin1.geojson"
    path.write_bytes(json.dumps({"type": "FeatureCollection", "features": features},
                                ensure_ascii=False).encode("latin-1"))
    calls: list[tuple[int, int]] = []
    result = read_osm(path, source="osm", region=None, encoding="latin-1",
                      progress=lambda done, total: calls.append((done, total)))
    assert errors(result) == []
    assert result.services[0].name == "Café 0"
    assert calls == [(1000, 1001), (1001, 1001)]
    assert errors(read_osm(path, source="osm", region=None))[0].startswith(
        "latin1.geojson:1: file: not UTF-8 text (byte 0xe9)")


def test_empty_feature_collection_and_broken_json(tmp_path: Path) -> None:
    empty = read(tmp_path)
    assert [p.render_english() for p in empty.file_errors] == [
        "export.geojson:1: features: a FeatureCollection with no features"]
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection",\n "features": [}')
    (error,) = errors(read_osm(broken, source="osm", region=None))
    assert error.startswith("broken.geojson:2: file: not valid JSON")


@pytest.mark.parametrize(("tags", "needs"), [
    ({"healthcare": "rehabilitation", "healthcare:speciality": "orthopaedics"}, set()),
    ({"healthcare": "rehabilitation", "healthcare:speciality": "addiction"}, {"treatment"}),
    ({"amenity": "social_facility", "social_facility": "shelter",
      "social_facility:for": "abused;woman"}, set()),
    ({"amenity": "social_facility", "social_facility": "shelter",
      "social_facility:for": "homeless"}, {"shelter"}),
    ({"amenity": "social_facility", "social_facility": "shelter"}, {"shelter"}),
])
def test_osm_tags_give_a_need_only_when_they_mean_it(tags: dict[str, str],
                                                     needs: set[str]) -> None:
    assert {str(n) for n in needs_from_osm(tags)} == needs
