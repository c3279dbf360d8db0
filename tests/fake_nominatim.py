"""A loopback fake of Nominatim's /search (its JSON format), slow, failing or empty on demand."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from tests.loopback import serve


class FakeNominatim:
    def __init__(self) -> None:
        self.places: dict[str, list[dict[str, Any]]] = {}
        self.requests: list[dict[str, str]] = []
        self.delay_s = 0.0
        self.delays: dict[str, float] = {}  # per query, e.g. one stalled lookup under load
        self.status = 200
        self._runner: web.AppRunner | None = None
        self.url = ""

    def add(self, query: str, *places: tuple[str, float, float]) -> None:
        self.places[query.lower()] = [
            {"place_id": index, "lat": str(lat), "lon": str(lon), "display_name": name,
             "boundingbox": [str(lat), str(lat), str(lon), str(lon)], "type": "street"}
            for index, (name, lat, lon) in enumerate(places)]

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/search", self._search)
        self._runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _search(self, request: web.Request) -> web.Response:
        self.requests.append(dict(request.query))
        delay = self.delays.get(request.query.get("q", "").lower(), self.delay_s)
        if delay:
            await asyncio.sleep(delay)
        if self.status != 200:
            return web.json_response({"error": "unavailable"}, status=self.status)
        return web.json_response(self.places.get(request.query.get("q", "").lower(), []))
