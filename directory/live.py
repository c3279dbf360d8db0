"""The live directory: what service staff say of their service now, and what officers report.

This module owns the tables of MIGRATION_4 except `service_arrival` (the storage writes that
when an arrival is confirmed; it is only read here): `LiveDirectory`, reached as
`directory.live`, sets a staff status, counts field reports, reads what holds now, lists the
directory's health and forgets what has lapsed; `staff_states` (with `staff_window`, over
which its answer holds), `any_recent_report` and `lives` are the reads search makes inside
its own read snapshot. These are facts about services, never about people: no member,
chat or referral is stored with a status or a report.

The rules:

- A staff status (open, full, closed; beds free for detox and shelter services) always
  expires: at the time given, else at the end of the service's local day. An expired status
  is ignored, as if absent; `expire()` deletes it a day later.
- Field reports ("service was closed / turned them away") are counts per service and UTC day.
- `reported_closed`: the service has reports on one of the last 7 UTC days (today and the six
  before) and no *current* staff status updated since the latest report day began (00:00 UTC).
  Reports are counted per day, so a status set on the day of a report answers it; a status
  that has lapsed answers nothing: once the staff's word has expired, recent reports speak
  again ("call first").
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import aiosqlite

from directory.model import Need, needs_from_mask
from directory.sqlite import transaction, write_lock

REPORT_DAYS = 7  # reports this recent make a service "reported closed recently"
HEALTH_DAYS = 30  # reports counted by health, and kept
# Needs whose services count beds (there is no separate residential need: residential
# treatment is listed as detox or shelter where it takes people in for the night).
BED_NEEDS = frozenset({Need.DETOX, Need.SHELTER})
_DAY_S = 86_400


class LiveState(StrEnum):
    OPEN = "open"
    FULL = "full"
    CLOSED = "closed"


_STATES = {state.value: state for state in LiveState}


@dataclass(frozen=True)
class Live:
    """What holds for a service now: the staff's current status, if any (`state` None: no
    current status, only recent field reports), and whether it was reported closed."""

    state: LiveState | None
    beds: int | None = None  # beds free, for detox and shelter services that said so
    until: datetime | None = None  # UTC; when the status expires
    updated: datetime | None = None  # UTC; when staff set it
    reported_closed: bool = False

    def as_json(self) -> dict[str, Any]:
        """A JSON-safe dict (`from_json` reads it back), e.g. for a saved draft."""
        return {"state": self.state.value if self.state else None, "beds": self.beds,
                "until": self.until.isoformat() if self.until else None,
                "updated": self.updated.isoformat() if self.updated else None,
                "reported_closed": self.reported_closed}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Live:
        until, updated = data.get("until"), data.get("updated")
        return cls(LiveState(data["state"]) if data.get("state") else None, data.get("beds"),
                   datetime.fromisoformat(until) if until else None,
                   datetime.fromisoformat(updated) if updated else None,
                   bool(data.get("reported_closed")))


@dataclass(frozen=True)
class HealthRow:
    """One line of the coordinator's to-do list: how recently anything confirmed a service."""

    service_id: str
    name: str
    source: str
    imported_at: datetime | None  # when its source was last imported (UTC)
    status: LiveState | None  # the last staff status, even if it has expired
    status_updated: datetime | None
    status_until: datetime | None
    arrival: date | None  # the last day an arrival there was confirmed
    reports: int  # field reports in the last HEALTH_DAYS days

    @property
    def checked(self) -> datetime | None:
        """The latest sign of life: a staff status, an arrival (its day's start, UTC) or the
        import of its source. The stalest service has the oldest."""
        signs = [self.status_updated, self.imported_at,
                 datetime.combine(self.arrival, time(0), UTC) if self.arrival else None]
        known = [sign for sign in signs if sign is not None]
        return max(known) if known else None


