"""What the conversations show or send that is not a sentence: labels of the model's values,
the prefixes of button data, and the patterns that route a pressed button to its step."""

from __future__ import annotations

from enum import StrEnum

from directory.i18n import N_
from directory.model import Need
from referrals.model import Pathway

PATHWAY_NAMES = {
    Pathway.SELF_REFERRAL: N_("Self-referral"),
    Pathway.ACTIVE_OUTREACH: N_("Active outreach"),
    Pathway.NALOXONE_PLUS: N_("Naloxone Plus (after an overdose)"),
    Pathway.OFFICER_PREVENTION: N_("Officer prevention (no charges)"),
    Pathway.OFFICER_INTERVENTION: N_("Officer intervention (charges held)"),
    Pathway.COMMUNITY_RESPONSE: N_("Community response"),
}

NEED_NAMES = {
    Need.TREATMENT: N_("Treatment"), Need.DETOX: N_("Detox"),
    Need.MOUD: N_("MOUD (methadone, bupe)"), Need.HARM_REDUCTION: N_("Harm reduction"),
    Need.NALOXONE: N_("Naloxone"), Need.CRISIS: N_("Mental-health crisis"),
    Need.SHELTER: N_("Shelter"), Need.PEER_SUPPORT: N_("Peer support"),
}


class Prefix(StrEnum):
    """What a conversation button's data starts with: the question it answers.

    The data is "prefix:nonce:value" (handlers.common.button); the prefixes are short
    because Telegram allows 64 bytes of callback data.
    """

    SAFETY = "chk"
    OVERDOSE = "od"
    PATHWAY = "path"
    ELIGIBILITY = "elig"
    CONSENT = "consent"
    NEED = "need"
    PLACE = "loc"
    RESULT = "res"
    NAV = "nav"


# The shape of Draft.nonce (secrets.token_hex(3)); whether it is the nonce of the
# conversation in progress is checked by the step itself (handlers.common.nonce_matches).
NONCE = r"[0-9a-f]{6}"

# The start menu's buttons (handlers/start.py) that open the conversation; no nonce, since
# no conversation is in progress yet.
START_CHECKLIST = "start:checklist"
START_FIND = "start:find"


def _button_pattern(prefix: Prefix, values: str) -> str:
    """The pattern of a button with this prefix, any nonce, and a value matching `values`."""
    return rf"^{prefix}:{NONCE}:{values}$"


_YES_NO = "(yes|no)"
_PATHWAYS = "|".join(p.value for p in Pathway)
_NEEDS = "|".join(n.value for n in Need)

SAFETY_ANSWER = _button_pattern(Prefix.SAFETY, _YES_NO)
OVERDOSE_CONTINUE = _button_pattern(Prefix.OVERDOSE, "continue")
PATHWAY_CHOICE = _button_pattern(Prefix.PATHWAY, f"({_PATHWAYS})")
ELIGIBILITY_ANSWER = _button_pattern(Prefix.ELIGIBILITY, _YES_NO)
CONSENT_ANSWER = _button_pattern(Prefix.CONSENT, _YES_NO)
NEED_TOGGLE = _button_pattern(Prefix.NEED, f"({_NEEDS}|done)")
# At most five places are offered for a typed text (directory.gazetteer.MAX_PLACES).
PLACE_CHOICE = _button_pattern(Prefix.PLACE, "[0-4]")
RESULT_ACTION = _button_pattern(Prefix.RESULT, "(refer:[1-9]|more|closed)")
NAVIGATION = _button_pattern(Prefix.NAV, r"(back|cancel|lang|lang-\w+)")
START_CHECKLIST_PRESSED = f"^{START_CHECKLIST}$"
START_FIND_PRESSED = f"^{START_FIND}$"
