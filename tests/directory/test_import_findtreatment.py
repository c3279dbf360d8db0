"""FindTreatment.gov locator JSON: the real 2019 sample, and each rule on generated rows."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from directory.hours import Hours, State
from directory.importers import detect_format, read_path
from directory.importers.findtreatment import read_findtreatment
from directory.model import Need as N

SAMPLE = Path(__file__).parent / "data" / "findtreatment" / "cbhsq_2019_charlottesville_5rows.json"
T, D, M, NX, C, P = N.TREATMENT, N.DETOX, N.MOUD, N.NALOXONE, N.CRISIS, N.PEER_SUPPORT


def facility(**fields: Any) -> dict[str, Any]:
    """A locator row (an SA clinic in Charlottesville, VA) with some fields changed."""
    row: dict[str, Any] = {
        "_irow": 1, "frid": "a" * 64, "name1": "Test Recovery Center", "name2": "",
        "street1": "100 Main Street", "city": "Charlottesville", "street2": "",
        "state": "VA", "zip": "22902", "phone": "434-555-0100", "typeFacility": "SA",
        "intake1": "434-555-0101", "hotline1": None, "website": "https://example.org",
        "latitude": "38.03", "longitude": "-78.48", "miles": 0.5,
        "services": [{"f1": "Type of Care", "f2": "TC", "f3": "Substance use treatment"}],
    }
    row.update(fields)
    return row


def services(*names: str, f2: str = "TC") -> list[dict[str, str]]:
    return [{"f1": "Services", "f2": f2, "f3": "; ".join(names)}]


def write(tmp_path: Path, document: Any, name: str = "locator.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def page(*rows: Any, record_count: int | None = None) -> dict[str, Any]:
    return {"page": 1, "totalPages": 1,
            "recordCount": len(rows) if record_count is None else record_count,
            "rows": list(rows)}


def read(path: Path, **kwargs: Any) -> Any:
    return read_findtreatment(path, source="ft", region=None, **kwargs)


def rendered(problems: list[Any]) -> list[str]:
    return [problem.render_english() for problem in problems]


def test_real_sample_needs_are_what_each_facility_s_services_mean() -> None:
    result = read_path(SAMPLE)
    # Only the first page of 765 was saved: imported, with a warning that says so.
    assert rendered(result.problems) == [
        "cbhsq_2019_charlottesville_5rows.json:1: recordCount: the search found 22949 "
        "facilities, this file holds 5; the others are on pages not in the file and are not "
        "imported"]
    assert result.errors == []
    assert result.out_of_scope == []
    by_name = {service.name: service for service in result.services}
    assert {name: service.categories for name, service in by_name.items()} == {
        # typeFacility SA, "Substance use treatment", "Substance use counseling approach";
        # "Consumer-run (peer-support) services", "Self-help groups". "Accepts clients on
        # opioid medication" is not moud; "Housing services" is not shelter.
        "Region Ten Community Services Board – Mohr Center": {T, P},
        # MH: "Crisis intervention team"; "Integrated dual disorders treatment", "Persons
        # with co-occurring mental and substance use disorders". "Supported housing" and
        # "Mental health treatment" add nothing.
        "Dual Recovery Center": {C, T},
        # MH: "Crisis intervention team"; "Consumer-run (peer-support) services"; "Persons
        # with co-occurring mental and substance use disorders". "Suicide prevention
        # services" and "Hospital inpatient" add nothing.
        "University of Virginia Medical Center": {C, P, T},
        # SA: "SAMHSA-certified Opioid Treatment Program", "Methadone maintenance", "Buprenorphine
        # with naloxone  (Suboxone®)" (moud, not naloxone); "Consumer-run (peer-support)
        # services", "Self-help groups".
        "Addiction Recovery Systems LLC": {T, M, P},
        # SA: "SAMHSA-certified Opioid Treatment Program", "Prescribes/administers
        # buprenorphine", "Methadone"; no peer, naloxone or crisis service listed.
        "Staunton Treatment Center": {T, M},
    }
    assert [service.id[:12] for service in result.services] == [
        "811a908f8226", "ee31ad430968", "7fa166708aed", "708bf1891fff", "1cfdfec2a5b6"]
    mohr = result.services[0]
    assert (mohr.lat, mohr.lon) == (38.0282239, -78.4725231)
    assert mohr.address == "1014 East Market Street, Charlottesville, VA 22902"
    assert mohr.phone == "+1 434-972-1800"  # intake1, before the switchboard's phone
    assert mohr.website == "http://www.regionten.org"
    assert (mohr.timezone, mohr.region, mohr.source) == ("America/New_York", "US-VA",
                                                          "cbhsq_2019_charlottesville_5rows")
    ars = by_name["Addiction Recovery Systems LLC"]
    assert ars.phone == "+1 434-220-0080"  # intake1 is null: the phone
    assert ars.address == "103 South Pantops Drive, Suite 102, Charlottesville, VA 22911"
    # The locator has no hours: every status is unknown ("call first").
    now = datetime(2025, 3, 5, 15, 0, tzinfo=UTC)
    for service in result.services:
        assert service.opening_hours == ""
        assert Hours(service.opening_hours, service.timezone, service.region).state(now) \
            is State.UNKNOWN


def test_detect_format_knows_a_locator_export(tmp_path: Path) -> None:
    assert detect_format(SAMPLE) == "findtreatment"
    assert detect_format(write(tmp_path, page(facility()), "export.json")) == "findtreatment"
    osm = write(tmp_path, {"type": "FeatureCollection", "features": []}, "osm.json")
    assert detect_format(osm) == "osm"


def test_one_facility_listed_as_sa_and_as_mh_is_one_service_with_both_needs(
        tmp_path: Path) -> None:
    sa = facility(frid="f2" * 32, typeFacility="SA")
    mh = facility(frid="e1" * 32, typeFacility="MH", intake1=None,
                  services=services("Mental health treatment", "Crisis intervention team",
                                    f2="EMS"))
    result = read(write(tmp_path, page(sa, mh)))
    assert result.problems == []
    (service,) = result.services
    assert service.categories == {T, C}
    assert service.id == "e1" * 32  # the smaller frid: the same whatever the rows' order
    assert result.rows == [1]
    swapped = read(write(tmp_path, page(mh, sa), "swapped.json"))
    assert [s.id for s in swapped.services] == ["e1" * 32]
    # Another program at the same address (a different name2) stays a service of its own.
    other = facility(frid="c" * 64, name2="Children and Family Services")
    assert len(read(write(tmp_path, page(sa, other), "two.json")).services) == 2


def test_without_frid_the_id_is_stable_and_comes_from_name_street_and_zip(
        tmp_path: Path) -> None:
    row = facility()
    del row["frid"]
    first = read(write(tmp_path, page(row))).services[0].id
    again = read(write(tmp_path, [dict(row, miles=9.1, _irow=7)], "again.json")).services[0].id
    assert first == again
    assert re.fullmatch(r"ft-[0-9a-f]{16}", first)
    moved = read(write(tmp_path, page(dict(row, street1="200 Main Street")), "moved.json"))
    assert moved.services[0].id != first
    # SA and MH rows of one facility merge without frids too.
    mh = dict(row, typeFacility="MH", services=services("Mentoring/peer support"))
    (merged,) = read(write(tmp_path, page(row, mh), "merged.json")).services
    assert (merged.id, merged.categories) == (first, {T, P})


def test_accepting_clients_on_moud_is_not_moud(tmp_path: Path) -> None:
    row = facility(services=services(
        "Substance use treatment", "Accepts clients using MAT but prescribed elsewhere",
        "Accepts clients on opioid medication", "Does not use MAT for opioid use disorders",
        "Use methadone/buprenorphine for pain management or emergency dosing", f2="OT"))
    assert read(write(tmp_path, page(row))).services[0].categories == {T}


def test_buprenorphine_with_naloxone_is_moud_not_naloxone(tmp_path: Path) -> None:
    row = facility(typeFacility="MH", services=services(
        "Buprenorphine with naloxone", "BUPRENORPHINE WITH NALOXONE  (Suboxone®)", f2="PHR"))
    assert read(write(tmp_path, page(row))).services[0].categories == {M, T}
    education = facility(services=services("Naloxone and overdose education", f2="TRSRV"))
    assert read(write(tmp_path, page(education), "noe.json")).services[0].categories == {T, NX}


def test_recovery_housing_is_not_a_shelter(tmp_path: Path) -> None:
    row = facility(services=services(
        "Substance use treatment", "Transitional housing, halfway house, or sober home",
        "Housing services", "Supported housing"))
    assert read(write(tmp_path, page(row))).services[0].categories == {T}


def test_24_hour_care_settings_are_not_opening_hours(tmp_path: Path) -> None:
    row = facility(services=services("Hospital inpatient/24-hour hospital inpatient",
                                     "Residential/24-hour residential",
                                     "Psychiatric emergency walk-in services", f2="SET"))
    (service,) = read(write(tmp_path, page(row))).services
    assert service.categories == {T, C}
    assert service.opening_hours == ""


def test_service_codes_are_read_where_an_export_has_them(tmp_path: Path) -> None:
    row = facility(typeFacility="HRSA", services=services("DT", "BWN", "PEER", "MOA"))
    assert read(write(tmp_path, page(row))).services[0].categories == {D, M, T, P}
    otp = facility(typeFacility="OTP", services=None)  # OTP rows come without services
    assert read(write(tmp_path, page(otp), "otp.json")).services[0].categories == {M, T}


def test_mental_health_only_facility_is_out_of_scope_by_name(tmp_path: Path) -> None:
    clinic = facility(frid="b" * 64, name1="Hillside Clinic", name2="Adult Services",
                      typeFacility="MH", website="not a url", services=services(
                          "Mental health treatment", "Outpatient", "Suicide prevention services",
                          "Supported housing"))
    result = read(write(tmp_path, page(facility(), clinic)))
    assert result.problems == []  # nothing is checked of a record left out
    assert [s.name for s in result.services] == ["Test Recovery Center"]
    assert result.out_of_scope == ["Hillside Clinic – Adult Services"]
    assert result.not_in_scope == 1


def test_missing_or_bad_coordinates_are_fatal_for_the_record(tmp_path: Path) -> None:
    rows = [facility(),
            facility(frid="b" * 64, name1="No Point", latitude=None, longitude=""),
            facility(frid="c" * 64, name1="Bad Point", latitude="38.0", longitude="west"),
            facility(frid="d" * 64, name1=None)]
    result = read(write(tmp_path, page(*rows)))
    assert rendered(result.errors) == [
        "locator.json:2: latitude: missing",
        "locator.json:2: longitude: missing",
        "locator.json:3: longitude: not a number: west",
        "locator.json:4: name1: missing",
    ]
    assert [p.record for p in result.errors] == ["b" * 64, "b" * 64, "c" * 64, "d" * 64]
    assert [s.name for s in result.services] == ["Test Recovery Center"]
    assert result.file_errors == []


def test_json_null_is_an_empty_field(tmp_path: Path) -> None:
    row = facility(name2=None, street2=None, intake1=None, hotline1=None, website=None,
                   city=None, typeFacility="OTP", services=None)
    result = read(write(tmp_path, page(row)))
    assert result.problems == []
    (service,) = result.services
    assert service.name == "Test Recovery Center"
    assert service.address == "100 Main Street, VA 22902"
    assert service.phone == "+1 434-555-0100"
    assert service.website == ""
    texts = (service.name, service.address, service.phone, service.website, service.description)
    assert not any("None" in text for text in texts)


def test_website_without_scheme_is_repaired_with_a_warning(tmp_path: Path) -> None:
    result = read(write(tmp_path, page(facility(website="www.example.org"))))
    assert rendered(result.problems) == [
        "locator.json:1: website: 'www.example.org' has no scheme; imported as "
        "https://www.example.org"]
    assert result.warnings == result.problems
    assert result.services[0].website == "https://www.example.org"
    assert result.repaired_records() == {"a" * 64}


def test_a_bare_list_of_rows_and_pages_in_one_list(tmp_path: Path) -> None:
    second = facility(frid="b" * 64, name1="Second Clinic", latitude="38.04")
    bare = read(write(tmp_path, [facility(), second]))
    assert bare.problems == []
    assert [s.name for s in bare.services] == ["Test Recovery Center", "Second Clinic"]
    third = facility(frid="c" * 64, name1="Third Clinic", latitude=None)
    pages = [page(facility(), second, record_count=3), page(third, record_count=3)]
    result = read(write(tmp_path, pages, "pages.json"))
    # Rows are counted through the pages: the third row is the first of page 2.
    assert rendered(result.problems) == ["pages.json:3: latitude: missing"]
    assert len(result.services) == 2
    # Pages fetched twice over (overlapping) give each facility once.
    overlapping = read(write(tmp_path, [page(facility(), second), page(second)], "again.json"))
    assert overlapping.problems == []
    assert [s.name for s in overlapping.services] == ["Test Recovery Center", "Second Clinic"]
    # detect_format tells these apart only for a single page (see __init__.py): the CLI
    # needs --format findtreatment for them.
    assert read_path(tmp_path / "pages.json", format="findtreatment").services


@pytest.mark.parametrize(("document", "message"), [
    ({"type": "FeatureCollection", "features": []}, "not a FindTreatment.gov locator export"),
    ({"rows": "none"}, "not a FindTreatment.gov locator export"),
    (["a", "b"], "not a FindTreatment.gov locator export"),
    ([{"id": 1, "lat": 3}], "not a FindTreatment.gov locator export"),
    (7, "not a FindTreatment.gov locator export"),
    ({"page": 1, "totalPages": 0, "recordCount": 0, "rows": []},
     "no facilities in the export (the search found none?)"),
])
def test_a_file_of_the_wrong_shape_is_refused_as_a_whole(
        tmp_path: Path, document: Any, message: str) -> None:
    result = read(write(tmp_path, document))
    (problem,) = result.problems
    assert problem.record is None
    assert result.file_errors == [problem]
    assert problem.render_english().startswith("locator.json:1: ")
    assert message in problem.render_english()
    assert result.services == []


def test_wrong_shape_says_what_was_expected(tmp_path: Path) -> None:
    (problem,) = read(write(tmp_path, {"features": []})).problems
    assert problem.render_english() == (
        "locator.json:1: file: not a FindTreatment.gov locator export: expected an object with "
        "a \"rows\" list (page, totalPages, recordCount, rows), a list of such pages, or a list "
        "of facility rows (name1, street1, latitude, longitude, services, ...)")


def test_not_json_and_a_row_that_is_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "text.json"
    path.write_text("Bad request: sAddr\n", encoding="utf-8")
    (problem,) = read(path).problems
    assert problem.render_english() == (
        "text.json:1: file: not valid JSON: Expecting value (column 1)")
    result = read(write(tmp_path, page(facility(), "stray")))
    assert rendered(result.errors) == [
        "locator.json:2: row: not a facility (a JSON object) but \"stray\""]
    assert result.errors[0].record == "locator.json:2"
    assert len(result.services) == 1


def test_progress_every_thousand_rows_and_at_the_end(tmp_path: Path) -> None:
    rows = [facility(frid=f"{index:064x}", name1=f"Clinic {index}") for index in range(2100)]
    calls: list[tuple[int, int]] = []
    result = read(write(tmp_path, page(*rows)), progress=lambda done, total: calls.append(
        (done, total)))
    assert len(result.services) == 2100
    assert calls == [(1000, 2100), (2000, 2100), (2100, 2100)]

