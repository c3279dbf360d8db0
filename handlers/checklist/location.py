"""Where the person is: a shared location or venue, typed coordinates, or a typed place looked
up with the geocoder (or the directory's own entries), with a choice when several match."""

from __future__ import annotations

import asyncio

from telegram import Update

from bot.runtime import DeflectContext
from directory.gazetteer import Place
from directory.geo import parse_lat_lon
from handlers.checklist.navigation import cancel, go_back
from handlers.checklist.results import search
from handlers.checklist.shared import END, answers_button, expired, pressed, reply
from handlers.common import Draft, button, draft_of, keyboard, nav_row, value_of
from handlers.ui import Prefix

GEOCODER_PATIENCE_S = 3.0  # after this the officer hears "still looking" and may share location


async def got_location(update: Update, context: DeflectContext) -> int | None:
    """A shared location, live location or venue: search from there."""
    draft = draft_of(context)
    message = update.message
    if draft is None or message is None:
        return END
    location = message.location or (message.venue.location if message.venue else None)
    if location is None:
        return None
    draft.lat, draft.lon = location.latitude, location.longitude
    return await search(update, context, draft)


async def typed_location(update: Update, context: DeflectContext) -> int | None:
    """Typed text at the location step: coordinates work; Back and Cancel too; else a hint."""
    _ = context.translator.gettext
    draft = draft_of(context)
    message = update.message
    if draft is None or message is None or message.text is None:
        return END
    text = message.text.strip()
    # The location question's reply keyboard sends its Back and Cancel as text.
    if text == _("Back"):
        return await go_back(update, context)
    if text == _("Cancel"):
        return await cancel(update, context)
    point = parse_lat_lon(text)
    if point is not None:
        draft.lat, draft.lon = point
        return await search(update, context, draft)
    places = await _look_up(update, context, text)
    if not places:
        await message.reply_text(_(
            "I couldn't find that place. Tap 📍 Share location below, or type a street and "
            "city, or coordinates like 41.88,-87.63."))
        return None
    if len(places) == 1:
        draft.lat, draft.lon = places[0].lat, places[0].lon
        return await search(update, context, draft)
    draft.places = [(p.label, p.lat, p.lon) for p in places]
    rows = [[button(label[:60], Prefix.PLACE, draft, str(index))]
            for index, (label, _lat, _lon) in enumerate(draft.places)]
    await reply(update, _("Which one?"), reply_markup=keyboard([*rows, nav_row(context, draft)]))
    return None


async def _look_up(update: Update, context: DeflectContext, text: str) -> list[Place]:
    """Places for a typed text: the geocoder (cached), else the directory's own entries."""
    _ = context.translator.gettext
    runtime = context.runtime
    lookup = asyncio.ensure_future(
        runtime.geocoder.geocode(text, await runtime.directory.extent()))
    try:
        # Shielded: the timeout only ends the wait for the hint; the look-up itself goes on.
        places = await asyncio.wait_for(asyncio.shield(lookup), GEOCODER_PATIENCE_S)
    except TimeoutError:
        if update.message is not None:
            await update.message.reply_text(_("Still looking… You can also tap 📍 Share "
                                              "location."))
        places = await lookup
    return places or await runtime.directory.places_named(text)


@answers_button
async def choose_place(update: Update, context: DeflectContext, draft: Draft) -> int | None:
    """One of several places that matched what was typed."""
    index = int(value_of(update))
    if not 0 <= index < len(draft.places):
        await expired(update, context)
        return None
    await pressed(update)
    _label, draft.lat, draft.lon = draft.places[index]
    return await search(update, context, draft)
