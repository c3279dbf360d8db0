"""What a service is: the needs it meets and the facts an officer needs at the door."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Need(StrEnum):
    """The needs a person can have, as the field names them (docs/architecture.md, Privacy)."""

    TREATMENT = "treatment"
    DETOX = "detox"
    MOUD = "moud"
    HARM_REDUCTION = "harm_reduction"
    NALOXONE = "naloxone"
    CRISIS = "crisis"
    SHELTER = "shelter"
    PEER_SUPPORT = "peer_support"

    @property
    def bit(self) -> int:
        return _BITS[self]


NEEDS: tuple[Need, ...] = tuple(Need)
# The stored masks depend on this order: new needs go at the end.
_BITS = {need: 1 << index for index, need in enumerate(NEEDS)}


def needs_mask(needs: frozenset[Need] | set[Need] | tuple[Need, ...]) -> int:
    """The bit mask the spatial index stores for a set of needs."""
    mask = 0
    for need in needs:
        mask |= need.bit
    return mask


def needs_from_mask(mask: int) -> frozenset[Need]:
    return frozenset(need for need, bit in _BITS.items() if mask & bit)


@dataclass(frozen=True)
class Capacity:
    """Beds or slots free, as last reported by the service."""

    available: int
    total: int | None = None
    updated: str | None = None  # ISO 8601, as the source gave it


@dataclass(frozen=True)
class Service:
    """One place a person can be taken to, as an importer read it."""

    id: str
    name: str
    categories: frozenset[Need]
    lat: float
    lon: float
    address: str = ""
    phone: str = ""
    website: str = ""
    description: str = ""
    opening_hours: str = ""  # OpenStreetMap syntax; empty means unknown
    languages: tuple[str, ...] = ()
    walk_in: bool | None = None
    min_age: int | None = None
    max_age: int | None = None
    capacity: Capacity | None = None
    source: str = ""
    timezone: str = ""  # IANA zone derived from the coordinates at import
    region: str = ""  # ISO 3166 country, optionally "-SUBDIVISION", for public holidays
