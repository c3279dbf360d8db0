"""`Members`: who belongs to which agency, known only by keyed hashes.

Invite codes expire, count their uses and are stored only as hashes; wrong guesses are
limited to MAX_FAILED_JOINS_PER_HOUR an hour per user, and to MAX_FAILED_JOINS_PER_HOUR_ALL
an hour for everyone together, so that many accounts cannot share out their guesses.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, timedelta

from members.keys import Keys, new_code
from members.model import Agency, JoinResult, Membership, Role
from members.ports import MemberStore

_LOGGER = logging.getLogger(__name__)

MAX_FAILED_JOINS_PER_HOUR = 5
# Ten users' worth of mistakes: a program enrolling its staff does not come near it, while a
# search with many accounts gets no more than this between them.
MAX_FAILED_JOINS_PER_HOUR_ALL = 50
INVITE_CODE_LENGTH = 10


class Members:
    _ceiling_logged: str | None = None  # the hour the ceiling was last logged
    def __init__(self, store: MemberStore, keys: Keys) -> None:
        self.store = store
        self.keys = keys

    @classmethod
    async def open(cls, store: MemberStore, keys: Keys) -> Members:
        """The members of this installation, under its keys (bot/keys.py opens them)."""
        return cls(store, keys)

    def user_key(self, telegram_user_id: int) -> bytes:
        return self.keys.user(telegram_user_id)

    def language(self, telegram_user_id: int) -> str | None:
        """The language this user chose with /language, if any."""
        return self.store.language(self.user_key(telegram_user_id))

    async def set_language(self, telegram_user_id: int, locale: str) -> None:
        await self.store.set_language(self.user_key(telegram_user_id), locale)

    async def ensure_agency(self, name: str, country: str) -> Agency:
        """The agency of that name, created with this country if new."""
        return await self.store.ensure_agency(name, country.upper())

    async def agency_named(self, name: str) -> Agency | None:
        return await self.store.agency_named(name)

    async def invite(self, agency: Agency, role: Role, uses: int = 1, days: int = 7) -> str:
        """A new one-time (or `uses`-time) code, shown once and stored only as a hash."""
        if role is Role.COMMUNITY:
            raise ValueError("the public needs no invite")
        code = new_code(INVITE_CODE_LENGTH)
        expires = datetime.now(UTC).date() + timedelta(days=days)
        await self.store.add_invite(self.keys.invite(code), agency, role, uses, expires)
        return f"{code[:5]}-{code[5:]}"

    async def join(self, telegram_user_id: int, code: str, today: date | None = None
                   ) -> tuple[JoinResult, Membership | None]:
        now = datetime.now(UTC)
        hour = now.strftime("%Y-%m-%dT%H")
        result, membership = await self.store.redeem_invite(
            self.user_key(telegram_user_id), self.keys.invite(code), hour,
            today or now.date(), MAX_FAILED_JOINS_PER_HOUR, MAX_FAILED_JOINS_PER_HOUR_ALL)
        if result is JoinResult.CEILING and self._ceiling_logged != hour:
            # Once an hour, not once a try: whoever is guessing must not flood the log.
            self._ceiling_logged = hour
            _LOGGER.warning("join: hourly ceiling of wrong codes reached; refusing further "
                            "tries this hour")
        return result, membership

    async def membership(self, telegram_user_id: int) -> Membership | None:
        return await self.store.membership(self.user_key(telegram_user_id))

    async def add_member(self, telegram_user_id: int, agency: Agency, role: Role) -> Membership:
        """Make a member directly (console demo and tests), as a redeemed invite would."""
        await self.store.set_membership(self.user_key(telegram_user_id), agency, role)
        return Membership(agency, role)
