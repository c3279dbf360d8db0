"""What the warm hand-off shows: the officer's confirmation as the hand-off goes on, and the
notice its staff get (handlers/handoff.py sends and edits them).

A notice says nothing about the person: the referral's code, needs, pathway, distance band and,
if the officer said so, whether the person walks or is driven.
"""

from __future__ import annotations

from gettext import NullTranslations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from directory.i18n import N_
from handlers.ui import NEED_NAMES, PATHWAY_NAMES
from referrals.handoff_model import Answer, HandoffState, Travel
from referrals.model import DistanceBand, Referral, shown_code

# Button data: "<prefix>:<referral id>:<action>" (64 bytes at most: 2 + 1 + 32 + 1 + 11).
OFFICER = "hm"  # the officer's confirmation
STAFF = "hs"  # a staff notice
WALK, DRIVE, REPORT, NEXT, ARRIVED = "walk", "drive", "report", "next", "arrived"

ANSWER_NAMES = {
    Answer.EXPECTING: N_("Expecting them"),
    Answer.FULL: N_("Can't take now: full"),
    Answer.CLOSED: N_("Can't take now: closed"),
    Answer.CANNOT_MEET: N_("Can't meet this need"),
}
DECLINED_AS = {
    Answer.FULL: N_("%(name)s can't take them now (full)."),
    Answer.CLOSED: N_("%(name)s can't take them now (closed)."),
    Answer.CANNOT_MEET: N_("%(name)s can't take them now (can't meet this need)."),
}
TRAVEL_NAMES = {Travel.WALKING: N_("Walking there"), Travel.DRIVEN: N_("Being driven")}
BAND_NAMES = {
    DistanceBand.UNDER_1_KM.value: N_("under 1 km"),
    DistanceBand.KM_1_TO_5.value: N_("1 to 5 km"),
    DistanceBand.KM_5_TO_20.value: N_("5 to 20 km"),
    DistanceBand.OVER_20_KM.value: N_("over 20 km"),
}


def _data(prefix: str, referral_id: str, action: str) -> str:
    return f"{prefix}:{referral_id}:{action}"


def officer_text(translator: NullTranslations, referral: Referral, name: str,
                 state: HandoffState | None, handoff_minutes: float,
                 arrived: bool = False) -> str:
    """The confirmation, with where the hand-off stands."""
    _ = translator.gettext
    lines = []
    if state is not None and state.tried:
        lines.append(_("Moved to %(name)s.") % {"name": name})
    lines.append(_("Referral logged. Code: %(code)s\nShow the code at %(name)s.")
                 % {"code": shown_code(referral.code), "name": name})
    if arrived:
        lines.append(_("Arrived at %(name)s.") % {"name": name})
    elif state is not None:
        if state.answer is Answer.EXPECTING:
            lines.append(_("%(name)s: expecting them.") % {"name": name})
        elif state.answer is not None:
            lines.append(_(DECLINED_AS[state.answer]) % {"name": name})
        elif state.told_no_answer:
            lines.append(_("No answer from %(name)s within %(minutes)d minutes: call them "
                           "first.") % {"name": name, "minutes": round(handoff_minutes)})
        elif state.asked_at is not None:
            lines.append(_("%(name)s has been told; their answer will show here.")
                         % {"name": name})
        if state.travel is not None:
            lines.append(_(TRAVEL_NAMES[state.travel]) + ".")
        if state.reported:
            lines.append(_("Reported: the service was closed or turned them away."))
    return "\n".join(lines)


def officer_buttons(translator: NullTranslations, state: HandoffState | None,
                    arrived: bool = False) -> InlineKeyboardMarkup | None:
    _ = translator.gettext
    if state is None or arrived:
        return None
    rows = []
    declined = state.answer not in (None, Answer.EXPECTING)
    if state.asked_at is not None and state.travel is None and not declined:
        rows.append([InlineKeyboardButton(_(TRAVEL_NAMES[t]), callback_data=_data(
            OFFICER, state.referral_id, action)) for t, action in (
            (Travel.WALKING, WALK), (Travel.DRIVEN, DRIVE))])
    if (declined or state.told_no_answer or state.reported) and state.alternatives:
        # The button names the move it makes (moves so far): pressed twice, or handled again
        # after a worker died, it moves the referral once.
        rows.append([InlineKeyboardButton(_("Next nearest open service"), callback_data=_data(
            OFFICER, state.referral_id, f"{NEXT}{len(state.tried)}"))])
    if not state.reported and not declined:
        rows.append([InlineKeyboardButton(_("Service was closed / turned them away"),
                                          callback_data=_data(OFFICER, state.referral_id,
                                                              REPORT))])
    return InlineKeyboardMarkup(rows) if rows else None


def notice_text(translator: NullTranslations, referral: Referral, state: HandoffState,
                *, moved_away: bool = False, arrived: bool = False) -> str:
    """A notice to the service's staff: the code and nothing about the person."""
    _ = translator.gettext
    if moved_away:
        return _("Referral %(code)s went to another service: nothing to do.") % {
            "code": shown_code(referral.code)}
    lines = [_("Someone is on their way with referral code %(code)s.") % {
        "code": shown_code(referral.code)}]
    if referral.needs:
        lines.append(_("Needs: %(needs)s") % {
            "needs": ", ".join(_(NEED_NAMES[need]) for need in referral.needs)})
    lines.append(_("Pathway: %(pathway)s") % {"pathway": _(PATHWAY_NAMES[referral.pathway])})
    if referral.distance_band in BAND_NAMES:
        lines.append(_("Distance: %(band)s") % {"band": _(BAND_NAMES[referral.distance_band])})
    if state.travel is not None:
        lines.append(_(TRAVEL_NAMES[state.travel]) + ".")
    if arrived:
        lines.append(_("Arrival recorded. Thank you."))
    elif state.answer is not None:
        lines.append(_("Answered: %(answer)s") % {"answer": _(ANSWER_NAMES[state.answer])})
    return "\n".join(lines)


def notice_buttons(translator: NullTranslations, state: HandoffState, *,
                   moved_away: bool = False, arrived: bool = False
                   ) -> InlineKeyboardMarkup | None:
    _ = translator.gettext
    if moved_away or arrived:
        return None
    rid = state.referral_id
    arrived_row = [InlineKeyboardButton(_("Arrived"), callback_data=_data(STAFF, rid, ARRIVED))]
    if state.answer is None:  # a person may arrive before anyone answered
        buttons = [InlineKeyboardButton(_(ANSWER_NAMES[a]), callback_data=_data(
            STAFF, rid, a.value)) for a in Answer]
        return InlineKeyboardMarkup([buttons[:1], buttons[1:3], buttons[3:], arrived_row])
    if state.answer is Answer.EXPECTING:
        return InlineKeyboardMarkup([arrived_row])
    return None


OFFICER_PATTERN = rf"^{OFFICER}:[0-9a-f]{{32}}:({WALK}|{DRIVE}|{REPORT}|{NEXT}\d{{1,2}})$"
STAFF_PATTERN = (rf"^{STAFF}:[0-9a-f]{{32}}:("
                 + "|".join([*(a.value for a in Answer), ARRIVED]) + ")$")
