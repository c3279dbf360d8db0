"""What the referral log and its companions need kept: the stores a storage backend
implements (storage/sqlite/). Nothing here holds a Telegram user id; a follow-up reminder
holds a chat id, as it must to reach the chat, and only until it is answered or expires."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from referrals.handoff_model import Handoff, HandoffState
from referrals.model import Outcome, Referral, Refused


@dataclass(frozen=True)
class Due:
    """A reminder to send now: where, for which referral, and which one of the series."""

    referral_id: str
    chat_id: int
    made_at: int
    number: int  # 1 for the first reminder
    locale: str
    code: str
    service_id: str | None
    created_hour: str


@dataclass(frozen=True)
class Notice:
    """A referral confirmation that did not reach its member."""

    referral_id: str
    code: str
    service_id: str | None


# One referral, or a group of referrals folded by retention (weight = how many): the week (its
# Monday), agency, pathway, needs (";"-joined), service, area cell, consent, outcome, days from
# referral to recorded engagement.
@dataclass(frozen=True)
class WeekRow:
    week: str
    agency_id: int | None
    pathway: str
    needs: str
    service_id: str | None
    area_cell: str | None
    consent: bool
    outcome: str
    engaged_days: int | None
    weight: int


@dataclass(frozen=True)
class Reminder:
    """A follow-up series to start with a referral: the chat it reaches, in which language,
    when the referral was made and when the first reminder falls due (epoch seconds)."""

    chat_id: int
    locale: str
    made_at: int
    due_at: int


@dataclass(frozen=True)
class GuessLimit:
    """How many wrong codes one hour (UTC, "YYYY-MM-DDTHH") allows: to one member, known only
    by its keyed hash, and to everyone together."""

    member_key: bytes
    hour: str
    per_member: int
    everyone: int


class ReferralStore(Protocol):
    async def add(self, referral: Referral, reminder: Reminder | None = None) -> Referral:
        """In one transaction, the referral and its reminder series, once. Returns the
        referral as logged: when a referral with this id is in the log already (a second
        press, a redelivered update, a press after a restart) that one, its code and its
        service, and nothing is written; when another referral has this code, this one
        under a new code. A failure writes nothing."""

    async def get(self, referral_id: str) -> Referral | None:
        """The logged referral with this id, if any."""

    async def set_outcome(self, code: str, outcome: Outcome, day: date, agency_id: int
                          ) -> Outcome | None:
        """Record the outcome of the referral with this code made at this agency where
        `referrals.model.outcome_may_change` allows it; returns the outcome it had before
        (None: no referral of this agency with a consent has this code; another agency's
        code is no different from an unknown one)."""

    async def set_outcome_by_id(self, referral_id: str, outcome: Outcome, day: date
                                ) -> Outcome | None:
        """As `set_outcome`, for the referral with this id, whatever its agency (service
        staff, checked by the caller); None: no such referral."""

    async def set_outcome_limited(self, code: str, outcome: Outcome, day: date,
                                  agency_id: int, limit: GuessLimit
                                  ) -> Outcome | Refused | None:
        """In one transaction: refuse, looking nothing up, if `limit`'s member or everyone
        has reached its limit of wrong codes this hour; else as `set_outcome`, counting a
        wrong code for the member when it returns None."""

    async def count(self) -> int: ...


class FigureStore(Protocol):
    async def week_rows(self, start: date, end: date, agency_id: int | None
                        ) -> list[WeekRow]:
        """Referral rows and folded groups of the weeks from `start`'s to `end`."""

    async def referrals_by_week_and_pathway(self, start: date, end: date,
                                            agency_id: int | None
                                            ) -> list[tuple[str, str, int]]:
        """(week, pathway, referrals with consent) for the same weeks."""


