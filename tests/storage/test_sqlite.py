"""The embedded SQLite backend on real files: schema, the outcome rule, reminders, what is
kept in memory, conversation state, the geocode cache, agencies and refused locations."""

from __future__ import annotations

import asyncio
import dataclasses
import stat
import time
from datetime import UTC, date, datetime
from pathlib import Path

import aiosqlite
import pytest

from directory.gazetteer import Place
from directory.model import Need
from members import Membership, Role
from members.keys import Keys, new_master_key
from referrals.followups import Answer, FollowUps
from referrals.log import ReferralLog
from referrals.model import Outcome, Pathway, Referral
from referrals.retention import purge
from storage import StorageError, directory_session, open_conversations, open_storage
from storage.sqlite import SqliteStorage
from storage.sqlite.database import MIGRATIONS, open_database


async def test_schema_version_is_recorded(db: aiosqlite.Connection) -> None:
    async with db.execute("PRAGMA user_version") as cursor:
        assert await cursor.fetchone() == (len(MIGRATIONS),)
    async with db.execute("PRAGMA journal_mode") as cursor:
        assert await cursor.fetchone() == ("wal",)
    async with db.execute("PRAGMA foreign_keys") as cursor:
        assert await cursor.fetchone() == (1,)


def _referral(consent: bool = True, membership: Membership | None = None) -> Referral:
    return Referral.made_by(membership, pathway=Pathway.SELF_REFERRAL, needs=(Need.DETOX,),
                            service_id="demo-001", lat=41.88, lon=-87.63, distance_m=900,
                            consent=consent)


async def _outcome(storage: SqliteStorage, referral: Referral) -> tuple[str, str | None]:
    rows = list(await storage.db.execute_fetchall(
        "SELECT outcome, outcome_day FROM referral WHERE id = ?", (referral.id,)))
    return str(rows[0][0]), rows[0][1]


async def test_one_outcome_rule_for_the_log_and_the_follow_up_answers(
        storage: SqliteStorage) -> None:
    """Both writers apply referrals.model.outcome_may_change: a declined contact takes no
    outcome, and a confirmed arrival stands (not moved by a later answer or confirmation)."""
    log = ReferralLog(storage.referrals)
    chicago = await storage.members.ensure_agency("Chicago PD", "US")
    officer = Membership(chicago, Role.OFFICER)
    declined, referred = _referral(consent=False, membership=officer), _referral(
        membership=officer)
    assert await log.record(declined) == declined
    assert await log.record(referred) == referred
    # Once: the same id again writes nothing and gives back what the log holds.
    assert await log.record(dataclasses.replace(referred, code="ZZZZZZZZ")) == referred
    assert await log.count() == 2
    assert await log.record_outcome(declined.code, Outcome.ENGAGED,
                                    agency_id=chicago.id) is None
    assert await _outcome(storage, declined) == ("declined", None)

    first, later = date(2026, 11, 2), date(2026, 11, 9)
    followups = FollowUps(storage.followups, (24, 72))
    await followups.schedule(referred.id, 555, "en", now=0)
    (due,) = await followups.due(now=25 * 3600)
    await followups.sent(due)
    assert await log.record_outcome(f" {referred.code.lower()} ", Outcome.ENGAGED,
                                    first, agency_id=chicago.id) is Outcome.PENDING
    assert await log.record_outcome(referred.code, Outcome.ENGAGED, later,
                                    agency_id=chicago.id) is Outcome.ENGAGED
    assert await _outcome(storage, referred) == ("engaged", first.isoformat())
    # The reminder sent before the arrival was confirmed: "not yet" records nothing now.
    answered = await storage.followups.answer(referred.id, 555, Outcome.NOT_YET, later, 2)
    assert answered == (referred.code, 1)
    assert await _outcome(storage, referred) == ("engaged", first.isoformat())


async def test_a_reminder_answers_only_in_its_own_chat(storage: SqliteStorage) -> None:
    referral = _referral()
    await ReferralLog(storage.referrals).record(referral)
    followups = FollowUps(storage.followups, (24, 72))
    await followups.schedule(referral.id, 555, "es", now=0)
    assert await followups.answer(referral.id, 555, Answer.ENGAGED) is None  # none sent yet
    (due,) = await followups.due(now=24 * 3600)
    assert (due.number, due.locale, due.code) == (1, "es", referral.code)
    await followups.sent(due)
    assert await followups.answer(referral.id, 666, Answer.ENGAGED) is None  # another chat
    assert await followups.answer(referral.id, 555, Answer.NOT_YET) == (referral.code, True)
    assert await followups.pending() == 1
    assert await followups.answer(referral.id, 555, Answer.UNKNOWN,
                                  now=30 * 3600) == (referral.code, False)
    assert await followups.pending() == 0
    assert await _outcome(storage, referral) == ("unknown", "1970-01-02")


async def test_what_is_kept_in_memory_is_read_back_by_the_next_start(
        storage: SqliteStorage, db_path: Path, keys: Keys) -> None:
    referral = _referral()
    await ReferralLog(storage.referrals).record(referral)
    await storage.undelivered.keep(b"member-key", referral.id)
    await storage.members.set_language(b"member-key", "ar")
    again = await SqliteStorage.open(db_path, keys)
    try:
        assert again.undelivered.any_waiting()
        assert again.undelivered.waiting(b"member-key")
        assert again.members.language(b"member-key") == "ar"
        notices = await again.undelivered.take(b"member-key")
        assert [(n.referral_id, n.code) for n in notices] == [(referral.id, referral.code)]
        assert not again.undelivered.any_waiting()
        assert await again.undelivered.take(b"member-key") == []
    finally:
        await again.db.close()


