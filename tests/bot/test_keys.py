"""The master key lives apart from the data: made once, owner-only, checked, moved out of an
old database, and nothing in a stolen database file matches or opens without it."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import os
import stat
from pathlib import Path

import pytest

from bot.cli import main
from bot.keys import KeyRefused, KeyRing
from bot.settings import Settings
from members import Members, Role
from members.keys import Keys, SealError, derive, new_master_key
from referrals.model import Pathway, Referral
from referrals.ports import Reminder
from storage import member_session, open_conversations, open_storage
from storage.sqlite import SqliteStorage
from storage.sqlite.database import open_database

OFFICER_ID = 7_100_000_123


async def _keys(settings: Settings) -> Keys:
    return await KeyRing(settings).keys()


def _key_text(master: bytes) -> str:
    return f"deflect-key-v2:{base64.b64encode(master).decode()}"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_the_first_start_makes_an_owner_only_key_file_and_the_database_holds_none(
        db_path: Path) -> None:
    settings = Settings(db_path=db_path)
    keys = await _keys(settings)
    key_file = db_path.with_name("deflect.sqlite3.key")
    assert await asyncio.to_thread(_mode, key_file) == 0o600
    text = await asyncio.to_thread(key_file.read_text)
    assert text.startswith("deflect-key-v2:")
    raw = await asyncio.to_thread(db_path.read_bytes)
    assert keys.master not in raw
    assert base64.b64encode(keys.master) not in raw
    # The next start reads the same key: the same member, found again.
    storage = await open_storage(db_path, keys)
    members = await Members.open(storage.members, keys)
    await members.add_member(OFFICER_ID, await members.ensure_agency("Chicago PD", "US"),
                             Role.OFFICER)
    await storage.close()
    again = await _keys(settings)
    assert again.master == keys.master
    storage = await open_storage(db_path, again)
    try:
        assert await (await Members.open(storage.members, again)).membership(OFFICER_ID)
    finally:
        await storage.close()


async def test_a_key_file_others_can_read_is_refused(db_path: Path) -> None:
    settings = Settings(db_path=db_path)
    await _keys(settings)
    await asyncio.to_thread(os.chmod, settings.key_path, 0o644)
    with pytest.raises(KeyRefused) as refused:
        await _keys(settings)
    assert "chmod 600" in refused.value.msgid
    assert refused.value.path == str(settings.key_path)


async def test_data_without_its_key_refuses_to_start_and_no_new_key_is_made(
        db_path: Path) -> None:
    settings = Settings(db_path=db_path)
    keys = await _keys(settings)
    storage = await open_storage(db_path, keys)
    await (await Members.open(storage.members, keys)).add_member(
        OFFICER_ID, await storage.members.ensure_agency("Chicago PD", "US"), Role.OFFICER)
    await storage.close()
    await asyncio.to_thread(settings.key_path.unlink)
    with pytest.raises(KeyRefused) as refused:
        await _keys(settings)
    assert "is missing" in refused.value.msgid
    assert not await asyncio.to_thread(settings.key_path.exists)
    # Another installation's key is refused too, by the check value kept in the data.
    other = Settings(db_path=db_path, key=_key_text(new_master_key()))
    with pytest.raises(KeyRefused) as wrong:
        await _keys(other)
    assert "is not the key" in wrong.value.msgid
    # And the right one from the environment works, with no file written.
    right = Settings(db_path=db_path, key=_key_text(keys.master))
    assert (await _keys(right)).master == keys.master
    assert not await asyncio.to_thread(settings.key_path.exists)


async def test_an_unreadable_key_is_refused(db_path: Path) -> None:
    for text in ("deflect-key-v2:", "deflect-key-v2:bm90IGEga2V5", "v9:" + "A" * 44):
        with pytest.raises(KeyRefused) as refused:
            await _keys(Settings(db_path=db_path, key=text))
        assert refused.value.path == "DEFLECT_KEY"


async def test_an_old_installations_secret_moves_to_the_key_file_and_members_stay(
        db_path: Path) -> None:
    """Before keys lived apart, `installation.secret` keyed HMAC(secret, "user:<id>")."""
    secret = new_master_key()
    db = await open_database(db_path)
    await db.execute("INSERT INTO installation (id, secret) VALUES (1, ?)", (secret,))
    await db.execute("INSERT INTO agency (name, country) VALUES ('Chicago PD', 'US')")
    old_hash = hmac.new(secret, f"user:{OFFICER_ID}".encode(), hashlib.sha256).digest()
    await db.execute("INSERT INTO member (user_hmac, agency_id, role) VALUES (?, 1, 'officer')",
                     (old_hash,))
    await db.close()
    settings = Settings(db_path=db_path)
    keys = await _keys(settings)
    assert keys.master == secret
    assert keys.legacy_hashes
    text = await asyncio.to_thread(settings.key_path.read_text)
    assert text.startswith("deflect-key-v1:")
    async with member_session(db_path) as store:
        assert await store.legacy_secret() is None
        members = await Members.open(store, keys)
        membership = await members.membership(OFFICER_ID)
        assert membership is not None
        assert membership.role is Role.OFFICER
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    raw = b"".join([await asyncio.to_thread(p.read_bytes) for p in files if p.exists()])
    assert secret not in raw  # deleted, vacuumed and checkpointed: no copy left in the files
    # The next start reads it from the file like any other key.
    assert (await _keys(settings)).master == secret


async def test_a_stolen_database_file_matches_and_opens_nothing_without_the_key(
        db_path: Path, tmp_path: Path) -> None:
    """The attacker has the file and knows an officer's Telegram id (not a secret). Every
    32-byte run of the file is tried as the key, as the old secret, and as any derived key:
    no member hash matches and no sealed chat id or conversation opens."""
    keys = await _keys(Settings(db_path=db_path))
    storage = await open_storage(db_path, keys)
    assert isinstance(storage, SqliteStorage)
    members = await Members.open(storage.members, keys)
    await members.add_member(OFFICER_ID, await members.ensure_agency("Chicago PD", "US"),
                             Role.OFFICER)
    await storage.db.execute(
        "INSERT INTO referral (id, code, created_hour, pathway, referrer_role, agency_id, needs,"
        " service_id, area_cell, distance_band, consent, outcome) VALUES ('r1', 'ABCDEF', "
        "'2026-11-20T15:00Z', 'active_outreach', 'officer', 1, 'detox', NULL, NULL, NULL, 1, "
        "'pending')")
    await storage.followups.schedule("r1", Reminder(OFFICER_ID, "en", 0, 3600))
    await storage.close()
    conversations = await open_conversations(db_path, keys)
    await conversations.set_state("deflect", (OFFICER_ID, OFFICER_ID), 6)
    await conversations.set_user_data(OFFICER_ID, {"draft": {"lat": 41.878112}})
    await conversations.close()

    stolen = tmp_path / "stolen.sqlite3"
    raw = await asyncio.to_thread(db_path.read_bytes)
    await asyncio.to_thread(stolen.write_bytes, raw)
    for needle in (str(OFFICER_ID).encode(), OFFICER_ID.to_bytes(8, "big")[2:], b"41.878112"):
        assert needle not in raw
    db = await open_database(stolen)
    try:
        hashes = {bytes(r[0]) for r in await db.execute_fetchall("SELECT user_hmac FROM member")}
        sealed_chats = [bytes(r[0]) for r in await db.execute_fetchall(
            "SELECT sealed_chat FROM followup")]
        sealed_states = [bytes(r[0]) for r in await db.execute_fetchall(
            "SELECT sealed FROM user_state")]
    finally:
        await db.close()
    assert len(hashes) == len(sealed_chats) == len(sealed_states) == 1
    candidates = {raw[i:i + 32] for i in range(len(raw) - 31)}
    assert keys.master not in candidates
    assert not any(
        hmac.new(c, f"user:{OFFICER_ID}".encode(), hashlib.sha256).digest() in hashes
        for c in candidates)
    assert Keys(keys.master).user(OFFICER_ID) in hashes  # what the key would find
    for candidate in list(candidates)[:2000]:  # HKDF per candidate: a sample of them
        guess = Keys(candidate)
        assert guess.user(OFFICER_ID) not in hashes
        with pytest.raises(SealError):
            guess.sealer("followups").open(sealed_chats[0], b"r1")
    assert keys.sealer("followups").open(sealed_chats[0], b"r1") == str(OFFICER_ID).encode()
    assert derive(keys.master, "member hash") not in candidates


async def test_after_losing_the_key_forget_key_deletes_what_it_kept_and_a_new_key_starts(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(db_path=db_path)
    keys = await _keys(settings)
    storage = await open_storage(db_path, keys)
    members = await Members.open(storage.members, keys)
    await members.add_member(OFFICER_ID, await members.ensure_agency("Chicago PD", "US"),
                             Role.OFFICER)
    referral = Referral.made_by(None, pathway=Pathway.SELF_REFERRAL, consent=True)
    await storage.referrals.add(referral)  # the log is not keyed: it stays
    await storage.close()
    await asyncio.to_thread(settings.key_path.unlink)  # lost
    assert await asyncio.to_thread(main, ["forget-key", "--db", str(db_path)]) == 2
    assert "--yes" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["forget-key", "--yes", "--db", str(db_path)]) == 0
    assert json.loads(capsys.readouterr().out)["member"] == 1
    new = await _keys(settings)  # a new key, for data that no longer needs the old one
    assert new.master != keys.master
    storage = await open_storage(db_path, new)
    try:
        assert await storage.referrals.count() == 1
        assert await storage.members.agency_named("Chicago PD") is not None  # agencies stay
        assert await (await Members.open(storage.members, new)).membership(OFFICER_ID) is None
    finally:
        await storage.close()
    # With a key file in place, nothing is forgotten.
    assert await asyncio.to_thread(main, ["forget-key", "--yes", "--db", str(db_path)]) == 2


async def test_the_command_line_says_what_is_wrong_with_the_key(
        db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(db_path=db_path)
    await _keys(settings)
    await asyncio.to_thread(os.chmod, settings.key_path, 0o640)
    assert await asyncio.to_thread(main, ["stats", "--from", "2026-11-01", "--to",
                                          "2026-11-30", "--db", str(db_path)]) == 2
    err = capsys.readouterr().err
    assert "can be read by others" in err
    assert "Traceback" not in err


async def test_a_missing_key_is_never_replaced_when_only_sealed_state_is_left(
        db_path: Path) -> None:
    """A database that has had a key (its check value) needs that key, even if all it holds
    is a conversation in progress: no new key file is written."""
    settings = Settings(db_path=db_path)
    keys = await _keys(settings)
    conversations = await open_conversations(db_path, keys)
    await conversations.set_user_data(OFFICER_ID, {"draft": {"lat": 41.9}})
    await conversations.close()
    await asyncio.to_thread(settings.key_path.unlink)
    with pytest.raises(KeyRefused) as refused:
        await _keys(settings)
    assert "is missing" in refused.value.msgid
    assert not await asyncio.to_thread(settings.key_path.exists)


async def test_a_key_file_that_is_not_text_is_refused_with_a_message(db_path: Path) -> None:
    settings = Settings(db_path=db_path)
    await asyncio.to_thread(settings.key_path.write_bytes, bytes(range(256)))
    await asyncio.to_thread(os.chmod, settings.key_path, 0o600)
    with pytest.raises(KeyRefused) as refused:
        await _keys(settings)
    assert "does not hold a Deflect key" in refused.value.msgid


async def test_forget_key_refuses_while_the_key_is_at_hand(
        db_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    db = await open_database(db_path)
    await db.execute("INSERT INTO installation (id, secret) VALUES (1, ?)", (new_master_key(),))
    await db.close()
    assert await asyncio.to_thread(main, ["forget-key", "--yes", "--db", str(db_path)]) == 2
    assert "start Deflect once" in capsys.readouterr().err
    monkeypatch.setenv("DEFLECT_KEY", _key_text(new_master_key()))
    assert await asyncio.to_thread(main, ["forget-key", "--yes", "--db", str(db_path)]) == 2
    assert "DEFLECT_KEY is set" in capsys.readouterr().err
    async with member_session(db_path) as store:
        assert await store.legacy_secret() is not None  # nothing was forgotten
