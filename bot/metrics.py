"""What a running bot counts, in Prometheus's format (prometheus-client).

Each application has its own registry (several in one process, as in the tests, never add up
into each other's figures). No metric has a label that could hold a user, a chat, a code, a
service or a place: the only labels are fixed words (a Bot API method's name, where an error
came from), so a scrape tells an operator how the bot is doing and nothing about whom it
helped.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from referrals.model import Referral

# Search latency: the nearest-open search takes about a millisecond (benchmarks/nearest.py);
# the buckets reach far above it so that a slow disk or a cold start shows.
SEARCH_BUCKETS = (0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Updates that wait or run longer than this mean the bot is stuck (GET /healthz says 503).
STALL_S = 60.0


class Metrics:
    """The counters, and the flow of updates; `render()` is what GET /metrics answers."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.flow = Flow(clock)
        self.registry = CollectorRegistry()
        registry = self.registry
        self.updates = Counter(
            "deflect_updates_handled", "Updates from Telegram this process finished handling.",
            registry=registry)
        self.handling_seconds = Histogram(
            "deflect_update_handling_seconds",
            "Time from an update's turn in its chat to the end of its handling.",
            buckets=HANDLING_BUCKETS, registry=registry)
        self.handler_errors = Counter(
            "deflect_handler_errors", "Errors raised by handlers (update) or repeating jobs (job).",
            ["source"], registry=registry)
        self.retries = Counter(
            "deflect_bot_api_retries",
            "Bot API calls tried again after a network failure, by method.",
            ["method"], registry=registry)
        self.rate_limited = Counter(
            "deflect_bot_api_rate_limited",
            "Bot API answers 429 (flood limit; the call waits retry_after and is tried again).",
            ["method"], registry=registry)
        self.referrals = Counter(
            "deflect_referrals_logged",
            "Referrals written to the log by this process. A repeated press that shows the "
            "referral already logged is not counted, except after its first code clashed "
            "with another's; on PostgreSQL an update rolled back (its lease lost) counts "
            "again where it is redone.", registry=registry)
        self.followups = Counter(
            "deflect_followups_sent", "Follow-up reminders delivered to members.",
            registry=registry)
        self.search = Histogram(
            "deflect_search_seconds", "Time of one nearest-open search.",
            buckets=SEARCH_BUCKETS, registry=registry)
        self.received = Counter(
            "deflect_updates_received",
            "Updates the webhook receiver kept in the shared inbox (serve-webhook).",
            registry=registry)
        self.in_flight = Gauge(
            "deflect_updates_in_flight", "Updates being handled now.", registry=registry)
        for source in ("update", "job"):
            self.handler_errors.labels(source)  # both series shown from the start, at 0

    def render(self) -> bytes:
        return generate_latest(self.registry)

    @contextmanager
    def handling(self) -> Iterator[None]:
        """Around the handling of one update: counted, timed, and seen by the flow."""
        ticket = self.flow.started()
        self.in_flight.inc()
        try:
            yield
        finally:
            self.in_flight.dec()
            self.handling_seconds.observe(self.flow.finished(ticket))
            self.updates.inc()

    def referral_logged(self, asked: Referral, logged: Referral) -> None:
        """After `ReferralLog.record(asked)` returned `logged`: counted unless it is the
        referral logged before (a repeat returns the row read back; a new one is `asked`
        itself, or `asked` under a new code if its code was taken)."""
        if logged is asked or logged.code != asked.code:
            self.referrals.inc()


@dataclass
class Flow:
    """Whether updates are flowing: what is being handled, and since when.

    Stalled means an update has been handled for longer than STALL_S, or updates are waiting
    and none has started or finished for that long. A quiet bot with nothing to do is not
    stalled."""

    clock: Callable[[], float] = time.monotonic
    _running: dict[int, float] = field(default_factory=dict)
    _next: int = 0
    _progress: float = field(init=False)

    def __post_init__(self) -> None:
        self._progress = self.clock()

    def started(self) -> int:
        self._next += 1
        self._progress = self._running[self._next] = self.clock()
        return self._next

    def finished(self, ticket: int) -> float:
        """Ends `ticket`; returns how long it ran."""
        self._progress = now = self.clock()
        return now - self._running.pop(ticket, now)

    def stalled(self, waiting: int = 0, stall_s: float = STALL_S) -> str | None:
        """Why updates are not flowing (a short English phrase for the health answer), or
        None if they are. `waiting`: updates received and not yet started."""
        now = self.clock()
        if self._running and now - min(self._running.values()) > stall_s:
            return f"an update has been handled for more than {stall_s:.0f} s"
        if waiting and now - self._progress > stall_s:
            return f"{waiting} updates waiting and none started or finished for {stall_s:.0f} s"
        return None
