"""Agencies, invite codes and memberships, stored so that no Telegram id is ever kept.

A member is stored under HMAC-SHA256(installation secret, Telegram user id). The secret is
made once per installation and kept in its own table, apart from the referral log. Invite
codes are stored as HMACs too, expire, count their uses, and wrong guesses are limited to
five an hour per user.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from enum import StrEnum

import aiosqlite

from directory.sqlite import transaction, write_lock

MIGRATION = """
CREATE TABLE installation (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    secret BLOB NOT NULL
);
CREATE TABLE agency (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    country TEXT NOT NULL
);
CREATE TABLE invite (
    code_hash BLOB PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL,
    uses_left INTEGER NOT NULL,
    expires_day TEXT NOT NULL
);
CREATE TABLE member (
    user_hmac BLOB PRIMARY KEY,
    agency_id INTEGER NOT NULL REFERENCES agency(id),
    role TEXT NOT NULL
);
CREATE TABLE join_attempt (
    user_hmac BLOB NOT NULL,
    hour TEXT NOT NULL,
    failures INTEGER NOT NULL,
    PRIMARY KEY (user_hmac, hour)
);
"""

# Anyone's language choice (/language), under the same keyed hash: never with a referral.
MIGRATION_LANGUAGES = """
CREATE TABLE language_choice (
    user_hmac BLOB PRIMARY KEY,
    locale TEXT NOT NULL
);
"""

MAX_FAILED_JOINS_PER_HOUR = 5
# Unambiguous on a phone keyboard and when read aloud: no 0/O, 1/I/L.
_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class Role(StrEnum):
    OFFICER = "officer"
    PEER = "peer"
    COORDINATOR = "coordinator"
    COMMUNITY = "community"  # a member of the public: never stored as a member


@dataclass(frozen=True)
class Agency:
    id: int
    name: str
    country: str


@dataclass(frozen=True)
class Membership:
    agency: Agency
    role: Role


class JoinResult(StrEnum):
    JOINED = "joined"
    WRONG_CODE = "wrong_code"
    TOO_MANY_TRIES = "too_many_tries"


class Members:
    """Who belongs to which agency, known only by keyed hashes."""

    def __init__(self, db: aiosqlite.Connection, secret: bytes,
                 languages: dict[bytes, str] | None = None) -> None:
        self.db = db
        self._secret = secret
        # Read on every update, so kept in memory; written through to SQLite.
        self._languages = languages or {}

    @classmethod
    async def open(cls, db: aiosqlite.Connection) -> Members:
        rows = list(await db.execute_fetchall("SELECT secret FROM installation WHERE id = 1"))
        if not rows:
            async with write_lock(db):
                await db.execute("INSERT OR IGNORE INTO installation (id, secret) VALUES (1, ?)",
                                 (secrets.token_bytes(32),))
            rows = list(await db.execute_fetchall("SELECT secret FROM installation WHERE id = 1"))
        languages = {bytes(key): str(locale) for key, locale in await db.execute_fetchall(
            "SELECT user_hmac, locale FROM language_choice")}
        return cls(db, bytes(rows[0][0]), languages)

    def language(self, telegram_user_id: int) -> str | None:
        """The language this user chose with /language, if any."""
        if not self._languages:
            return None
        return self._languages.get(self.user_key(telegram_user_id))

    async def set_language(self, telegram_user_id: int, locale: str) -> None:
        key = self.user_key(telegram_user_id)
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO language_choice (user_hmac, locale) VALUES (?, ?) "
                "ON CONFLICT (user_hmac) DO UPDATE SET locale = excluded.locale", (key, locale))
        self._languages[key] = locale

    def user_key(self, telegram_user_id: int) -> bytes:
        return hmac.new(self._secret, f"user:{telegram_user_id}".encode(), hashlib.sha256).digest()

    def _code_key(self, code: str) -> bytes:
        normal = "".join(code.split()).upper().replace("-", "")
        return hmac.new(self._secret, f"invite:{normal}".encode(), hashlib.sha256).digest()

    async def agency(self, name: str, country: str) -> Agency:
        """The agency of that name, created with this country if new."""
        async with write_lock(self.db):
            await self.db.execute("INSERT OR IGNORE INTO agency (name, country) VALUES (?, ?)",
                                  (name, country.upper()))
        rows = list(await self.db.execute_fetchall(
            "SELECT id, name, country FROM agency WHERE name = ?", (name,)))
        return Agency(int(rows[0][0]), str(rows[0][1]), str(rows[0][2]))

    async def invite(self, agency: Agency, role: Role, uses: int = 1, days: int = 7) -> str:
        """A new one-time (or `uses`-time) code, shown once and stored only as a hash."""
        if role is Role.COMMUNITY:
            raise ValueError("the public needs no invite")
        code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
        expires = (datetime.now(UTC).date() + timedelta(days=days)).isoformat()
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO invite (code_hash, agency_id, role, uses_left, expires_day) "
                "VALUES (?, ?, ?, ?, ?)",
                (self._code_key(code), agency.id, role.value, uses, expires))
        return f"{code[:5]}-{code[5:]}"

    async def join(self, telegram_user_id: int, code: str, today: date | None = None
                   ) -> tuple[JoinResult, Membership | None]:
        user = self.user_key(telegram_user_id)
        now = datetime.now(UTC)
        hour = now.strftime("%Y-%m-%dT%H")
        today = today or now.date()
        async with transaction(self.db):
            failures = list(await self.db.execute_fetchall(
                "SELECT failures FROM join_attempt WHERE user_hmac = ? AND hour = ?",
                (user, hour)))
            if failures and failures[0][0] >= MAX_FAILED_JOINS_PER_HOUR:
                return JoinResult.TOO_MANY_TRIES, None
            rows = list(await self.db.execute_fetchall(
                "SELECT invite.agency_id, invite.role, agency.name, agency.country "
                "FROM invite JOIN agency ON agency.id = invite.agency_id "
                "WHERE code_hash = ? AND uses_left > 0 AND expires_day >= ?",
                (self._code_key(code), today.isoformat())))
            if not rows:
                await self.db.execute(
                    "INSERT INTO join_attempt (user_hmac, hour, failures) VALUES (?, ?, 1) "
                    "ON CONFLICT (user_hmac, hour) DO UPDATE SET failures = failures + 1",
                    (user, hour))
                return JoinResult.WRONG_CODE, None
            agency_id, role, name, country = rows[0]
            await self.db.execute("UPDATE invite SET uses_left = uses_left - 1 "
                                  "WHERE code_hash = ?", (self._code_key(code),))
            await self.db.execute(
                "INSERT INTO member (user_hmac, agency_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (user_hmac) DO UPDATE SET agency_id = excluded.agency_id, "
                "role = excluded.role", (user, agency_id, role))
        return JoinResult.JOINED, Membership(Agency(agency_id, name, country), Role(role))

    async def membership(self, telegram_user_id: int) -> Membership | None:
        rows = list(await self.db.execute_fetchall(
            "SELECT agency.id, agency.name, agency.country, member.role FROM member "
            "JOIN agency ON agency.id = member.agency_id WHERE member.user_hmac = ?",
            (self.user_key(telegram_user_id),)))
        if not rows:
            return None
        agency_id, name, country, role = rows[0]
        return Membership(Agency(int(agency_id), str(name), str(country)), Role(role))

    async def add_member(self, telegram_user_id: int, agency: Agency, role: Role) -> Membership:
        """Make a member directly (console demo and tests), as a redeemed invite would."""
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO member (user_hmac, agency_id, role) VALUES (?, ?, ?) "
                "ON CONFLICT (user_hmac) DO UPDATE SET agency_id = excluded.agency_id, "
                "role = excluded.role", (self.user_key(telegram_user_id), agency.id, role.value))
        return Membership(agency, role)
