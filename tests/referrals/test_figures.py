"""Program figures: right counts, small cells withheld so that no total gives them away, and
retention that keeps the figures and drops the rows. On both backends (a real SQLite file, a
real PostgreSQL database), no Telegram."""

from __future__ import annotations

import asyncio
from datetime import date
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from referrals import figures as stats
from referrals.followups import FollowUps
from referrals.retention import purge
from storage.ports import Storage
from storage.sqlite import SqliteStorage
from tests.referrals.support import NOW, seed_program, select

# --- suppression: proved with linear algebra ----------------------------------------------

def _rank(rows: list[list[Fraction]]) -> int:
    matrix = [row[:] for row in rows]
    rank, columns = 0, len(matrix[0]) if matrix else 0
    for column in range(columns):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column] != 0), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        for r in range(len(matrix)):
            if r != rank and matrix[r][column] != 0:
                factor = matrix[r][column] / matrix[rank][column]
                matrix[r] = [a - factor * b for a, b in zip(matrix[r], matrix[rank], strict=True)]
        rank += 1
    return rank


def derivable(hidden: list[list[bool]], groups: list[list[tuple[int, int]]]
              ) -> list[tuple[int, int]]:
    """Withheld cells a reader could work out exactly from the published ones and the
    table's additive relations (each group: the first cell is the sum of the others)."""
    unknowns = [(r, c) for r, row in enumerate(hidden) for c, flag in enumerate(row) if flag]
    index = {cell: i for i, cell in enumerate(unknowns)}
    equations = []
    for group in groups:
        row = [Fraction(0)] * len(unknowns)
        for position, cell in enumerate(group):
            if cell in index:
                row[index[cell]] += -1 if position == 0 else 1
        if any(row):
            equations.append(row)
    found = []
    base = _rank(equations) if equations else 0
    for cell, i in index.items():
        unit = [Fraction(int(j == i)) for j in range(len(unknowns))]
        if equations and _rank([*equations, unit]) == base:
            found.append(cell)
    return found


def _groups(rows: int) -> list[list[tuple[int, int]]]:
    last = rows
    groups = [[(r, 0), (r, 1), (r, 2)] for r in range(rows + 1)]
    groups += [[(last, c)] + [(r, c) for r in range(rows)] for c in range(4)]
    return groups


def test_one_small_cell_in_a_row_with_its_total_cannot_be_recovered() -> None:
    # Pathway "naloxone_plus": 3 declines beside 40 referrals and 43 contacts. Withholding
    # only the 3 would leave it as 43 - 40.
    rows = [stats.Row("active_outreach", 60, 50, 10, 20),
            stats.Row("naloxone_plus", 43, 40, 3, 12)]
    total = stats.Row("total", 103, 90, 13, 32)
    table = stats.table(rows, total, stats.By.PATHWAY)
    hidden = [[cell.suppressed for cell in row] for row in table.cells]
    assert hidden[1][2]  # the 3
    assert sum(map(sum, hidden)) > 1  # and something beside it
    assert derivable(hidden, _groups(2)) == []
    records = table.as_records()
    assert records[1]["declines"] is None
    assert 3 not in [value for record in records for value in record.values()]


def test_zero_is_shown_and_the_single_row_case_hides_the_total_too() -> None:
    rows = [stats.Row("self_referral", 4, 4, 0, 0)]
    table = stats.table(rows, stats.Row("total", 4, 4, 0, 0), stats.By.PATHWAY)
    shown = table.as_records()
    assert shown[0]["declines"] == 0
    assert shown[0]["engaged"] == 0
    assert shown[0]["referrals"] is None
    assert shown[1]["referrals"] is None  # the total equals the cell: withheld with it
    hidden = [[cell.suppressed for cell in row] for row in table.cells]
    assert derivable(hidden, _groups(1)) == []


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 40), st.integers(0, 15), st.integers(0, 25)),
                min_size=1, max_size=6))
