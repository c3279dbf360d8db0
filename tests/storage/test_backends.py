"""One storage seam, two backends: every store behaves the same on the SQLite file and on
PostgreSQL (a throwaway server the tests start: tests/postgres_server.py), and the figures
of the same referrals are the same rows on both."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import subprocess
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from directory.gazetteer import Place
from members import JoinResult, Members, Role
from members.keys import Keys, new_master_key
from referrals import figures as stats
from referrals.followups import Answer, FollowUps
from referrals.handoff import Handoffs
from referrals.handoff_model import Answer as StaffAnswer
from referrals.log import ReferralLog
from referrals.model import Outcome, Pathway, Referral, Refused
from referrals.retention import purge
from storage.ports import Storage
from storage.postgres import PostgresConversationStore, PostgresStorage
from storage.sqlite import SqliteConversationStore, SqliteStorage
from tests.conftest import fresh_database
from tests.postgres_server import PostgresServer, binaries
from tests.referrals.support import NOW, seed_program

CHAT = 918_273_700


@pytest.fixture
def backend(any_storage: Storage) -> Storage:
    """Every store on the SQLite file, then on PostgreSQL (tests/conftest.py)."""
    return any_storage


@pytest.fixture
def keys() -> Keys:
    return Keys(new_master_key())


def made(referral_id: str, code: str = "AAAABBBB", *, agency_id: int | None = None,
         consent: bool = True) -> Referral:
    return dataclasses.replace(Referral.new(
        pathway=Pathway.ACTIVE_OUTREACH, referrer_role="officer", agency_id=agency_id,
        needs=[], service_id="demo-001", lat=41.88, lon=-87.63, distance_m=900,
        consent=consent, referral_id=referral_id, now=NOW), code=code)


async def test_a_referral_is_logged_once_with_its_reminder_and_a_clash_draws_a_new_code(
        backend: Storage) -> None:
    log = ReferralLog(backend.referrals)
    followups = FollowUps(backend.followups, (24, 72))
    first = await log.record(made("a" * 32), followups.plan(CHAT, "en", now=0))
    assert first.code == "AAAABBBB"
    again = await log.record(dataclasses.replace(made("a" * 32), service_id="other"))
    assert again == first
    other = await log.record(made("b" * 32))
    assert other.code != "AAAABBBB"
    assert await log.get("b" * 32) == other
    assert await log.count() == 2
    assert await followups.pending() == 1
    (due,) = await followups.due(now=24 * 3600 + 1)
    assert (due.referral_id, due.chat_id, due.code) == ("a" * 32, CHAT, "AAAABBBB")
    await followups.sent(due)
    assert await followups.answer("a" * 32, CHAT + 1, Answer.ENGAGED) is None  # not its chat
    assert await followups.answer("a" * 32, CHAT, Answer.ENGAGED) == ("AAAABBBB", False)
    assert await followups.pending() == 0


async def test_outcomes_follow_one_rule_and_wrong_codes_are_limited(backend: Storage) -> None:
    members = await Members.open(backend.members, Keys(new_master_key()))
    chicago = await members.ensure_agency("Chicago PD", "US")
    log = ReferralLog(backend.referrals)
    await log.record(made("a" * 32, "CCCCDDDD", agency_id=chicago.id))
    await log.record(made("b" * 32, "EEEEFFFF", agency_id=chicago.id, consent=False))
    assert await log.record_outcome("cccc-dddd", Outcome.NOT_YET, agency_id=chicago.id) is \
        Outcome.PENDING
    assert await log.record_arrival("a" * 32) is Outcome.NOT_YET
    assert await log.record_outcome("CCCCDDDD", Outcome.DECLINED, agency_id=chicago.id) is \
        Outcome.ENGAGED  # a confirmed arrival stands
    assert await log.record_outcome("EEEEFFFF", Outcome.ENGAGED, agency_id=chicago.id + 1) \
        is None
    key = b"k" * 32
    moment = datetime(2026, 11, 20, 15, tzinfo=UTC)
    for _ in range(10):
        assert await log.confirm_arrival("NOPE2345", agency_id=chicago.id, member_key=key,
                                         now=moment) is None
    assert await log.confirm_arrival("CCCCDDDD", agency_id=chicago.id, member_key=key,
                                     now=moment) is Refused.MEMBER


async def test_members_invites_staff_and_languages(backend: Storage) -> None:
    keys = Keys(new_master_key())
    members = await Members.open(backend.members, keys)
    lakeshore = await members.ensure_agency("Lakeshore", "US")
    code = await members.invite(lakeshore, Role.SERVICE, uses=2, services=["demo-001"])
    assert (await members.join(CHAT, "WRONG-CODE0"))[0] is JoinResult.WRONG_CODE
    result, membership = await members.join(CHAT, code)
    assert result is JoinResult.JOINED
    assert membership is not None
    assert membership.services == ("demo-001",)
    assert await members.membership(CHAT) == membership
    assert await members.staff_chats("demo-001") == [CHAT]
    await members.set_language(CHAT, "es")
    assert members.language(CHAT) == "es"
    assert await members.remove(invite=code) == 1
    assert await members.staff_chats("demo-001") == []
    assert (await members.join(CHAT + 1, code))[0] is JoinResult.WRONG_CODE  # spent


async def test_undelivered_audit_places_and_handoffs(backend: Storage) -> None:
    log = ReferralLog(backend.referrals)
    referral = await log.record(made("a" * 32))
    await backend.undelivered.keep(b"u" * 32, referral.id)
    assert backend.undelivered.waiting(b"u" * 32)
    (notice,) = await backend.undelivered.take(b"u" * 32)
    assert notice.code == referral.code
    assert not backend.undelivered.any_waiting()
    await backend.audit.add(date(2026, 11, 20), None, "cli", "stats --by week")
    assert await backend.audit.entries() == [("2026-11-20", None, "cli", "stats --by week")]
    await backend.geocode.put("state st & madison", [Place("State & Madison", 41.88, -87.62)])
    assert await backend.geocode.get("state st & madison", 3600) == [
        Place("State & Madison", 41.88, -87.62)]
    handoffs = Handoffs(backend.handoffs, 10)
    state = handoffs.begin(referral, CHAT, "en", [("demo-002", 2000.0)], now=1000)
    await handoffs.asked(state, [], now=1000)
    await handoffs.answered(state, StaffAnswer.FULL)
    assert await handoffs.get(referral.id) == state
    await handoffs.move(state, "demo-002", 2000.0)
    moved = await log.get(referral.id)
    assert moved is not None
    assert (moved.service_id, moved.distance_band) == ("demo-002", "1-5km")
    assert await handoffs.due(now=1000 + 13 * 3600) == []  # past its time: deleted
    assert await handoffs.get(referral.id) is None


async def test_the_same_referrals_give_the_same_figures_and_retention_on_both(
        tmp_path: Path, postgres_url: str) -> None:
    keys = Keys(new_master_key())
    sqlite = await SqliteStorage.open(tmp_path / "deflect.sqlite3", keys)
    postgres = await PostgresStorage.open(postgres_url, keys, tmp_path / "d.sqlite3")
    try:
        tables = []
        for storage in (sqlite, postgres):
            await seed_program(storage)
            found = []
            for by in stats.By:
                rows, total = await stats.figures(storage.figures, by, start=date(2025, 1, 1),
                                                  end=date(2026, 12, 31), agency_id=None)
                found.append((by, stats.table(rows, total, by, 10).as_records()))
            done = await purge(storage.maintenance, 365, FollowUps(storage.followups, (24,)),
                               conversation_idle_s=1800, now=NOW)
            rows, total = await stats.figures(storage.figures, stats.By.WEEK,
                                              start=date(2025, 1, 1), end=date(2026, 12, 31),
                                              agency_id=None)
            tables.append((found, done.referrals, total))
        assert tables[0] == tables[1]
        assert tables[0][1] == 12  # the year-old ones folded away
    finally:
        await sqlite.close()
        await postgres.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
async def test_conversation_state_is_sealed_and_read_back(
        kind: str, tmp_path: Path, request: pytest.FixtureRequest) -> None:
    keys = Keys(new_master_key())
    if kind == "sqlite":
        store: SqliteConversationStore | PostgresConversationStore = \
            await SqliteConversationStore.open(tmp_path / "c.sqlite3", keys)
    else:
        database = fresh_database(request.getfixturevalue("postgres"))
        store = await PostgresConversationStore.open(await database.__aenter__(), keys)
    try:
        await store.set_state("deflect", (CHAT, CHAT), 6)
        await store.set_user_data(CHAT, {"draft": {"lat": 41.878112}})
        assert await store.states("deflect") == {(CHAT, CHAT): 6}
        assert await store.user_data() == {CHAT: {"draft": {"lat": 41.878112}}}
        assert await store.delete_idle(datetime.now(UTC).timestamp() + 1) == 2
        assert await store.states("deflect") == {}
    finally:
        await store.close()
        if kind == "postgres":
            await database.__aexit__(None, None, None)


async def test_nothing_of_anyone_in_a_dump_of_the_postgres_database(
        postgres: PostgresServer, postgres_url: str, tmp_path: Path) -> None:
    keys = Keys(new_master_key())
    storage = await PostgresStorage.open(postgres_url, keys, tmp_path / "d.sqlite3")
    try:
        members = await Members.open(storage.members, keys)
        agency = await members.ensure_agency("Lakeshore", "US")
        await members.add_member(CHAT, agency, Role.SERVICE, ["demo-001"])
        await members.set_language(CHAT, "es")
        log = ReferralLog(storage.referrals)
        referral = await log.record(made("a" * 32), FollowUps(storage.followups, (24,)).plan(
            CHAT, "en"))
        await storage.undelivered.keep(members.user_key(CHAT), referral.id)
        handoffs = Handoffs(storage.handoffs, 10)
        await handoffs.asked(handoffs.begin(referral, CHAT, "en", []), [])
    finally:
        await storage.close()
    dump = (await asyncio.to_thread(
        subprocess.run, [str(binaries() / "pg_dump"), "--data-only", "--inserts",
                         postgres_url], capture_output=True, text=True, check=True)).stdout
    assert "INSERT INTO public.referral" in dump
    assert str(CHAT) not in dump
    assert "41.88" not in dump  # no exact place (the referral holds a 5 km cell)


async def test_a_status_set_on_one_worker_is_seen_by_another_after_a_refresh(
        postgres_url: str, tmp_path: Path) -> None:
    from directory.live import LiveState

    keys = Keys(new_master_key())
    first = await PostgresStorage.open(postgres_url, keys, tmp_path / "w1.sqlite3")
    second = await PostgresStorage.open(postgres_url, keys, tmp_path / "w2.sqlite3")
    try:
        one = await first.open_directory(demo=True)
        two = await second.open_directory(demo=True)
        await one.live.set_status("demo-001", LiveState.FULL)
        await one.live.report_closed("demo-002")
        assert await two.live.current() == {}  # its own copy, until it refreshes
        await two.live.refresh()
        seen = await two.live.current()
        assert seen["demo-001"].state is LiveState.FULL
        assert seen["demo-002"].reported_closed
        assert seen == await one.live.current()
        await one.close()
        await two.close()
    finally:
        await first.close()
        await second.close()


async def test_a_directory_imported_once_reaches_every_worker(
        postgres_url: str, tmp_path: Path, write_csv: Callable[..., Path],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.cli import main
    from directory.search import nearest
    from tests.conftest import service_row

    keys = Keys(new_master_key())
    worker = await PostgresStorage.open(postgres_url, keys, tmp_path / "worker.sqlite3")
    try:
        directory = await worker.open_directory(demo=True)
        assert await directory.name_of("svc-1") is None  # the demo until something is published
        monkeypatch.setenv("DEFLECT_DATABASE_URL", postgres_url)
        first = write_csv([service_row(id="svc-1", name="Published Detox")])
        imported = tmp_path / "importer.sqlite3"
        # The importing file once served a single process: its members stay out of the image.
        single = await SqliteStorage.open(imported, keys)
        await (await Members.open(single.members, keys)).add_member(
            CHAT, await single.members.ensure_agency("Chicago PD", "US"), Role.OFFICER)
        await single.close()
        assert await asyncio.to_thread(
            main, ["directory", "import", str(first), "--db", str(imported)]) == 0
        image = tmp_path / "image.sqlite3"
        image.write_bytes(bytes(await worker.pool.fetchval(
            "SELECT image FROM directory_copy ORDER BY version DESC LIMIT 1")))
        with sqlite3.connect(image) as copy:
            tables = {row[0] for row in copy.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "service" in tables
        assert not tables & {"member", "agency", "referral", "key_check"}
        await worker.refresh_directory(directory)
        assert await directory.name_of("svc-1") == "Published Detox"
        assert await directory.name_of("demo-001") is None  # replaced, not added to
        found = await nearest(directory, 41.8806, -87.6298, limit=1)
        assert [m.service.id for m in found] == ["svc-1"]
        second = write_csv([service_row(id="svc-1", name="Renamed Detox")])  # city.csv again
        assert await asyncio.to_thread(
            main, ["directory", "import", str(second), "--db", str(imported)]) == 0
        await worker.refresh_directory(directory)
        assert await directory.name_of("svc-1") == "Renamed Detox"
        late = await PostgresStorage.open(postgres_url, keys, tmp_path / "late.sqlite3")
        try:  # a worker started later loads it at once
            assert await (await late.open_directory(demo=True)).name_of("svc-1") == \
                "Renamed Detox"
        finally:
            await late.close()
        await directory.close()
    finally:
        await worker.close()
