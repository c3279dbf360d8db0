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
from dataclasses import dataclass
from enum import StrEnum

import aiosqlite

from bot.referrals import Outcome
from directory.sqlite import transaction, write_lock

MIGRATION = """
CREATE TABLE followup (
    referral_id TEXT PRIMARY KEY REFERENCES referral(id) ON DELETE CASCADE,
    chat_id INTEGER NOT NULL,
    locale TEXT NOT NULL,
    made_at INTEGER NOT NULL,
    sent INTEGER NOT NULL,
    due_at INTEGER NOT NULL
);
CREATE INDEX followup_due ON followup(due_at);
CREATE TABLE undelivered (
    user_hmac BLOB NOT NULL,
    referral_id TEXT NOT NULL REFERENCES referral(id) ON DELETE CASCADE,
    PRIMARY KEY (user_hmac, referral_id)
);
"""

HOUR_S = 3600
# After the last reminder, its buttons still count for a day; then the row goes.
ANSWER_WINDOW_S = 24 * HOUR_S
# A reminder that could not be sent (network) is tried again after this long.
RETRY_S = 5 * 60


class Answer(StrEnum):
    """The reminder's buttons, and the outcome each records."""

    ENGAGED = "engaged"
    NOT_YET = "not_yet"
    DECLINED = "declined"
    UNKNOWN = "unknown"

    @property
    def outcome(self) -> Outcome:
        return Outcome(self.value)


@dataclass(frozen=True)
class Due:
    """A reminder to send now: where, for which referral, and which one of the series."""

    referral_id: str
    chat_id: int
    made_at: int
    number: int  # 1 for the first reminder
    locale: str
    code: str
    service_id: str | None
    created_hour: str


class FollowUps:
    """Reminder rows: scheduled at referral, sent when due, deleted when answered or old."""

    def __init__(self, db: aiosqlite.Connection, hours: Sequence[float]) -> None:
        if not hours or any(h <= 0 for h in hours) or list(hours) != sorted(hours):
            raise ValueError("follow-up hours must be positive and increasing, e.g. 24,72")
        self.db = db
        self.hours = tuple(hours)

    def _due_after(self, made_at: int, sent: int) -> int:
        """When the next step falls due: the next reminder, or expiry after the last."""
        if sent < len(self.hours):
            return made_at + round(self.hours[sent] * HOUR_S)
        return made_at + round(self.hours[-1] * HOUR_S) + ANSWER_WINDOW_S

    async def schedule(self, referral_id: str, chat_id: int, locale: str,
                       now: float | None = None) -> None:
        """Remind this chat, in this language, about this referral (once per referral)."""
        made_at = int(now if now is not None else time.time())
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT OR IGNORE INTO followup (referral_id, chat_id, locale, made_at, sent, "
                "due_at) VALUES (?, ?, ?, ?, 0, ?)",
                (referral_id, chat_id, locale, made_at, self._due_after(made_at, 0)))

    async def due(self, now: float | None = None, limit: int = 100) -> list[Due]:
        """Reminders to send now. Rows past their answer window are deleted instead."""
        moment = int(now if now is not None else time.time())
        await self.purge(moment)
        async with write_lock(self.db):
            # Arrival already confirmed (/arrived): nothing left to ask.
            await self.db.execute(
                "DELETE FROM followup WHERE referral_id IN (SELECT id FROM referral "
                "WHERE outcome = ?)", (Outcome.ENGAGED.value,))
        rows = await self.db.execute_fetchall(
            "SELECT f.referral_id, f.chat_id, f.made_at, f.sent, f.locale, r.code, "
            "r.service_id, r.created_hour FROM followup f JOIN referral r "
            "ON r.id = f.referral_id WHERE f.due_at <= ? AND f.sent < ? "
            "ORDER BY f.due_at LIMIT ?", (moment, len(self.hours), limit))
        return [Due(referral_id=str(r[0]), chat_id=int(r[1]), made_at=int(r[2]),
                    number=int(r[3]) + 1, locale=str(r[4]), code=str(r[5]),
                    service_id=None if r[6] is None else str(r[6]), created_hour=str(r[7]))
                for r in rows]

    async def sent(self, due: Due) -> None:
        """The reminder went out: the row now waits for the next one (or for expiry)."""
        async with write_lock(self.db):
            await self.db.execute(
                "UPDATE followup SET sent = ?, due_at = ? WHERE referral_id = ?",
                (due.number, self._due_after(due.made_at, due.number), due.referral_id))

    async def postpone(self, due: Due, now: float | None = None) -> None:
        """The network failed: try this reminder again in a few minutes."""
        moment = int(now if now is not None else time.time())
        async with write_lock(self.db):
            await self.db.execute("UPDATE followup SET due_at = ? WHERE referral_id = ?",
                                  (moment + RETRY_S, due.referral_id))

    async def drop(self, referral_id: str) -> None:
        """No more reminders for this referral (the chat is gone, or it was answered)."""
        async with write_lock(self.db):
            await self.db.execute("DELETE FROM followup WHERE referral_id = ?", (referral_id,))

    async def answer(self, referral_id: str, chat_id: int, answer: Answer,
                     now: float | None = None) -> tuple[str, bool] | None:
        """Record the answer to a reminder sent to this chat; returns the referral's code and
        whether another reminder will come.

        None when no reminder for this referral is waiting in this chat (answered already,
        expired, or a forged button): nothing changes. "Not yet" keeps the next reminder,
        if there is one; every other answer ends the series.
        """
        moment = now if now is not None else time.time()
        async with transaction(self.db):
            rows = list(await self.db.execute_fetchall(
                "SELECT f.sent, r.code FROM followup f JOIN referral r ON r.id = f.referral_id "
                "WHERE f.referral_id = ? AND f.chat_id = ? AND f.sent > 0",
                (referral_id, chat_id)))
            if not rows:
                return None
            sent, code = int(rows[0][0]), str(rows[0][1])
            day = time.strftime("%Y-%m-%d", time.gmtime(moment))
            # An arrival confirmed at the service stands: "not yet" cannot undo it.
            await self.db.execute(
                "UPDATE referral SET outcome = ?, outcome_day = ? WHERE id = ? AND outcome != ?",
                (answer.outcome.value, day, referral_id, Outcome.ENGAGED.value))
            again = answer is Answer.NOT_YET and sent < len(self.hours)
            if not again:
                await self.db.execute("DELETE FROM followup WHERE referral_id = ?",
                                      (referral_id,))
        return code, again

    async def purge(self, now: float | None = None) -> int:
        """Delete reminders past their answer window; returns how many."""
        moment = int(now if now is not None else time.time())
        async with write_lock(self.db):
            cursor = await self.db.execute(
                "DELETE FROM followup WHERE sent >= ? AND due_at <= ?", (len(self.hours), moment))
        return cursor.rowcount

    async def pending(self) -> int:
        rows = list(await self.db.execute_fetchall("SELECT count(*) FROM followup"))
        return int(rows[0][0])


