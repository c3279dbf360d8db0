"""`deflect privacy-check` on an SQLite file: what it finds, and that its report is no leak."""

from __future__ import annotations

import time
from pathlib import Path

from directory.sqlite import open_migrated
from referrals import audit
from storage.sqlite import SqliteStorage
from storage.sqlite.database import MIGRATIONS
from storage.sqlite.privacy import check


async def test_privacy_check_finds_ids_phones_coordinates_and_free_text(
        storage: SqliteStorage, db_path: Path) -> None:
    db = storage.db
    await audit.record(storage.audit, None, "cli", "stats")
    await db.execute("INSERT INTO agency (name, country) VALUES ('Officer 7100000001', 'US')")
    await db.execute("INSERT INTO agency (name, country) VALUES ('Call +1 312 555 0199', 'US')")
    await db.execute("INSERT INTO referral_week VALUES ('2026-11-16', 1, 'active_outreach', "
                     "'detox', 'demo-001', 'dp3wj', 1, 'said his name was Bob', NULL, 3)")
    await db.execute("INSERT INTO language_choice VALUES (x'00', '41.878112,-87.629801', "
                     "date('now'))")
    await db.commit()
    findings, _transient = check(db_path)
    assert sorted(f.what for f in findings if f.table != "(write-ahead log)") == [
        "a coordinate with more than 3 decimals", "a number shaped like a Telegram id",
        "a phone number", "free text in the referral log"]
    # Written but not yet checkpointed: the write-ahead log's pages hold them too.
    assert sorted(f.what for f in findings if f.table == "(write-ahead log)") == [
        "a coordinate with more than 3 decimals", "a number shaped like a Telegram id"]
    assert all("7100000001" not in f.render() for f in findings)  # the report is no leak


async def test_rows_kept_past_their_time_and_values_in_transient_tables_are_findings(
        storage: SqliteStorage, db_path: Path) -> None:
    """Transient tables are no hiding place: an old conversation row, a reminder kept long
    after its last answer window, a stale typed place or language choice, a referral older
    than the retention period, and a key left in the data are all findings."""
    db = storage.db
    old = time.time() - 3 * 86_400
    await db.execute("INSERT INTO conversation_state VALUES ('deflect', x'01', x'02', 6, ?)",
                     (old,))
    await db.execute("INSERT INTO user_state VALUES (x'03', x'04', ?)", (old,))
    await db.execute("INSERT INTO geocode_cache VALUES (x'05', x'06', '2020-01-01')")
    await db.execute("INSERT INTO language_choice VALUES (x'07', 'es', '2020-01-01')")
    await db.execute("INSERT INTO installation VALUES (1, x'0809')")
    await db.execute(
        "INSERT INTO referral (id, code, created_hour, pathway, referrer_role, agency_id, needs,"
        " service_id, area_cell, distance_band, consent, outcome) VALUES ('ab', 'ABCDEF', "
        "'2020-01-01T10:00Z', 'active_outreach', 'officer', NULL, 'detox', NULL, NULL, NULL, "
        "1, 'pending')")
    await db.execute("INSERT INTO followup (referral_id, chat_id, sealed_chat, locale, made_at,"
                     " sent, due_at) VALUES ('ab', 7100000001, NULL, 'en', 0, 2, 0)")
    await storage.maintenance.checkpoint()
    findings, transient = check(db_path)
    stale = sorted(f.table for f in findings if f.what == "rows kept past their time")
    assert stale == ["conversation_state", "followup", "geocode_cache", "installation",
                     "language_choice", "referral", "user_state"]
    assert ("followup", "chat_id", "an integer shaped like a Telegram id") in {
        (f.table, f.column, f.what) for f in findings}  # a clear chat id, even in a
    assert transient["followup"] == 1                    # table held by design
    assert all("7100000001" not in f.render() for f in findings)
    assert not [f for f in findings if f.table == "(write-ahead log)"]  # checkpointed: empty


async def test_a_file_from_before_the_last_upgrade_is_reported_not_a_crash(
        tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    db = await open_migrated(old, MIGRATIONS[:9])
    await db.execute("INSERT INTO language_choice VALUES (x'00', 'es')")
    await db.close()
    findings, _transient = check(old)
    assert ("language_choice", "(schema)") in {(f.table, f.column) for f in findings}
