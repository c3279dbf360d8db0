"""`Members`: who belongs to which agency, known only by keyed hashes.

Invite codes expire, count their uses and are stored only as hashes; wrong guesses are
limited to MAX_FAILED_JOINS_PER_HOUR an hour per user, and to MAX_FAILED_JOINS_PER_HOUR_ALL
an hour for everyone together, so that many accounts cannot share out their guesses.

Service staff (Role.SERVICE) join with an invite bound to their services; each binding keeps
the member's chat sealed to it (members/keys.py Sealer, bound to member and service), so that
a notice can reach them while the file holds no Telegram id.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta

from members.keys import Keys, SealError, new_code
from members.model import Agency, JoinResult, Membership, Role
from members.ports import MemberCount, MemberStore, Selection

_LOGGER = logging.getLogger(__name__)

MAX_FAILED_JOINS_PER_HOUR = 5
# Ten users' worth of mistakes: a program enrolling its staff does not come near it, while a
# search with many accounts gets no more than this between them.
MAX_FAILED_JOINS_PER_HOUR_ALL = 50
INVITE_CODE_LENGTH = 10


class Members:
    _ceiling_logged: str | None = None  # the hour the ceiling was last logged
    _unopened_logged = False  # whether a staff chat that does not open was logged

    def __init__(self, store: MemberStore, keys: Keys) -> None:
        self.store = store
        self.keys = keys
        self._staff_sealer = keys.sealer("staff")

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

    async def invite(self, agency: Agency, role: Role, uses: int = 1, days: int = 7,
                     services: Sequence[str] = ()) -> str:
        """A new one-time (or `uses`-time) code, shown once and stored only as a hash;
        `services`: the directory services a SERVICE invite binds its members to (required
        for that role, refused for any other)."""
        if role is Role.COMMUNITY:
            raise ValueError("the public needs no invite")
        if (role is Role.SERVICE) != bool(services):
            raise ValueError("an invite names services if and only if it is for service staff")
        if any(not service or ";" in service for service in services):
            raise ValueError("a service id is neither empty nor holds ';'")
        code = new_code(INVITE_CODE_LENGTH)
        expires = datetime.now(UTC).date() + timedelta(days=days)
        await self.store.add_invite(self.keys.invite(code), agency, role, uses, expires,
                                    tuple(dict.fromkeys(services)))
        return f"{code[:5]}-{code[5:]}"

    async def join(self, telegram_user_id: int, code: str, today: date | None = None
                   ) -> tuple[JoinResult, Membership | None]:
        now = datetime.now(UTC)
        hour = now.strftime("%Y-%m-%dT%H")
        result, membership = await self.store.redeem_invite(
            self.user_key(telegram_user_id), self.keys.invite(code), hour,
            today or now.date(), MAX_FAILED_JOINS_PER_HOUR, MAX_FAILED_JOINS_PER_HOUR_ALL,
            self._chat_sealer(telegram_user_id))
        if result is JoinResult.CEILING and self._ceiling_logged != hour:
            # Once an hour, not once a try: whoever is guessing must not flood the log.
            self._ceiling_logged = hour
            _LOGGER.warning("join: hourly ceiling of wrong codes reached; refusing further "
                            "tries this hour")
        return result, membership

    async def membership(self, telegram_user_id: int) -> Membership | None:
        return await self.store.membership(self.user_key(telegram_user_id))

    async def add_member(self, telegram_user_id: int, agency: Agency, role: Role,
                         services: Sequence[str] = ()) -> Membership:
        """Make a member directly (console demo and tests), as a redeemed invite would."""
        if (role is Role.SERVICE) != bool(services):
            raise ValueError("a member has services if and only if they are service staff")
        seal = self._chat_sealer(telegram_user_id)
        await self.store.set_membership(self.user_key(telegram_user_id), agency, role,
                                        [(service, seal(service)) for service in services])
        return Membership(agency, role, tuple(services))

    async def staff_chats(self, service_id: str) -> list[int]:
        """The chats of that service's staff (in a private chat, the chat id is the user's
        id). A binding that does not open with this key is skipped."""
        chats = []
        unopened = 0
        for member_key, sealed in await self.store.staff(service_id):
            try:
                chats.append(int(self._staff_sealer.open(sealed, _bound(member_key,
                                                                        service_id))))
            except (SealError, ValueError):
                unopened += 1
        if unopened and not self._unopened_logged:
            # Once, and without ids: a key changed under the data, or a row was copied.
            self._unopened_logged = True
            _LOGGER.warning("staff: %d sealed chat(s) do not open with this key; skipped",
                            unopened)
        return chats

    async def remove(self, *, invite: str | None = None, agency: Agency | None = None,
                     role: Role | None = None, dry_run: bool = False) -> int:
        """Remove the members who joined with the invite `invite` (its code), or those of
        `agency`; either only in `role` if given. Their staff bindings go with them, and an
        invite named has no uses left. Returns how many (`dry_run`: counted, nothing
        removed)."""
        if (invite is None) == (agency is None):
            raise ValueError("remove members by invite or by agency")
        selection = Selection(invite_key=None if invite is None else self.keys.invite(invite),
                              agency_id=agency.id if agency else None, role=role)
        return await self.store.remove_members(selection, dry_run=dry_run)

    async def counts(self, agency: Agency | None = None) -> list[MemberCount]:
        """How many members each agency has in each role (never who)."""
        return await self.store.member_counts(agency.id if agency else None)

    def _chat_sealer(self, telegram_user_id: int) -> Callable[[str], bytes]:
        """Seals this user's private chat (its id is the user's) for one service."""
        user_key = self.user_key(telegram_user_id)
        chat = str(telegram_user_id).encode()
        return lambda service_id: self._staff_sealer.seal(chat, _bound(user_key, service_id))


def _bound(member_key: bytes, service_id: str) -> bytes:
    """What a staff chat is sealed to: its member and its service."""
    return member_key + b"|" + service_id.encode()
