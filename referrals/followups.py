"""Closing the loop: reminders that ask whether a referred person got to the service, and
confirmations that never arrived.

A reminder must reach a chat, so its row holds the chat id next to the referral's id, and
nothing else: no name, no text, no place. It lives apart from the referral log, only until it
is answered or expires (a day after the last reminder), and `purge` deletes what is left. The
referral row itself never learns who referred it.

A confirmation that could not be delivered is kept under the member's keyed hash (the same
HMAC as membership, never the raw id) and shown the next time they write to the bot.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from datetime import UTC, datetime
from enum import StrEnum

from referrals.model import Outcome
from referrals.ports import Due, FollowUpStore, Notice, Reminder, UndeliveredStore

HOUR_S = 3600
# After the last reminder, its buttons still count for a day; then the row goes.
ANSWER_WINDOW_S = 24 * HOUR_S
# A reminder that could not be sent (network) is tried again after this long.
RETRY_S = 5 * 60
DEFAULT_FOLLOWUP_HOURS: tuple[float, ...] = (24, 72)


class Answer(StrEnum):
    """The reminder's buttons, and the outcome each records."""

    ENGAGED = "engaged"
    NOT_YET = "not_yet"
    DECLINED = "declined"
    UNKNOWN = "unknown"
    # The service was closed or turned them away: not there yet (the next reminder still
    # comes), and a field report for the service (directory/live.py).
    TURNED_AWAY = "turned_away"

    @property
    def outcome(self) -> Outcome:
        return Outcome.NOT_YET if self is Answer.TURNED_AWAY else Outcome(self.value)


def _now(now: float | None) -> int:
    return int(now if now is not None else time.time())


class FollowUps:
    """Reminder series: scheduled at referral, sent when due, deleted when answered or old."""

    def __init__(self, store: FollowUpStore, hours: Sequence[float]) -> None:
        if not hours or any(h <= 0 for h in hours) or list(hours) != sorted(hours):
            raise ValueError("follow-up hours must be positive and increasing, e.g. 24,72")
        self.store = store
        self.hours = tuple(hours)

    def _due_after(self, made_at: int, sent: int) -> int:
        """When the next step falls due: the next reminder, or expiry after the last."""
        if sent < len(self.hours):
            return made_at + round(self.hours[sent] * HOUR_S)
        return made_at + round(self.hours[-1] * HOUR_S) + ANSWER_WINDOW_S

    def plan(self, chat_id: int, locale: str, now: float | None = None) -> Reminder:
        """The series for a referral made now, to be logged with it (ReferralLog.record)."""
        made_at = _now(now)
        return Reminder(chat_id, locale, made_at, self._due_after(made_at, 0))

    async def schedule(self, referral_id: str, chat_id: int, locale: str,
                       now: float | None = None) -> None:
        """Remind this chat, in this language, about a referral logged already (once per
        referral)."""
        await self.store.schedule(referral_id, self.plan(chat_id, locale, now))

    async def due(self, now: float | None = None, limit: int = 100) -> list[Due]:
        """Reminders to send now. Series past their answer window are deleted instead."""
        moment = _now(now)
        await self.purge(moment)
        return await self.store.due(moment, len(self.hours), limit)

    async def sent(self, due: Due) -> None:
        """The reminder went out: the row now waits for the next one (or for expiry)."""
        await self.store.mark_sent(due.referral_id, due.number,
                                   self._due_after(due.made_at, due.number))

    async def postpone(self, due: Due, now: float | None = None) -> None:
        """The network failed: try this reminder again in a few minutes."""
        await self.store.postpone(due.referral_id, _now(now) + RETRY_S)

    async def drop(self, referral_id: str) -> None:
        """No more reminders for this referral (the chat is gone, or it was answered)."""
        await self.store.drop(referral_id)

    async def answer(self, referral_id: str, chat_id: int, answer: Answer,
                     now: float | None = None) -> tuple[str, bool] | None:
        """Record the answer to a reminder sent to this chat; returns the referral's code and
        whether another reminder will come.

        None when no reminder for this referral is waiting in this chat (answered already,
        expired, or a forged button): nothing changes. "Not yet" keeps the next reminder,
        if there is one; every other answer ends the series.
        """
        moment = now if now is not None else time.time()
        day = datetime.fromtimestamp(moment, UTC).date()
        keep_below = len(self.hours) if answer.outcome is Outcome.NOT_YET else None
        result = await self.store.answer(referral_id, chat_id, answer.outcome, day, keep_below)
        if result is None:
            return None
        code, sent = result
        return code, keep_below is not None and sent < keep_below

    async def purge(self, now: float | None = None) -> int:
        """Delete reminders past their answer window; returns how many."""
        return await self.store.purge(len(self.hours), _now(now))

    async def pending(self) -> int:
        return await self.store.pending()


class Undelivered:
    """Referral confirmations that did not reach their member, shown on their next visit."""

    def __init__(self, store: UndeliveredStore) -> None:
        self.store = store

    def any_waiting(self) -> bool:
        """Whether any member has one (on nearly every update: no, and no hash to compute)."""
        return self.store.any_waiting()

    def waiting(self, user_key: bytes) -> bool:
        return self.store.waiting(user_key)

    async def keep(self, user_key: bytes, referral_id: str) -> None:
        await self.store.keep(user_key, referral_id)

    async def take(self, user_key: bytes) -> list[Notice]:
        """This member's undelivered confirmations, deleted as they are handed over."""
        return await self.store.take(user_key)

    async def give_back(self, user_key: bytes, notices: Sequence[Notice]) -> None:
        """Showing them failed too: keep them for the next visit."""
        for notice in notices:
            await self.keep(user_key, notice.referral_id)


__all__ = ["ANSWER_WINDOW_S", "DEFAULT_FOLLOWUP_HOURS", "Answer", "Due", "FollowUps", "Notice",
           "Undelivered"]
