"""What `Members` needs kept: the store a storage backend implements for it.

Every key here is already a keyed hash (members/keys.py); a store never sees a Telegram id.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from members.model import Agency, JoinResult, Membership, Role


class MemberStore(Protocol):
    async def installation_secret(self, new_secret: bytes) -> bytes:
        """The installation's HMAC secret; `new_secret` is kept if there is none yet."""

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
                            max_failures: int) -> tuple[JoinResult, Membership | None]:
        """In one transaction: refuse if `user_key` has `max_failures` failed tries in this
        hour; else use one use of a valid, unexpired invite and make the membership, or count
        a failed try."""

    async def membership(self, user_key: bytes) -> Membership | None: ...

    async def set_membership(self, user_key: bytes, agency: Agency, role: Role) -> None: ...
