"""Charts as PNG bytes (matplotlib, no display, no global pyplot state: safe in a thread)."""

from __future__ import annotations

import io
from collections.abc import Sequence

from matplotlib.figure import Figure

from referrals.figures import WITHHELD, Pivot


def referrals_per_week(pivot: Pivot, pathway_labels: Sequence[str], title: str,
                       withheld_note: str) -> bytes:
    """Stacked bars: referrals per week by pathway. A withheld count is not drawn: a "*"
    stands where it would be, and the note says why."""
    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.add_subplot()
    bottoms = [0] * len(pivot.weeks)
    for column, label in enumerate(pathway_labels):
        heights = [0 if row[column].suppressed else row[column].value for row in pivot.cells]
        axes.bar(range(len(pivot.weeks)), heights, bottom=bottoms, label=label)
        for x, row in enumerate(pivot.cells):  # a withheld count is marked, not drawn as 0
            if row[column].suppressed:
                axes.annotate(WITHHELD, (x, bottoms[x]), ha="center", va="bottom")
        bottoms = [b + h for b, h in zip(bottoms, heights, strict=True)]
    axes.set_xticks(range(len(pivot.weeks)), [week[5:] for week in pivot.weeks],
                    rotation=45, ha="right")
    axes.set_title(title)
    if pivot.pathways:
        axes.legend(fontsize="small")
    figure.text(0.01, 0.01, withheld_note, fontsize="small")
    figure.tight_layout(rect=(0, 0.05, 1, 1))
    out = io.BytesIO()
    figure.savefig(out, format="png")
    return out.getvalue()
