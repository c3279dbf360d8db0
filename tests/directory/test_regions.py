"""Regional public holidays without --region: each service's ISO 3166-2 subdivision comes from
its coordinates, offline, and `PH off` closes it on its own region's holidays.

Every case goes the way a coordinator's file does: a CSV through `read_path`, then the
service's hours evaluated with `Hours(expression, timezone, region)`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from directory import geo
from directory.hours import Hours, State, holiday_dates, parse_region
from directory.importers import read_path
from directory.model import Service
from tests.conftest import service_row

WriteCsv = Callable[..., Path]

HOURS = "Mo-Su 08:00-20:00; PH off"

# (name, lat, lon): city centres, and two towns either side of a state line.
PLACES = {
    "Glasgow": (55.8642, -4.2518),
    "Edinburgh": (55.9533, -3.1883),
    "London": (51.5072, -0.1276),
    "Stuttgart": (48.7758, 9.1829),
    "Munich": (48.1374, 11.5755),
    "Berlin": (52.5200, 13.4050),
    "Neu-Ulm": (48.3937, 10.0065),  # Bavaria, across the Danube from Ulm
    "Ulm": (48.3994, 9.9826),  # Baden-Württemberg
    "Chicago": (41.8781, -87.6298),
    "Calumet City": (41.6156, -87.5295),  # Illinois, on the state line
    "Hammond": (41.5834, -87.5000),  # Indiana, across it
    "Indianapolis": (39.7684, -86.1581),
    "Barcelona": (41.3874, 2.1686),
    "Madrid": (40.4168, -3.7038),
    "Milan": (45.4642, 9.1900),
    "Rome": (41.9028, 12.4964),
    "Strasbourg": (48.5734, 7.7521),
    "Metz": (49.1193, 6.1757),
    "Paris": (48.8566, 2.3522),
    "Nairobi": (-1.2921, 36.8219),
}

REGIONS = {
    "Glasgow": "GB-SCT", "Edinburgh": "GB-SCT", "London": "GB-ENG",
    "Stuttgart": "DE-BW", "Munich": "DE-BY", "Berlin": "DE-BE",
    "Neu-Ulm": "DE-BY", "Ulm": "DE-BW",
    "Chicago": "US-IL", "Calumet City": "US-IL", "Hammond": "US-IN", "Indianapolis": "US-IN",
    "Barcelona": "ES-CT", "Madrid": "ES-MD",
    # python-holidays keeps Italy's regional holidays (patron saints) by province.
    "Milan": "IT-MI", "Rome": "IT-RM",
    # Alsace (Bas-Rhin, FR-67, is in FR-6AE) and Moselle keep their own calendar; Paris
    # (FR-75C, in Île-de-France) has none of its own: France's.
    "Strasbourg": "FR-6AE", "Metz": "FR-57", "Paris": "FR",
    "Nairobi": "KE",  # no subdivision calendars in Kenya: the country
}


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Service]:
    """Every place above as one service of one CSV, read without --region."""
    import csv

    from directory.importers.simple_csv import COLUMNS

    path = tmp_path_factory.mktemp("regions") / "cities.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(COLUMNS))
        writer.writeheader()
        for name, (lat, lon) in PLACES.items():
            writer.writerow(service_row(id=name, name=f"{name} Detox", lat=str(lat),
                                        lon=str(lon), phone="", opening_hours=HOURS))
    result = read_path(path)
    assert result.errors == []
    return {service.id: service for service in result.services}


def state(service: Service, day: date, hour: int = 12) -> State:
    """The service's state at a wall-clock hour of its own timezone."""
    moment = datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(service.timezone))
    return Hours(service.opening_hours, service.timezone, service.region).state(moment)


def test_each_service_gets_the_subdivision_it_lies_in(services: dict[str, Service]) -> None:
    assert {name: service.region for name, service in services.items()} == REGIONS


def test_every_derived_region_is_one_python_holidays_has_a_calendar_for(
        services: dict[str, Service]) -> None:
    for service in services.values():
        country, subdivision = parse_region(service.region)  # raises for an unknown one
        assert country == service.region[:2]
        assert holiday_dates(service.region, 2025)


def test_gb_sct_2_january_closes_glasgow_not_london(services: dict[str, Service]) -> None:
    second_of_january = date(2025, 1, 2)  # a Thursday
    assert state(services["Glasgow"], second_of_january) is State.CLOSED
    assert state(services["Edinburgh"], second_of_january) is State.CLOSED
    assert state(services["London"], second_of_january) is State.OPEN
    # ... and Easter Monday is England's, not Scotland's.
    assert state(services["London"], date(2025, 4, 21)) is State.CLOSED
    assert state(services["Glasgow"], date(2025, 4, 21)) is State.OPEN


