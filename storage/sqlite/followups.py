"""Follow-up reminders and undelivered confirmations in SQLite (referrals/ports.py).

A reminder must reach its chat, so it keeps the chat id: sealed (AES-GCM, bound to the
referral's id), never in clear; the file alone does not say who referred whom."""

from __future__ import annotations

from datetime import date

import aiosqlite

from directory.sqlite import transaction, write_lock
from members.keys import Sealer
from referrals.model import Outcome
from referrals.ports import Due, Notice, Reminder
from storage.sqlite.referrals import write_outcome


class SqliteFollowUpStore:
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    @classmethod
    async def open(cls, db: aiosqlite.Connection, sealer: Sealer) -> SqliteFollowUpStore:
        """The store; reminders written in clear before ids were sealed are sealed now."""
        store = cls(db, sealer)
        async with transaction(db):
            for referral_id, chat_id in list(await db.execute_fetchall(
                    "SELECT referral_id, chat_id FROM followup WHERE chat_id IS NOT NULL")):
                await db.execute(
                    "UPDATE followup SET chat_id = NULL, sealed_chat = ? WHERE referral_id = ?",
                    (store._seal(str(referral_id), int(chat_id)), referral_id))
        return store

    def _seal(self, referral_id: str, chat_id: int) -> bytes:
        return self.sealer.seal(str(chat_id).encode(), referral_id.encode())

    def _chat(self, referral_id: str, sealed: bytes) -> int:
        return int(self.sealer.open(sealed, referral_id.encode()))

    async def schedule(self, referral_id: str, reminder: Reminder) -> None:
        async with write_lock(self.db):
            await self.write(referral_id, reminder)

    async def write(self, referral_id: str, reminder: Reminder) -> None:
        """Inside the caller's transaction (the referral's own: SqliteReferralStore.add)."""
        await self.db.execute(
            "INSERT INTO followup (referral_id, sealed_chat, locale, made_at, sent, due_at) "
            "VALUES (?, ?, ?, ?, 0, ?) ON CONFLICT (referral_id) DO NOTHING",
            (referral_id, self._seal(referral_id, reminder.chat_id), reminder.locale,
             reminder.made_at, reminder.due_at))

    async def due(self, moment: int, reminders: int, limit: int) -> list[Due]:
        async with write_lock(self.db):
            # Arrival already confirmed (/arrived): nothing left to ask.
            await self.db.execute(
                "DELETE FROM followup WHERE referral_id IN (SELECT id FROM referral "
                "WHERE outcome = ?)", (Outcome.ENGAGED.value,))
        rows = await self.db.execute_fetchall(
            "SELECT f.referral_id, f.sealed_chat, f.made_at, f.sent, f.locale, r.code, "
            "r.service_id, r.created_hour FROM followup f JOIN referral r "
            "ON r.id = f.referral_id WHERE f.due_at <= ? AND f.sent < ? "
            "ORDER BY f.due_at LIMIT ?", (moment, reminders, limit))
        return [Due(referral_id=str(r[0]), chat_id=self._chat(str(r[0]), bytes(r[1])),
                    made_at=int(r[2]),
                    number=int(r[3]) + 1, locale=str(r[4]), code=str(r[5]),
                    service_id=None if r[6] is None else str(r[6]), created_hour=str(r[7]))
                for r in rows]

    async def mark_sent(self, referral_id: str, sent: int, due_at: int) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "UPDATE followup SET sent = ?, due_at = ? WHERE referral_id = ?",
                (sent, due_at, referral_id))

    async def postpone(self, referral_id: str, due_at: int) -> None:
        async with write_lock(self.db):
            await self.db.execute("UPDATE followup SET due_at = ? WHERE referral_id = ?",
                                  (due_at, referral_id))

    async def drop(self, referral_id: str) -> None:
        async with write_lock(self.db):
            await self.db.execute("DELETE FROM followup WHERE referral_id = ?", (referral_id,))

    async def answer(self, referral_id: str, chat_id: int, outcome: Outcome, day: date,
                     keep_below: int | None) -> tuple[str, int] | None:
        async with transaction(self.db):
            rows = list(await self.db.execute_fetchall(
                "SELECT f.sent, r.code, f.sealed_chat FROM followup f JOIN referral r "
                "ON r.id = f.referral_id WHERE f.referral_id = ? AND f.sent > 0",
                (referral_id,)))
            if not rows or self._chat(referral_id, bytes(rows[0][2])) != chat_id:
                return None
            sent, code = int(rows[0][0]), str(rows[0][1])
            await write_outcome(self.db, "id", referral_id, outcome, day)
            if keep_below is None or sent >= keep_below:
                await self.db.execute("DELETE FROM followup WHERE referral_id = ?",
                                      (referral_id,))
        return code, sent

    async def purge(self, reminders: int, moment: int) -> int:
        async with write_lock(self.db):
            cursor = await self.db.execute(
                "DELETE FROM followup WHERE sent >= ? AND due_at <= ?", (reminders, moment))
        return cursor.rowcount

    async def pending(self) -> int:
        rows = list(await self.db.execute_fetchall("SELECT count(*) FROM followup"))
        return int(rows[0][0])


class SqliteUndeliveredStore:
    def __init__(self, db: aiosqlite.Connection, waiting: set[bytes]) -> None:
        self.db = db
        # Asked on nearly every update, so kept in memory and written through. This backend
        # serves one bot process (the embedded default), so the copy stays current.
        self._waiting = waiting

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> SqliteUndeliveredStore:
        rows = await db.execute_fetchall("SELECT DISTINCT user_hmac FROM undelivered")
        return cls(db, {bytes(row[0]) for row in rows})

    def any_waiting(self) -> bool:
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
