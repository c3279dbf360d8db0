"""The warm hand-off: the service on the other end is told someone is coming, answers, and
the officer sees the answer where the confirmation is.

Nothing about the person travels: a notice to a service's staff holds the referral's code,
needs, pathway, distance band and, if the officer said so, whether the person walks or is
driven. A hand-off in progress keeps, sealed and apart from the referral log, what it must
reach again (the officer's chat and confirmation, the staff notices) and the next services to
offer; it is deleted when it ends. The referral row learns only how the hand-off went
(`Handoff`) and how often it moved to another service.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from referrals.handoff_model import (
    ALTERNATIVES,
    DEFAULT_HANDOFF_MINUTES,
    KEEP_S,
    Answer,
    Handoff,
    HandoffState,
    Notice,
    Travel,
)
from referrals.model import Referral, distance_band
from referrals.ports import HandoffStore


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


class Handoffs:
    """Hand-offs in progress, and what they write to the referral log."""

    def __init__(self, store: HandoffStore,
                 handoff_minutes: float = DEFAULT_HANDOFF_MINUTES) -> None:
        if handoff_minutes <= 0:
            raise ValueError("DEFLECT_HANDOFF_MINUTES must be positive")
        self.store = store
        self.minutes = handoff_minutes

    def begin(self, referral: Referral, officer_chat: int, locale: str,
              alternatives: Iterable[tuple[str, float]], now: float | None = None
              ) -> HandoffState:
        """The state of a referral just logged (not kept until `save`)."""
        assert referral.service_id is not None
        return HandoffState(
            referral_id=referral.id, service_id=referral.service_id,
            officer_chat=officer_chat, locale=locale, made_at=_now(now),
            alternatives=[(s, d) for s, d in alternatives if s != referral.service_id]
            [:ALTERNATIVES])

    async def save(self, state: HandoffState) -> None:
        await self.store.save(state, state.deadline(self.minutes))

    async def get(self, referral_id: str) -> HandoffState | None:
        return await self.store.get(referral_id)

    async def asked(self, state: HandoffState, notices: list[Notice],
                    now: float | None = None) -> None:
        """Staff of the referral's service were sent these notices."""
        state.notices = notices
        state.asked_at = _now(now) if notices else None
        state.answer = None
        state.told_no_answer = False
        await self.save(state)

    async def answered(self, state: HandoffState, answer: Answer) -> None:
        """A staff member answered (the first answer counts)."""
        state.answer = answer
        await self.store.set_handoff(
            state.referral_id,
            Handoff.EXPECTED if answer is Answer.EXPECTING else Handoff.DECLINED)
        await self.save(state)

    async def no_answer(self, state: HandoffState) -> None:
        state.told_no_answer = True
        await self.store.set_handoff(state.referral_id, Handoff.NO_ANSWER)
        await self.save(state)

    def next_service(self, state: HandoffState, usable: Iterable[str]) -> tuple[str, float] | None:
        """The nearest alternative not tried yet among `usable` (those open now)."""
        allowed = set(usable)
        for service_id, distance_m in state.alternatives:
            if service_id in allowed and service_id not in state.tried:
                return service_id, distance_m
        return None

    async def move(self, state: HandoffState, service_id: str, distance_m: float) -> None:
        """The same referral, to another service: its row's service and distance band
        change and the move is counted (HandoffStore.move); never a second referral."""
        state.tried.append(state.service_id)
        state.service_id = service_id
        state.notices = []
        state.answer = None
        state.asked_at = None
        state.told_no_answer = False
        state.reported = False
        await self.store.move(state.referral_id, service_id, distance_band(distance_m))
        await self.save(state)

    async def due(self, now: float | None = None) -> list[HandoffState]:
        """Hand-offs whose time has come: those waiting past their answer time (to tell the
        officer); those past KEEP_S are deleted instead."""
        moment = _now(now)
        states = await self.store.due(moment)
        waiting = []
        for state in states:
            if moment >= state.made_at + KEEP_S:
                await self.store.end(state.referral_id)
            elif state.waiting and not state.told_no_answer:
                waiting.append(state)
            else:  # its deadline moved on (answered since): look again then
                await self.save(state)
        return waiting

    async def end(self, referral_id: str) -> None:
        await self.store.end(referral_id)


__all__ = ["ALTERNATIVES", "DEFAULT_HANDOFF_MINUTES", "KEEP_S", "Answer", "Handoff",
           "HandoffState", "Handoffs", "Notice", "Travel"]
