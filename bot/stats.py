"""Program figures from the anonymised log, safe to publish.

Figures follow the minimum data set of Illinois' deflection law (5 ILCS 820/25) and PTACC
practice: contacts (every logged encounter), referrals (consent given) and declines
(consent refused) by pathway, need, week, area cell or service; engagement (outcome
`engaged`) and the days from referral to recorded engagement.

Raw referral rows are read together with the weekly aggregate that retention folds them into
(bot/retention.py), so figures for a year survive the deletion of its rows.

Every count published goes through `suppress`: counts from 1 to DEFLECT_MIN_CELL - 1 are
withheld, and further cells are withheld (complementary suppression) until no withheld cell
can be worked out from the totals published beside it. Zero is shown as 0.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import aiosqlite

from directory.model import needs_from_mask

DEFAULT_MIN_CELL = 10


class By(StrEnum):
    PATHWAY = "pathway"
    NEED = "need"
    WEEK = "week"
    AREA = "area"
    SERVICE = "service"
    CATEGORY = "category"  # what the referred-to service offers (from the directory)


# A referral row in the weekly aggregate's columns: the week (its Monday), agency, pathway,
# needs, service, area cell, consent, outcome, and days from referral to recorded engagement.
# Retention (bot/retention.py) folds rows with the same expressions.
REFERRAL_WEEK_COLUMNS = """
date(substr(created_hour, 1, 10), '-6 days', 'weekday 1'), agency_id, pathway, needs,
service_id, area_cell, consent, outcome,
CASE WHEN outcome = 'engaged' AND outcome_day IS NOT NULL
     THEN CAST(julianday(outcome_day) - julianday(substr(created_hour, 1, 10)) AS INTEGER)
