"""How the bot talks to Telegram over a bad network: flood limits, then our retries.

python-telegram-bot's AIORateLimiter keeps to Telegram's flood limits and waits out a 429's
`retry_after`. It does not retry anything else, and on a street-corner network the usual
failures are 5xx answers, timeouts and dropped connections. `RetryingRateLimiter` adds that:
every call except getUpdates (the Updater retries its own polling) is tried again, up to
five times with pauses of 0.5, 1, 2, 4 and 4 s, when it fails with a network error: at a 10%
failure rate a call then fails for good about once in a million. What Telegram refused on its
merits (BadRequest, Forbidden) is not retried.

A retry can repeat a call whose first attempt arrived but whose answer was lost, and a
worker that died before committing an update leaves it to be handled again. A repeated
edit is refused by Telegram as "message is not modified", which here means it worked; a
repeated message is a duplicate, which for a referral confirmation is better than nothing
(the referral itself is logged once, before anything is sent). A repeated answer to a
button press is refused too, and likewise means the first one arrived.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import Any

from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter

from bot.metrics import Metrics

_LOGGER = logging.getLogger(__name__)

_NOT_MODIFIED = "message is not modified"
_TOO_OLD = "query is too old"
MAX_PAUSE_S = 4.0
NETWORK_RETRIES = 5

JSON = bool | dict[str, Any] | list[dict[str, Any]]


class RetryingRateLimiter(AIORateLimiter):
    """AIORateLimiter (flood limits, 429) plus retries of network failures."""

    def __init__(self, *, network_retries: int = NETWORK_RETRIES, first_pause_s: float = 0.5,
                 flood_limits: bool = True, max_retries: int = 3,
                 metrics: Metrics | None = None) -> None:
        if flood_limits:
            super().__init__(max_retries=max_retries)
        else:  # measuring the bot itself: 429s are still waited out, nothing is throttled
            super().__init__(overall_max_rate=0, group_max_rate=0, max_retries=max_retries)
        self.network_retries = network_retries
        self.first_pause_s = first_pause_s
        self.flood_limits = flood_limits
        self.max_retries = max_retries
        self.metrics = metrics or Metrics()
        self._no_pause = asyncio.Event()  # cleared while a 429's retry_after is waited out
        self._no_pause.set()

    async def _limited(self, callback: Callable[..., Coroutine[Any, Any, JSON]], args: Any,
                       kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                       rate_limit_args: int | None) -> JSON:
        """One call, within the flood limits; or, with the limits off, the call straight
        away (AIORateLimiter's limiters cost time even at rate 0), a 429 still waited out
        as AIORateLimiter does: every call pauses until retry_after has passed."""
        callback = self._counting_429(callback, endpoint)
        if self.flood_limits:
            return await super().process_request(callback, args, kwargs, endpoint, data,
                                                 rate_limit_args)
        retries = rate_limit_args or self.max_retries
        for attempt in range(retries + 1):
            await self._no_pause.wait()
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as error:
                if attempt == retries:
                    raise
                wait = error.retry_after
                pause = (wait.total_seconds() if isinstance(wait, timedelta) else wait) + 0.1
                _LOGGER.info("Rate limit hit. Retrying after %f seconds", pause)
                self._no_pause.clear()
                try:
                    await asyncio.sleep(pause)
                finally:
                    self._no_pause.set()
        raise AssertionError("unreachable")  # pragma: no cover

    def _counting_429(self, callback: Callable[..., Coroutine[Any, Any, JSON]], endpoint: str
                      ) -> Callable[..., Coroutine[Any, Any, JSON]]:
        """The call, each 429 it meets counted (AIORateLimiter waits them out inside)."""
        async def counted(*args: Any, **kwargs: Any) -> JSON:
            try:
                return await callback(*args, **kwargs)
            except RetryAfter:
                self.metrics.rate_limited.labels(endpoint).inc()
                raise
        return counted

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, JSON]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> JSON:
        pause = self.first_pause_s
        for attempt in range(self.network_retries + 1):
            try:
                return await self._limited(callback, args, kwargs, endpoint, data,
                                           rate_limit_args)
            except BadRequest as error:
                if _NOT_MODIFIED in error.message.lower():
                    # The message shows what was asked already: a retried edit whose first
                    # attempt arrived, or an update handled again after its worker died
                    # before committing (bot/workers.py). Either way the edit is done.
                    return True
                if attempt > 0 and endpoint == "answerCallbackQuery":
                    # What we retried had arrived; only its answer was lost (Telegram refuses
                    # a second answer to a button press).
                    return True
                if endpoint == "answerCallbackQuery" and _TOO_OLD in error.message.lower():
                    # A button press answered already (an update handled again after its
                    # worker died) or too late: the little notice is a courtesy, the step
                    # itself goes on.
                    _LOGGER.info("answerCallbackQuery refused as too old; carrying on")
                    return True
                raise
            except NetworkError as error:
                if attempt == self.network_retries:
                    raise
                # The method and the error class only: never the text being sent, or the URL
                # (which holds the token).
                _LOGGER.info("%s failed (%s); retry %d of %d in %.1f s", endpoint,
                             type(error).__name__, attempt + 1, self.network_retries, pause)
                self.metrics.retries.labels(endpoint).inc()
                await asyncio.sleep(pause)
                pause = min(pause * 2, MAX_PAUSE_S)
        raise AssertionError("unreachable")  # pragma: no cover
