"""Suppression of small counts (pure): which cells of a published table to withhold.

Counts from 1 to min_cell - 1 are withheld, and further cells are withheld (complementary
suppression) until no withheld cell can be worked out from the totals published beside it.
Zero is shown as 0.
"""

from __future__ import annotations

from collections.abc import Sequence

DEFAULT_MIN_CELL = 10


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