def test_no_withheld_cell_is_ever_derivable(raw: list[tuple[int, int, int]]) -> None:
    rows = [stats.Row(f"k{i}", referrals + declines, referrals, declines, min(engaged, referrals))
            for i, (referrals, declines, engaged) in enumerate(raw)]
    total = stats.Row("total", sum(r.contacts for r in rows), sum(r.referrals for r in rows),
                      sum(r.declines for r in rows), sum(r.engaged for r in rows))
    table = stats.table(rows, total, stats.By.PATHWAY, min_cell=10)
    hidden = [[cell.suppressed for cell in row] for row in table.cells]
    for row in table.cells:
        for cell in row:
            assert cell.suppressed or not 0 < cell.value < 10
    assert derivable(hidden, _groups(len(rows))) == []


@pytest.fixture
async def program(any_storage: Storage) -> Storage:
    return await seed_program(any_storage)


# --- figures from the log -------------------------------------------------------------------

async def test_figures_by_pathway_for_one_agency(program: Storage) -> None:
    rows, total = await stats.figures(program.figures, stats.By.PATHWAY, start=date(2026, 11, 1),
                                      end=date(2026, 11, 30), agency_id=1)
    by_key = {row.key: row for row in rows}
    assert (total.contacts, total.referrals, total.declines, total.engaged) == (42, 30, 12, 20)
    assert by_key["naloxone_plus"].referrals == 10
    assert by_key["active_outreach"].declines == 12
    table = stats.table(rows, total, stats.By.PATHWAY)
    assert table.engagement_rate == pytest.approx(20 / 30)
    assert table.median_days_to_engagement == 2.0


async def test_figures_by_need_count_a_referral_under_each_of_its_needs_once_in_the_total(
        program: Storage) -> None:
    rows, total = await stats.figures(program.figures, stats.By.NEED, start=date(2026, 11, 1),
                                      end=date(2026, 11, 30), agency_id=1)
    by_key = {row.key: row.referrals for row in rows}
    assert by_key == {"detox": 15, "shelter": 15, "treatment": 15}
    assert total.referrals == 30


async def test_figures_by_service_category_come_from_the_directory(
        program: Storage) -> None:
    demo = await program.open_directory(demo=True)  # the bundled demo directory
    categories = await demo.needs_by_service()
    await demo.close()
    rows, total = await stats.figures(program.figures, stats.By.CATEGORY,
                                      start=date(2026, 11, 1), end=date(2026, 11, 30),
                                      agency_id=1, categories=categories)
    # demo-001 (Lakeshore Detox Center) offers detox, treatment and MOUD.
    assert {row.key: row.referrals for row in rows} == {"detox": 30, "treatment": 30,
                                                         "moud": 30}
    assert total.referrals == 30


async def test_retention_folds_old_rows_so_the_figures_survive_and_the_rows_do_not(
        program: Storage) -> None:
    old_codes = [row[0] for row in await select(
        program, "SELECT code FROM referral WHERE created_hour < '2026-01-01'")]
    assert len(old_codes) == 12
    start, end = date(2025, 1, 1), date(2026, 12, 31)
    week = stats.By.WEEK
    before = stats.table(*(await stats.figures(program.figures, week, start=start, end=end)),
                         week)
    done = await purge(program.maintenance, 365, FollowUps(program.followups, (24, 72)),
                       now=NOW)
    assert done.referrals == 12
    after = stats.table(*(await stats.figures(program.figures, week, start=start, end=end)),
                        week)
    assert after == before
    assert await select(
        program, "SELECT count(*) FROM referral WHERE created_hour < '2026-01-01'") == [(0,)]
    if isinstance(program, SqliteStorage):
        # SQLite only: the bytes of the file and its write-ahead log on disk (PostgreSQL's
        # data directory belongs to the server, not to the test).
        raw = await asyncio.to_thread(_file_bytes, Path(program.location))
        for code in old_codes:
            assert code.encode() not in raw


def _file_bytes(db_path: Path) -> bytes:
    wal = db_path.with_name(db_path.name + "-wal")
    return db_path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
