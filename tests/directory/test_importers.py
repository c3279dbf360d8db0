"""Importers: good files of each format, and each kind of bad file, located FILE:ROW: FIELD."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

from directory.importers import Severity, read_path, read_paths
from directory.importers.simple_csv import COLUMNS
from directory.model import Need
from tests.conftest import service_row

WriteCsv = Callable[..., Path]


def rendered(path: Path, **kwargs: object) -> list[str]:
    return [p.render_english() for p in read_path(path, **kwargs).errors]  # type: ignore[arg-type]


def test_good_csv_reads_every_field(write_csv: WriteCsv) -> None:
    path = write_csv([service_row(), service_row(id="svc-2", walk_in="", languages="",
                                                 categories="Harm reduction;naloxone")])
    result = read_path(path)
    assert result.problems == []
    first, second = result.services
    assert first.categories == {Need.DETOX, Need.TREATMENT}
    assert (first.lat, first.lon) == (41.8806, -87.6298)
    assert first.languages == ("en", "es")
    assert first.walk_in is True
    assert first.timezone == "America/Chicago"
    assert first.region == "US-IL"  # derived from the coordinates: state and national holidays
    assert first.source == "city"
    assert second.walk_in is None
    assert second.categories == {Need.HARM_REDUCTION, Need.NALOXONE}


def test_region_option_sets_the_holiday_region(write_csv: WriteCsv) -> None:
    result = read_path(write_csv([service_row()]), region="US-IL")
    assert result.services[0].region == "US-IL"


def test_columns_in_any_order_with_common_names_and_optional_ones_left_out(
        write_csv: WriteCsv) -> None:
    columns = ("name", "longitude", "latitude", "id", "needs", "notes")
    path = write_csv([{"id": "a", "name": "Clinic", "needs": "detox", "latitude": "41.88",
                       "longitude": "-87.63", "notes": "ask for Sam"}], columns=columns)
    result = read_path(path)
    assert [p.render_english() for p in result.problems] == [
        "city.csv:1: notes: not a Deflect column; ignored (the columns read are: id,name,"
        "categories,lat,lon,address,phone,opening_hours,languages,walk_in,website,description)"]
    assert result.warnings == result.problems
    (service,) = result.services
    assert (service.id, service.lat, service.lon, service.opening_hours) == (
        "a", 41.88, -87.63, "")


def test_a_required_column_missing_is_an_error_for_the_file(write_csv: WriteCsv) -> None:
    columns = ("id", "name", "categories", "lat", "address")
    result = read_path(write_csv([service_row()], columns=columns))
    assert [p.render_english() for p in result.problems] == ["city.csv:1: lon: column missing"]
    assert result.file_errors == result.problems
    assert result.services == []


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab_separated_files_as_spreadsheets_save_them(
        tmp_path: Path, delimiter: str) -> None:
    path = tmp_path / "excel.csv"
    rows = [list(COLUMNS), [service_row()[c] for c in COLUMNS],
            [service_row(id="svc-2", lat="41,9", lon="-87,6")[c] for c in COLUMNS]]
    with path.open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, delimiter=delimiter).writerows(rows)
    result = read_path(path)
    assert result.problems == []
    assert [(s.id, s.lat, s.lon) for s in result.services] == [
        ("svc-1", 41.8806, -87.6298), ("svc-2", 41.9, -87.6)]
    assert result.services[0].categories == {Need.DETOX, Need.TREATMENT}


def test_a_one_cell_header_hints_at_the_separator(tmp_path: Path) -> None:
    path = tmp_path / "pipes.csv"
    path.write_text("|".join(COLUMNS) + "\n" + "|".join(service_row().values()) + "\n")
    errors = rendered(path)
    assert errors[-1] == ("pipes.csv:1: file: the header is one cell; the file may use another "
                          "separator (, ; and tab are read)")


def test_fatal_and_repaired_fields(write_csv: WriteCsv) -> None:
    path = write_csv([
        service_row(),
        service_row(categories="detox;rehab"),
        service_row(id="svc-3", categories="", name=" "),
        service_row(id="svc-4", walk_in="maybe", website="example.org/help",
                    languages="en;Spanish;xx-yy-zz", phone="(312) 555-0199"),
        service_row(id="svc-5", categories="food;clothes", website="info@example.org"),
        service_row(id="svc-6", website="call us", phone="ask at the desk"),
        service_row(id="svc-7", phone="555-1234", lat=""),
        service_row(id="svc-8", phone="555-1234"),
    ])
    result = read_path(path)
    assert [p.render_english() for p in result.errors] == [
        "city.csv:3: id: duplicate id 'svc-1', first used on row 2",
        "city.csv:4: name: missing",
        "city.csv:4: categories: no recognisable need (known: treatment, detox, moud, "
        "harm_reduction, naloxone, crisis, shelter, peer_support)",
        "city.csv:6: categories: no recognisable need (known: treatment, detox, moud, "
        "harm_reduction, naloxone, crisis, shelter, peer_support)",
        "city.csv:8: lat: missing",
    ]
    assert [p.render_english() for p in result.warnings] == [
        "city.csv:3: categories: 'rehab' is not a need; read as treatment",
        "city.csv:5: walk_in: 'maybe' is not true or false; imported as unknown",
        "city.csv:5: languages: unknown language 'xx-yy-zz' left out",
        "city.csv:5: website: 'example.org/help' has no scheme; imported as "
        "https://example.org/help",
        "city.csv:6: categories: unknown need 'food' left out (known: treatment, detox, moud, "
        "harm_reduction, naloxone, crisis, shelter, peer_support)",
        "city.csv:6: categories: unknown need 'clothes' left out (known: treatment, detox, "
        "moud, harm_reduction, naloxone, crisis, shelter, peer_support)",
        "city.csv:6: website: 'info@example.org' is an e-mail address, not a web address; "
        "left out",
        "city.csv:7: website: 'call us' is not a web address; left out",
        "city.csv:7: phone: 'ask at the desk' is not a phone number; left out",
        "city.csv:9: phone: '555-1234' is not a phone number of US; kept as written",
    ]
    assert {p.record for p in result.errors} == {"city.csv:3", "svc-3", "svc-5", "svc-7"}
    assert result.invalid_records() == {"city.csv:3", "svc-3", "svc-5", "svc-7"}
    by_id = {s.id: s for s in result.services}
    assert set(by_id) == {"svc-1", "svc-4", "svc-6", "svc-8"}
    four = by_id["svc-4"]
    assert (four.walk_in, four.website, four.phone, four.languages) == (
        None, "https://example.org/help", "+1 312-555-0199", ("en", "es"))
    assert (by_id["svc-6"].website, by_id["svc-6"].phone) == ("", "")
    assert by_id["svc-1"].phone == "+1 312-555-0000"
    assert by_id["svc-8"].phone == "555-1234"
    assert result.repaired_records() == {"svc-4", "svc-6", "svc-8"}


def test_phone_numbers_are_read_for_the_country_of_the_place(write_csv: WriteCsv) -> None:
    path = write_csv([
        service_row(id="london", lat="51.5246", lon="-0.1340", phone="020 7946 0000"),
        service_row(id="vienna", lat="48.2082", lon="16.3738", phone="01 4000 0; 0664 1234567"),
    ])
    result = read_path(path)
    assert result.problems == []
    assert [s.phone for s in result.services] == ["+44 20 7946 0000",
                                                   "+43 1 40000; +43 664 1234567"]


def test_wrong_encoding_names_the_line_and_the_option(tmp_path: Path) -> None:
    path = tmp_path / "latin1.csv"
    header = "id,name,categories,lat,lon,address,phone,opening_hours,languages,walk_in,website,"
    row = "description\n1,Caf\xe9,detox,41.8,-87.6,,,,,,,\n"
    path.write_bytes((header + row).encode("cp1252"))
    assert rendered(path) == [
        "latin1.csv:2: file: not UTF-8 text (byte 0xe9); save the file as UTF-8, or give its "
        "encoding, e.g. --encoding cp1252 (Excel in Western Europe and the Americas) or "
        "--encoding utf-16"]
    result = read_path(path, encoding="cp1252")
    assert result.problems == []
    assert result.services[0].name == "Caf\xe9"
    assert rendered(path, encoding="no-such-codec") == [
        "latin1.csv:1: file: no-such-codec is not an encoding Python knows (e.g. utf-8, "
        "cp1252, utf-16, latin-1)"]


def test_utf16_unicode_text_from_a_spreadsheet(tmp_path: Path) -> None:
    path = tmp_path / "unicode.txt"
    lines = ["\t".join(COLUMNS), "\t".join(service_row(name="Zürich Café").values())]
    path.write_bytes("\r\n".join(lines).encode("utf-16"))  # with its byte order mark
    result = read_path(path, format="csv")
    assert result.problems == []
    assert result.services[0].name == "Zürich Café"


@pytest.mark.parametrize("content", [b"", b"  \n\n"])
def test_empty_file(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "empty.csv"
    path.write_bytes(content)
    assert rendered(path) == ["empty.csv:1: file: the file is empty"]


def test_header_only(write_csv: WriteCsv) -> None:
    assert rendered(write_csv([])) == ["city.csv:1: file: a header but no services"]


def test_unparsable_hours_warn_and_import_as_unknown(write_csv: WriteCsv) -> None:
    result = read_path(write_csv([service_row(opening_hours="Mo-Fr 9am-5pm")]))
    assert result.errors == []
    (warning,) = result.warnings
    assert warning.render_english().startswith(
        "city.csv:2: opening_hours: hours do not parse, imported as unknown")
    assert result.services[0].opening_hours == ""


def test_skip_invalid_keeps_the_valid_rows(write_csv: WriteCsv) -> None:
    result = read_path(write_csv([service_row(), service_row(id="svc-2", lat="x")]))
    assert len(result.errors) == 1
    kept = result.without_invalid()
    assert [s.id for s in kept.services] == ["svc-1"]
    assert kept.rows == [2]


def test_multiline_quoted_field_rows_are_numbered_by_their_first_line(
        write_csv: WriteCsv) -> None:
    path = write_csv([service_row(description="two\nlines"), service_row(id="svc-2", lat="x")])
    assert rendered(path) == ["city.csv:4: lat: not a number: x"]


# --- OpenStreetMap GeoJSON -------------------------------------------------------------------

def feature(tags: dict[str, str], geometry: Mapping[str, object] | None, osm_id: str
            ) -> dict[str, object]:
    return {"type": "Feature", "id": osm_id, "properties": tags, "geometry": geometry}


def point(lon: float, lat: float) -> dict[str, object]:
    return {"type": "Point", "coordinates": [lon, lat]}


def write_geojson(tmp_path: Path, features: list[dict[str, object]]) -> Path:
    path = tmp_path / "overpass.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def test_osm_tags_map_to_needs_and_polygons_use_their_centroid(tmp_path: Path) -> None:
    square = {"type": "Polygon", "coordinates": [[[-87.64, 41.87], [-87.62, 41.87],
                                                  [-87.62, 41.89], [-87.64, 41.89],
                                                  [-87.64, 41.87]]]}
    path = write_geojson(tmp_path, [
        feature({"name": "Clinic", "healthcare": "clinic", "healthcare:speciality": "addiction",
                 "opening_hours": "Mo-Fr 08:00-17:00", "phone": "+1 312 555 0100",
                 "addr:housenumber": "10", "addr:street": "Main St", "addr:city": "Chicago"},
                square, "way/1"),
        feature({"vending": "syringes", "operator": "City Health"}, point(-87.65, 41.9),
                "node/2"),
        feature({"amenity": "shelter", "shelter_type": "public_transport", "name": "Bus stop"},
                point(-87.66, 41.9), "node/3"),
        feature({"amenity": "social_facility", "social_facility": "shelter",
                 "social_facility:for": "homeless", "name": "Night Shelter"},
                point(-87.67, 41.9), "node/4"),
    ])
    result = read_path(path)
    assert result.errors == []
    clinic, vending, shelter = result.services
    assert clinic.id == "way/1"
    assert clinic.categories == {Need.TREATMENT}
    assert clinic.lat == pytest.approx(41.88)
    assert clinic.lon == pytest.approx(-87.63)
    assert clinic.address == "10 Main St Chicago"
    assert clinic.opening_hours == "Mo-Fr 08:00-17:00"
    assert vending.categories == {Need.HARM_REDUCTION}
    assert vending.name == "City Health"  # no name: the operator stands in
    assert result.warnings == []
    assert shelter.categories == {Need.SHELTER}
    assert result.out_of_scope == ["Bus stop"]  # a bus shelter is not a homeless shelter


def test_osm_bad_features(tmp_path: Path) -> None:
    path = write_geojson(tmp_path, [
        feature({"name": "A", "vending": "syringes"}, None, "node/1"),
        feature({"name": "B", "vending": "syringes"}, point(-87.6, 141.0), "node/2"),
        feature({"vending": "syringes"}, point(-87.6, 41.0), "node/3"),
    ])
    result = read_path(path)
    assert [p.render_english() for p in result.errors] == [
        "overpass.geojson:2: lat: 141.0 is out of range (-90 to 90); lat and lon look swapped",
        "overpass.geojson:3: name: no name, operator or brand tag",
    ]
    assert [p.render_english() for p in result.warnings] == [
        "overpass.geojson:1: geometry: 'A' has no geometry; left out"]
    assert result.file_errors == []


def test_osm_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.geojson"
    path.write_text('{"type": "FeatureCollection",\n "features": [}')
    (error,) = rendered(path)
    assert error.startswith("broken.geojson:2: file: not valid JSON")


def test_severity_of_warnings_is_not_error(write_csv: WriteCsv) -> None:
    result = read_path(write_csv([service_row(opening_hours="\"by appointment\"")]))
    assert [p.severity for p in result.problems] == [Severity.WARNING]


def test_several_csv_files_as_one_source_refuse_an_id_used_in_two(
        write_csv: WriteCsv) -> None:
    first = write_csv([service_row(id="a"), service_row(id="b")], "one.csv")
    second = write_csv([service_row(id="c"), service_row(id="a")], "two.csv")
    result = read_paths([first, second], format="csv", region=None, source="teams")
    assert [p.render_english() for p in result.problems] == [
        "two.csv:3: id: duplicate id 'a', first used in one.csv on row 2"]
    assert result.invalid_records() == {"two.csv:3"}
    assert [(s.id, r, f) for s, r, f in zip(result.services, result.rows, result.files,
                                            strict=True)] == [
        ("a", 2, "one.csv"), ("b", 3, "one.csv"), ("c", 2, "two.csv")]


def test_a_place_at_sea_or_in_antarctica_is_an_error_for_its_record(
        write_csv: WriteCsv) -> None:
    """Swapped Chicago coordinates land in Antarctica; a file too small to compare with."""
    result = read_path(write_csv([service_row(lat="0.5", lon="-30.0", phone="555 0100 7"),
                                  service_row(id="svc-2", lat="-87.63", lon="41.88")]))
    assert [p.render_english() for p in result.problems] == [
        "city.csv:2: phone: '555 0100 7' is not an international phone number; kept as written",
        "city.csv:2: lat: 0.5,-30.0 lies at sea or in Antarctica, not where a person can be "
        "taken (lat and lon swapped?)",
        "city.csv:3: lat: -87.63,41.88 lies at sea or in Antarctica, not where a person can be "
        "taken (lat and lon swapped?)"]
    assert result.invalid_records() == {"svc-1", "svc-2"}
    assert result.without_invalid().services == []


@pytest.mark.parametrize(("written", "stored", "warned"), [
    ("1-800-662-HELP", "+1 800-662-4357", False),  # letters on the keypad, read whole
    ("312-555-0100 ext. 12", "+1 312-555-0100 ext. 12", False),
    ("(312) 555-0100 or 312.555.0199", "+1 312-555-0100; +1 312-555-0199", False),
    ("988", "988", False),  # a short number is valid as it is
    ("1-800-273-TALK (8255)", "1-800-273-TALK (8255)", True),  # not read whole: as written
    ("305-891-8850 xOPT2", "305-891-8850 xOPT2", True),  # an extension it cannot read
    ("555-1234", "555-1234", True),  # no area code
])
def test_a_phone_is_rewritten_only_when_it_is_read_whole(
        write_csv: WriteCsv, written: str, stored: str, warned: bool) -> None:
    result = read_path(write_csv([service_row(phone=written)]))
    assert result.services[0].phone == stored
    assert [p.field for p in result.warnings] == (["phone"] if warned else [])


def test_classic_mac_line_ends_and_nul_characters(tmp_path: Path) -> None:
    mac = tmp_path / "mac.csv"
    mac.write_bytes(("\r".join([",".join(COLUMNS), ",".join(service_row().values())])
                     + "\r").encode())
    result = read_path(mac)
    assert (result.problems, [s.id for s in result.services]) == ([], ["svc-1"])
    utf16 = tmp_path / "unicode.txt"
    utf16.write_bytes("\t".join(COLUMNS).encode("utf-16-le"))  # no byte order mark
    assert rendered(utf16, format="csv", encoding="cp1252") == [
        "unicode.txt:1: file: not a CSV file: it contains NUL characters (UTF-16 text read as "
        "another encoding? try --encoding utf-16)"]


def test_a_night_cut_by_a_later_rule_is_warned_about_and_evaluated_as_written(
        write_csv: WriteCsv) -> None:
    result = read_path(write_csv([service_row(opening_hours="Mo-Fr 22:00-06:00; Sa 10:00-14:00")]))
    (warning,) = result.warnings
    assert warning.render_english().startswith(
        "city.csv:2: opening_hours: a later rule ends the night before Sa at midnight")
    assert result.services[0].opening_hours == "Mo-Fr 22:00-06:00; Sa 10:00-14:00"


def test_school_holidays_are_read_for_the_region_of_the_place(write_csv: WriteCsv) -> None:
    """Stuttgart: Baden-Württemberg's school calendar exists, so SH is no warning there."""
    result = read_path(write_csv([service_row(lat="48.7758", lon="9.1829",
                                              opening_hours="Mo-Fr 09:00-17:00; SH off")]))
    assert (result.problems, result.services[0].region) == ([], "DE-BW")
