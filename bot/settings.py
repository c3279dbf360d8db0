"""Settings from the environment: what an operator sets, read once at start."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from referrals.followups import DEFAULT_FOLLOWUP_HOURS
from referrals.handoff_model import DEFAULT_HANDOFF_MINUTES
from referrals.retention import DEFAULT_RETENTION_DAYS
from referrals.suppression import DEFAULT_MIN_CELL

DEFAULT_PATH = "deflect.sqlite3"
PUBLIC_NOMINATIM = "https://nominatim.openstreetmap.org"


@dataclass(frozen=True)
class Settings:
    """Everything `build_application` needs; the token never appears in its repr."""

    token: str | None = field(default=None, repr=False)
    db_path: Path = Path(DEFAULT_PATH)
    # DEFLECT_DATABASE_URL: the shared state on PostgreSQL (several workers); db_path then
    # holds only this worker's copy of the directory.
    database_url: str | None = field(default=None, repr=False)
    key_file: Path | None = None  # the master key's file; None: the database's path + ".key"
    key: str | None = field(default=None, repr=False)  # DEFLECT_KEY: the key itself, instead
    directory_path: Path | None = None  # imported at start if the database has no directory
    base_url: str | None = None  # Bot API base URL, e.g. a local Bot API server or a fake
    default_locale: str = "en"
    country: str = "US"  # for agencies created without one
    conversation_minutes: int = 30
    eligibility_path: Path | None = None
    geocoder_url: str | None = None  # None: typed places use the directory's own entries
    geocoder_contact: str = ""  # who to call about this installation's traffic (Nominatim policy)
    followup_hours: tuple[float, ...] = DEFAULT_FOLLOWUP_HOURS  # reminders after a referral
    handoff_minutes: float = DEFAULT_HANDOFF_MINUTES  # staff's time to answer a notice
    # Telegram's flood limits kept by the bot (30 messages a second): off only to measure the
    # bot itself (DEFLECT_TELEGRAM_FLOOD_LIMITS=off), as benchmarks/load.py does.
    flood_limits: bool = True
    telegram_timeout_s: float = 10.0  # reading one Bot API answer; then it counts as failed
    telegram_retry_pause_s: float = 0.5  # the first pause before a failed call is retried
    min_cell: int = DEFAULT_MIN_CELL  # published counts from 1 to min_cell - 1 are withheld
    retention_days: int = DEFAULT_RETENTION_DAYS  # older referral rows: folded, deleted
    miles: bool = False  # distances in miles and feet for readers in English (US agencies)
    debug_unsafe: bool = False  # DEFLECT_DEBUG_UNSAFE=1: library DEBUG logs (ids, texts) kept
    # DEFLECT_OPS_LISTEN / --ops-listen: GET /healthz and /metrics at HOST:PORT (bot/ops.py).
    ops_listen: str | None = None

    @property
    def storage_location(self) -> str | Path:
        """Where the shared state is: the PostgreSQL URL if given, else the SQLite file."""
        return self.database_url or self.db_path

    @property
    def key_path(self) -> Path:
        """Where the master key is kept: DEFLECT_KEY_FILE, else beside the database."""
        return self.key_file or self.db_path.with_name(self.db_path.name + ".key")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "token": env.get("DEFLECT_TOKEN") or env.get("TELEGRAM_BOT_TOKEN") or None,
            "db_path": database_path(None, env),
            "database_url": env.get("DEFLECT_DATABASE_URL") or None,
            "key_file": Path(env["DEFLECT_KEY_FILE"]) if env.get("DEFLECT_KEY_FILE") else None,
            "key": env.get("DEFLECT_KEY") or None,
            "directory_path": Path(env["DEFLECT_DIRECTORY"]) if env.get("DEFLECT_DIRECTORY")
            else None,
            "base_url": env.get("DEFLECT_BASE_URL") or None,
            "default_locale": env.get("DEFLECT_DEFAULT_LOCALE") or "en",
            "country": (env.get("DEFLECT_COUNTRY") or "US").upper(),
            "conversation_minutes": int(env.get("DEFLECT_CONVERSATION_MINUTES") or 30),
            "eligibility_path": Path(env["DEFLECT_ELIGIBILITY"])
            if env.get("DEFLECT_ELIGIBILITY") else None,
            "geocoder_url": None if (env.get("DEFLECT_GEOCODER") or "").lower() == "off"
            else env.get("DEFLECT_GEOCODER_URL") or PUBLIC_NOMINATIM,
            "geocoder_contact": env.get("DEFLECT_GEOCODER_CONTACT") or "",
            "followup_hours": _hours(env.get("DEFLECT_FOLLOWUP_HOURS")) or DEFAULT_FOLLOWUP_HOURS,
            "handoff_minutes": float(env.get("DEFLECT_HANDOFF_MINUTES")
                                     or DEFAULT_HANDOFF_MINUTES),
            "flood_limits": (env.get("DEFLECT_TELEGRAM_FLOOD_LIMITS") or "on").lower() != "off",
            "telegram_timeout_s": float(env.get("DEFLECT_TELEGRAM_TIMEOUT") or 10.0),
            "telegram_retry_pause_s": float(env.get("DEFLECT_TELEGRAM_RETRY_PAUSE") or 0.5),
            "min_cell": int(env.get("DEFLECT_MIN_CELL") or DEFAULT_MIN_CELL),
            "retention_days": int(env.get("DEFLECT_RETENTION_DAYS") or DEFAULT_RETENTION_DAYS),
            "miles": (env.get("DEFLECT_DISTANCE_UNIT") or "km").lower() in ("mi", "mile", "miles"),
            "debug_unsafe": env.get("DEFLECT_DEBUG_UNSAFE") == "1",
            "ops_listen": env.get("DEFLECT_OPS_LISTEN") or None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]


def _hours(text: str | None) -> tuple[float, ...] | None:
    """DEFLECT_FOLLOWUP_HOURS: "24,72" (the default) or any increasing list of hours."""
    if not text:
        return None
    try:
        hours = tuple(float(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise SystemExit(f"DEFLECT_FOLLOWUP_HOURS must be hours separated by commas, "
                         f"e.g. 24,72; got {text!r}") from None
    if not hours or any(h <= 0 for h in hours) or list(hours) != sorted(set(hours)):
        raise SystemExit(f"DEFLECT_FOLLOWUP_HOURS must be positive and increasing, e.g. "
                         f"24,72; got {text!r}")
    return hours


def database_path(explicit: str | os.PathLike[str] | None = None,
                  env: Mapping[str, str] | None = None) -> Path:
    """`--db` if given, else DEFLECT_DB, else ./deflect.sqlite3."""
    env = os.environ if env is None else env
    return Path(explicit or env.get("DEFLECT_DB") or DEFAULT_PATH)


def parse_listen(listen: str) -> tuple[str, int]:
    """HOST:PORT (an IPv6 host in brackets) -> (host, port); ValueError if malformed."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ValueError(listen)
    return host.strip("[]") or "127.0.0.1", int(port)
