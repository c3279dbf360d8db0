"""Each reader in their own language: negotiated, chosen, switched mid-conversation, never
mixed between interleaved users, and no English leaking through un-extracted strings."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

import bot.i18n
from bot.app import DeflectApplication
from bot.i18n import LOCALES_DIR, compile_catalogs, translations
from bot.settings import Settings
from members import Role
from tests.fake_telegram import Call, FakeTelegram, FakeUser
from tests.handlers.conftest import (
    CHICAGO_LOOP,
    make_member,
    officer,
    polling,
    referral_rows,
    rows_of,
    runtime,
    walk_to_needs,
)

PSEUDO = "de"  # a locale Babel knows and Deflect does not ship
OPEN, CLOSE = "⟦", "⟧"
CYRILLIC = re.compile("[\u0400-\u04ff]")


def _clear_caches() -> None:
    for function in (bot.i18n.available_locales, bot.i18n.translations, bot.i18n.negotiate):
        function.cache_clear()


@pytest.fixture
def pseudo_locales(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A locales folder whose only catalog wraps every message of the template in ⟦...⟧."""
    with (LOCALES_DIR / "deflect.pot").open("rb") as source:
        template = read_po(source)
    pseudo = Catalog(locale=PSEUDO, domain="deflect")
    for message in template:
        if not message.id:
            continue
        if isinstance(message.id, (tuple, list)):
            string: Any = tuple(OPEN + str(form) + CLOSE for form in message.id)
        else:
            string = OPEN + str(message.id) + CLOSE
        pseudo.add(message.id, string, flags=message.flags)
    folder = tmp_path / "locales" / PSEUDO / "LC_MESSAGES"
    folder.mkdir(parents=True)
    with (folder / "deflect.po").open("wb") as target:
        write_po(target, pseudo)
    monkeypatch.setattr(bot.i18n, "LOCALES_DIR", tmp_path / "locales")
    _clear_caches()
    compile_catalogs(tmp_path / "locales")
    yield tmp_path / "locales"
    monkeypatch.undo()
    _clear_caches()


def _unmarked_words(text: str, data: list[str]) -> list[str]:
    """Words outside every ⟦...⟧ span once the data (names, addresses, codes) is removed."""
    outside, depth = [], 0
    for char in text:
        if char == OPEN:
            depth += 1
        elif char == CLOSE:
            depth -= 1
        elif depth == 0:
            outside.append(char)
    rest = "".join(outside)
    for value in sorted(data, key=len, reverse=True):
        rest = rest.replace(value, " ")
    return re.findall(r"[^\W\d_]+", rest)


def _texts(calls: list[Call]) -> Iterator[tuple[str, str]]:
    """Every message text, button label and toast the bot sent: (method, text)."""
    for call in calls:
        params = call.params
        if call.method in ("sendMessage", "editMessageText") or (
                call.method == "answerCallbackQuery" and params.get("text")):
            yield call.method, str(params["text"])
        markup = params.get("reply_markup")
        if isinstance(markup, dict):
            for row in markup.get("inline_keyboard", []) + markup.get("keyboard", []):
                for item in row:
                    yield "button", str(item["text"] if isinstance(item, dict) else item)


async def test_pseudo_locale_no_english_leaks_in_the_officer_and_public_flows(
        pseudo_locales: Path, fake_telegram: FakeTelegram, settings_on_either: Settings,
        tmp_path: Path) -> None:
    eligibility = tmp_path / "eligibility.json"
    eligibility.write_text(json.dumps({"questions": [{
        "id": "violent_offence", "ineligible_answer": "yes",
        "text": {"en": "Any violent offence involved?", PSEUDO: "⟦Gewalt?⟧"},
        "explanation": {"en": "No.", PSEUDO: "⟦Nein.⟧"}}]}), encoding="utf-8")
    settings = dataclasses.replace(settings_on_either, eligibility_path=eligibility)

    def m(text: str) -> str:
        return OPEN + text + CLOSE

    async with polling(settings) as app:
        dana = FakeUser(fake_telegram, 1001, language_code=PSEUDO)
        await make_member(app, dana, Role.OFFICER)
        for command in ("/start", "/help", "/nonsense"):
            await dana.send(command)
            await dana.reply(OPEN)
        await dana.send("/checklist")
        await dana.reply(m("Is anyone in danger or possibly overdosing?"))
        for label, question in ((m("No"), m("Which deflection pathway is this?")),
                                (m("Active outreach"), "⟦Gewalt?⟧"),
                                (m("No"), m("Does the person agree to be referred?")),
                                (m("Yes"), OPEN + "What does the person need?")):
            await dana.press(label)
            await dana.reply(question)
        await dana.send_sticker()
        await dana.reply(m("Please use the buttons above, or /cancel to stop."))
        query = await dana.press(m("Done"))
        assert await dana.toast(query) == m("Tap at least one need first.")
        await dana.press(m("Detox"))
        await dana.reply(method="editMessageReplyMarkup")
        await dana.press(m("Done"))
        await dana.reply(m("Where are you? Tap 📍 Share location."))
        await dana.send("somewhere I cannot be found")
        await dana.reply(OPEN + "I couldn't find")
        await dana.share_location(*CHICAGO_LOOP)
        await dana.reply(OPEN + "Nearest")
        await dana.press(m("More"))
        await dana.reply(OPEN + "Nearest")
        await dana.press(m("Refer to %(number)d") % {"number": 1})
        await dana.reply(OPEN + "Referral logged")
        await dana.reply("⟦Phone: ")

        person = FakeUser(fake_telegram, 7007, language_code=PSEUDO)
        await person.send("/find")
        await person.reply(m("What does the person need? Tap all that apply, then Done."))
        await person.press(m("Shelter"))
        await person.reply(method="editMessageReplyMarkup")
        await person.press(m("Done"))
        await person.reply(OPEN + "Where are you?")
        await person.share_location(*CHICAGO_LOOP)
        await person.reply(OPEN + "Nearest")
        await person.press(m("Code for %(number)d") % {"number": 1})
        await person.reply(OPEN + "Your referral code")

        data = ["deflect_test_bot"] + [row["code"] for row in await referral_rows(app)]
        for _key, _hours, service in await runtime(app).directory.all_services():
            data += [service.name, service.address, service.phone or ""]
    checked = 0
    for user in (dana, person):
        for method, text in _texts(fake_telegram.chat_calls[user.chat]):
            assert _unmarked_words(text, data) == [], f"{method} not translated: {text!r}"
            checked += 1
    for call in fake_telegram.calls:  # toasts are filed under their query, not the chat
        if call.method == "answerCallbackQuery" and call.params.get("text"):
            assert _unmarked_words(str(call.params["text"]), data) == [], call.params
    assert checked > 60


