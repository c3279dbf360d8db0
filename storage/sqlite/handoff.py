"""Hand-offs in progress in SQLite (referrals/ports.py HandoffStore).

A hand-off must reach the officer's chat and the staff's notices again, so its state holds
chat ids: it is kept sealed (AES-GCM, bound to the referral's id), never in clear, and
deleted when the hand-off ends (referrals/handoff_model.KEEP_S at the latest)."""

from __future__ import annotations

import json
import logging

import aiosqlite

from directory.sqlite import transaction, write_lock
from members.keys import Sealer, SealError
from referrals.handoff_model import Handoff, HandoffState

_LOGGER = logging.getLogger(__name__)


class SqliteHandoffStore:
    def __init__(self, db: aiosqlite.Connection, sealer: Sealer) -> None:
        self.db = db
        self.sealer = sealer

    def _seal(self, state: HandoffState) -> bytes:
        return self.sealer.seal(json.dumps(state.to_json()).encode(),
                                state.referral_id.encode())

    def _open(self, referral_id: str, sealed: bytes) -> HandoffState | None:
        try:
            return HandoffState.from_json(json.loads(
                self.sealer.open(sealed, referral_id.encode())))
        except SealError:
            _LOGGER.warning("a hand-off does not open with this key; skipped")
            return None

    async def save(self, state: HandoffState, deadline: int) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO handoff (referral_id, sealed, deadline) VALUES (?, ?, ?) "
                "ON CONFLICT (referral_id) DO UPDATE SET sealed = excluded.sealed, "
                "deadline = excluded.deadline", (state.referral_id, self._seal(state), deadline))

    async def get(self, referral_id: str) -> HandoffState | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT sealed FROM handoff WHERE referral_id = ?", (referral_id,)))
        return self._open(referral_id, bytes(rows[0][0])) if rows else None

    async def due(self, moment: int) -> list[HandoffState]:
        rows = await self.db.execute_fetchall(
            "SELECT referral_id, sealed FROM handoff WHERE deadline <= ? ORDER BY deadline",
            (moment,))
        states = []
        for referral_id, sealed in rows:
            state = self._open(str(referral_id), bytes(sealed))
            if state is None:  # nobody can ever read it: it goes
                await self.end(str(referral_id))
            else:
                states.append(state)
        return states

    async def end(self, referral_id: str) -> None:
        async with write_lock(self.db):
            await self.db.execute("DELETE FROM handoff WHERE referral_id = ?", (referral_id,))

    async def set_handoff(self, referral_id: str, handoff: Handoff) -> None:
        async with write_lock(self.db):
            await self.db.execute("UPDATE referral SET handoff = ? WHERE id = ?",
                                  (handoff.value, referral_id))

    async def move(self, referral_id: str, service_id: str, distance_band: str | None
                   ) -> None:
        async with transaction(self.db):
            await self.db.execute(
                "UPDATE referral SET service_id = ?, distance_band = ?, moves = moves + 1, "
                "handoff = ? WHERE id = ?",
                (service_id, distance_band, Handoff.MOVED.value, referral_id))
