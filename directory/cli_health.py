"""`deflect directory health`: the coordinator's to-do list for keeping the directory true.

For every service: its source and when that was imported, the last staff status (even if
it has expired) and when it was set, the last day an arrival there was confirmed, and the
field reports of the last 30 days; stalest first (see `directory.live.HealthRow.checked`).
Text is one tab-separated line per service under a header (states and times as the JSON
gives them, so that the table pastes into a spreadsheet); `--json` is a list of objects.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import TextIO

from directory.i18n import Translator
from directory.live import HealthRow
from directory.store import Directory


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def _day(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def health_json(row: HealthRow) -> dict[str, object]:
    return {
        "id": row.service_id, "name": row.name, "source": row.source,
        "source_imported": _time(row.imported_at),
        "status": row.status.value if row.status is not None else None,
        "status_updated": _time(row.status_updated), "status_until": _time(row.status_until),
        "arrival": _day(row.arrival), "reports_30_days": row.reports,
    }


async def write_health(directory: Directory, translator: Translator, out: TextIO, *,
                       as_json: bool, now: datetime | None = None) -> None:
    """Write the health of every service in `directory`, stalest first."""
    _ = translator.gettext
    rows = await directory.live.health(now)
    if as_json:
        json.dump([health_json(row) for row in rows], out, ensure_ascii=False)
        out.write("\n")
        return
    header = (_("id"), _("name"), _("source"), _("source imported"), _("last staff status"),
              _("status updated"), _("last arrival"), _("reports (30 days)"))
    out.write("\t".join(header) + "\n")
    for row in rows:
        cells = (row.service_id, row.name, row.source, _time(row.imported_at),
                 row.status.value if row.status is not None else None,
                 _time(row.status_updated), _day(row.arrival), str(row.reports))
        # A tab or newline in a name would shift the columns.
        out.write("\t".join(" ".join((cell or "").split()) for cell in cells) + "\n")