def _t(locale: str) -> Any:
    return translations(locale).gettext


async def _to_results(user: FakeUser, locale: str) -> None:
    _ = _t(locale)
    await user.send("/checklist")
    await user.reply(_("Is anyone in danger or possibly overdosing?"))
    for label in (_("No"), _("Active outreach"), _("No"), _("Yes")):
        await user.press(label)
        await user.reply()
    await user.press(_("Detox"))
    await user.reply(method="editMessageReplyMarkup")
    await user.press(_("Done"))
    await user.reply(_("Where are you? Tap 📍 Share location."))
    await user.share_location(*CHICAGO_LOOP)
    await user.reply(translations(locale).ngettext("Nearest service:", "Nearest services:", 3))


async def test_interleaved_users_each_get_only_their_own_language(
        unthrottled_bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    bot = unthrottled_bot
    users = [(FakeUser(fake_telegram, 4000 + i, language_code=code), code.split("-")[0])
             for i, code in enumerate(["es-419", "ru", "es", "ru-RU"] * 4)]
    for user, _locale in users:
        await make_member(bot, user, Role.OFFICER)
    await asyncio.gather(*(_to_results(user, locale) for user, locale in users))
    for user, locale in users:
        texts = [text for method, text in _texts(fake_telegram.chat_calls[user.chat])
                 if method != "button"]
        assert len(texts) >= 7
        for text in texts:
            if locale == "ru":
                assert CYRILLIC.search(text), text
            else:
                assert not CYRILLIC.search(text), text


async def test_language_choice_is_remembered_across_a_restart_under_a_keyed_hash(
        fake_telegram: FakeTelegram, settings_on_either: Settings) -> None:
    settings = settings_on_either
    user = FakeUser(fake_telegram, 5005, language_code="en")
    async with polling(settings) as app:
        await user.send("/language")
        await user.reply("Choose your language:")
        assert user.buttons() == ["العربية", "English", "Español", "Français", "Italiano",
                                  "Português", "Русский"]
        await user.press("Español")
        await user.reply("Idioma: Español. /start para empezar.")
        rows = await rows_of(app, "language_choice")
        assert [(len(row["user_hmac"]), row["locale"]) for row in rows] == [(32, "es")]
    async with polling(settings) as app:
        await user.send("/start")
        await user.reply("Deflect encuentra el servicio más cercano")
        forged = await user.press_data("setlang:xx", user.last_keyboard_message())
        assert await user.toast(forged) == "Este paso ha caducado."


async def test_show_this_in_another_language_mid_checklist_keeps_the_step(
        bot: DeflectApplication, fake_telegram: FakeTelegram) -> None:
    user = officer(fake_telegram)
    await make_member(bot, user, Role.OFFICER)
    await walk_to_needs(user)
    await user.press("Detox")
    await user.reply(method="editMessageReplyMarkup")
    await user.press("Language")
    await user.reply("Show this conversation in:")
    await user.press("Русский")
    await user.reply("Что нужно человеку?")
    ru = _t("ru")
    assert "✓ " + ru("Detox") in user.buttons()  # the answers so far are kept
    await user.press(ru("Done"))
    await user.reply(ru("Where are you? Tap 📍 Share location."))
    await user.share_location(*CHICAGO_LOOP)
    await user.reply("Ближайшие службы")
    await user.press(ru("Refer to %(number)d") % {"number": 1})
    await user.reply("Направление записано")
    (row,) = await referral_rows(bot)
    assert row["needs"] == "detox"
    # The follow-up goes to the officer, in the officer's language.
    assert [row["locale"] for row in await rows_of(bot, "followup")] == ["en"]
    # The switch was for that conversation: the officer's own language is back.
    await user.send("/start")
    await user.reply("Deflect finds the nearest service")


@pytest.fixture(name="bot")  # named apart: `bot` is also the package (bot.i18n) here
def bot_on_both(bot_on_either: DeflectApplication) -> DeflectApplication:
    """Every test of this module on both backends (tests/handlers/conftest.py)."""
    return bot_on_either


@pytest.fixture
async def unthrottled_bot(settings_on_either: Settings) -> AsyncIterator[DeflectApplication]:
    """The bot on both backends without Telegram's flood limits (30 messages a second), as
    in benchmarks/load.py: sixteen users at once then interleave as fast as the bot can go,
    rather than at the limiter's pace (429s would still be waited out)."""
    async with polling(settings_on_either, flood_limits=False) as application:
        yield application
