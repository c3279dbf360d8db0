"""The master key, kept apart from the data: a key file (DEFLECT_KEY_FILE, else the database's
path + ".key", made readable by its owner only) or DEFLECT_KEY from the environment or a
secrets manager.

On the first start of a new installation the key is made and written to the file. An
installation made before keys lived apart had its secret in the database: it is moved to the
key file and deleted from the database (members keep their membership). Without its key the
bot refuses to start, and it never silently makes a new key for data that has one: the
database keeps a check value (members/keys.py, Keys.check_value) that tells the right key
from a wrong one.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import os
import stat
from pathlib import Path

from bot.settings import Settings
from directory.i18n import N_
from members.keys import KEY_BYTES, Keys, new_master_key
from members.ports import MemberStore
from storage import member_session

# "v2": a key made apart from the data (every hash from HKDF-derived keys); "v1": the secret
# an older installation kept in its database, moved out (its member hashes keep their form).
_CURRENT, _LEGACY = "deflect-key-v2", "deflect-key-v1"


class KeyRefused(Exception):
    """The bot cannot start with the key it has: a message for the operator (a msgid and
    the path it names, translated where it is shown)."""

    def __init__(self, msgid: str, path: str) -> None:
        super().__init__(msgid % {"path": path})
        self.msgid = msgid
        self.path = path


def key_text(keys: Keys) -> str:
    """The key as the key file and DEFLECT_KEY hold it."""
    label = _LEGACY if keys.legacy_hashes else _CURRENT
    return f"{label}:{base64.b64encode(keys.master).decode()}\n"


def parse_key(text: str, where: str) -> Keys:
    label, _sep, encoded = text.strip().partition(":")
    try:
        master = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        master = b""
    if label not in (_CURRENT, _LEGACY) or len(master) != KEY_BYTES:
        raise KeyRefused(N_("%(path)s does not hold a Deflect key"), where)
    return Keys(master, legacy_hashes=label == _LEGACY)


def _read_file(path: Path) -> Keys | None:
    try:
        status = path.stat()
    except FileNotFoundError:
        return None
    if status.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise KeyRefused(N_("%(path)s can be read by others: make it readable by its owner "
                            "only (chmod 600) and start again"), str(path))
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError):
        raise KeyRefused(N_("%(path)s does not hold a Deflect key"), str(path)) from None
    return parse_key(text, str(path))


def _write_file(path: Path, keys: Keys) -> None:
    """Create the key file, owner-only from its first byte; never overwrite one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as handle:
        handle.write(key_text(keys))
        handle.flush()
        os.fsync(handle.fileno())
    # The file's name is durable too before anything relies on it (an old installation's
    # secret is deleted from the database right after).
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


async def open_keys(settings: Settings, store: MemberStore) -> Keys:
    """This installation's keys, made or moved out of the data on first use (see above)."""
    legacy = await store.legacy_secret()
    stored = await store.key_check()
    path = settings.key_path
    if settings.key:
        keys = parse_key(settings.key, "DEFLECT_KEY")
    else:
        found = await asyncio.to_thread(_read_file, path)
        if found is not None:
            keys = found
        elif legacy is not None:
            keys = Keys(legacy, legacy_hashes=True)
            await asyncio.to_thread(_write_file, path, keys)
        elif stored is not None or await store.holds_data():
            raise KeyRefused(N_("%(path)s is missing: this database's key is needed to start "
                                "(restore the key file, or set DEFLECT_KEY)"), str(path))
        else:
            keys = Keys(new_master_key())
            await asyncio.to_thread(_write_file, path, keys)
    if stored is not None and not hmac.compare_digest(stored, keys.check_value()):
        raise KeyRefused(N_("%(path)s is not the key of this database"),
                         "DEFLECT_KEY" if settings.key else str(path))
    if legacy is not None and not hmac.compare_digest(legacy, keys.master):
        raise KeyRefused(N_("%(path)s is not the key of this database"),
                         "DEFLECT_KEY" if settings.key else str(path))
    if stored is None:
        await store.set_key_check(keys.check_value())
    if legacy is not None:
        await store.forget_legacy_secret()
    return keys


class KeyRing:
    """The keys opened once per process: python-telegram-bot opens its persistence (which
    needs them) before the rest of the storage, so whichever asks first opens them."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._keys: Keys | None = None
        self._lock = asyncio.Lock()

    async def keys(self) -> Keys:
        async with self._lock:
            if self._keys is None:
                async with member_session(self.settings.storage_location) as members:
                    self._keys = await open_keys(self.settings, members)
            return self._keys
