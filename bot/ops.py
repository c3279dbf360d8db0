"""GET /healthz and GET /metrics for operators, on a port of their own.

`--ops-listen HOST:PORT` (or DEFLECT_OPS_LISTEN; off when neither is given) starts a small
HTTP server beside the bot, in webhook, polling and worker mode alike. It is apart from the
webhook on purpose: the public reverse proxy forwards only the webhook's path, and this port
stays on loopback or a private network for the container's HEALTHCHECK and for Prometheus.

- `/healthz`: 200 `{"status": "ok"}` when the database answers and updates are flowing; 503
  with the problem in a short phrase otherwise (a health answer never holds an id or a text).
- `/metrics`: bot/metrics.py in Prometheus's text format.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot.metrics import Metrics
from bot.settings import parse_listen

_LOGGER = logging.getLogger(__name__)
HEALTH_TIMEOUT_S = 5.0

# What is wrong, in a short phrase, or None when all is well.
HealthCheck = Callable[[], Awaitable[str | None]]


def ops_app(metrics: Metrics, health: HealthCheck) -> web.Application:
    async def healthz(_request: web.Request) -> web.Response:
        try:
            problem = await asyncio.wait_for(health(), HEALTH_TIMEOUT_S)
        except TimeoutError:
            problem = f"the health check took more than {HEALTH_TIMEOUT_S:.0f} s"
        except Exception as error:  # noqa: BLE001 - the answer is the point
            problem = f"the database did not answer ({type(error).__name__})"
        if problem is not None:
            return web.json_response({"status": "unhealthy", "problem": problem}, status=503)
        return web.json_response({"status": "ok"})

    async def scrape(_request: web.Request) -> web.Response:
        response = web.Response(body=metrics.render())
        response.headers["Content-Type"] = CONTENT_TYPE_LATEST
        return response

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", scrape)
    return app


@asynccontextmanager
async def ops_server(listen: str | None, metrics: Metrics, health: HealthCheck
                     ) -> AsyncIterator[tuple[str, int] | None]:
    """The server at `listen` for the block's duration (nothing if `listen` is None); yields
    the address it is bound to (port 0 picks a free one)."""
    if not listen:
        yield None
        return
    host, port = parse_listen(listen)
    runner = web.AppRunner(ops_app(metrics, health), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
        address = runner.addresses[0]
        _LOGGER.info("health and metrics at http://%s:%d/", address[0], address[1])
        yield address[0], address[1]
    finally:
        await runner.cleanup()
