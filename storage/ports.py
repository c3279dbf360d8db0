"""The stores a storage backend provides, bundled as one `Storage`.

The domain stores' Protocols live with their domains (members/ports.py, referrals/ports.py,
directory/geocoder.py); the conversation store is the bot's (python-telegram-bot's
persistence sits on it) and is declared here, where the bot finds it without a Telegram
import in the backend.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from directory.geocoder import GeocodeCache
from directory.store import Directory
from members.ports import MemberStore
from referrals.ports import (
    AuditStore,
    FigureStore,
    FollowUpStore,
    HandoffStore,
    Maintenance,
    ReferralStore,
    UndeliveredStore,
)

# One conversation's state to write: (its name, its key, the state; None: it ended), and
# one user's data to write: (their id, the data; empty: it goes).
StateWrite = tuple[str, tuple[Any, ...], int | None]
UserWrite = tuple[int, dict[str, Any]]


class ConversationStore(Protocol):
    """Conversation states and per-user data (JSON-able dicts) of conversations in progress,
    keyed by Telegram ids and kept only while the conversation runs."""

    async def states(self, name: str) -> dict[tuple[Any, ...], int]: ...

    async def set_state(self, name: str, key: tuple[Any, ...], state: int | None) -> None:
        """None: the conversation ended, its row goes."""

    async def user_data(self) -> dict[int, dict[str, Any]]: ...

    async def state(self, name: str, key: tuple[Any, ...]) -> int | None:
        """One conversation's state (several workers: read before each of its updates)."""

    async def user(self, user_id: int) -> dict[str, Any]:
        """One user's data ({} if none)."""

    async def set_user_data(self, user_id: int, data: dict[str, Any]) -> None:
        """An empty dict deletes the user's row."""

    async def save(self, states: Sequence[StateWrite], users: Sequence[UserWrite]) -> None:
        """Conversation states and users' data written together, in one transaction: what
        one update (or one batch of updates) changed, so that a process killed next resumes
        with a state and a draft that belong together."""

    async def delete_idle(self, cutoff: float) -> int:
        """Delete what was last written before `cutoff` (epoch seconds); returns rows."""

    async def close(self) -> None: ...


@dataclass
class Storage(ABC):
    """Every store the bot uses, on one backend (storage/sqlite/ is the embedded one, a
    subclass that adds its connection)."""

    location: str  # what an operator would recognise: a file path, never a password
    members: MemberStore
    referrals: ReferralStore
    figures: FigureStore
    followups: FollowUpStore
    undelivered: UndeliveredStore
    audit: AuditStore
    geocode: GeocodeCache
    maintenance: Maintenance
    handoffs: HandoffStore

    @abstractmethod
    async def open_directory(self, *, demo: bool) -> Directory:
        """The service directory kept in this storage (the demo loaded if empty and `demo`)."""

    async def refresh_directory(self, directory: Directory) -> None:
        """Several workers: take a newer published directory into this one's copy (one
        process on one file: nothing to do)."""
        return None

    async def publish_directory(self, directory: Directory) -> int:
        """Several workers: make this (just imported) directory every worker's; returns
        its version (one process on one file: nothing to do, 0)."""
        return 0

    @abstractmethod
    async def close(self) -> None:
        """Flush and close; what was deleted leaves no copy in a log file behind."""