END
"""

_UNITED_COLUMNS = ("week, agency_id, pathway, needs, service_id, area_cell, consent, outcome, "
                   "engaged_days, weight")
# One row per referral, or per group of folded referrals (weight = how many).
_UNITED = f"""
SELECT {REFERRAL_WEEK_COLUMNS}, 1 FROM referral
UNION ALL
SELECT {_UNITED_COLUMNS} FROM referral_week
"""


def _in_period(select: str, start: date, end: date, agency_id: int | None, *,
               where: str = "", tail: str = "") -> tuple[str, list[object]]:
    """A query over the referral rows and folded groups of the weeks from `start` to `end`
    (of one agency, if given), and its parameters."""
    query = (f"WITH united ({_UNITED_COLUMNS}) AS ({_UNITED}) SELECT {select} FROM united "
             "WHERE week >= date(?, '-6 days', 'weekday 1') AND week <= ?")
    params: list[object] = [start.isoformat(), end.isoformat()]
    if agency_id is not None:
        query += " AND agency_id = ?"
        params.append(agency_id)
    return f"{query} {where} {tail}", params


MIGRATION = """
CREATE TABLE referral_week (
    week TEXT NOT NULL,
    agency_id INTEGER,
    pathway TEXT NOT NULL,
    needs TEXT NOT NULL,
    service_id TEXT,
    area_cell TEXT,
    consent INTEGER NOT NULL,
    outcome TEXT NOT NULL,
    engaged_days INTEGER,
    weight INTEGER NOT NULL
);
CREATE INDEX referral_week_week ON referral_week(week);
"""


@dataclass
class Row:
    """One line of a figures table."""

    key: str
    contacts: int = 0
    referrals: int = 0
    declines: int = 0
    engaged: int = 0
    engaged_days: list[int] = field(default_factory=list)


# What a withheld count shows: not "<10", which would be untrue of a count withheld only so
# that a total cannot give a small one away.
WITHHELD = "*"


@dataclass(frozen=True)
class Cell:
    value: int
    suppressed: bool

    def show(self, mark: str = WITHHELD) -> str:
        return mark if self.suppressed else str(self.value)


COLUMNS = ("contacts", "referrals", "declines", "engaged")



@dataclass(frozen=True)
class Table:
    """Figures by one dimension, with a total row; every cell marked shown or withheld."""

    by: By
    keys: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]  # one per key, then the total; in COLUMNS order
    min_cell: int
    engagement_rate: float | None  # engaged / referrals over the whole period
    median_days_to_engagement: float | None

    def total(self) -> tuple[Cell, ...]:
        return self.cells[-1]

    def as_records(self) -> list[dict[str, object]]:
        """Rows for JSON or CSV: withheld counts are None ("suppressed"), never the value."""
        records = []
        for key, row in zip((*self.keys, "total"), self.cells, strict=True):
            record: dict[str, object] = {self.by.value: key}
            for name, cell in zip(COLUMNS, row, strict=True):
                record[name] = None if cell.suppressed else cell.value
            records.append(record)
        return records


async def figures(db: aiosqlite.Connection, by: By, *, start: date, end: date,
                  agency_id: int | None = None) -> tuple[list[Row], Row]:
    """Counts by `by` for referrals made in the weeks from `start` to `end` (UTC), and the
    total (each referral once, even where it counts under several needs)."""
    query, params = _in_period(_UNITED_COLUMNS, start, end, agency_id)
    categories: dict[str, tuple[str, ...]] = {}
    if by is By.CATEGORY:  # a service that has left the directory counts as "unknown"
        categories = {str(service_id): tuple(n.value for n in needs_from_mask(int(mask)))
                      for service_id, mask in await db.execute_fetchall(
                          "SELECT id, needs FROM service")}
    rows: dict[str, Row] = {}
    total = Row("total")
    for (week, _agency, pathway, needs, service_id, area, consent, outcome, days,
         weight) in await db.execute_fetchall(query, params):
        keys: Iterable[str]
        if by is By.PATHWAY:
            keys = (pathway,)
        elif by is By.NEED:
            keys = str(needs).split(";") if needs else ("none",)
        elif by is By.WEEK:
            keys = (week,)
        elif by is By.AREA:
            keys = (area or "unknown",)
        elif by is By.CATEGORY:
            keys = categories.get(str(service_id), ("unknown",)) if service_id else ("none",)
        else:
            keys = (service_id or "none",)
        for row in [*(rows.setdefault(key, Row(key)) for key in keys), total]:
            row.contacts += weight
            if consent:
                row.referrals += weight
            else:
                row.declines += weight
            if outcome == "engaged":
                row.engaged += weight
                if days is not None:
                    row.engaged_days.extend([int(days)] * int(weight))
    ordered = sorted(rows.values(), key=lambda r: (-r.referrals, r.key) if by is By.SERVICE
                     else r.key)
    return ordered, total


def suppress(values: Sequence[Sequence[int]], groups: Sequence[Sequence[tuple[int, int]]],
             min_cell: int = DEFAULT_MIN_CELL) -> list[list[bool]]:
    """Which cells to withhold: primary (1 to min_cell - 1), then complementary.

    `groups` are the additive relations the table publishes: each is a list of cells whose
    first entry is the total of the others (a row's contacts = referrals + declines; a
    column's total = the sum of its rows). A withheld cell could be worked out whenever it is
    the only withheld cell of some relation, so while any relation has exactly one, the
    smallest other cell of that relation is withheld too: a non-zero one where there is one,
    a zero (or the total) only when nothing else is left.
    """
    hidden = [[0 < value < min_cell for value in row] for row in values]
    changed = True
    while changed:
        changed = False
        for group in groups:
            withheld = [cell for cell in group if hidden[cell[0]][cell[1]]]
            if len(withheld) != 1:
                continue
            candidates = [cell for cell in group if not hidden[cell[0]][cell[1]]]
            nonzero = [cell for cell in candidates if values[cell[0]][cell[1]] > 0]
            pool = nonzero or candidates
            if not pool:
                continue
            row, column = min(pool, key=lambda cell: (values[cell[0]][cell[1]], cell))
            hidden[row][column] = True
            changed = True
    return hidden


def table(rows: Sequence[Row], total: Row, by: By, min_cell: int = DEFAULT_MIN_CELL) -> Table:
    """The rows and their total as a publishable table, suppression applied."""
    values = [[row.contacts, row.referrals, row.declines, row.engaged]
              for row in [*rows, total]]
    last = len(values) - 1
    groups: list[list[tuple[int, int]]] = []
    for index in range(len(values)):  # contacts = referrals + declines, on every row
        groups.append([(index, 0), (index, 1), (index, 2)])
    if by not in (By.NEED, By.CATEGORY):  # a referral counts under each need: rows overlap
        for column in range(len(COLUMNS)):  # the total row is the sum of the others
            groups.append([(last, column)] + [(index, column) for index in range(last)])
    hidden = suppress(values, groups, min_cell)
    cells = tuple(tuple(Cell(value, hide) for value, hide in zip(row, flags, strict=True))
                  for row, flags in zip(values, hidden, strict=True))
    referrals = values[last][1]
    engaged_days = total.engaged_days
    # Rates and medians are published only where the counts behind them would be.
    rate = values[last][3] / referrals if referrals >= min_cell and \
        values[last][3] >= min_cell else None
    median = float(statistics.median(engaged_days)) if len(engaged_days) >= min_cell else None
    return Table(by, tuple(row.key for row in rows), cells, min_cell, rate, median)


@dataclass(frozen=True)
class Pivot:
    """Referrals by week (rows) and pathway (columns), suppression applied as a 2-way table
    with week totals, pathway totals and a grand total."""

    weeks: tuple[str, ...]
    pathways: tuple[str, ...]
    cells: tuple[tuple[Cell, ...], ...]  # [week][pathway]


async def referrals_by_week_and_pathway(db: aiosqlite.Connection, *, start: date, end: date,
                                        agency_id: int | None,
                                        min_cell: int = DEFAULT_MIN_CELL) -> Pivot:
    counts: dict[tuple[str, str], int] = {}
    weeks, pathways = set(), set()
    query, params = _in_period("week, pathway, sum(weight)", start, end, agency_id,
                               where="AND consent = 1", tail="GROUP BY week, pathway")
    for week, pathway, count in await db.execute_fetchall(query, params):
        counts[(week, pathway)] = int(count)
        weeks.add(str(week))
        pathways.add(str(pathway))
    week_keys, path_keys = sorted(weeks), sorted(pathways)
    values = [[counts.get((w, p), 0) for p in path_keys] for w in week_keys]
    # Margins: a total per week (last column), per pathway (last row), and the grand total.
    for row in values:
        row.append(sum(row))
    values.append([sum(column) for column in zip(*values, strict=True)] if values else [0])
    rows, columns = len(week_keys), len(path_keys)
    groups = [[(r, columns)] + [(r, c) for c in range(columns)] for r in range(rows + 1)]
    groups += [[(rows, c)] + [(r, c) for r in range(rows)] for c in range(columns + 1)]
    hidden = suppress(values, groups, min_cell)
    cells = tuple(tuple(Cell(values[r][c], hidden[r][c]) for c in range(columns))
                  for r in range(rows))
    return Pivot(tuple(week_keys), tuple(path_keys), cells)
