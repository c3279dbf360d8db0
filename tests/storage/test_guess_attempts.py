"""The wrong /arrived codes kept in storage: only keyed hashes, hours and small counts (nothing
for `deflect privacy-check` to find in the SQLite file), gone with retention once their day is
over. On both backends, but for the privacy check, which reads the SQLite file."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from referrals.followups import FollowUps
from referrals.log import ReferralLog
from referrals.retention import purge
from storage.ports import Storage
from storage.postgres.schema import MIGRATIONS as POSTGRES_MIGRATIONS
from storage.sqlite import SqliteStorage
from storage.sqlite.database import MIGRATIONS
from storage.sqlite.privacy import check
from tests.referrals.support import select

NOW = datetime(2026, 11, 20, 15, 10, tzinfo=UTC)


async def _guess(storage: Storage, member_key: bytes, when: datetime) -> None:
    agency = await storage.members.ensure_agency("Chicago PD", "US")
    assert await ReferralLog(storage.referrals).confirm_arrival(
        "NOPE42", agency_id=agency.id, member_key=member_key, now=when) is None


async def test_a_wrong_guess_is_kept_as_a_keyed_hash_an_hour_and_a_count(
        any_storage: Storage) -> None:
    migrations = MIGRATIONS if isinstance(any_storage, SqliteStorage) else POSTGRES_MIGRATIONS
    assert any("CREATE TABLE guess_attempt" in migration for migration in migrations)
    await _guess(any_storage, b"k" * 32, NOW)
    await _guess(any_storage, b"k" * 32, NOW + timedelta(minutes=30))
    assert await select(any_storage, "SELECT * FROM guess_attempt") == [
        ("arrived", b"k" * 32, "2026-11-20T15", 2)]


# SQLite only: `deflect privacy-check` (storage/sqlite/privacy.py) scans the SQLite file.
async def test_privacy_check_finds_nothing_in_the_wrong_guesses(
        storage: SqliteStorage, db_path: Path) -> None:
    now = datetime.now(UTC)  # this hour's guesses: kept, as they should be
    for number in range(20):
        for _ in range(number % 5 + 1):
            await _guess(storage, bytes([number]) * 32, now)
    rows = list(await storage.db.execute_fetchall(
        "SELECT count(*), sum(failures) FROM guess_attempt"))
    assert rows == [(20, 60)]
    findings, transient = check(db_path)
    assert findings == []
    assert "guess_attempt" not in transient  # nothing in it held for a conversation


async def test_retention_deletes_the_guesses_of_earlier_days(any_storage: Storage) -> None:
    await _guess(any_storage, b"k" * 32, NOW - timedelta(days=1))
    await _guess(any_storage, b"k" * 32, NOW - timedelta(days=1, hours=1))
    await _guess(any_storage, b"m" * 32, NOW - timedelta(hours=15))  # today, 00:10
    done = await purge(any_storage.maintenance, 365,
                       FollowUps(any_storage.followups, (24, 72)), now=NOW)
    assert done.guess_attempts == 2
    assert done.join_attempts == 0
    rows = await select(any_storage, "SELECT member_hmac, hour, failures FROM guess_attempt")
    assert rows == [(b"m" * 32, "2026-11-20T00", 1)]
