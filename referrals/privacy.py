"""What `deflect privacy-check` looks for in a database, and where.

Findings: anything shaped like a Telegram id (an integer of 6 to 15 digits that is not one of
the schema's known counters), a phone number, a coordinate with more than 3 decimals, or free
text in the referral tables (a value that is not one of the few shapes their columns hold,
derived here from the model's own enums and code alphabet).

The directory's tables are public data about services (their addresses, phones and exact
places are the point) and are not searched. A few tables hold, by design and only for a
while, what a running conversation needs: conversation state, a pending follow-up reminder's
chat id, the typed-place cache. They are reported apart, with their row counts, so that
an operator sees them. The scan of a file is the storage backend's (storage/sqlite/privacy.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from directory.model import Need
from members.keys import CODE_ALPHABET
from members.model import Role
from referrals.handoff_model import Handoff
from referrals.model import (
    AREA_CELL_PRECISION,
    CODE_LENGTH,
    LEGACY_CODE_LENGTH,
    DistanceBand,
    Outcome,
    Pathway,
)

DIRECTORY_TABLES = re.compile(r"^(service|directory_|hours_rule|sqlite_)")
# Tables whose rows exist only while in use; reported with their row counts. Their values
# are looked at like any other (sealed ids are bytes: nothing to read), and rows kept past
# their time are findings (storage/sqlite/privacy.py, STALE).
TRANSIENT = {
    "conversation_state": "conversations in progress (deleted when they end or go idle)",
    "user_state": "drafts of conversations in progress (deleted with them)",
    "followup": "follow-up reminders waiting for an answer (chat id sealed; deleted when "
                "answered or a day after the last reminder)",
    "geocode_cache": "typed places looked up (keyed and sealed; deleted after 30 days)",
    "handoff": "hand-offs in progress (chats sealed; deleted when they end, 12 hours after "
               "the referral at the latest)",
}
# Integer columns that hold counters, flags, times or keys, never a person.
KNOWN_INTEGERS = {
    ("agency", "id"), ("invite", "uses_left"), ("join_attempt", "failures"),
    ("guess_attempt", "failures"),
    ("referral", "agency_id"), ("referral", "consent"), ("referral_week", "agency_id"),
    ("referral_week", "consent"), ("referral_week", "engaged_days"),
    ("referral_week", "weight"), ("installation", "id"), ("key_check", "id"),
    ("conversation_state", "state"), ("followup", "made_at"), ("followup", "sent"),
    ("followup", "due_at"), ("referral", "moves"), ("handoff", "deadline"),
}
# Text columns that hold public data about services (a directory's ids may be numbers).
PUBLIC_TEXT = {("staff", "service_id"), ("invite", "services")}
ID_SHAPED = re.compile(r"(?<![\w.])\d{6,15}(?![\w.])")
PHONE = re.compile(r"\+?\d[\d ().-]{7,}\d")
DATE_TIME = re.compile(r"\d{4}-\d\d-\d\d(T\d\d(:\d\d(:\d\d)?)?Z?)?")
COORDINATE = re.compile(r"-?\d{1,3}\.\d{4,}")


def _one_of(values: Iterable[str]) -> str:
    return "|".join(re.escape(value) for value in values)


_ENUMS = {
    "pathway": _one_of(Pathway),
    "referrer_role": _one_of(Role),
    "outcome": _one_of(Outcome),
    "distance_band": _one_of(DistanceBand),
    "handoff": _one_of(Handoff),
}
_NEED = _one_of(Need)
# The shapes of the referral log's values, derived from the model that makes them.
REFERRAL_SHAPES = {
    "id": r"[0-9a-f]{32}",
    "code": f"[{re.escape(CODE_ALPHABET)}]{{{CODE_LENGTH}}}"
            f"|[{re.escape(CODE_ALPHABET)}]{{{LEGACY_CODE_LENGTH}}}",
    "created_hour": r"\d{4}-\d\d-\d\dT\d\d:00Z",
    "needs": f"(?:{_NEED})(?:;(?:{_NEED}))*|", "service_id": r"[\w.:/-]{1,80}",
    "area_cell": f"[0-9b-hjkmnp-z]{{{AREA_CELL_PRECISION}}}", "outcome_day": r"\d{4}-\d\d-\d\d",
    "week": r"\d{4}-\d\d-\d\d", **_ENUMS,
}


@dataclass(frozen=True)
class Finding:
    table: str
    column: str
    what: str
    sample: str  # shortened, so the report does not itself become the leak

    def render(self) -> str:
        return f"{self.table}.{self.column}: {self.what} ({self.sample})"


def _mask(value: object) -> str:
    text = str(value)
    return text[:2] + "…" + text[-1:] if len(text) > 4 else "…"


def inspect(table: str, column: str, value: object) -> Finding | None:
    if value is None or isinstance(value, bytes):
        return None  # keyed hashes and secrets are bytes; nothing to read in them
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        if (table, column) not in KNOWN_INTEGERS and abs(value) >= 100_000:
            return Finding(table, column, "an integer shaped like a Telegram id", _mask(value))
        return None
    if isinstance(value, float):
        if len(repr(value).split(".")[-1]) > 3 and abs(value) <= 180:
            return Finding(table, column, "a coordinate with more than 3 decimals",
                           _mask(value))
        return None
    text = str(value)
    if (table, column) in PUBLIC_TEXT:
        return None
    if column == "referral_id" and re.fullmatch(REFERRAL_SHAPES["id"], text):
        return None  # a referral's random id (hex digits may look like a phone number)
    if table in ("referral", "referral_week"):
        shape = REFERRAL_SHAPES.get(column)
        if shape is None or not re.fullmatch(shape, text):
            return Finding(table, column, "free text in the referral log", _mask(text))
        return None
    if ID_SHAPED.search(text):
        return Finding(table, column, "a number shaped like a Telegram id", _mask(text))
    if COORDINATE.search(text):  # before phones: "41.878112" would pass for one
        return Finding(table, column, "a coordinate with more than 3 decimals", _mask(text))
    for match in PHONE.finditer(text):
        digits = sum(char.isdigit() for char in match.group())
        if digits >= 9 and not DATE_TIME.fullmatch(match.group()):
            return Finding(table, column, "a phone number", _mask(text))
    return None