def test_de_bw_corpus_christi_closes_stuttgart_not_berlin(
        services: dict[str, Service]) -> None:
    corpus_christi = date(2025, 6, 19)
    assert state(services["Stuttgart"], corpus_christi) is State.CLOSED
    assert state(services["Ulm"], corpus_christi) is State.CLOSED
    assert state(services["Berlin"], corpus_christi) is State.OPEN
    assert state(services["Stuttgart"], date(2025, 6, 18)) is State.OPEN


def test_de_by_epiphany_closes_munich_and_neu_ulm_not_berlin(
        services: dict[str, Service]) -> None:
    epiphany = date(2025, 1, 6)
    assert state(services["Munich"], epiphany) is State.CLOSED
    assert state(services["Neu-Ulm"], epiphany) is State.CLOSED
    assert state(services["Berlin"], epiphany) is State.OPEN
    # Berlin's own: International Women's Day, a Saturday in 2025.
    assert state(services["Berlin"], date(2025, 3, 8)) is State.CLOSED
    assert state(services["Munich"], date(2025, 3, 8)) is State.OPEN


def test_us_il_lincolns_birthday_closes_chicago_not_indiana(
        services: dict[str, Service]) -> None:
    lincolns_birthday = date(2025, 2, 12)
    assert state(services["Chicago"], lincolns_birthday) is State.CLOSED
    assert state(services["Calumet City"], lincolns_birthday) is State.CLOSED
    assert state(services["Hammond"], lincolns_birthday) is State.OPEN
    assert state(services["Indianapolis"], lincolns_birthday) is State.OPEN
    casimir_pulaski_day = date(2025, 3, 3)
    assert state(services["Chicago"], casimir_pulaski_day) is State.CLOSED
    assert state(services["Indianapolis"], casimir_pulaski_day) is State.OPEN


def test_es_ct_la_diada_closes_barcelona_not_madrid(services: dict[str, Service]) -> None:
    diada = date(2025, 9, 11)
    assert state(services["Barcelona"], diada) is State.CLOSED
    assert state(services["Madrid"], diada) is State.OPEN
    madrid_day = date(2025, 5, 2)
    assert state(services["Madrid"], madrid_day) is State.CLOSED
    assert state(services["Barcelona"], madrid_day) is State.OPEN


def test_it_patron_saints_close_milan_and_rome_on_their_own_days(
        services: dict[str, Service]) -> None:
    saint_ambrose = date(2026, 12, 7)  # a Monday
    assert state(services["Milan"], saint_ambrose) is State.CLOSED
    assert state(services["Rome"], saint_ambrose) is State.OPEN
    saints_peter_and_paul = date(2026, 6, 29)  # a Monday
    assert state(services["Rome"], saints_peter_and_paul) is State.CLOSED
    assert state(services["Milan"], saints_peter_and_paul) is State.OPEN
    assert state(services["Milan"], date(2026, 4, 25)) is State.CLOSED  # national: both
    assert state(services["Rome"], date(2026, 4, 25)) is State.CLOSED


def test_fr_alsace_moselle_keep_good_friday_and_26_december_paris_does_not(
        services: dict[str, Service]) -> None:
    for day in (date(2025, 4, 18), date(2025, 12, 26)):
        assert state(services["Strasbourg"], day) is State.CLOSED
        assert state(services["Metz"], day) is State.CLOSED
        assert state(services["Paris"], day) is State.OPEN
    assert state(services["Paris"], date(2025, 7, 14)) is State.CLOSED  # national: all
    assert state(services["Strasbourg"], date(2025, 7, 14)) is State.CLOSED


def test_region_option_still_wins(write_csv: WriteCsv) -> None:
    lat, lon = PLACES["Glasgow"]
    path = write_csv([service_row(lat=str(lat), lon=str(lon), phone="", opening_hours=HOURS)])
    (service,) = read_path(path, region="GB-ENG").services
    assert service.region == "GB-ENG"
    assert state(service, date(2025, 1, 2)) is State.OPEN  # England's calendar, as asked
    (service,) = read_path(path).services
    assert service.region == "GB-SCT"


def test_subdivision_comes_from_places_of_the_points_own_country() -> None:
    # Kehl is German, 3 km from Strasbourg's centre across the Rhine; Basel Swiss, next to
    # Alsace and Baden-Württemberg. Each is placed in its own country's subdivision.
    assert geo.holiday_region(48.5722, 7.8155, "DE") == "DE-BW"
    assert geo.holiday_region(47.5596, 7.5886, "CH") == "CH-BS"
    assert geo.holiday_region(47.5596, 7.5886, "") == ""  # at sea: no country, no region


def test_a_point_far_from_every_place_of_its_country_keeps_the_country() -> None:
    # The middle of the North Sea, asked as if it were German.
    assert geo.holiday_region(56.0, 3.0, "DE") == "DE"
