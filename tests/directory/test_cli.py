"""`deflect directory ...` through the directory's own command-line layer (no bot)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.dates import format_time

from directory.live import LiveState
from tests.conftest import service_row
from tests.directory.support import directory_session, main

CHICAGO = ZoneInfo("America/Chicago")


def test_import_then_sources_then_search(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                         write_csv: Callable[..., Path]) -> None:
    path = write_csv([service_row(), service_row(id="svc-2", name="Second Detox")])
    db = str(tmp_path / "d.db")
    assert main(["directory", "import", str(path), "--region", "US-IL", "--db", db]) == 0
    assert "imported 2 services" in capsys.readouterr().out
    assert main(["directory", "sources", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("city: 2 services, csv from ")
    assert main(["directory", "search", "--near", "141,2", "--db", db]) == 2
    assert "--near 141,2: expected LAT,LON" in capsys.readouterr().err
    assert main(["directory", "search", "--near", " 41.88 , -87.63 ", "--need", "detox",
                 "--limit", "1", "--db", db]) == 0
    assert capsys.readouterr().out.startswith("1. ")


def test_bad_arguments_exit_as_argparse_does(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["directory", "search"])
    assert exited.value.code == 2
    assert "--near" in capsys.readouterr().err


def test_search_shows_live_statuses_and_health_lists_the_stalest_first(
        capsys: pytest.CaptureFixture[str], tmp_path: Path,
        write_csv: Callable[..., Path]) -> None:
    path = write_csv([service_row(), service_row(id="svc-2", name="Second Detox",
                                                 lat="41.90"),
                      service_row(id="svc-0", name="Third\tDetox", lat="41.95")])
    db = str(tmp_path / "d.db")
    assert main(["directory", "import", str(path), "--region", "US-IL", "--db", db]) == 0
    now = datetime.now(UTC).replace(microsecond=0)

    async def staff_say() -> None:
        async with directory_session(db, demo=False) as directory:
            await directory.live.set_status("svc-1", LiveState.FULL,
                                            until=now + timedelta(hours=2), now=now)
            await directory.live.set_status("svc-2", LiveState.OPEN, beds=2, now=now)
            await directory.live.report_closed("svc-0", now=now)
    asyncio.run(staff_say())
    capsys.readouterr()
    assert main(["directory", "search", "--near", "41.88,-87.63", "--json", "--db", db]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [(r["id"], r["status"], r["live_status"], r["beds"]) for r in found] == [
        ("svc-2", "open", "open", 2), ("svc-0", "open", None, None),
        ("svc-1", "open", "full", None)]
    assert datetime.fromisoformat(found[0]["live_updated"]) == now
    assert found[1]["live_updated"] is None
    assert found[1]["reported_closed"] is True
    assert datetime.fromisoformat(found[2]["live_until"]) == now + timedelta(hours=2)
    assert main(["directory", "search", "--near", "41.88,-87.63", "--db", db]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("1. Second Detox · ")
    assert lines[0].endswith(" · open 24 hours · 2 beds free (updated "
                             f"{format_time(now.astimezone(CHICAGO), 'short', locale='en')})")
    assert "reported closed recently: call first" in lines[2]
    assert " · full until " in lines[4]

    assert main(["directory", "health", "--json", "--db", db]) == 0
    health = json.loads(capsys.readouterr().out)
    assert [row["id"] for row in health] == ["svc-0", "svc-1", "svc-2"]  # svc-0: import only
    assert health[0]["reports_30_days"] == 1
    assert (health[1]["status"], health[1]["arrival"]) == ("full", None)
    assert datetime.fromisoformat(health[2]["status_updated"]) == now
    assert main(["directory", "health", "--db", db]) == 0
    table = [line.split("\t") for line in capsys.readouterr().out.splitlines()]
    assert table[0] == ["id", "name", "source", "source imported", "last staff status",
                        "status updated", "last arrival", "reports (30 days)"]
    assert table[1][:3] == ["svc-0", "Third Detox", "city"]
    assert table[2][4:] == ["full", now.isoformat(), "", "0"]
