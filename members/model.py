"""What a member is: a role at an agency. Nobody's name or Telegram id is part of it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OFFICER = "officer"
    PEER = "peer"
    COORDINATOR = "coordinator"
    COMMUNITY = "community"  # a member of the public: never stored as a member
    SERVICE = "service"  # staff of one or more directory services: no checklist, no figures


@dataclass(frozen=True)
class Agency:
    id: int
    name: str
    country: str


@dataclass(frozen=True)
class Membership:
    agency: Agency
    role: Role
    services: tuple[str, ...] = ()  # the directory services a SERVICE member works at


class JoinResult(StrEnum):
    JOINED = "joined"
    WRONG_CODE = "wrong_code"
    TOO_MANY_TRIES = "too_many_tries"  # this user's wrong codes this hour
    CEILING = "ceiling"  # everyone's wrong codes this hour, together
