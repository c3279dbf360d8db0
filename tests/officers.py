"""Simulated officers, as the load benchmark and the bad-network test drive them."""

from __future__ import annotations

import time
from collections.abc import Awaitable

from tests.fake_telegram import FakeUser

CHICAGO_LOOP = (41.8781, -87.6298)
STALLED_PLACE = "navy pier"


async def complete_checklist(user: FakeUser, latencies: list[float], *, typed_place: bool = False,
                             wait_s: float = 60) -> str:
    """One officer through the checklist to a referral (9 actions); appends each action's
    time to the bot's reply, in ms, and returns the referral code."""

    async def step(action: Awaitable[object], contains: str = "",
                   method: str | None = None) -> str:
        began = time.monotonic()
        await action
        call = await user.reply(contains, method=method, wait_s=wait_s)
        latencies.append((call.at - began) * 1000)
        return str(call.params.get("text", ""))

    def on(question: str, label: str) -> Awaitable[str]:
        return user.press(label, user.keyboard_message_with(question))

    await step(user.send("/checklist"), "Is anyone in danger")
    await step(on("Is anyone in danger", "No"), "Which deflection pathway")
    await step(on("Which deflection pathway", "Active outreach"), "Any violent offence")
    await step(on("Any violent offence", "No"), "agree to be referred")
    await step(on("agree to be referred", "Yes"), "What does the person need?")
    await step(on("What does the person need?", "Detox"), method="editMessageReplyMarkup")
    await step(on("What does the person need?", "Done"), "Where are you?")
    if typed_place:
        await step(user.send("Navy Pier"), "Nearest services")
    else:
        await step(user.share_location(*CHICAGO_LOOP), "Nearest services")
    text = await step(on("Nearest services", "Refer to 1"), "Referral logged")
    return text.split("Code: ")[1].split()[0]
