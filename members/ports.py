"""What `Members` needs kept: the store a storage backend implements for it.

Every key here is already a keyed hash (members/keys.py); a store never sees a Telegram id.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Protocol

from members.model import Agency, JoinResult, Membership, Role


@dataclass(frozen=True)
class Selection:
    """Which members to remove: those who joined with one invite (its keyed hash), or those
    of one agency; either narrowed to one role."""

    invite_key: bytes | None = None
    agency_id: int | None = None
    role: Role | None = None


@dataclass(frozen=True)
class MemberCount:
    agency: str
    role: Role
    members: int


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
                         expires: date, services: Sequence[str] = ()) -> None: ...

    async def redeem_invite(self, user_key: bytes, code_key: bytes, hour: str, today: date,
                            max_failures: int, max_failures_everyone: int,
                            seal_chat: Callable[[str], bytes]
                            ) -> tuple[JoinResult, Membership | None]:
        """In one transaction: refuse if `user_key` has `max_failures` failed tries in this
        hour (TOO_MANY_TRIES), or everyone together `max_failures_everyone` (CEILING); else
        use one use of a valid, unexpired invite and make the membership (remembering the
        invite's `code_key`), or count a failed try. The membership replaces any earlier
        one, staff bindings included; an invite bound to services binds the member to each,
        with the chat `seal_chat(service_id)` returns."""

    async def membership(self, user_key: bytes) -> Membership | None: ...

    async def set_membership(self, user_key: bytes, agency: Agency, role: Role,
                             staff: Sequence[tuple[str, bytes]] = ()) -> None:
        """Make or replace a membership directly; `staff`: (service id, sealed chat) for
        each service a SERVICE member works at."""

    async def staff(self, service_id: str) -> list[tuple[bytes, bytes]]:
        """(member key, sealed chat) of each staff member of that service."""

    async def remove_members(self, selection: Selection, *, dry_run: bool = False) -> int:
        """Delete the selected members and their staff bindings; how many there were
        (`dry_run`: only count them)."""

    async def member_counts(self, agency_id: int | None = None) -> list[MemberCount]:
        """How many members each agency has in each role (one agency's, if given)."""
