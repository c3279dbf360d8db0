"""Open Referral HSDS 1.x, 2.0 and 3.x: the same services in each version's files, times and
weekdays as real exports write them, --skip-invalid by record, and a real 211 export."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path

import pytest

from directory.importers import read_path
from directory.importers.common import ReadResult, Severity
from directory.importers.hsds import read_hsds, schedule_to_opening_hours
from directory.importers.hsds_schedules import parse_time
from directory.model import Need, Service

Files = dict[str, str]
MIAMI = Path(__file__).parent / "data" / "hsds" / "open211-miami"


def write_package(tmp_path: Path, files: Files, name: str = "northside") -> Path:
    folder = tmp_path / name
    for path, text in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_text(text, encoding="utf-8")
    return folder


def read(folder: Path) -> ReadResult:
    return read_hsds(folder, source="northside", region=None)


def rendered(result: ReadResult, severity: Severity = Severity.ERROR) -> list[str]:
    return [p.render_english() for p in result.problems if p.severity is severity]


# The same three services (one out of scope) in each version's files and forms.
HSDS_3 = {
    "organizations.csv": "id,name,website\norg1,Northside Health,https://example.org\n",
    "services.csv": (
        "id,organization_id,name,description,url,minimum_age,maximum_age\n"
        "s1,org1,Detox and Withdrawal Management,Medically monitored,,18,\n"
        "s2,org1,Food Pantry,Groceries for families,,,\n"
        "s3,org1,Northside Drop-in,A place to rest,,,\n"),
    "locations.csv": "id,location_type,name,latitude,longitude\n"
                     "l1,physical,Main,41.95,-87.65\nl2,physical,Annex,41.96,-87.66\n",
    "addresses.csv": "id,location_id,address_1,city,state_province,postal_code,address_type\n"
                     "a0,l1,PO Box 9,Chicago,IL,60690,postal\n"
                     "a1,l1,1 Main St,Chicago,IL,60640,physical\n",
    "service_at_location.csv": "id,service_id,location_id\nsal1,s1,l1\nsal2,s2,l1\n"
                               "sal3,s3,l2\n",
    "schedules.csv": (
        "id,service_id,location_id,service_at_location_id,freq,byday,opens_at,closes_at,"
        "valid_from,valid_to\n"
        "sc1,,,sal1,WEEKLY,\"MO,TU,WE,TH,FR\",08:00,18:00:00,,\n"
        "sc2,,,sal1,WEEKLY,SA,09:00:00,13:00,,\n"
        "sc3,,,sal1,WEEKLY,,,,2025-12-24,2025-12-26\n"
        "sc4,s3,,,WEEKLY,\"MO,WE\",00:00,23:59,,\n"),
    "phones.csv": "id,service_id,service_at_location_id,number,extension,type\n"
                  "p0,s1,,312-555-0199,,fax\np1,s1,,312-555-0100,12,voice\n",
    "languages.csv": "id,service_id,location_id,name,code\nlang1,s1,,Spanish,es\n",
    "taxonomy_terms.csv": "id,code,name,description\nt1,PEER,Peer Recovery Support,\n",
    "attributes.csv": "id,link_id,taxonomy_term_id,link_type,link_entity\n"
                      "at1,s3,t1,,service\n",
}
HSDS_2 = {
    "organizations.csv": "id,name,url\norg1,Northside Health,https://example.org\n",
    "services.csv": HSDS_3["services.csv"],
    "locations.csv": "id,name,latitude,longitude\nl1,Main,41.95,-87.65\nl2,Annex,41.96,-87.66\n",
    "physical_addresses.csv": "id,location_id,address_1,city,state_province,postal_code\n"
                              "a1,l1,1 Main St,Chicago,IL,60640\n",
    "services_at_location.csv": HSDS_3["service_at_location.csv"],
    "schedules.csv": HSDS_3["schedules.csv"],
    "phones.csv": HSDS_3["phones.csv"],
    "languages.csv": "id,service_id,location_id,language\nlang1,s1,,es\n",
    "taxonomy_terms.csv": "id,term,description\nt1,Peer Recovery Support,\n",
    "service_attributes.csv": "id,service_id,taxonomy_term_id\nat1,s3,t1\n",
}
HSDS_1 = {
    "organizations.csv": HSDS_2["organizations.csv"],
    "services.csv": HSDS_3["services.csv"],
    "locations.csv": HSDS_2["locations.csv"],
    "physical_addresses.csv": HSDS_2["physical_addresses.csv"],
    "services_at_location.csv": HSDS_3["service_at_location.csv"],
    "regular_schedules.csv": (
        "id,service_id,location_id,service_at_location_id,weekday,opens_at,closes_at\n"
        + "".join(f",,,sal1,{day},8:00am,6:00pm\n" for day in range(1, 6))
        + ",,,sal1,6,9am,1:00 PM\n"
        ",s3,,,1,12:00am,11:59pm\n,s3,,,3,12:00am,11:59pm\n"),
    "holiday_schedules.csv": ("id,service_id,location_id,closed,opens_at,closes_at,start_date,"
                              "end_date\nh1,s1,,true,,,2025-12-24,2025-12-26\n"),
    "phones.csv": HSDS_3["phones.csv"],
    "languages.csv": "id,service_id,location_id,language\nlang1,s1,,Spanish\n",
    "taxonomy.csv": "id,name,parent_id,parent_name\nt1,Peer Recovery Support,,\n",
    "services_taxonomy.csv": "id,service_id,taxonomy_id,taxonomy_detail\nst1,s3,t1,\n",
}

DETOX = Service(
    id="sal1", name="Detox and Withdrawal Management",
    categories=frozenset({Need.DETOX, Need.TREATMENT}), lat=41.95, lon=-87.65,
    address="1 Main St, Chicago, IL 60640", phone="+1 312-555-0100 ext. 12",
    website="https://example.org", description="Medically monitored",
    opening_hours="Mo-Fr 08:00-18:00; Sa 09:00-13:00; 2025 Dec 24-2025 Dec 26 off",
    languages=("es",), min_age=18, source="northside", timezone="America/Chicago",
    region="US-IL")
DROP_IN = Service(
    id="sal3", name="Northside Drop-in", categories=frozenset({Need.PEER_SUPPORT}), lat=41.96,
    lon=-87.66, description="A place to rest", opening_hours="Mo,We 00:00-24:00",
    website="https://example.org", source="northside", timezone="America/Chicago",
    region="US-IL")


@pytest.mark.parametrize(("files", "version"), [(HSDS_1, "HSDS 1.x"), (HSDS_2, "HSDS 2.0"),
                                                (HSDS_3, "HSDS 3.x")])
def test_each_version_gives_the_same_directory(tmp_path: Path, files: Files,
                                               version: str) -> None:
    result = read(write_package(tmp_path, files))
    assert result.problems == []
    assert result.version == version
    assert result.services == [DETOX, DROP_IN]
    assert result.out_of_scope == ["Food Pantry"]
    link = "service_at_location.csv" if version == "HSDS 3.x" else "services_at_location.csv"
    assert result.files == [link, link]
    assert result.rows == [2, 4]


def test_progress_is_reported_by_link_rows(tmp_path: Path) -> None:
    calls: list[tuple[int, int]] = []
    read_hsds(write_package(tmp_path, HSDS_3), source="northside", region=None,
              progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 3), (3, 3)]


def test_hsds_1_0_links_through_services_location_id_and_taxonomy_ids(tmp_path: Path) -> None:
    files = {name: text for name, text in HSDS_1.items()
             if name not in ("services_at_location.csv", "services_taxonomy.csv")}
    files["services.csv"] = (
        "id,organization_id,location_id,name,description,url,taxonomy_ids\n"
        "s1,org1,l1,Detox and Withdrawal Management,Medically monitored,,\n"
        "s3,org1,l2,Northside Drop-in,A place to rest,,\"t0,t1\"\n")
    files["regular_schedules.csv"] = ("id,service_id,location_id,weekday,opens_at,closes_at\n"
                                      "r1,s3,l2,Monday,9:00am,5:00pm\n")
    result = read(write_package(tmp_path, files))
    assert result.problems == []
    assert result.version == "HSDS 1.x"
    detox, drop_in = result.services
    assert (detox.id, detox.phone, detox.languages) == ("s1", "+1 312-555-0100 ext. 12", ("es",))
    assert detox.opening_hours == ""  # a holiday alone says nothing about other days
    assert (drop_in.id, drop_in.categories) == ("s3", frozenset({Need.PEER_SUPPORT}))
    assert drop_in.opening_hours == "Mo 09:00-17:00"
    assert result.files == ["services.csv", "services.csv"]


def test_no_link_table_names_what_each_version_calls_it(tmp_path: Path) -> None:
    files = {name: text for name, text in HSDS_3.items() if name != "service_at_location.csv"}
    result = read(write_package(tmp_path, files))
    assert rendered(result) == [
        "northside:1: file: no service_at_location.csv (HSDS 3.x) or services_at_location.csv "
        "(HSDS 1.x, 2.0) in northside/ or northside/data/, and services.csv has no "
        "location_id column (HSDS 1.0)"]
    assert result.file_errors == result.errors
    assert result.version == ""


def test_missing_core_files_and_columns_are_errors_for_the_file(tmp_path: Path) -> None:
    files = {name: text for name, text in HSDS_3.items() if name != "locations.csv"}
    assert rendered(read(write_package(tmp_path, files))) == [
        "northside:1: file: no locations.csv in northside/ or northside/data/"]
    broken = write_package(tmp_path, {**HSDS_3, "locations.csv": "id,name,lat,lon\n"}, "other")
    assert rendered(read(broken)) == ["locations.csv:1: latitude: column missing",
                                      "locations.csv:1: longitude: column missing"]
    empty = write_package(tmp_path, {**HSDS_3, "service_at_location.csv": "id,service_id,"
                                                                          "location_id\n"}, "e")
    assert rendered(read(empty)) == ["service_at_location.csv:1: file: a header but no services"]


def test_optional_tables_missing_or_header_only(tmp_path: Path) -> None:
    core = ("organizations.csv", "services.csv", "locations.csv", "service_at_location.csv")
    files = {name: text for name, text in HSDS_3.items() if name in core}
    missing = read(write_package(tmp_path, files))
    headers = {name: text.split("\n", 1)[0] + "\n" for name, text in HSDS_3.items()}
    header_only = read(write_package(tmp_path, {**headers, **files,
                                                "languages.csv": ""}, "headers"))
    for result in (missing, header_only):
        assert result.problems == []
        detox, = result.services  # the drop-in's need came from its taxonomy term
        assert (detox.id, detox.opening_hours, detox.phone, detox.address, detox.languages) == \
            ("sal1", "", "", "", ())
        assert detox.website == "https://example.org"


def test_only_the_columns_the_reader_needs_are_required(tmp_path: Path) -> None:
    files = {
        "organizations.csv": "id\norg1\n",
        "services.csv": "name,id,x_extension\nNaloxone Distribution,s1,anything\n",
        "locations.csv": "longitude,latitude,id\n-87.65,41.95,l1\n",
        "service_at_location.csv": "id,location_id,service_id\nsal1,l1,s1\n",
    }
    result = read(write_package(tmp_path, files))
    assert result.problems == []
    assert [(s.id, s.categories) for s in result.services] == [("sal1", frozenset({Need.NALOXONE}))]


def test_skip_invalid_skips_the_records_not_the_line_numbers(tmp_path: Path) -> None:
    files = {**HSDS_3,
             "locations.csv": ("id,name,latitude,longitude\n"
                               "lbad,Bad,95,-187.65\n"  # line 2, as sal1's row
                               "l1,Main,41.95,-87.65\n"  # line 3, as bad sal2's row
                               "l2,Annex,41.96,-87.66\n"),  # line 4, as the duplicate's row
             "service_at_location.csv": ("id,service_id,location_id\n"
                                         "sal1,s1,l1\n"
                                         "sal2,s1,lbad\n"
                                         "sal1,s3,l2\n"
                                         "sal4,s3,l2\n"
                                         ",s1,l1\n")}
    result = read(write_package(tmp_path, files))
    assert rendered(result) == [
        "locations.csv:2: latitude: 95 is out of range (-90 to 90)",
        "service_at_location.csv:4: id: duplicate id 'sal1', first used on row 2",
        "service_at_location.csv:6: id: missing",
    ]
    assert [p.record for p in result.errors] == [
        "sal2", "service_at_location.csv:4", "service_at_location.csv:6"]
    kept = result.without_invalid()
    assert [s.id for s in kept.services] == ["sal1", "sal4"]
    assert kept.rows == [2, 5]


def test_broken_references_are_errors_of_their_record(tmp_path: Path) -> None:
    files = {**HSDS_3, "service_at_location.csv": "id,service_id,location_id\n"
                                                  "sal1,s1,l9\nsal2,s9,l1\nsal3,,l1\n"}
    result = read(write_package(tmp_path, files))
    assert rendered(result) == [
        "service_at_location.csv:2: location_id: no location with id 'l9'",
        "service_at_location.csv:3: service_id: no service with id 's9'",
        "service_at_location.csv:4: service_id: missing",
    ]
    assert result.invalid_records() == {"sal1", "sal2", "sal3"}


def test_a_location_problem_is_reported_once_per_record_at_it(tmp_path: Path) -> None:
    files = {**HSDS_3,
             "locations.csv": "id,name,latitude,longitude\nl1,Main,41.95,x\n"
                              "l2,Annex,41.96,-87.66\n",
             "service_at_location.csv": "id,service_id,location_id\nsal1,s1,l1\n"
                                        "sal3,s3,l1\n"}
    result = read(write_package(tmp_path, files))
    assert rendered(result) == ["locations.csv:2: longitude: not a number: x"] * 2
    assert [p.record for p in result.errors] == ["sal1", "sal3"]


# --- Times and weekdays -----------------------------------------------------------------------

@pytest.mark.parametrize(("opens", "closes", "hours"), [
    ("9:00am", "5:00pm", "Mo 09:00-17:00"),
    ("9:00 am ", "5:00 PM", "Mo 09:00-17:00"),
    ("7:30 PM", "11:00 p.m.", "Mo 19:30-23:00"),
    ("9am", "5pm", "Mo 09:00-17:00"),
    ("830am", "530pm", "Mo 08:30-17:30"),
    ("9:00a", "5:00p", "Mo 09:00-17:00"),
    ("0730", "1600", "Mo 07:30-16:00"),
    ("9:00", "17:00", "Mo 09:00-17:00"),  # 24-hour without a leading zero
    ("19:30:00", "22:00:00", "Mo 19:30-22:00"),
    ("10:00:00", "18:00:00", "Mo 10:00-18:00"),
    ("12:00pm", "1:30pm", "Mo 12:00-13:30"),  # noon
    ("6:00pm", "12:00am", "Mo 18:00-24:00"),  # to midnight
    ("12:00am", "11:59pm", "Mo 00:00-24:00"),
    ("22:00", "06:00", "Mo 22:00-06:00"),  # overnight
    ("09:00-05:00", "17:00-05:00", "Mo 09:00-17:00"),  # an offset: times are local
    ("09:00Z", "17:00:00+01:00", "Mo 09:00-17:00"),
])
def test_time_forms_real_exports_use(opens: str, closes: str, hours: str) -> None:
    rows = [(2, {"weekday": "1", "opens_at": opens, "closes_at": closes})]
    assert schedule_to_opening_hours(rows) == hours


@pytest.mark.parametrize("text", ["8:00m", "12:00pm (dispensing)", "9:0am", "5:00pm Mon",
                                  "6:300pm", "9", "25:00", "13:00pm", "", "noonish"])
def test_times_that_cannot_be_read_safely(text: str) -> None:
    assert parse_time(text) is None


@pytest.mark.parametrize("weekday", ["1", "Monday", "MONDAY", "mon", "Mon.", "mo"])
def test_weekday_forms(weekday: str) -> None:
    rows = [(2, {"weekday": weekday, "opens_at": "9:00am", "closes_at": "5:00pm"}),
            (3, {"weekday": "7", "opens_at": "10am", "closes_at": "2pm"}),
            (4, {"weekday": "Tue", "opens_at": "9:00am", "closes_at": "5:00pm"}),
            (5, {"weekday": "Thurs", "opens_at": "9:00am", "closes_at": "5:00pm"})]
    assert schedule_to_opening_hours(rows) == "Mo,Tu,Th 09:00-17:00; Su 10:00-14:00"


def test_schedule_rows_of_2_0_and_3_x() -> None:
    rows = [
        (2, {"freq": "WEEKLY", "byday": "MO,TU", "opens_at": "09:00:00", "closes_at": "12:00"}),
        (3, {"freq": "WEEKLY", "byday": "MO,TU", "opens_at": "13:00", "closes_at": "17:00"}),
        (4, {"freq": "WEEKLY", "byday": "FR,SA", "opens_at": "22:00", "closes_at": "06:00"}),
        (5, {"freq": "", "byday": "su", "opens_at": "00:00", "closes_at": "23:59"}),
        (6, {"freq": "WEEKLY", "byday": "MO", "opens_at": "10:00", "closes_at": "14:00",
             "valid_from": "2025-12-29", "valid_to": "2025-12-29"}),
    ]
    assert schedule_to_opening_hours(rows) == (
        "Mo,Tu 09:00-12:00,13:00-17:00; Fr,Sa 22:00-06:00; Su 00:00-24:00; "
        "2025 Dec 29-2025 Dec 29 Mo 10:00-14:00")
    seasonal = [(2, {"byday": "SA", "opens_at": "10:00", "closes_at": "14:00",
                     "valid_from": "2025-06-01", "valid_to": "2025-08-31"})]
    assert schedule_to_opening_hours(seasonal) == "off; 2025 Jun 01-2025 Aug 31 Sa 10:00-14:00"
    closures = [(2, {"valid_from": "2025-12-25", "valid_to": "2025-12-25"})]
    assert schedule_to_opening_hours(closures) == ""  # closed that day; unknown on others


def test_an_unreadable_time_leaves_only_that_services_hours_unknown(tmp_path: Path) -> None:
    schedules = HSDS_1["regular_schedules.csv"].replace(",,,sal1,2,8:00am,", ",,,sal1,2,8:00m,")
    result = read(write_package(tmp_path, {**HSDS_1, "regular_schedules.csv": schedules}))
    assert rendered(result, Severity.WARNING) == [
        "regular_schedules.csv:3: opens_at: '8:00m' is not a time; the hours of this service "
        "are left unknown"]
    assert result.warnings[0].record == "sal1"
    detox, drop_in = result.services
    assert detox.opening_hours == ""  # not "closed on Tuesday"
    assert drop_in.opening_hours == DROP_IN.opening_hours
    assert result.errors == []


@pytest.mark.parametrize(("column", "value", "warning"), [
    ("weekday", "Mon-Fri", "regular_schedules.csv:2: weekday: 'Mon-Fri' is not a weekday "
                           "(1 = Monday to 7 = Sunday, or its name); the hours of this "
                           "service are left unknown"),
    ("weekday", "0", "regular_schedules.csv:2: weekday: '0' is not a weekday (1 = Monday to "
                     "7 = Sunday, or its name); the hours of this service are left unknown"),
    ("opens_at", "", "regular_schedules.csv:2: opens_at: missing; the hours of this service "
                     "are left unknown"),
    ("opens_at", "8:00", "regular_schedules.csv:2: opens_at: '8:00' has no am or pm, and the "
                         "other time of the row has; the hours of this service are left "
                         "unknown"),
])
def test_unreadable_1_x_rows(tmp_path: Path, column: str, value: str, warning: str) -> None:
    row = {"weekday": "Monday", "opens_at": "8:00am", "closes_at": "4:00pm", column: value}
    schedules = ("id,service_id,location_id,service_at_location_id,weekday,opens_at,"
                 f"closes_at\n,,,sal1,{row['weekday']},{row['opens_at']},{row['closes_at']}\n"
                 ",,,sal1,Tuesday,8:00am,4:00pm\n")
    result = read(write_package(tmp_path, {**HSDS_1, "regular_schedules.csv": schedules}))
    assert rendered(result, Severity.WARNING) == [warning]
    assert result.services[0].opening_hours == ""


def test_schedules_that_are_not_weekly_leave_the_hours_unknown(tmp_path: Path) -> None:
    schedules = HSDS_3["schedules.csv"] + (
        "sc5,,,sal1,MONTHLY,1SA,10:00,12:00,,\n"
        "sc6,s3,,,WEEKLY,XX,10:00,12:00,,\n")
    result = read(write_package(tmp_path, {**HSDS_3, "schedules.csv": schedules}))
    assert rendered(result, Severity.WARNING) == [
        "schedules.csv:6: freq: only WEEKLY schedules are read, not MONTHLY; the hours of this "
        "service are left unknown",
        "schedules.csv:7: byday: 'XX' is not a weekday (MO to SU); the hours of this service "
        "are left unknown",
    ]
    assert [s.opening_hours for s in result.services] == ["", ""]
    fortnightly = HSDS_3["schedules.csv"].replace("freq,byday", "freq,interval,byday") \
        .replace("WEEKLY,", "WEEKLY,2,")
    result = read(write_package(tmp_path, {**HSDS_3, "schedules.csv": fortnightly}, "two"))
    assert rendered(result, Severity.WARNING)[0] == (
        "schedules.csv:2: interval: every 2 weeks cannot be written as opening hours; the "
        "hours of this service are left unknown")


def test_1_x_holiday_schedules(tmp_path: Path) -> None:
    holidays = ("id,service_id,location_id,closed,opens_at,closes_at,start_date,end_date\n"
                "h1,s1,,true,,,2025-12-25,2025-12-25\n"
                "h2,s1,,FALSE,10:00am,2:00pm,2025-12-24,2025-12-24\n"
                "h3,s1,,yes,,,2026-01-01,\n")
    result = read(write_package(tmp_path, {**HSDS_1, "holiday_schedules.csv": holidays}))
    assert result.problems == []
    assert result.services[0].opening_hours == (
        "Mo-Fr 08:00-18:00; Sa 09:00-13:00; 2025 Dec 25-2025 Dec 25 off; "
        "2025 Dec 24-2025 Dec 24 10:00-14:00; 2026 Jan 01-2026 Jan 01 off")
    unreadable = holidays + "h4,s1,,maybe,,,2026-01-02,2026-01-02\n"
    result = read(write_package(tmp_path, {**HSDS_1, "holiday_schedules.csv": unreadable}, "x"))
    assert rendered(result, Severity.WARNING) == [
        "holiday_schedules.csv:5: closed: 'maybe' is not true or false; the hours of this "
        "service are left unknown"]
    assert result.services[0].opening_hours == ""


def test_literal_backslash_n_in_text_becomes_a_space(tmp_path: Path) -> None:
    services = HSDS_3["services.csv"].replace("Medically monitored",
                                              "Medically\\n\\nmonitored\\ndetox")
    result = read(write_package(tmp_path, {**HSDS_3, "services.csv": services}))
    assert result.services[0].description == "Medically monitored detox"


def test_languages_are_read_as_codes_with_a_warning_for_unknown_ones(tmp_path: Path) -> None:
    languages = ("id,service_id,location_id,language\nx,s1,,Spanish (limited)\nx,s1,,pt-BR\n"
                 "x,,l2,Klingonese\n")
    result = read(write_package(tmp_path, {**HSDS_1, "languages.csv": languages}))
    assert result.services[0].languages == ("es", "pt-BR")
    assert rendered(result, Severity.WARNING) == [
        "languages.csv:4: languages: unknown language 'Klingonese' left out"]
    assert result.warnings[0].record == "sal3"


def test_websites_are_repaired_and_phones_read_for_the_country(tmp_path: Path) -> None:
    files = {**HSDS_1,
             "organizations.csv": "id,name,url\norg1,Northside Health,www.example.org\n",
             "phones.csv": "id,service_id,number,extension\np1,s1,(312) 555-0100 x7,\n"}
    result = read(write_package(tmp_path, files))
    assert rendered(result, Severity.WARNING) == [
        "organizations.csv:2: website: 'www.example.org' has no scheme; imported as "
        "https://www.example.org"] * 2
    assert result.services[0].phone == "+1 312-555-0100 ext. 7"


def test_encoding_option_reaches_every_table(tmp_path: Path) -> None:
    folder = write_package(tmp_path, HSDS_1)
    (folder / "services.csv").write_bytes(
        HSDS_1["services.csv"].replace("Medically", "Médically").encode("cp1252"))
    assert rendered(read(folder))[0].startswith("services.csv:2: file: not UTF-8 text (byte 0xe9)")
    result = read_hsds(folder, source="northside", region=None, encoding="cp1252")
    assert result.problems == []
    assert result.services[0].description == "Médically monitored"


# --- Where the tables are ---------------------------------------------------------------------

def test_tables_in_a_data_folder_or_where_datapackage_json_points(tmp_path: Path) -> None:
    in_data = write_package(tmp_path, {f"data/{name}": text for name, text in HSDS_3.items()},
                            "in_data")
    pointed = write_package(tmp_path, {f"tables/{name}": text for name, text in HSDS_3.items()},
                            "pointed")
    (pointed / "datapackage.json").write_text(
        '{"resources": [' + ", ".join(f'{{"path": "tables/{name}"}}' for name in HSDS_3) + "]}")
    for folder in (in_data, pointed):
        result = read(folder)
        assert result.problems == []
        assert result.services == [DETOX, DROP_IN]


def zipped(folder: Path, path: Path, prefix: str = "") -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for file in sorted(folder.rglob("*")):
            if file.is_file():
                archive.write(file, prefix + file.relative_to(folder).as_posix())
    return path


def test_a_zip_of_the_folder_is_read_in_place(tmp_path: Path) -> None:
    folder = write_package(tmp_path, {f"data/{name}": text for name, text in HSDS_1.items()})
    for prefix in ("", "export-2025/"):
        archive = zipped(folder, tmp_path / f"export{len(prefix)}.zip", prefix)
        result = read_path(archive, source="northside")
        assert result.problems == []
        assert result.version == "HSDS 1.x"
        assert result.services == [DETOX, DROP_IN]
    (tmp_path / "broken.zip").write_bytes(b"PK not really")
    assert rendered(read(tmp_path / "broken.zip")) == [
        "broken.zip:1: file: cannot be read as a folder or a zip file: File is not a zip file"]


# --- A real 211 export (Open211 Miami, HSDS 1.1 era; see data/hsds/open211-miami/SOURCE.md) ----

def test_real_miami_211_export(tmp_path: Path) -> None:
    result = read(MIAMI)
    assert result.version == "HSDS 1.x"
    assert sorted(result.out_of_scope) == [  # girl scouts, crime victims' compensation, and
        # a group for the families of people with addictions (AIRS PN-8100.0500-230/-235: not
        # peer support for the person; see directory/mapping_airs.py)
        "BUREAU OF VICTIM COMPENSATION", "FAMILY SUPPORT GROUP",
        "GIRL SCOUTS COUNCIL OF TROPICAL FLORIDA, INC.", "OFFICE OF THE ATTORNEY GENERAL"]
    by_id = {s.id: s for s in result.services}
    assert list(by_id) == ["156", "841", "871", "1730"]
    # Needs: the AIRS codes decide where a service has them: the Men's Lodge is a Homeless
    # Shelter (BH-1800.8500), 841 Comprehensive Outpatient SUD Treatment (RX-8450.1150); the
    # Mobile Crisis Team's codes (mental health evaluation) give none, so its name is read;
    # 1730 has no codes: its description (methadone, detoxification).
    assert {i: set(s.categories) for i, s in by_id.items()} == {
        "156": {Need.SHELTER}, "841": {Need.TREATMENT}, "871": {Need.CRISIS},
        "1730": {Need.DETOX, Need.MOUD, Need.TREATMENT}}
    # Hours from the regular_schedules rows: 12-hour times, weekdays by name.
    assert by_id["156"].opening_hours == "Mo-Fr 08:30-16:30"  # 8:30am-4:30pm, Monday..Friday
    assert by_id["841"].opening_hours == "Mo-Fr 08:30-17:00"  # 8:30am-5:00pm
    assert by_id["871"].opening_hours == ""  # its rows have no times ("24 hours a day" text)
    assert by_id["1730"].opening_hours == ""  # closes_at "12:00pm (dispensing)"
    men = by_id["156"]
    assert (men.name, men.phone, men.website, men.languages, men.address) == (
        "MEN'S LODGE", "+1 305-637-6720", "https://www.salvationarmymiami.com", ("en", "es"),
        "1907 NW 38th Street, Miami, FL 33142")
    assert (men.lat, men.lon, men.timezone, men.region) == (
        25.8115436095512, -80.2299673943259, "America/New_York", "US-FL")
    assert "\\n" not in men.description
    assert "homeless males. ****MUST" in men.description
    # The family support group (no coordinates) is out of scope before its location is read.
    assert rendered(result) == []
    assert result.invalid_records() == set()
    warnings = rendered(result, Severity.WARNING)
    assert "regular_schedules.csv:33: closes_at: '12:00pm (dispensing)' is not a time; the " \
           "hours of this service are left unknown" in warnings
    assert "regular_schedules.csv:20: opens_at: missing; the hours of this service are left " \
           "unknown" in warnings
    assert "services.csv:5: website: 'www.salvationarmymiami.com' has no scheme; imported as " \
           "https://www.salvationarmymiami.com" in warnings
    copy = tmp_path / "miami"
    shutil.copytree(MIAMI, copy)
    assert read(zipped(copy, tmp_path / "miami.zip")).services == result.services


def test_version_from_datapackage_json_when_the_files_do_not_tell(tmp_path: Path) -> None:
    core = ("organizations.csv", "services.csv", "locations.csv", "services_at_location.csv")
    files = {name: text for name, text in HSDS_2.items() if name in core}
    assert read(write_package(tmp_path, files)).version == "HSDS 1.x"
    files["datapackage.json"] = '{"version": "2.0.1", "resources": []}'
    assert read(write_package(tmp_path, files, "two")).version == "HSDS 2.0"
    files["datapackage.json"] = "{not json"
    result = read(write_package(tmp_path, files, "broken"))
    assert rendered(result, Severity.WARNING)[0].startswith(
        "datapackage.json:1: file: not valid JSON (")
    assert len(result.services) == 1


def test_an_optional_table_without_the_column_it_is_read_for(tmp_path: Path) -> None:
    files = {**HSDS_1, "languages.csv": "id,service_id,lang\nx,s1,Spanish\n"}
    result = read(write_package(tmp_path, files))
    assert rendered(result, Severity.WARNING) == [
        "languages.csv:1: language/code/name: column missing; this table is not read"]
    assert result.services[0].languages == ()


def test_a_service_at_several_locations_is_named_by_each(tmp_path: Path) -> None:
    links = "id,service_id,location_id\nsal1,s1,l1\nsal3,s1,l2\n"
    result = read(write_package(tmp_path, {**HSDS_3, "service_at_location.csv": links}))
    assert [(s.id, s.name) for s in result.services] == [
        ("sal1", "Detox and Withdrawal Management (Main)"),
        ("sal3", "Detox and Withdrawal Management (Annex)")]
    assert result.services[1].opening_hours == ""  # sal1's schedules are not the annex's


@pytest.mark.parametrize("status", ["inactive", "defunct", "Temporarily Closed"])
def test_services_that_are_not_running_are_left_out_with_a_warning(
        tmp_path: Path, status: str) -> None:
    services = HSDS_3["services.csv"].replace("id,organization_id,name,",
                                              "id,status,organization_id,name,")
    services = services.replace("s1,org1,", f"s1,{status},org1,").replace(
        "s2,org1,", "s2,active,org1,").replace("s3,org1,", "s3,,org1,")
    result = read(write_package(tmp_path, {**HSDS_3, "services.csv": services}))
    assert [s.id for s in result.services] == ["sal3"]
    assert rendered(result, Severity.WARNING) == [
        f"services.csv:2: status: the service is {status.lower()!r}; left out"]
    assert result.errors == []


@pytest.mark.parametrize(("opens", "closes", "hours"), [
    ("9:00", "5:00", ""),  # a 12-hour clock without am/pm, or a night: never guessed
    ("10:00", "2:00", ""),
    ("9:00", "17:00", "Mo 09:00-17:00; 2025 Dec 24-2025 Dec 26 off"),  # plainly 24-hour
    ("22:00", "06:00", "Mo 22:00-06:00; 2025 Dec 24-2025 Dec 26 off"),  # a 24-hour night
])
def test_times_without_am_or_pm_are_never_guessed_into_a_night(
        tmp_path: Path, opens: str, closes: str, hours: str) -> None:
    schedules = ("id,service_id,location_id,service_at_location_id,weekday,opens_at,"
                 f"closes_at\n,,,sal1,Monday,{opens},{closes}\n")
    result = read(write_package(tmp_path, {**HSDS_1, "regular_schedules.csv": schedules}))
    assert result.services[0].opening_hours == hours
    assert [p.field for p in result.warnings] == ([] if hours else ["closes_at"])