@dataclass(frozen=True)
class Notice:
    referral_id: str
    code: str
    service_id: str | None


class Undelivered:
    """Referral confirmations that did not reach their member, shown on their next visit.

    Which members have one is kept in memory too, so the check on every update costs no
    database round trip.
    """

    def __init__(self, db: aiosqlite.Connection, waiting: set[bytes]) -> None:
        self.db = db
        self._waiting = waiting

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> Undelivered:
        rows = await db.execute_fetchall("SELECT DISTINCT user_hmac FROM undelivered")
        return cls(db, {bytes(row[0]) for row in rows})

    def any_waiting(self) -> bool:
        """Whether any member has one (on nearly every update: no, and no hash to compute)."""
        return bool(self._waiting)

    def waiting(self, user_key: bytes) -> bool:
        return user_key in self._waiting

    async def keep(self, user_key: bytes, referral_id: str) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT OR IGNORE INTO undelivered (user_hmac, referral_id) VALUES (?, ?)",
                (user_key, referral_id))
        self._waiting.add(user_key)

    async def take(self, user_key: bytes) -> list[Notice]:
        """This member's undelivered confirmations, deleted as they are handed over."""
        if user_key not in self._waiting:
            return []
        async with transaction(self.db):
            rows = list(await self.db.execute_fetchall(
                "SELECT u.referral_id, r.code, r.service_id FROM undelivered u "
                "JOIN referral r ON r.id = u.referral_id WHERE u.user_hmac = ? "
                "ORDER BY r.created_hour", (user_key,)))
            await self.db.execute("DELETE FROM undelivered WHERE user_hmac = ?", (user_key,))
        self._waiting.discard(user_key)
        return [Notice(str(r[0]), str(r[1]), None if r[2] is None else str(r[2]))
                for r in rows]

    async def give_back(self, user_key: bytes, notices: Sequence[Notice]) -> None:
        """Showing them failed too: keep them for the next visit."""
        for notice in notices:
            await self.keep(user_key, notice.referral_id)
