"""What `Members` needs kept: the store a storage backend implements for it.

Every key here is already a keyed hash (members/keys.py); a store never sees a Telegram id.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from members.model import Agency, JoinResult, Membership, Role


class MemberStore(Protocol):
    async def legacy_secret(self) -> bytes | None:
        """The secret an installation made before keys lived apart kept in its data, if
        it is still there (bot/keys.py moves it to the key file)."""

    async def forget_legacy_secret(self) -> None:
        """Delete that secret, leaving no copy of it in the files."""

    async def key_check(self) -> bytes | None:
        """The check value of the key this data was made with (Keys.check_value)."""

    async def set_key_check(self, value: bytes) -> None: ...

    async def holds_data(self) -> bool:
        """Whether anything keyed exists yet (members, invites, choices, referrals): then a
        new key would orphan it, and the bot refuses to make one."""

    def language(self, user_key: bytes) -> str | None:
        """The language this user chose (read on every update, so without a round trip:
        the backend keeps it current in memory)."""

    async def set_language(self, user_key: bytes, locale: str) -> None: ...

    async def ensure_agency(self, name: str, country: str) -> Agency:
        """The agency of that name, created with this country if there is none."""

    async def agency_named(self, name: str) -> Agency | None: ...

    async def add_invite(self, code_key: bytes, agency: Agency, role: Role, uses: int,
                         expires: date) -> None: ...

    async def redeem_invite(self, user_key: bytes, code_key: bytes, hour: str, today: date,
                            max_failures: int, max_failures_everyone: int
                            ) -> tuple[JoinResult, Membership | None]:
        """In one transaction: refuse if `user_key` has `max_failures` failed tries in this
        hour (TOO_MANY_TRIES), or everyone together `max_failures_everyone` (CEILING); else
        use one use of a valid, unexpired invite and make the membership, or count a failed
        try."""

    async def membership(self, user_key: bytes) -> Membership | None: ...

    async def set_membership(self, user_key: bytes, agency: Agency, role: Role) -> None: ...
