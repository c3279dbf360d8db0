"""Program figures from the anonymised log, safe to publish.

Figures follow the minimum data set of Illinois' deflection law (5 ILCS 820/25) and PTACC
practice: contacts (every logged encounter), referrals (consent given) and declines
(consent refused) by pathway, need, week, area cell or service; engagement (outcome
`engaged`) and the days from referral to recorded engagement.

Raw referral rows are read together with the weekly aggregate that retention folds them into
(referrals/retention.py), so figures for a year survive the deletion of its rows.

Every count published goes through `suppress` (referrals/suppression.py).
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from referrals.model import Outcome
from referrals.ports import FigureStore
from referrals.suppression import DEFAULT_MIN_CELL, suppress


class By(StrEnum):
    PATHWAY = "pathway"
    NEED = "need"
    WEEK = "week"
    AREA = "area"
    SERVICE = "service"
    CATEGORY = "category"  # what the referred-to service offers (from the directory)


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


async def figures(store: FigureStore, by: By, *, start: date, end: date,
                  agency_id: int | None = None,
                  categories: Mapping[str, tuple[str, ...]] | None = None
                  ) -> tuple[list[Row], Row]:
    """Counts by `by` for referrals made in the weeks from `start` to `end` (UTC), and the
    total (each referral once, even where it counts under several needs).

    By.CATEGORY needs `categories`: the need values of each service in the directory
    (Directory.needs_by_service); a service that has left the directory counts as "unknown".
    """
    categories = categories or {}
    rows: dict[str, Row] = {}
    total = Row("total")
    for row in await store.week_rows(start, end, agency_id):
        keys: Iterable[str]
        if by is By.PATHWAY:
            keys = (row.pathway,)
        elif by is By.NEED:
            keys = row.needs.split(";") if row.needs else ("none",)
        elif by is By.WEEK:
            keys = (row.week,)
        elif by is By.AREA:
            keys = (row.area_cell or "unknown",)
        elif by is By.CATEGORY:
            keys = categories.get(row.service_id, ("unknown",)) if row.service_id \
                else ("none",)
        else:
            keys = (row.service_id or "none",)
        weight = row.weight
        for line in [*(rows.setdefault(key, Row(key)) for key in keys), total]:
            line.contacts += weight
            if row.consent:
                line.referrals += weight
            else:
                line.declines += weight
            if row.outcome == Outcome.ENGAGED.value:
                line.engaged += weight
                if row.engaged_days is not None:
                    line.engaged_days.extend([row.engaged_days] * weight)
    ordered = sorted(rows.values(), key=lambda r: (-r.referrals, r.key) if by is By.SERVICE
                     else r.key)
    return ordered, total


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


async def referrals_by_week_and_pathway(store: FigureStore, *, start: date, end: date,
                                        agency_id: int | None,
                                        min_cell: int = DEFAULT_MIN_CELL) -> Pivot:
    counts: dict[tuple[str, str], int] = {}
    weeks, pathways = set(), set()
    for week, pathway, count in await store.referrals_by_week_and_pathway(start, end,
                                                                          agency_id):
        counts[(week, pathway)] = count
        weeks.add(week)
        pathways.add(pathway)
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