class FollowUpStore(Protocol):
    async def schedule(self, referral_id: str, reminder: Reminder) -> None:
        """Remind this chat about this referral (once per referral)."""

    async def due(self, moment: int, reminders: int, limit: int) -> list[Due]:
        """Reminders due at `moment` of which fewer than `reminders` were sent; reminders
        whose referral has been confirmed engaged are deleted first."""

    async def mark_sent(self, referral_id: str, sent: int, due_at: int) -> None: ...

    async def postpone(self, referral_id: str, due_at: int) -> None: ...

    async def drop(self, referral_id: str) -> None: ...

    async def answer(self, referral_id: str, chat_id: int, outcome: Outcome, day: date,
                     keep_below: int | None) -> tuple[str, int] | None:
        """In one transaction: if a reminder for this referral was sent to this chat, record
        the outcome (as ReferralStore.set_outcome's rule allows) and delete the reminder
        unless `keep_below` is given and fewer reminders than that were sent. Returns the
        referral's code and how many reminders were sent; None (nothing changed) otherwise."""

    async def purge(self, reminders: int, moment: int) -> int:
        """Delete series whose last of `reminders` reminders is past its answer window
        (due_at <= moment); returns how many."""

    async def pending(self) -> int: ...


class UndeliveredStore(Protocol):
    def any_waiting(self) -> bool:
        """Whether any member has a confirmation waiting (asked on nearly every update, so
        answered without a round trip: the backend keeps it current in memory)."""

    def waiting(self, user_key: bytes) -> bool: ...

    async def keep(self, user_key: bytes, referral_id: str) -> None: ...

    async def take(self, user_key: bytes) -> list[Notice]:
        """This member's confirmations, deleted as they are handed over."""


class HandoffStore(Protocol):
    """Hand-offs in progress (sealed: they hold chat ids), and the two columns of the
    referral row a hand-off writes."""

    async def save(self, state: HandoffState, deadline: int) -> None:
        """Keep this state (replacing any), to be handed back by `due` at `deadline`."""

    async def get(self, referral_id: str) -> HandoffState | None: ...

    async def due(self, moment: int) -> list[HandoffState]:
        """States whose deadline is at or before `moment`."""

    async def end(self, referral_id: str) -> None: ...

    async def set_handoff(self, referral_id: str, handoff: Handoff) -> None:
        """Record on the referral row how its hand-off went."""

    async def move(self, referral_id: str, service_id: str, distance_band: str | None
                   ) -> None:
        """In one transaction: the referral row's service and distance band change, its
        move count goes up by one and its hand-off becomes `moved`."""


class AuditStore(Protocol):
    async def add(self, day: date, member_key: bytes | None, role: str, command: str
                  ) -> None: ...

    async def entries(self) -> list[tuple[str, bytes | None, str, str]]:
        """(day, member key, role, command), oldest first."""


@dataclass(frozen=True)
class Expired:
    referrals: int
    conversations: int
    invites: int
    join_attempts: int
    guess_attempts: int
    undelivered: int = 0  # confirmations never picked up, UNDELIVERED_DAYS after the referral
    languages: int = 0  # language choices not renewed within the retention period
    places: int = 0  # typed-place cache entries past their age



class Maintenance(Protocol):
    async def expire(self, referrals_before: date, today: date, idle_before: float,
                     notices_before: date, places_before: date) -> Expired:
        """In one transaction: fold referral rows made before `referrals_before` into the
        weekly aggregate and delete them; delete conversation state idle since before
        `idle_before` (epoch seconds), invites expired before `today` or used up, and join
        attempts and wrong guesses of earlier days."""

    async def ping(self) -> None:
        """Raise if the database does not answer a read of the referral log (a health
        check: GET /healthz)."""

    async def checkpoint(self) -> None:
        """Fold the write-ahead log into the file and empty it (on a timer while the bot
        runs: old page images of finished conversations do not linger in the log)."""

    async def compact(self) -> None:
        """Leave no trace of deleted rows in the files (VACUUM, empty the write-ahead log)."""


__all__ = ["AuditStore", "Due", "Expired", "FigureStore", "FollowUpStore", "GuessLimit",
           "HandoffStore",
           "Maintenance", "Notice", "ReferralStore", "Reminder", "UndeliveredStore", "WeekRow"]
