"""What every conversation shares: the draft of a referral, buttons, and short replies."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.runtime import DeflectContext
from directory.hours import HoursStatus, State
from directory.live import Live
from directory.model import Need, Service
from directory.search import Match
from handlers.ui import Prefix
from members import Agency, Membership, Role
from referrals.model import Pathway


class Step(IntEnum):
    """Conversation states, shared by the officer's checklist and the public's find-help."""

    SAFETY = 1
    OVERDOSE = 2
    PATHWAY = 3
    ELIGIBILITY = 4
    CONSENT = 5
    NEEDS = 6
    LOCATION = 7
    RESULTS = 8


class Flow(IntEnum):
    CHECKLIST = 1  # a member with someone in front of them: ends in a logged referral
    FIND_HELP = 2  # anyone: no referral unless they ask for a code


@dataclass
class Draft:
    """One conversation's answers so far; kept in user_data, never in the referral log."""

    flow: Flow
    membership: Membership | None
    # Random per conversation, carried in every button's data: a button from an earlier
    # conversation (or an earlier checklist in this chat) is recognised as stale.
    nonce: str = field(default_factory=lambda: secrets.token_hex(3))
    history: list[Step] = field(default_factory=list)
    pathway: Pathway | None = None
    question: int = 0
    needs: set[Need] = field(default_factory=set)
    lat: float | None = None
    lon: float | None = None
    shown: int = 0  # how many results are on screen (More adds three)
    include_closed: bool = False
    matches: list[Match] = field(default_factory=list)
    # Fixed before the buttons are shown: every press of them means this one referral, and a
    # press after the referral is logged shows what the log holds (handlers/checklist/results).
    referral_id: str | None = None
    referral_code: str | None = None
    places: list[tuple[str, float, float]] = field(default_factory=list)  # typed-place choices
    current: Step | None = None  # the question on screen (re-shown after a language switch)
    locale: str | None = None  # "Show this in another language": for the person being helped

    def to_json(self) -> dict[str, Any]:
        """Plain JSON for the persistence (never pickle); "token" was the nonce's old name."""
        membership = self.membership
        return {
            "flow": int(self.flow), "nonce": self.nonce,
            "membership": None if membership is None else {
                "agency": [membership.agency.id, membership.agency.name,
                           membership.agency.country], "role": membership.role.value},
            "history": [int(step) for step in self.history],
            "pathway": self.pathway.value if self.pathway else None,
            "question": self.question, "needs": sorted(need.value for need in self.needs),
            "lat": self.lat, "lon": self.lon, "shown": self.shown,
            "include_closed": self.include_closed, "referral_id": self.referral_id,
            "referral_code": self.referral_code,
            "matches": [_match_to_json(match) for match in self.matches],
            "places": [list(place) for place in self.places],
            "current": int(self.current) if self.current else None, "locale": self.locale,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Draft:
        member = data.get("membership")
        return cls(
            flow=Flow(data["flow"]), nonce=data.get("nonce") or data["token"],
            membership=None if member is None else Membership(
                Agency(*member["agency"]), Role(member["role"])),
            history=[Step(step) for step in data["history"]],
            pathway=Pathway(data["pathway"]) if data["pathway"] else None,
            question=data["question"], needs={Need(n) for n in data["needs"]},
            lat=data["lat"], lon=data["lon"], shown=data["shown"],
            include_closed=data["include_closed"], referral_id=data["referral_id"],
            referral_code=data.get("referral_code"),
            matches=[_match_from_json(match) for match in data["matches"]],
            places=[(str(label), float(lat), float(lon))
                    for label, lat, lon in data.get("places", [])],
            current=Step(data["current"]) if data.get("current") else None,
            locale=data.get("locale"),
        )


def _match_to_json(match: Match) -> dict[str, Any]:
    service = match.service
    return {
        "service": {
            "id": service.id, "name": service.name,
            "categories": sorted(n.value for n in service.categories), "lat": service.lat,
            "lon": service.lon, "address": service.address, "phone": service.phone,
            "website": service.website, "opening_hours": service.opening_hours,
            "walk_in": service.walk_in, "source": service.source,
            "timezone": service.timezone, "region": service.region,
        },
        "distance_m": match.distance_m, "state": match.status.state.value,
        "next_change": match.status.next_change.isoformat() if match.status.next_change
        else None,
        "comment": match.status.comment,
        "live": match.live.as_json() if match.live else None,
    }


def _match_from_json(data: dict[str, Any]) -> Match:
    fields = dict(data["service"])
    fields["categories"] = frozenset(Need(n) for n in fields["categories"])
    change = data["next_change"]
    live = data.get("live")  # drafts saved before the live directory have none
    return Match(Service(**fields), data["distance_m"], HoursStatus(
        State(data["state"]), datetime.fromisoformat(change) if change else None,
        data["comment"]), Live.from_json(live) if live else None)


DRAFT = "draft"


def draft_of(context: DeflectContext) -> Draft | None:
    user_data = context.user_data
    value = user_data.get(DRAFT) if user_data is not None else None
    return value if isinstance(value, Draft) else None


def start_draft(context: DeflectContext, flow: Flow, membership: Membership | None) -> Draft:
    draft = Draft(flow, membership)
    if context.user_data is not None:
        context.user_data[DRAFT] = draft
    return draft


def end_draft(context: DeflectContext) -> None:
    if context.user_data is not None:
        context.user_data.pop(DRAFT, None)


def button(text: str, prefix: Prefix, draft: Draft, value: str) -> InlineKeyboardButton:
    """A button whose data carries the conversation's nonce, so old buttons are recognised."""
    return InlineKeyboardButton(text, callback_data=f"{prefix}:{draft.nonce}:{value}")


def nav_row(context: DeflectContext, draft: Draft, back: bool = True
            ) -> list[InlineKeyboardButton]:
    _ = context.translator.gettext
    row = [button(_("Back"), Prefix.NAV, draft, "back")] if back and draft.history else []
    row.append(button(_("Cancel"), Prefix.NAV, draft, "cancel"))
    row.append(button(_("Language"), Prefix.NAV, draft, "lang"))
    return row


def keyboard(rows: list[list[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(rows)


def nonce_matches(update: Update, draft: Draft | None) -> bool:
    """Does a pressed button belong to the conversation in progress?"""
    query = update.callback_query
    if query is None or query.data is None or draft is None:
        return False
    parts = query.data.split(":")
    return len(parts) >= 3 and parts[1] == draft.nonce


def value_of(update: Update) -> str:
    query = update.callback_query
    return (query.data or "").split(":", 2)[2] if query else ""
