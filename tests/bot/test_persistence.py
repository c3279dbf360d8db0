"""Emergency numbers by country, and conversation state that goes when it goes idle."""

from __future__ import annotations

import time
from pathlib import Path

from bot.emergency import emergency_number
from bot.persistence import StoragePersistence
from members.keys import Keys, new_master_key
from storage import open_conversations
from storage.sqlite import SqliteConversationStore


def test_emergency_numbers_by_country() -> None:
    assert [emergency_number(c) for c in ("US", "CA", "GB", "IT", "ZA", "AU", "LB", "xx")] == [
        "911", "911", "999", "112", "10177", "000", "140", "112"]


async def test_idle_conversations_are_deleted(db_path: Path) -> None:

    keys = Keys(new_master_key())
    persistence = StoragePersistence(lambda: open_conversations(db_path, keys), max_idle_s=60)
    await persistence.update_conversation("deflect", (11, 11), 6)
    await persistence.update_user_data(11, {"language": "es"})
    await persistence.update_conversation("deflect", (12, 12), 3)
    await persistence.written()  # one process writes behind: now it is in the store
    store = await persistence.store()
    assert isinstance(store, SqliteConversationStore)
    db = store.db
    await db.execute("UPDATE conversation_state SET updated_at = ? WHERE key_tag = ?",
                     (time.time() - 61, store._key_tag("deflect", (12, 12))))
    assert await persistence.get_conversations("deflect") == {(11, 11): 6}  # 12 was idle
    assert await persistence.get_user_data() == {11: {"language": "es"}}
    await persistence.update_conversation("deflect", (11, 11), None)  # ended: row gone
    await persistence.written()
    assert await persistence.get_conversations("deflect") == {}
    await persistence.close()