# What search ranks by: the staff states holding at :now, by service key, and one row of
# NULLs if any service has a field report of the last REPORT_DAYS days (then the results'
# `Live` are read, see `lives`). One small query per search: it reads a row per current
# status (a service whose staff set one today), and nothing when no service has any.
_STATES_SQL = """
SELECT service.key, status.state FROM service_status AS status
JOIN service ON service.id = status.service_id
WHERE status.until > :now AND status.updated <= :now
"""
_REPORTS_SQL = "SELECT EXISTS (SELECT 1 FROM service_report WHERE day BETWEEN :first AND :last)"


def _live_sql(count: int | None) -> str:
    """What holds at :now for the services :id0...:id{count-1} (None: every service): the
    current status and the latest report day of the last REPORT_DAYS days, by service id."""
    among = "" if count is None else (
        "service_id IN (" + ", ".join(f":id{i}" for i in range(count)) + ") AND ")
    return f"""
WITH status AS (
    SELECT service_id, state, beds, until, updated FROM service_status
    WHERE {among}until > :now AND updated <= :now),
report AS (
    SELECT service_id, max(day) AS day FROM service_report
    WHERE {among}day BETWEEN :first AND :last GROUP BY service_id),
live AS (SELECT service_id FROM status UNION SELECT service_id FROM report)
SELECT live.service_id, status.state, status.beds, status.until, status.updated, report.day
FROM live
LEFT JOIN status ON status.service_id = live.service_id
LEFT JOIN report ON report.service_id = live.service_id
"""


_HEALTH_SQL = """
SELECT service.id, service.name, service.source, directory_source.imported_at,
       status.state, status.updated, status.until, arrival.day, coalesce(report.count, 0)
FROM service
JOIN directory_source ON directory_source.name = service.source
LEFT JOIN service_status AS status ON status.service_id = service.id
LEFT JOIN service_arrival AS arrival ON arrival.service_id = service.id
LEFT JOIN (SELECT service_id, sum(reports) AS count FROM service_report
           WHERE day BETWEEN :first AND :last GROUP BY service_id) AS report
    ON report.service_id = service.id
"""


