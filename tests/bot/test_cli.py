"""The `deflect directory`, `invite` and `members` command lines: exit codes, messages, and
nothing changed on error. The tests of the state run on the SQLite file and on PostgreSQL
(`cli_state`, tests/bot/test_cli_backends.py); the directory is a local file on both."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import key_text
from members import Members, Role
from members.keys import Keys
from tests.bot.test_cli_backends import CliState, cli_state_fixture  # noqa: F401 (fixture)
from tests.conftest import service_row

WriteCsv = Callable[..., Path]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def search(capsys: pytest.CaptureFixture[str], db: Path, *extra: str) -> list[dict[str, object]]:
    code, out, _err = run(capsys, "directory", "search", "--near", "41.8806,-87.6298",
                          "--at", "2025-06-11T12:00", "--json", "--db", str(db), *extra)
    assert code == 0
    result: list[dict[str, object]] = json.loads(out)
    return result


# SQLite only: `directory search` reads only the local directory file (--db), on
# PostgreSQL too.
def test_search_on_a_new_database_answers_from_the_demo(
        capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    results = search(capsys, db_path, "--need", "detox", "--limit", "3")
    assert len(results) == 3
    assert all(str(r["name"]).endswith("(demo)") for r in results)
    assert results[0]["status"] == "open"
    assert set(results[0]) >= {"id", "name", "distance_m", "status", "next_change"}
    distances = [float(str(r["distance_m"])) for r in results if r["status"] == "open"]
    assert distances == sorted(distances)


# SQLite only: `directory search` reads only the local directory file (--db), on
# PostgreSQL too.
def test_search_text_output(capsys: pytest.CaptureFixture[str], db_path: Path) -> None:
    code, out, _ = run(capsys, "directory", "search", "--near", "41.8806,-87.6298", "--need",
                       "moud", "--at", "2025-12-25T10:00", "--db", str(db_path))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("1. ")
    assert "(demo)" in lines[0]
    assert "open until" in out
    assert "Dec" not in out


def published(state: CliState, version: int) -> str:
    """What an import says after its directory is stored: on PostgreSQL, that every worker
    loads it (and the version the database now holds)."""
    if state.url is None:
        return ""
    assert state.read("SELECT version FROM directory_copy") == [(version,)]
    return f"Published to every worker (directory version {version}).\n"


def test_import_replaces_the_demo_and_a_bad_file_changes_nothing(
        capsys: pytest.CaptureFixture[str], cli_state: CliState, write_csv: WriteCsv) -> None:
    db_path = cli_state.db_path
    good = write_csv([service_row(id="city-1"), service_row(id="city-2", lat="41.9")])
    code, out, err = run(capsys, "directory", "import", str(good), "--region", "US-IL",
                         "--db", str(db_path))
    assert (code, err) == (0, published(cli_state, 1))
    assert "imported 2 services" in out
    assert "as source city" in out
    assert [r["id"] for r in search(capsys, db_path)] == ["city-1", "city-2"]

    bad = write_csv([service_row(id="city-9"), service_row(id="city-9", lat="north"),
                     service_row(id="city-10", website="www.example.org")])
    code, out, err = run(capsys, "directory", "import", str(bad), "--db", str(db_path))
    assert code == 2
    assert err.splitlines() == [
        "city.csv:3: id: duplicate id 'city-9', first used on row 2",
        "city.csv:3: lat: not a number: north",
        "city.csv:4: website: 'www.example.org' has no scheme; imported as "
        "https://www.example.org (warning)",
        "nothing imported; the directory is unchanged (1 record has errors; --skip-invalid "
        "imports the others and lists the ones skipped)",
    ]
    assert out.splitlines() == [
        "0 to import, 1 repaired, 0 skipped, 0 left out (see the warnings), 0 out of scope "
        "(no need)",
        "records with errors: Test Detox (city.csv:3)"]
    assert [r["id"] for r in search(capsys, db_path)] == ["city-1", "city-2"]
    published(cli_state, 1)  # on PostgreSQL: nothing new published either

    code, out, err = run(capsys, "directory", "import", str(bad), "--skip-invalid",
                         "--db", str(db_path))
    assert code == 0
    assert "city.csv:3: lat: not a number: north (record skipped)" in err
    assert err.endswith("(warning)\n" + published(cli_state, 2))
    assert out.splitlines() == [
        "2 to import, 1 repaired, 1 skipped, 0 left out (see the warnings), 0 out of scope "
        "(no need)",
        "skipped: Test Detox (city.csv:3)",
        f"imported 2 services from {bad} as source city",
    ]
    assert [r["id"] for r in search(capsys, db_path)] == ["city-10", "city-9"]


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_import_refuses_ids_another_source_uses(
        capsys: pytest.CaptureFixture[str], db_path: Path, write_csv: WriteCsv) -> None:
    assert run(capsys, "directory", "import", str(write_csv([service_row()], "a.csv")),
               "--db", str(db_path))[0] == 0
    code, _out, err = run(capsys, "directory", "import", str(write_csv([service_row()], "b.csv")),
                          "--db", str(db_path))
    assert code == 2
    assert "b.csv:2: id: id 'svc-1' is already used by source a" in err


# SQLite only: `directory check` opens no state at all; it is about no file being made.
def test_check_validates_without_writing(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, write_csv: WriteCsv) -> None:
    good = write_csv([service_row(opening_hours="whenever")])
    code, out, err = run(capsys, "directory", "check", str(good))
    assert code == 0
    assert err.startswith("city.csv:2: opening_hours: hours do not parse")
    assert err.rstrip().endswith("(warning)")
    assert out.splitlines() == ["1 to import, 1 repaired, 0 skipped, 0 left out (see the "
                                "warnings), 0 out of scope (no need)",
                                "check only: the directory is unchanged"]
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    code, _out, err = run(capsys, "directory", "check", str(empty))
    assert (code, err) == (2, "empty.csv:1: file: the file is empty\n"
                              "nothing imported; the directory is unchanged\n")
    assert not list(tmp_path.glob("*.sqlite3"))


def _osm(tmp_path: Path, name: str, *tags: dict[str, str]) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": f"node/{number}", "properties": properties,
         "geometry": {"type": "Point", "coordinates": [-87.6 - number / 100, 41.9]}}
        for number, properties in enumerate(tags, start=1)]}))
    return path


# SQLite only: compares the importers' reports, which read and write only the local
# directory file (--db); on PostgreSQL an import adds the line saying it was published
# (tested above), which a check has nothing to say about.
def test_check_prints_exactly_what_import_would_with_the_same_exit_code(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, write_csv: WriteCsv) -> None:
    """Every kind of file: the same problems, the same summary, the same exit code."""
    files = [
        write_csv([service_row(), service_row(id="svc-2", phone="call", walk_in="?")], "a.csv"),
        write_csv([service_row(), service_row(id="svc-2", lat="")], "b.csv"),
        write_csv([], "c.csv"),
        _osm(tmp_path, "food.geojson", {"name": "Food bank", "amenity": "food_bank"},
             {"name": "Library", "amenity": "library"}),
        _osm(tmp_path, "mixed.geojson", {"name": "Pantry", "amenity": "food_bank"},
             {"name": "Needles", "vending": "syringes", "website": "needles.example.org"}),
    ]
    data = Path(__file__).parents[1] / "directory" / "data"
    files += [data / "hsds" / "open211-miami",
              data / "findtreatment" / "cbhsq_2019_charlottesville_5rows.json"]
    broken_hsds = tmp_path / "broken-hsds"
    broken_hsds.mkdir()
    (broken_hsds / "services.csv").write_text("id,name\ns1,Detox\n")
    files.append(broken_hsds)
    for number, path in enumerate(files):
        for extra in ([], ["--skip-invalid"]):
            db = str(tmp_path / f"{number}-{len(extra)}.sqlite3")
            checked = run(capsys, "directory", "check", str(path), "--db", db, *extra)
            imported = run(capsys, "directory", "import", str(path), "--db", db, *extra)
            assert checked[0] == imported[0], path
            assert checked[2] == imported[2], path
            assert checked[1].splitlines()[:-1] == imported[1].splitlines()[:-1], path


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_nothing_in_scope_says_why(capsys: pytest.CaptureFixture[str], tmp_path: Path,
                                   db_path: Path) -> None:
    path = _osm(tmp_path, "food.geojson", {"name": "Food bank", "amenity": "food_bank"},
                {"name": "Library", "amenity": "library"})
    for command in ("check", "import"):
        code, out, err = run(capsys, "directory", command, str(path), "--db", str(db_path))
        assert code == 2
        assert out.splitlines()[:2] == [
            "0 to import, 0 repaired, 0 skipped, 0 left out (see the warnings), 2 out of "
            "scope (no need)",
            "out of scope (they meet no deflection need): Food bank; Library"]
        assert err.startswith("nothing imported: no record meets a deflection need (the needs "
                              "are treatment, detox, moud, harm_reduction, naloxone, crisis, "
                              "shelter, peer_support;")


# SQLite only: refused before any state is opened; the local directory file (--db) only.
@pytest.mark.parametrize(("argv", "message"), [
    (["directory", "import", "/nonexistent/file.csv"], "/nonexistent/file.csv: no such file"),
    (["directory", "search", "--near", "141,2"], "--near 141,2: expected LAT,LON"),
    (["directory", "search", "--near", "41.8,-87.6", "--at", "tomorrow"],
     "--at tomorrow: expected an ISO 8601 time"),
    (["directory", "search", "--near", "41.8,-87.6", "--limit", "0"], "--limit must be"),
])
def test_bad_arguments_exit_2_with_a_message(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, argv: list[str], message: str
) -> None:
    code, _out, err = run(capsys, *argv, *(["--db", str(tmp_path / "x.sqlite3")]
                                          if argv[1] != "check" else []))
    assert code == 2
    assert message in err


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_bad_region(capsys: pytest.CaptureFixture[str], db_path: Path,
                    write_csv: WriteCsv) -> None:
    code, _out, err = run(capsys, "directory", "import", str(write_csv([service_row()])),
                          "--region", "XX-YY", "--db", str(db_path))
    assert code == 2
    assert "--region XX-YY: not a region python-holidays knows" in err


# SQLite only: `directory sources` reads only the local directory file (--db), on
# PostgreSQL too.
def test_sources_lists_what_was_imported(capsys: pytest.CaptureFixture[str],
                                         db_path: Path) -> None:
    code, out, _ = run(capsys, "directory", "sources", "--db", str(db_path))
    assert code == 0
    assert out.startswith("demo: 41 services, csv from bundled demo")


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_one_osm_object_in_two_exports_is_one_service_with_both_needs(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path) -> None:
    clinic = {"name": "Clinic", "healthcare:speciality": "addiction"}
    methadone = {"name": "Clinic", "healthcare:speciality": "methadone"}
    addiction = _osm(tmp_path, "addiction.geojson", clinic)
    substitution = _osm(tmp_path, "substitution.geojson", methadone)
    for path in (addiction, substitution):  # two sources, one object
        assert run(capsys, "directory", "import", str(path), "--db", str(db_path))[0] == 0
    together = tmp_path / "together.sqlite3"  # or both files as one source
    code, out, err = run(capsys, "directory", "import", str(addiction), str(substitution),
                         "--source", "osm", "--db", str(together))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == (f"imported 1 service from {addiction}, {substitution} as "
                                    "source osm")
    for db in (db_path, together):
        (found,) = search_at(capsys, db, "41.9,-87.61", "moud")
        assert (found["id"], found["needs"]) == ("node/1", ["moud", "treatment"])


def search_at(capsys: pytest.CaptureFixture[str], db: Path, near: str, need: str
              ) -> list[dict[str, object]]:
    code, out, _err = run(capsys, "directory", "search", "--near", near, "--need", need,
                          "--json", "--db", str(db))
    assert code == 0
    result: list[dict[str, object]] = json.loads(out)
    return result


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_files_of_different_formats_are_not_one_source(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path,
        write_csv: WriteCsv) -> None:
    csv_file = write_csv([service_row()])
    geojson = _osm(tmp_path, "a.geojson", {"name": "Needles", "vending": "syringes"})
    for command in ("check", "import"):
        code, out, err = run(capsys, "directory", command, str(csv_file), str(geojson),
                             "--db", str(db_path))
        assert (code, out) == (2, "")
        assert err == (f"{geojson} is not csv like {csv_file}: give the files of one source in "
                       "one format (or say which with --format)\n")


# SQLite only: the directory commands read and write only the local directory file (--db),
# on PostgreSQL too (an import's publishing to PostgreSQL is tested above).
def test_features_left_out_with_a_warning_are_counted_and_named(
        capsys: pytest.CaptureFixture[str], tmp_path: Path, db_path: Path) -> None:
    path = tmp_path / "nogeometry.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": "node/1", "geometry": None,
         "properties": {"name": "Needle exchange", "harm_reduction": "yes"}},
        {"type": "Feature", "id": "node/2",
         "geometry": {"type": "Point", "coordinates": [-87.6, 41.9]},
         "properties": {"name": "Drop-in", "harm_reduction": "yes"}}]}))
    code, out, _err = run(capsys, "directory", "import", str(path), "--db", str(db_path))
    assert code == 0
    assert out.splitlines()[:2] == [
        "1 to import, 0 repaired, 0 skipped, 1 left out (see the warnings), 0 out of scope "
        "(no need)",
        "left out: Needle exchange"]


async def _join(state: CliState, keys: Keys, code: str, *users: int) -> list[tuple[int, ...]]:
    """Join `users` with the invite `code`; each service's staff chats."""
    storage = await state.open(keys)
    try:
        members = await Members.open(storage.members, keys)
        for user in users:
            await members.join(user, code)
        police = await members.ensure_agency("Chicago PD", "US")
        await members.add_member(3003, police, Role.OFFICER)
        return [tuple(await members.staff_chats(service)) for service in ("demo-001",
                                                                            "demo-002")]
    finally:
        await storage.close()


