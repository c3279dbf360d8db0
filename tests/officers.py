"""Simulated officers, as the load benchmark and the bad-network test drive them."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from tests.fake_telegram import FakeUser

CHICAGO_LOOP = (41.8781, -87.6298)
STALLED_PLACE = "navy pier"


async def complete_checklist(user: FakeUser, latencies: list[float], *, typed_place: bool = False,
                             wait_s: float = 60,
                             think: Callable[[], Awaitable[None]] | None = None,
                             tapped: list[float] | None = None) -> str:
    """One officer through the checklist to a referral (9 actions); appends each action's
    time to the bot's reply, in ms, and returns the referral code. `think`: awaited before
    each action (a person reading and deciding); `tapped`: each action's monotonic time."""

    async def step(action: Awaitable[object], contains: str = "",
                   method: str | None = None) -> str:
        began = time.monotonic()
        await action
        call = await user.reply(contains, method=method, wait_s=wait_s)
        latencies.append((call.at - began) * 1000)
        if tapped is not None:
            tapped.append(began)
        return str(call.params.get("text", ""))

    async def after_thinking(action: Callable[[], Awaitable[object]]) -> Awaitable[object]:
        if think is not None:
            await think()
        return action()

    def on(question: str, label: str) -> Callable[[], Awaitable[str]]:
        return lambda: user.press(label, user.keyboard_message_with(question))

    await step(await after_thinking(lambda: user.send("/checklist")), "Is anyone in danger")
    for question, label, expect in (
            ("Is anyone in danger", "No", "Which deflection pathway"),
            ("Which deflection pathway", "Active outreach", "Any violent offence"),
            ("Any violent offence", "No", "agree to be referred"),
            ("agree to be referred", "Yes", "What does the person need?")):
        await step(await after_thinking(on(question, label)), expect)
    await step(await after_thinking(on("What does the person need?", "Detox")),
               method="editMessageReplyMarkup")
    await step(await after_thinking(on("What does the person need?", "Done")), "Where are you?")
    if typed_place:
        await step(await after_thinking(lambda: user.send("Navy Pier")), "Nearest services")
    else:
        await step(await after_thinking(lambda: user.share_location(*CHICAGO_LOOP)),
                   "Nearest services")
    text = await step(await after_thinking(on("Nearest services", "Refer to 1")),
                      "Referral logged")
    return text.split("Code: ")[1].split()[0]
