"""Wrong invite codes of many users share one ceiling an hour, beside each user's own limit.
On both backends (a real SQLite file, a real PostgreSQL database), no Telegram."""

from __future__ import annotations

import logging

import pytest

from members import (
    MAX_FAILED_JOINS_PER_HOUR,
    MAX_FAILED_JOINS_PER_HOUR_ALL,
    JoinResult,
    Members,
    Role,
)
from members.keys import Keys
from storage.ports import Storage
from tests.referrals.support import execute, select


async def test_wrong_codes_of_many_users_share_an_hourly_ceiling(
        any_storage: Storage, keys: Keys, caplog: pytest.LogCaptureFixture) -> None:
    members = Members(any_storage.members, keys)
    code = await members.invite(await members.ensure_agency("Chicago PD", "US"), Role.PEER)
    users = range(100_001, 100_001 + MAX_FAILED_JOINS_PER_HOUR_ALL)
    for user in users:  # one wrong code each: nobody near their own limit
        assert (await members.join(user, f"WRONG-{user}"))[0] is JoinResult.WRONG_CODE
    assert MAX_FAILED_JOINS_PER_HOUR > 1
    caplog.set_level(logging.WARNING, logger="members.service")
    for newcomer in (200_001, 200_002):
        assert await members.join(newcomer, code) == (JoinResult.CEILING, None)
        assert await members.membership(newcomer) is None
    warnings = [r for r in caplog.records if r.name == "members.service"]
    assert [r.levelno for r in warnings] == [logging.WARNING]  # once, not once a try
    message = warnings[0].getMessage()
    assert message.startswith("join: hourly ceiling of wrong codes reached")
    for secret in ("200001", code, code.replace("-", "")):  # no id, no code
        assert secret not in message
    rows = await select(any_storage, "SELECT sum(failures) FROM join_attempt")
    assert rows == [(MAX_FAILED_JOINS_PER_HOUR_ALL,)]  # refusals are not counted
    # A user's own limit still comes first.
    await execute(any_storage, "UPDATE join_attempt SET failures = ? WHERE user_hmac = ?",
                  MAX_FAILED_JOINS_PER_HOUR, members.user_key(100_001))
    assert (await members.join(100_001, code))[0] is JoinResult.TOO_MANY_TRIES
