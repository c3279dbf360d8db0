"""The referral log holds no identifier of a person or an officer: proved on the file."""

from __future__ import annotations

import io
import random
import re
import sqlite3
import struct
import time
from pathlib import Path

from telegram import Update

from bot.app import build_application, running
from bot.console import Console, ConsoleUser, OfflineBotApi
from bot.persistence import StoragePersistence
from bot.settings import Settings
from handlers.followup import send_due
from members import Role
from referrals.followups import Answer
from storage.sqlite import SqliteStorage
from storage.sqlite.followups import SqliteFollowUpStore
from storage.sqlite.privacy import check


async def test_200_referrals_leave_no_identifier_anywhere_in_the_database(tmp_path: Path) -> None:
    db_path = tmp_path / "deflect.sqlite3"
    api = OfflineBotApi()
    application = build_application(Settings(db_path=db_path), request=api, rate_limit=False)
    rng = random.Random(20)
    people = []
    async with running(application):
        runtime = application.bot_data.runtime
        assert runtime is not None
        agency = await runtime.members.ensure_agency("Chicago PD", "US")
        for index in range(200):
            user = ConsoleUser(id=7_100_000_000 + index * 7919, first_name=f"Firstname{index}x",
                               username=f"handle_{index}_zz")
            # Six decimals, the last never 0: no collision with the demo's 4-decimal points.
            lat = round(41.80 + rng.randrange(15_000) * 1e-5 + rng.randrange(1, 10) * 1e-6, 6)
            lon = round(-87.75 + rng.randrange(15_000) * 1e-5 + rng.randrange(1, 10) * 1e-6, 6)
            people.append((user, lat, lon))
            officer = index % 2 == 0
            if officer:
                await runtime.members.add_member(user.id, agency, Role.OFFICER)
            console = Console(user, io.StringIO())
            api.on_send = console.show

            async def say(line: str, console: Console = console) -> None:
                data = console.update_for(line)
                assert data is not None
                await application.process_update(Update.de_json(data, application.bot))

            if officer:
                await say("/checklist")
                for label in ("No", "Active outreach", "No", "Yes"):
                    await say(console.number_of(label))
            else:
                await say("/find")
            await say(console.number_of("Harm reduction"))
            await say(console.number_of("Done"))
            await say(f"{lat},{lon}")
            await say(console.number_of("Refer to 1" if officer else "Code for 1"))

        storage = runtime.storage
        assert isinstance(storage, SqliteStorage)
        db = storage.db
        # Five more people whose conversations stay open at the results, their place in the
        # draft, while 100 reminders are pending: the files hold none of it readable, the
        # write-ahead log and shared-memory file included.
        open_people = []
        open_consoles = []
        for index in range(5):
            user = ConsoleUser(id=7_200_000_000 + index * 7919, first_name=f"Openname{index}x",
                               username=f"open_{index}_zz")
            lat = round(41.85 + index * 1.3e-3 + 7e-6, 6)
            lon = round(-87.65 - index * 1e-3 - 3e-6, 6)
            open_people.append((user, lat, lon))
            console = Console(user, io.StringIO())
            open_consoles.append(console)
            api.on_send = console.show
            for line in ("/find", "Detox", "Done", f"{lat},{lon}"):
                data = console.update_for(line if "," in line or line.startswith("/")
                                          else console.number_of(line))
                assert data is not None
                await application.process_update(Update.de_json(data, application.bot))
        persistence = application.persistence
        assert isinstance(persistence, StoragePersistence)
        await persistence.written()  # one process writes conversations behind: now written
        assert len(list(await db.execute_fetchall("SELECT * FROM user_state"))) == 5
        running_raw = b"".join(
            path.read_bytes() for path in (db_path, db_path.with_name(db_path.name + "-wal"),
                                           db_path.with_name(db_path.name + "-shm"))
            if path.exists())
        for user, lat, lon in [*open_people, *people]:
            for needle in (str(user.id).encode(), user.first_name.encode(),
                           f"{lat:.6f}".encode(), struct.pack(">d", lat),
                           f"{lon:.6f}".encode()):
                assert needle not in running_raw, needle
        for console in open_consoles:
            api.on_send = console.show
            cancel = console.update_for("/cancel")
            assert cancel is not None
            await application.process_update(Update.de_json(cancel, application.bot))
        await persistence.written()
        rows = list(await db.execute_fetchall("SELECT * FROM referral"))
        assert len(rows) == 200
        # While conversations run, their state rows are keyed by Telegram ids (a restart must
        # resume them); each ended here, so its rows are gone.
        for table in ("conversation_state", "user_state"):
            assert list(await db.execute_fetchall(f"SELECT * FROM {table}")) == []
        # A follow-up reminder must reach a chat: its row holds the chat id, sealed with a
        # key that is not in the file, beside the referral id, and only until it is
        # answered or expires.
        officers = {user.id for index, (user, _lat, _lon) in enumerate(people) if index % 2 == 0}
        followups = storage.followups
        assert isinstance(followups, SqliteFollowUpStore)
        sealed = list(await db.execute_fetchall(
            "SELECT referral_id, sealed_chat, chat_id FROM followup"))
        assert all(row[2] is None for row in sealed)
        reminders = [(followups._chat(str(r[0]), bytes(r[1])), str(r[0])) for r in sealed]
        assert {chat for chat, _referral in reminders} == officers
        columns = [r[1] for r in await db.execute_fetchall("PRAGMA table_info(followup)")]
        assert columns == ["referral_id", "chat_id", "sealed_chat", "locale", "made_at", "sent",
                           "due_at"]
        now = time.time()
        assert await send_due(application.bot, runtime, now + 25 * 3600) == 100
        for chat, referral in reminders[:50]:
            assert await runtime.followups.answer(referral, chat, Answer.ENGAGED) is not None
        assert await send_due(application.bot, runtime, now + 73 * 3600) == 50
        assert await runtime.followups.purge(now + 98 * 3600) == 50
        assert await runtime.followups.pending() == 0
    # After shutdown: deleted rows were overwritten (secure_delete) and the WAL checkpointed.
    files = [db_path, db_path.with_name(db_path.name + "-wal")]
    raw = b"".join(path.read_bytes() for path in files if path.exists())

    forbidden_text: list[str] = []
    forbidden_bytes: list[bytes] = []
    for user, lat, lon in people:
        forbidden_text += [str(user.id), user.first_name, str(user.username), f"{lat:.6f}",
                           f"{lon:.6f}"]
        forbidden_bytes += [user.id.to_bytes(8, "big")[2:], struct.pack(">d", lat),
                            struct.pack(">d", lon)]
    for text in forbidden_text:
        assert text.encode() not in raw, text
    for pattern in forbidden_bytes:
        assert pattern not in raw, pattern

    connection = sqlite3.connect(db_path)
    try:
        tables = [r[0] for r in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        coordinates = {value for _user, lat, lon in people for value in (lat, lon)}
        identifiers = {user.id for user, _lat, _lon in people}
        for table in tables:
            for row in connection.execute(f'SELECT * FROM "{table}"'):
                for cell in row:
                    if isinstance(cell, float):
                        assert cell not in coordinates, table
                    elif isinstance(cell, int):
                        assert cell not in identifiers, table
                    elif isinstance(cell, str):
                        assert not any(needle in cell for needle in forbidden_text), (table, cell)
        columns = [r[1] for r in connection.execute("PRAGMA table_info(referral)")]
        assert columns == ["id", "code", "created_hour", "pathway", "referrer_role",
                           "agency_id", "needs", "service_id", "area_cell", "distance_band",
                           "consent", "outcome", "outcome_day", "handoff", "moves"]
        for (hour,) in connection.execute("SELECT created_hour FROM referral"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00Z", hour)
        cells = {cell for (cell,) in connection.execute("SELECT area_cell FROM referral")}
        assert all(len(cell) == 5 for cell in cells)
        # Members are there, but only as keyed hashes.
        assert connection.execute("SELECT count(*) FROM member").fetchone() == (100,)
    finally:
        connection.close()
    # And `deflect privacy-check` agrees: nothing found, nothing held in transient tables.
    findings, transient = check(db_path)
    assert findings == []
    # Each officer's referral keeps its hand-off (chat sealed) for 12 hours: reports and
    # "next nearest" work until then.
    handoffs = len(people) // 2  # every other person was referred by an officer
    assert transient == {"conversation_state": 0, "user_state": 0, "followup": 0,
                         "geocode_cache": 0, "handoff": handoffs}
