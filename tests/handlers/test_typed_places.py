"""Typed places over real HTTP: geopy's Nominatim client against a loopback fake."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import AsyncIterator

import pytest

from bot.app import DeflectApplication
from bot.settings import Settings
from members import Role
from tests.fake_nominatim import FakeNominatim
from tests.fake_telegram import FakeTelegram, FakeUser
from tests.handlers.conftest import make_member, polling, rows_of, runtime, walk_to_needs


@pytest.fixture
async def nominatim() -> AsyncIterator[FakeNominatim]:
    server = FakeNominatim()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def geobot(settings_on_either: Settings, nominatim: FakeNominatim
                 ) -> AsyncIterator[DeflectApplication]:
    """The bot with a geocoder, on the SQLite file, then on PostgreSQL: every test of this
    module on both backends (tests/handlers/conftest.py)."""
    settings = dataclasses.replace(settings_on_either, geocoder_url=nominatim.url)
    async with polling(settings) as application:
        yield application


async def at_location_step(bot: DeflectApplication, server: FakeTelegram) -> FakeUser:
    user = FakeUser(server, 1001)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await user.press("Detox")
    await user.reply(method="editMessageReplyMarkup")
    await user.press("Done")
    await user.reply("Where are you?")
    return user


async def test_a_typed_address_is_geocoded_and_cached(
        geobot: DeflectApplication, fake_telegram: FakeTelegram,
        nominatim: FakeNominatim) -> None:
    nominatim.add("clark and lake", ("N Clark St & W Lake St, Chicago", 41.8857, -87.6309))
    user = await at_location_step(geobot, fake_telegram)
    await user.send("Clark and Lake")
    results = await user.reply("Nearest services")
    assert "Lakeshore Detox Center (demo)" in str(results.params["text"])
    (request,) = nominatim.requests
    assert request["q"] == "Clark and Lake"
    assert "viewbox" in request  # biased to the directory's area
    assert await runtime(geobot).geocoder.cached("clark  AND lake") is not None
    cached = await rows_of(geobot, "geocode_cache")
    assert len(cached) == 1  # a keyed tag of the query, the places sealed, the day: no text
    assert list(cached[0]) == ["query_tag", "sealed_places", "day"]
    assert not any(b"clark" in bytes(cached[0][cell]).lower()
                   for cell in ("query_tag", "sealed_places"))
    assert re.fullmatch(r"\d{4}-\d\d-\d\d", cached[0]["day"])


async def test_several_places_give_buttons(
        geobot: DeflectApplication, fake_telegram: FakeTelegram,
        nominatim: FakeNominatim) -> None:
    nominatim.add("main street", ("Main St, Evanston", 42.03, -87.68),
                  ("Main St, Chicago Heights", 41.51, -87.63))
    user = await at_location_step(geobot, fake_telegram)
    await user.send("Main Street")
    await user.reply("Which one?")
    assert user.buttons()[:2] == ["Main St, Evanston", "Main St, Chicago Heights"]
    await user.press("Main St, Evanston")
    await user.reply("Nearest services")


async def test_geocoder_down_falls_back_to_the_directory(
        geobot: DeflectApplication, fake_telegram: FakeTelegram,
        nominatim: FakeNominatim) -> None:
    nominatim.status = 503
    user = await at_location_step(geobot, fake_telegram)
    await user.send("Lakeshore Detox")
    results = await user.reply("Nearest services")
    assert "1. Lakeshore Detox Center (demo)" in str(results.params["text"])


async def test_nothing_found_asks_to_share_location(
        geobot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = await at_location_step(geobot, fake_telegram)
    await user.send("Nowhere Special")
    await user.reply("I couldn't find that place. Tap 📍 Share location")


async def test_a_slow_geocoder_gets_a_still_looking_message(
        geobot: DeflectApplication, fake_telegram: FakeTelegram,
        nominatim: FakeNominatim) -> None:
    nominatim.add("navy pier", ("Navy Pier, Chicago", 41.8917, -87.6086))
    nominatim.delay_s = 3.5
    user = await at_location_step(geobot, fake_telegram)
    await user.send("Navy Pier")
    await user.reply("Still looking")
    await user.reply("Nearest services")
