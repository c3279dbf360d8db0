"""Members, invites, service staff and language choices in SQLite (members/ports.py's
MemberStore). Staff chats arrive sealed: this store holds no key."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime

import aiosqlite

from directory.sqlite import transaction, write_lock
from members.model import Agency, JoinResult, Membership, Role
from members.ports import MemberCount, Selection
from storage.sqlite.schema import KEYED_TABLES

_SERVICES_SEPARATOR = ";"  # invite.services: the ids of the services an invite binds to


class SqliteMemberStore:
    def __init__(self, db: aiosqlite.Connection, languages: dict[bytes, str]) -> None:
        self.db = db
        # Read on every update, so kept in memory and written through. This backend serves
        # one bot process (the embedded default), so the copy in memory stays current.
        self._languages = languages

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> SqliteMemberStore:
        languages = {bytes(key): str(locale) for key, locale in await db.execute_fetchall(
            "SELECT user_hmac, locale FROM language_choice")}
        return cls(db, languages)

    async def legacy_secret(self) -> bytes | None:
        rows = list(await self.db.execute_fetchall("SELECT secret FROM installation WHERE id = 1"))
        return bytes(rows[0][0]) if rows else None

    async def forget_legacy_secret(self) -> None:
        async with write_lock(self.db):
            await self.db.execute("DELETE FROM installation")
            # secure_delete overwrote the row; VACUUM rewrites the file and the checkpoint
            # empties the write-ahead log, so no page image of the secret is left behind.
            await self.db.execute("VACUUM")
            await self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def key_check(self) -> bytes | None:
        rows = list(await self.db.execute_fetchall("SELECT value FROM key_check WHERE id = 1"))
        return bytes(rows[0][0]) if rows else None

    async def set_key_check(self, value: bytes) -> None:
        async with write_lock(self.db):
            await self.db.execute("INSERT INTO key_check (id, value) VALUES (1, ?) "
                                  "ON CONFLICT (id) DO UPDATE SET value = excluded.value",
                                  (value,))

    async def holds_data(self) -> bool:
        # What only a key reads or matches (maintenance.KEYED_TABLES, the tables
        # `deflect forget-key` empties); the referral log and agencies are not keyed.
        rows = list(await self.db.execute_fetchall(" OR ".join(
            f"EXISTS (SELECT 1 FROM {table})" for table in KEYED_TABLES).join(("SELECT ", ""))))
        return bool(rows[0][0])

    def language(self, user_key: bytes) -> str | None:
        if not self._languages:
            return None
        return self._languages.get(user_key)

    async def set_language(self, user_key: bytes, locale: str) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO language_choice (user_hmac, locale, day) VALUES (?, ?, ?) "
                "ON CONFLICT (user_hmac) DO UPDATE SET locale = excluded.locale, "
                "day = excluded.day", (user_key, locale, datetime.now(UTC).date().isoformat()))
        self._languages[user_key] = locale

    async def ensure_agency(self, name: str, country: str) -> Agency:
        async with write_lock(self.db):
            await self.db.execute("INSERT OR IGNORE INTO agency (name, country) VALUES (?, ?)",
                                  (name, country))
        found = await self.agency_named(name)
        assert found is not None  # just made, and agencies are never deleted
        return found

    async def agency_named(self, name: str) -> Agency | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT id, name, country FROM agency WHERE name = ?", (name,)))
        return Agency(int(rows[0][0]), str(rows[0][1]), str(rows[0][2])) if rows else None

    async def add_invite(self, code_key: bytes, agency: Agency, role: Role, uses: int,
                         expires: date, services: Sequence[str] = ()) -> None:
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO invite (code_hash, agency_id, role, uses_left, expires_day, "
                "services) VALUES (?, ?, ?, ?, ?, ?)",
                (code_key, agency.id, role.value, uses, expires.isoformat(),
                 _SERVICES_SEPARATOR.join(services)))

    async def redeem_invite(self, user_key: bytes, code_key: bytes, hour: str, today: date,
                            max_failures: int, max_failures_everyone: int,
                            seal_chat: Callable[[str], bytes]
                            ) -> tuple[JoinResult, Membership | None]:
        async with transaction(self.db):
            failures = list(await self.db.execute_fetchall(
                "SELECT coalesce(sum(failures), 0), "
                "coalesce(sum(CASE WHEN user_hmac = ? THEN failures END), 0) "
                "FROM join_attempt WHERE hour = ?", (user_key, hour)))
            everyone, own = int(failures[0][0]), int(failures[0][1])
            if own >= max_failures:
                return JoinResult.TOO_MANY_TRIES, None
            if everyone >= max_failures_everyone:
                return JoinResult.CEILING, None
            rows = list(await self.db.execute_fetchall(
                "SELECT invite.agency_id, invite.role, agency.name, agency.country, "
                "invite.services FROM invite JOIN agency ON agency.id = invite.agency_id "
                "WHERE code_hash = ? AND uses_left > 0 AND expires_day >= ?",
                (code_key, today.isoformat())))
            if not rows:
                await self.db.execute(
                    "INSERT INTO join_attempt (user_hmac, hour, failures) VALUES (?, ?, 1) "
                    "ON CONFLICT (user_hmac, hour) DO UPDATE SET failures = failures + 1",
                    (user_key, hour))
                return JoinResult.WRONG_CODE, None
            agency_id, role, name, country, joined = rows[0]
            services = tuple(str(joined).split(_SERVICES_SEPARATOR)) if joined else ()
            await self.db.execute("UPDATE invite SET uses_left = uses_left - 1 "
                                  "WHERE code_hash = ?", (code_key,))
            await self._set_membership(user_key, agency_id, role, code_key,
                                       [(service, seal_chat(service)) for service in services])
        return JoinResult.JOINED, Membership(Agency(agency_id, name, country), Role(role),
                                             services)

    async def membership(self, user_key: bytes) -> Membership | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT agency.id, agency.name, agency.country, member.role FROM member "
            "JOIN agency ON agency.id = member.agency_id WHERE member.user_hmac = ?",
            (user_key,)))
        if not rows:
            return None
        agency_id, name, country, role = rows[0]
        services = await self.db.execute_fetchall(
            "SELECT service_id FROM staff WHERE member_hmac = ? ORDER BY rowid", (user_key,))
        return Membership(Agency(int(agency_id), str(name), str(country)), Role(role),
                          tuple(str(service) for service, in services))

    async def set_membership(self, user_key: bytes, agency: Agency, role: Role,
                             staff: Sequence[tuple[str, bytes]] = ()) -> None:
        async with transaction(self.db):
            await self._set_membership(user_key, agency.id, role.value, None, staff)

    async def _set_membership(self, user_key: bytes, agency_id: int, role: str,
                              invite_key: bytes | None, staff: Sequence[tuple[str, bytes]]
                              ) -> None:
        """Inside a transaction: the membership, replacing any earlier one and its staff
        bindings (an upsert updates the member row, so nothing cascades by itself)."""
        await self.db.execute(
            "INSERT INTO member (user_hmac, agency_id, role, invite_hash) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (user_hmac) DO UPDATE SET agency_id = excluded.agency_id, "
            "role = excluded.role, invite_hash = excluded.invite_hash",
            (user_key, agency_id, role, invite_key))
        await self.db.execute("DELETE FROM staff WHERE member_hmac = ?", (user_key,))
        await self.db.executemany(
            "INSERT INTO staff (service_id, member_hmac, sealed_chat) VALUES (?, ?, ?)",
            [(service, user_key, sealed) for service, sealed in staff])

    async def staff(self, service_id: str) -> list[tuple[bytes, bytes]]:
        rows = await self.db.execute_fetchall(
            "SELECT member_hmac, sealed_chat FROM staff WHERE service_id = ? ORDER BY rowid",
            (service_id,))
        return [(bytes(member), bytes(sealed)) for member, sealed in rows]

    async def remove_members(self, selection: Selection, *, dry_run: bool = False) -> int:
        where, values = _where(selection)
        if dry_run:
            rows = list(await self.db.execute_fetchall(
                f"SELECT count(*) FROM member WHERE {where}", values))
            return int(rows[0][0])
        async with transaction(self.db):
            if selection.invite_key is not None:
                # The invite they joined with lets nobody else in after them.
                await self.db.execute("UPDATE invite SET uses_left = 0 WHERE code_hash = ?",
                                      (selection.invite_key,))
            # Their staff bindings go with them: staff.member_hmac is ON DELETE CASCADE.
            return (await self.db.execute(f"DELETE FROM member WHERE {where}", values)).rowcount

    async def member_counts(self, agency_id: int | None = None) -> list[MemberCount]:
        rows = await self.db.execute_fetchall(
            "SELECT agency.name, member.role, count(*) FROM member "
            "JOIN agency ON agency.id = member.agency_id "
            "WHERE ? IS NULL OR agency.id = ? GROUP BY agency.name, member.role "
            "ORDER BY agency.name, member.role", (agency_id, agency_id))
        return [MemberCount(str(name), Role(role), int(count)) for name, role, count in rows]


def _where(selection: Selection) -> tuple[str, tuple[object, ...]]:
    """The WHERE clause (fixed text, values bound) of the members a selection names."""
    if (selection.invite_key is None) == (selection.agency_id is None):
        raise ValueError("select members by invite or by agency")
    values: tuple[object, ...]
    if selection.invite_key is not None:
        where, values = "invite_hash = ?", (selection.invite_key,)
    else:
        where, values = "agency_id = ?", (selection.agency_id,)
    if selection.role is not None:
        return f"{where} AND role = ?", (*values, selection.role.value)
    return where, values