def test_an_invite_for_service_staff_names_the_services(
        capsys: pytest.CaptureFixture[str], cli_state: CliState, keys: Keys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = cli_state.db_path
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    code, out, err = run(capsys, "invite", "--service", "demo-001", "--db", str(db_path))
    assert (code, err) == (0, "")
    first, uses, days, staff = out.splitlines()
    assert first.startswith("Invite code for service at Lakeshore Detox Center (demo): ")
    assert (uses, days) == ("It can be used 1 time.", "It expires in 7 days.")
    assert staff == "Staff of Lakeshore Detox Center (demo) (demo-001)"
    invite = first.rsplit(" ", 1)[1]
    assert asyncio.run(_join(cli_state, keys, invite, 5_555_000_111)) == [(5_555_000_111,), ()]
    assert cli_state.read("SELECT name, country FROM agency ORDER BY id")[0] == (
        "Lakeshore Detox Center (demo)", "US")


@pytest.mark.parametrize(("argv", "message"), [
    (["--service", "demo-001", "--service", "nowhere-9"], "has the id nowhere-9; nothing"),
    (["--role", "service", "--agency", "Lakeshore"], "--role service needs the services"),
    (["--role", "officer", "--service", "demo-001"], "leave out --role"),
    (["--role", "officer"], "give --agency and --role"),
])
def test_an_invite_with_unknown_services_or_a_wrong_role_is_refused(
        capsys: pytest.CaptureFixture[str], cli_state: CliState, argv: list[str], message: str
        ) -> None:
    code, out, err = run(capsys, "invite", *argv, "--db", str(cli_state.db_path))
    assert (code, out) == (2, "")
    assert message in err
    if asyncio.run(cli_state.created()):
        assert cli_state.read("SELECT * FROM invite") == []


def test_members_remove_asks_for_yes_then_removes_and_is_audited(
        capsys: pytest.CaptureFixture[str], cli_state: CliState, keys: Keys,
        monkeypatch: pytest.MonkeyPatch) -> None:
    db_path = cli_state.db_path
    monkeypatch.setenv("DEFLECT_KEY", key_text(keys))
    _code, out, _err = run(capsys, "invite", "--service", "demo-001", "--service", "demo-002",
                           "--uses", "2", "--db", str(db_path))
    invite = out.splitlines()[0].rsplit(" ", 1)[1]
    both = (5_555_000_111, 5_555_000_222)
    assert asyncio.run(_join(cli_state, keys, invite, *both)) == [both, both]
    code, out, err = run(capsys, "members", "remove", "--invite", invite, "--db", str(db_path))
    assert (code, out) == (2, "")
    assert err == "This removes 2 members. Run again with --yes to do it.\n"
    assert len(cli_state.read("SELECT * FROM staff")) == 4
    code, out, err = run(capsys, "members", "list", "--db", str(db_path))
    assert (code, err) == (0, "")
    assert out == ("Chicago PD\tofficer\t1\n"
                   "Lakeshore Detox Center (demo)\tservice\t2\n")
    code, out, _err = run(capsys, "members", "remove", "--invite", invite, "--yes",
                          "--db", str(db_path))
    assert (code, json.loads(out)) == (0, {"members": 2})
    assert cli_state.read("SELECT * FROM staff") == []
    assert cli_state.read("SELECT role FROM member") == [("officer",)]
    code, out, _err = run(capsys, "members", "remove", "--agency", "Chicago PD", "--role",
                          "peer", "--yes", "--db", str(db_path))
    assert (code, json.loads(out)) == (0, {"members": 0})
    code, out, err = run(capsys, "members", "remove", "--agency", "Nowhere PD", "--yes",
                         "--db", str(db_path))
    assert (code, out, err) == (2, "", "No agency is named Nowhere PD.\n")
    assert cli_state.read(
        f"SELECT role, command FROM audit ORDER BY {cli_state.insertion_order}") == [
        ("cli", "members list"), ("cli", "members remove --invite"),
        ("cli", "members remove --agency --role peer")]
    assert invite.encode() not in asyncio.run(cli_state.raw())
