"""Typed places: an address, intersection, landmark or postcode, turned into coordinates.

geopy's Nominatim client (async, aiohttp) behind geopy's AsyncRateLimiter, one request a
second for all chats together as Nominatim's usage policy asks, biased to the directory's
area. Answers are cached by the storage (`GeocodeCache`: the normalised query and the places,
never who asked). When the geocoder is off, down or finds nothing, the caller searches the
directory's own names and addresses instead (directory/gazetteer.py).
"""

from __future__ import annotations

import logging
from typing import Any, Protocol

from geopy.adapters import AioHTTPAdapter
from geopy.exc import GeopyError
from geopy.extra.rate_limiter import AsyncRateLimiter
from geopy.geocoders import Nominatim

from directory.gazetteer import MAX_PLACES, Place, normalise

_LOGGER = logging.getLogger(__name__)

CACHE_MAX_AGE_S = 30 * 24 * 3600


class GeocodeCache(Protocol):
    async def get(self, query: str, max_age_s: float) -> list[Place] | None:
        """The places kept for this normalised query, if younger than `max_age_s`."""

    async def put(self, query: str, places: list[Place]) -> None: ...


class Geocoder:
    """Places for a typed text: the cache, then Nominatim."""

    def __init__(self, cache: GeocodeCache, *, url: str | None, user_agent: str,
                 timeout_s: float = 10.0) -> None:
        self.cache = cache
        self.url = url
        self.user_agent = user_agent
        self.timeout_s = timeout_s
        self._nominatim: Nominatim | None = None
        self._geocode: Any = None

    async def open(self) -> None:
        if self.url is None:
            return
        scheme, _sep, domain = self.url.partition("://")
        self._nominatim = Nominatim(domain=domain.rstrip("/"), scheme=scheme,
                                    user_agent=self.user_agent, timeout=self.timeout_s,
                                    adapter_factory=AioHTTPAdapter)
        await self._nominatim.__aenter__()
        self._geocode = AsyncRateLimiter(self._nominatim.geocode, min_delay_seconds=1.0,
                                         max_retries=0, swallow_exceptions=False)

    async def close(self) -> None:
        if self._nominatim is not None:
            await self._nominatim.__aexit__(None, None, None)
            self._nominatim = None

    async def cached(self, query: str) -> list[Place] | None:
        return await self.cache.get(normalise(query), CACHE_MAX_AGE_S)

    async def geocode(self, query: str, viewbox: tuple[tuple[float, float],
                                                       tuple[float, float]] | None
                      ) -> list[Place] | None:
        """Nominatim's places for the query (None: geocoder off or unreachable)."""
        found = await self.cached(query)
        if found is not None:
            return found
        if self._geocode is None:
            return None
        try:
            answers = await self._geocode(query, exactly_one=False, limit=MAX_PLACES,
                                          viewbox=viewbox, bounded=False)
        except GeopyError as error:
            _LOGGER.warning("geocoder unavailable: %s", type(error).__name__)
            return None
        places = [Place(a.address, a.latitude, a.longitude) for a in answers or []]
        await self.cache.put(normalise(query), places)
        return places