def _moment(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:
        raise ValueError("the live directory needs an aware datetime")
    return now.astimezone(UTC)


def _epoch(moment: datetime) -> int:
    return math.floor(moment.timestamp())


def _utc(seconds: object) -> datetime:
    return datetime.fromtimestamp(int(str(seconds)), UTC)


def _days(moment: datetime, count: int) -> dict[str, str]:
    """The UTC days from count-1 days before moment's to moment's, as query parameters."""
    today = moment.astimezone(UTC).date()
    return {"first": (today - timedelta(days=count - 1)).isoformat(), "last": today.isoformat()}


def _live_query(ids: Sequence[str] | None, moment: datetime) -> tuple[str, dict[str, Any]]:
    params: dict[str, Any] = {"now": _epoch(moment), **_days(moment, REPORT_DAYS)}
    if ids is not None:
        params.update((f"id{index}", service_id) for index, service_id in enumerate(ids))
    return _live_sql(None if ids is None else len(ids)), params


def _live_rows(rows: Iterable[Sequence[Any]]) -> dict[str, Live]:
    """Rows of _live_sql as what holds, by service id."""
    found: dict[str, Live] = {}
    for service_id, state, beds, until, updated, report_day in rows:
        known = _STATES.get(state)  # a state this version does not know: as if none
        since = (_epoch(datetime.combine(date.fromisoformat(report_day), time(0), UTC))
                 if report_day is not None else None)
        reported = since is not None and (known is None or int(updated) < since)
        if known is None and not reported:
            continue
        found[str(service_id)] = Live(
            known, None if known is None or beds is None else int(beds),
            _utc(until) if known else None, _utc(updated) if known else None, reported)
    return found


def staff_states(connection: sqlite3.Connection, moment: datetime) -> dict[int, LiveState]:
    """The staff states holding at `moment`, by service key (for search, in its reader's
    read transaction)."""
    states: dict[int, LiveState] = {}
    for key, state in connection.execute(_STATES_SQL, {"now": _epoch(_moment(moment))}):
        if state in _STATES:
            states[int(key)] = _STATES[state]
    return states


def any_recent_report(connection: sqlite3.Connection, moment: datetime) -> bool:
    """Whether any service has a field report of the last REPORT_DAYS days (then search
    reads what holds for the services it shows)."""
    return bool(connection.execute(_REPORTS_SQL, _days(_moment(moment), REPORT_DAYS))
                .fetchone()[0])


# The moments around :now at which the statuses holding (updated <= t < until) are the same:
# from the latest start among those holding and end among those ended, to the earliest end
# among those holding and start among those to come.
_WINDOW_SQL = """
SELECT max(CASE WHEN updated <= :now AND until > :now THEN updated
                WHEN until <= :now THEN until END),
       min(CASE WHEN updated <= :now AND until > :now THEN until
                WHEN updated > :now THEN updated END)
FROM service_status
"""


def staff_window(connection: sqlite3.Connection, moment: datetime) -> tuple[float, float]:
    """[from, to) in epoch seconds around `moment` over which `staff_states` answers the
    same, as long as nothing is written (one small scan, no join)."""
    low, high = connection.execute(_WINDOW_SQL, {"now": _epoch(_moment(moment))}).fetchone()
    return (-math.inf if low is None else float(low), math.inf if high is None else float(high))


def lives(connection: sqlite3.Connection, ids: Sequence[str], moment: datetime
          ) -> dict[str, Live]:
    """What holds at `moment` for these services, by id (search's results)."""
    return _live_rows(connection.execute(*_live_query(ids, _moment(moment))).fetchall())


def end_of_day(moment: datetime, zone: ZoneInfo, *, days_after: int = 0) -> datetime:
    """The end (next local midnight) of the local day of `moment` in `zone`, or of the day
    `days_after` later, in UTC."""
    local = moment.astimezone(zone)
    midnight = datetime.combine(local.date() + timedelta(days=1 + days_after), time(0),
                                tzinfo=zone)
    return midnight.astimezone(UTC)


Rows = list[tuple[Any, ...]]


class LiveShare(Protocol):
    """Where statuses, reports and arrival days are shared between several workers
    (storage/postgres/live.py): each worker's SQLite copy is what its searches read."""

    async def status(self, row: tuple[str, str, int | None, int, int]) -> None:
        """(service_id, state, beds, until, updated), replacing the service's status."""

    async def report(self, service_id: str, day: str) -> None: ...

    async def rows(self) -> tuple[Rows, Rows, Rows]:
        """Every status, report and arrival day row, as the local tables hold them."""

    async def expire(self, statuses_before: int, reports_before: str) -> None: ...


class LiveDirectory:
    """The live directory over the directory's shared connection (`directory.live`)."""

    def __init__(self, db: aiosqlite.Connection) -> None:
        self.db = db
        self.shared: LiveShare | None = None  # several workers: storage/postgres/live.py

    async def set_status(self, service_id: str, state: LiveState, *, beds: int | None = None,
                         until: datetime | None = None, now: datetime | None = None) -> Live:
        """Record what the service's staff say now; it replaces their previous status.

        It expires at `until` (a time without an offset is the service's local time), else
        at the end of the service's local day. Refused (ValueError): an `until` not after now
        or beyond the end of the next local day; `beds` for a service that meets neither
        detox nor shelter, below zero, or with a state other than open. Open with no bed free
        is recorded as full. KeyError: no service has this id.
        """
        moment = _moment(now)
        rows = list(await self.db.execute_fetchall(
            "SELECT needs, timezone FROM service WHERE id = ?", (service_id,)))
        if not rows:
            raise KeyError(service_id)
        needs, zone_name = needs_from_mask(int(rows[0][0])), str(rows[0][1]) or "UTC"
        zone = ZoneInfo(zone_name)
        state = LiveState(state)
        if beds is not None:
            if not needs & BED_NEEDS:
                raise ValueError(f"{service_id} meets no need that counts beds")
            if beds < 0 or state is not LiveState.OPEN:
                raise ValueError("beds free is a count (0 or more) for an open service")
            if beds == 0:
                state = LiveState.FULL
        if until is None:
            expires = end_of_day(moment, zone)
        else:
            expires = (until if until.tzinfo else until.replace(tzinfo=zone)).astimezone(UTC)
            if _epoch(expires) <= _epoch(moment):
                raise ValueError("a status cannot expire in the past")
            if expires > end_of_day(moment, zone, days_after=1):
                raise ValueError("a status lasts at most until the end of the next local day")
        live = Live(state, beds, _utc(_epoch(expires)), _utc(_epoch(moment)))
        row = (service_id, state.value, beds, _epoch(expires), _epoch(moment))
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT OR REPLACE INTO service_status (service_id, state, beds, until, "
                "updated) VALUES (?, ?, ?, ?, ?)", row)
        if self.shared is not None:
            await self.shared.status(row)
        return live

    async def report_closed(self, service_id: str, now: datetime | None = None) -> None:
        """Count one field report ("closed / turned them away") for the service today (UTC)."""
        day = _moment(now).date().isoformat()
        async with write_lock(self.db):
            await self.db.execute(
                "INSERT INTO service_report (service_id, day, reports) VALUES (?, ?, 1) "
                "ON CONFLICT (service_id, day) DO UPDATE SET reports = reports + 1",
                (service_id, day))
        if self.shared is not None:
            await self.shared.report(service_id, day)

    async def refresh(self) -> None:
        """Several workers: take the shared statuses, reports and arrival days as this
        copy's (another worker's /status shows here within one refresh)."""
        if self.shared is None:
            return
        statuses, reports, arrivals = await self.shared.rows()
        async with transaction(self.db):
            for table, rows, marks in (("service_status", statuses, 5),
                                       ("service_report", reports, 3),
                                       ("service_arrival", arrivals, 2)):
                await self.db.execute(f"DELETE FROM {table}")
                await self.db.executemany(
                    f"INSERT INTO {table} VALUES ({', '.join('?' * marks)})", rows)

    async def current(self, service_ids: Iterable[str] | None = None,
                      now: datetime | None = None) -> dict[str, Live]:
        """What holds now for these services (default: all), by id; a service with no
        current status and no recent report is left out."""
        ids = None if service_ids is None else list(dict.fromkeys(service_ids))
        if ids == []:
            return {}
        return _live_rows(await self.db.execute_fetchall(*_live_query(ids, _moment(now))))

    async def health(self, now: datetime | None = None, *,
                     limit: int | None = None) -> list[HealthRow]:
        """Every service (or the `limit` stalest) with its signs of life, stalest first
        (the oldest `HealthRow.checked`; ties by id)."""
        rows = await self.db.execute_fetchall(_HEALTH_SQL, _days(_moment(now), HEALTH_DAYS))
        found = [_health_row(row) for row in rows]
        oldest = datetime.min.replace(tzinfo=UTC)
        found.sort(key=lambda row: (row.checked or oldest, row.service_id))
        return found if limit is None else found[:limit]

    async def expire(self, now: datetime | None = None) -> tuple[int, int]:
        """Delete the statuses expired more than a day ago and the reports older than
        HEALTH_DAYS days (retention); returns how many of each."""
        moment = _moment(now)
        first = _days(moment, HEALTH_DAYS)["first"]
        async with transaction(self.db):
            statuses = await self.db.execute("DELETE FROM service_status WHERE until < ?",
                                             (_epoch(moment) - _DAY_S,))
            reports = await self.db.execute("DELETE FROM service_report WHERE day < ?",
                                            (first,))
        if self.shared is not None:
            await self.shared.expire(_epoch(moment) - _DAY_S, first)
        return statuses.rowcount, reports.rowcount


def _health_row(row: Sequence[Any]) -> HealthRow:
    service_id, name, source, imported, state, updated, until, arrival, reports = row
    known = _STATES.get(state)
    return HealthRow(
        str(service_id), str(name), str(source), _parse_time(imported), known,
        _utc(updated) if updated is not None else None,
        _utc(until) if until is not None else None, _parse_day(arrival), int(reports))


def _parse_time(text: object) -> datetime | None:
    try:
        parsed = datetime.fromisoformat(str(text))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_day(text: object) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(str(text))
    except ValueError:
        return None
