"""What a warm hand-off is made of (referrals/handoff.py says how it goes): how it went, the
staff's answers, how the person travels, and the state a hand-off in progress keeps (sealed by
the store: referrals/ports.py HandoffStore)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

# Staff have this long to answer before the officer is told that nobody has
# (DEFLECT_HANDOFF_MINUTES).
DEFAULT_HANDOFF_MINUTES = 10.0
# What a hand-off keeps (to edit the confirmation, take a report, move the referral) is
# deleted this long after the referral: long enough for a person to walk across a city.
KEEP_S = 12 * 3600
ALTERNATIVES = 5  # the next nearest services kept for "next nearest open service"


class Handoff(StrEnum):
    """How a referral's hand-off went, as the referral row records it."""

    NONE = "none"  # nobody at the service to tell, or no answer yet
    EXPECTED = "expected"
    DECLINED = "declined"
    MOVED = "moved"  # moved to another service, which has not answered yet
    NO_ANSWER = "no_answer"


class Answer(StrEnum):
    """A staff member's answer to a notice."""

    EXPECTING = "expecting"
    FULL = "full"
    CLOSED = "closed"
    CANNOT_MEET = "cannot_meet"  # can't meet this need


class Travel(StrEnum):
    WALKING = "walking"
    DRIVEN = "driven"


@dataclass(frozen=True)
class Notice:
    """A notice sent to one staff chat: where it is, to edit it as the hand-off goes on."""

    chat_id: int
    message_id: int


@dataclass
class HandoffState:
    """A hand-off in progress (kept sealed by the store, bound to its referral)."""

    referral_id: str
    service_id: str
    officer_chat: int
    locale: str  # the language the officer's confirmation is shown in
    made_at: int
    officer_message: int | None = None  # the confirmation, edited in place
    notices: list[Notice] = field(default_factory=list)
    # The next nearest services when the referral was made, nearest first: (id, metres).
    alternatives: list[tuple[str, float]] = field(default_factory=list)
    tried: list[str] = field(default_factory=list)
    travel: Travel | None = None
    answer: Answer | None = None
    asked_at: int | None = None  # when staff were told (None: the service has no staff)
    told_no_answer: bool = False
    reported: bool = False  # the officer said the service was closed or turned them away

    @property
    def waiting(self) -> bool:
        """Staff were told and nobody has answered yet."""
        return self.asked_at is not None and self.answer is None

    def deadline(self, handoff_minutes: float) -> int:
        """When the store must hand this back (HandoffStore.due): at the end of the time
        staff have to answer while waiting, else when it is deleted."""
        if self.waiting and not self.told_no_answer and self.asked_at is not None:
            return self.asked_at + round(handoff_minutes * 60)
        return self.made_at + KEEP_S

    def to_json(self) -> dict[str, Any]:
        return {
            "referral_id": self.referral_id, "service_id": self.service_id,
            "officer_chat": self.officer_chat, "locale": self.locale, "made_at": self.made_at,
            "officer_message": self.officer_message,
            "notices": [[n.chat_id, n.message_id] for n in self.notices],
            "alternatives": [[s, d] for s, d in self.alternatives], "tried": self.tried,
            "travel": self.travel.value if self.travel else None,
            "answer": self.answer.value if self.answer else None, "asked_at": self.asked_at,
            "told_no_answer": self.told_no_answer, "reported": self.reported,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> HandoffState:
        return cls(
            referral_id=str(data["referral_id"]), service_id=str(data["service_id"]),
            officer_chat=int(data["officer_chat"]), locale=str(data["locale"]),
            made_at=int(data["made_at"]), officer_message=data["officer_message"],
            notices=[Notice(int(c), int(m)) for c, m in data["notices"]],
            alternatives=[(str(s), float(d)) for s, d in data["alternatives"]],
            tried=[str(s) for s in data["tried"]],
            travel=Travel(data["travel"]) if data["travel"] else None,
            answer=Answer(data["answer"]) if data["answer"] else None,
            asked_at=data["asked_at"], told_no_answer=bool(data["told_no_answer"]),
            reported=bool(data["reported"]),
        )