async def test_conversation_state_round_trips_and_goes_when_idle(db_path: Path,
                                                                 keys: Keys) -> None:
    store = await open_conversations(db_path, keys)
    try:
        await store.set_state("deflect", (11, 11), 6)
        await store.set_user_data(11, {"draft": {"nonce": "a1b2c3"}, "n": 1})
        assert await store.states("deflect") == {(11, 11): 6}
        assert await store.user_data() == {11: {"draft": {"nonce": "a1b2c3"}, "n": 1}}
        assert await store.delete_idle(time.time() - 60) == 0
        assert await store.delete_idle(time.time() + 1) == 2
        assert await store.states("deflect") == {}
        assert await store.user_data() == {}
        await store.set_user_data(12, {"n": 2})
        await store.set_user_data(12, {})  # nothing left: the row goes
        assert await store.user_data() == {}
    finally:
        await store.close()


async def test_the_geocode_cache_keeps_places_not_people(storage: SqliteStorage) -> None:
    cache = storage.geocode
    assert await cache.get("clark and lake", 60) is None
    await cache.put("clark and lake", [Place("Clark/Lake, Chicago", 41.8857, -87.6308)])
    assert await cache.get("clark and lake", 60) == [
        Place("Clark/Lake, Chicago", 41.8857, -87.6308)]
    await storage.db.execute("UPDATE geocode_cache SET day = '2000-01-01'")
    assert await cache.get("clark and lake", 86_400) is None


async def test_agencies_are_made_once(storage: SqliteStorage) -> None:
    first = await storage.members.ensure_agency("Chicago PD", "US")
    assert await storage.members.ensure_agency("Chicago PD", "IT") == first
    assert await storage.members.agency_named("Chicago PD") == first
    assert await storage.members.agency_named("Nowhere PD") is None


async def test_a_server_url_is_refused_with_its_scheme_and_no_file_is_made(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # PostgreSQL is a storage (storage/postgres/); other servers are not.
    for url in ("mysql://deflect:secret@db/deflect", "SQLITE://db/deflect"):
        with pytest.raises(StorageError) as raised:
            await open_storage(url, Keys(new_master_key()))
        assert raised.value.scheme.lower() in ("mysql", "sqlite")
        assert "secret" not in str(raised.value)
    assert await asyncio.to_thread(lambda: list(tmp_path.iterdir())) == []


async def test_a_directory_session_opens_and_closes_everything(db_path: Path) -> None:
    async with directory_session(db_path, demo=True) as directory:
        assert await directory.sources()
    wal = db_path.with_name(db_path.name + "-wal")
    # Closed with the write-ahead log emptied: nothing deleted lingers in it.
    assert await asyncio.to_thread(lambda: not wal.exists() or wal.stat().st_size == 0)


async def test_retention_deletes_old_choices_confirmations_and_typed_places(
        storage: SqliteStorage) -> None:
    db = storage.db
    old = Referral.made_by(None, pathway=Pathway.SELF_REFERRAL, consent=True,
                           now=datetime(2026, 9, 1, tzinfo=UTC))
    new = Referral.made_by(None, pathway=Pathway.SELF_REFERRAL, consent=True,
                           now=datetime(2026, 11, 19, tzinfo=UTC))
    for referral in (old, new):
        await storage.referrals.add(referral)
        await storage.undelivered.keep(referral.id.encode(), referral.id)
    await storage.members.set_language(b"recent", "es")
    await db.execute("INSERT INTO language_choice VALUES (x'01', 'fr', '2025-10-01')")
    await storage.geocode.put("clark and lake", [Place("Clark/Lake", 41.8857, -87.6308)])
    await db.execute("INSERT INTO geocode_cache VALUES (x'02', x'03', '2026-10-01')")
    done = await purge(storage.maintenance, 365, FollowUps(storage.followups, (24, 72)),
                       now=datetime(2026, 11, 20, 12, tzinfo=UTC))
    assert (done.undelivered, done.languages, done.places) == (1, 1, 1)
    assert [r[0] for r in await db.execute_fetchall("SELECT referral_id FROM undelivered")] \
        == [new.id]
    assert [bytes(r[0]) for r in await db.execute_fetchall(
        "SELECT user_hmac FROM language_choice")] == [b"recent"]
    assert len(list(await db.execute_fetchall("SELECT * FROM geocode_cache"))) == 1


async def test_a_new_database_and_its_log_are_readable_by_their_owner_only(
        tmp_path: Path) -> None:
    """Whatever the umask: the referral log and the members' keyed hashes are nobody else's
    to read. A file that exists keeps the mode its operator gave it."""
    path = tmp_path / "new.sqlite3"
    db = await open_database(path)
    try:
        await db.execute("INSERT INTO audit (day, member_hmac, role, command) "
                         "VALUES ('2026-12-07', NULL, 'cli', 'stats')")
        wal = path.with_name(path.name + "-wal")
        assert wal.exists()
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(wal.stat().st_mode) == 0o600
    finally:
        await db.close()
    chosen = tmp_path / "chosen.sqlite3"
    chosen.touch(mode=0o640)
    chosen.chmod(0o640)
    await (await open_database(chosen)).close()
    assert stat.S_IMODE(chosen.stat().st_mode) == 0o640
