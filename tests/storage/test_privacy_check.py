"""`deflect privacy-check` on an SQLite file: what it finds, and that its report is no leak."""

from __future__ import annotations

from pathlib import Path

from referrals import audit
from storage.sqlite import SqliteStorage
from storage.sqlite.privacy import check


async def test_privacy_check_finds_ids_phones_coordinates_and_free_text(
        storage: SqliteStorage, db_path: Path) -> None:
    db = storage.db
    await audit.record(storage.audit, None, "cli", "stats")
    await db.execute("INSERT INTO agency (name, country) VALUES ('Officer 7100000001', 'US')")
    await db.execute("INSERT INTO agency (name, country) VALUES ('Call +1 312 555 0199', 'US')")
    await db.execute("INSERT INTO referral_week VALUES ('2026-11-16', 1, 'active_outreach', "
                     "'detox', 'demo-001', 'dp3wj', 1, 'said his name was Bob', NULL, 3)")
    await db.execute("INSERT INTO language_choice VALUES (x'00', '41.878112,-87.629801')")
    await db.commit()
    findings, _transient = check(db_path)
    assert sorted(f.what for f in findings) == [
        "a coordinate with more than 3 decimals", "a number shaped like a Telegram id",
        "a phone number", "free text in the referral log"]
    assert all("7100000001" not in f.render() for f in findings)  # the report is no leak
