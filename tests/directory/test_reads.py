"""The reads the bot makes of the directory: the offline gazetteer and each service's needs,
against a real SQLite file."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from directory import gazetteer
from directory.gazetteer import Place, normalise
from directory.model import Need, Service
from directory.store import Directory
from tests.directory.support import directory_session


def service(id_: str, name: str, address: str = "", needs: frozenset[Need] = frozenset(
        {Need.DETOX}), lat: float = 41.88, lon: float = -87.63) -> Service:
    return Service(id=id_, name=name, categories=needs, lat=lat, lon=lon, address=address,
                   timezone="America/Chicago", region="US-IL", source="city")


CITY = [
    service("s1", "Lakeshore Detox Center", "401 N Michigan Ave, Chicago", lat=41.8925,
            lon=-87.6262),
    service("s2", "Near West Withdrawal Unit", "1900 W Polk St, Chicago", lat=41.8748,
            lon=-87.6702),
    service("s3", "Uptown Crisis Line", "4541 N Broadway, Chicago",
            needs=frozenset({Need.CRISIS, Need.PEER_SUPPORT})),
    service("s4", "Broadway Shelter", "", needs=frozenset({Need.SHELTER})),
    service("s5", "Austin Detox", "5 W Madison St, Chicago"),
    service("s6", "Bronzeville Detox", "6 E 47th St, Chicago"),
    service("s7", "Chatham Detox", "7 S Cottage Grove Ave, Chicago"),
    service("s8", "Ashburn Detox", "8 W 79th St, Chicago"),
]


@pytest.fixture
async def city(tmp_path: Path) -> AsyncIterator[Directory]:
    async with directory_session(tmp_path / "d.sqlite3", demo=False) as directory:
        await directory.replace_source("city", CITY, format="csv", origin="x", region="US-IL")
        yield directory


def test_normalise_lowers_and_treats_commas_as_spaces() -> None:
    assert normalise("  N  LaSalle St,Chicago ,IL ") == "n lasalle st chicago il"
    assert normalise(",,") == ""


async def test_every_word_is_in_the_name_or_the_address(city: Directory) -> None:
    assert await city.places_named("broadway") == [
        Place("Broadway Shelter", 41.88, -87.63),  # no address: the name alone
        Place("Uptown Crisis Line, 4541 N Broadway, Chicago", 41.88, -87.63),
    ]
    # One word in the name, the other in the address; case and commas do not matter.
    assert [p.label for p in await city.places_named("LAKESHORE, michigan")] == [
        "Lakeshore Detox Center, 401 N Michigan Ave, Chicago"]
    assert await city.places_named("lakeshore polk") == []


async def test_places_come_by_name_at_most_the_limit(city: Directory) -> None:
    detox = ["Ashburn Detox", "Austin Detox", "Bronzeville Detox", "Chatham Detox",
             "Lakeshore Detox Center"]
    assert [p.label.split(",")[0] for p in await city.places_named("detox")] == detox
    assert [p.label.split(",")[0] for p in await city.places_named("detox", limit=2)] == \
        detox[:2]
    assert len(await city.places_named("chicago")) == gazetteer.MAX_PLACES == 5
    assert await city.places_named("polk") == [
        Place("Near West Withdrawal Unit, 1900 W Polk St, Chicago", 41.8748, -87.6702)]


async def test_one_letter_words_and_words_after_the_sixth_are_not_searched(
        city: Directory) -> None:
    assert await city.places_named("n w s e") == []
    assert await city.places_named("") == []
    assert [p.label.split(",")[0] for p in await city.places_named("x uptown y")] == [
        "Uptown Crisis Line"]
    six = "uptown crisis line broadway chicago 4541"
    assert len(await city.places_named(six)) == 1
    assert len(await city.places_named(six + " nowhere")) == 1  # the 7th word is not read
    assert await city.places_named("nowhere " + six) == []


async def test_the_method_is_the_gazetteer_over_the_directorys_connection(
        city: Directory) -> None:
    for query in ("detox", "chicago", "w st", "broadway chicago"):
        assert await city.places_named(query, 3) == await gazetteer.places_named(
            city.db, query, 3)


async def test_needs_by_service(city: Directory) -> None:
    needs = await city.needs_by_service()
    assert {id_: set(values) for id_, values in needs.items()} == {
        "s1": {"detox"}, "s2": {"detox"}, "s3": {"crisis", "peer_support"},
        "s4": {"shelter"}, "s5": {"detox"}, "s6": {"detox"}, "s7": {"detox"},
        "s8": {"detox"}}
    assert all(isinstance(values, tuple) and len(values) == len(set(values))
               for values in needs.values())


async def test_needs_by_service_merges_the_sources_that_list_a_service(
        city: Directory) -> None:
    also = [service("s4", "Broadway Shelter", needs=frozenset({Need.PEER_SUPPORT}))]
    await city.replace_source("teams", also, format="osm", origin="y", region="")
    assert set((await city.needs_by_service())["s4"]) == {"shelter", "peer_support"}


async def test_an_empty_directory_has_no_needs_and_no_places(tmp_path: Path) -> None:
    async with directory_session(tmp_path / "d.sqlite3", demo=False) as directory:
        assert await directory.needs_by_service() == {}
        assert await directory.places_named("detox") == []
