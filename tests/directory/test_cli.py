"""`deflect directory ...` through the directory's own command-line layer (no bot)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import service_row
from tests.directory.support import main


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
