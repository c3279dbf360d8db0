"""Keys, keyed hashes and random codes.

Everything secret derives from one master key that lives apart from the data (a key file or
the environment; bot/keys.py): HKDF-SHA256 gives each purpose its own key, so a hash of one
kind can never be confused with another, and the database never holds a key.

A Telegram user id is never stored: it is kept as a keyed hash (HMAC-SHA256), and an invite
code as the keyed hash of its normal form. Ids the bot must send to again are sealed (AEAD,
bound to their row) with a key of their own. Codes (invites, referral codes) are drawn from
one alphabet that is unambiguous on a phone keyboard and when read aloud: no 0/O, 1/I/L.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
KEY_BYTES = 32
_NONCE_BYTES = 12


def new_code(length: int) -> str:
    """A random code of `length` characters of CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normal_code(code: str) -> str:
    """A code as typed ("abcde-23456 ", "7h5 s3v") in the form it was made in."""
    return "".join(code.split()).upper().replace("-", "")


def new_master_key() -> bytes:
    return secrets.token_bytes(KEY_BYTES)


def derive(master: bytes, purpose: str) -> bytes:
    """The key for one purpose ("member hash", "webhook token", ...), from the master key."""
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None,
                info=f"deflect {purpose} v1".encode()).derive(master)


class SealError(Exception):
    """A sealed value that does not open: another key, another row, or tampered with."""


class Sealer:
    """AES-256-GCM with a random nonce; each value is bound to its row (associated data), so
    a sealed id copied into another row does not open there. `tag` is the keyed hash used to
    find a sealed row without opening every one."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._tag_key = derive(key, "lookup tag")

    def seal(self, plain: bytes, bound_to: bytes) -> bytes:
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, plain, bound_to)

    def open(self, sealed: bytes, bound_to: bytes) -> bytes:
        try:
            return self._aead.decrypt(sealed[:_NONCE_BYTES], sealed[_NONCE_BYTES:], bound_to)
        except (InvalidTag, ValueError) as error:
            raise SealError("a sealed value does not open with this key") from error

    def tag(self, value: bytes) -> bytes:
        return hmac.new(self._tag_key, value, hashlib.sha256).digest()


class Keys:
    """The installation's keyed hashes, from its master key.

    `legacy_hashes`: an installation made before keys lived apart from the data hashed ids
    as HMAC(secret, "user:<id>") with the secret that is now its master key; it keeps that
    construction for member and invite hashes (else every member would have to join again),
    and uses derived keys for everything new.
    """

    def __init__(self, master: bytes, *, legacy_hashes: bool = False) -> None:
        self.master = master
        self.legacy_hashes = legacy_hashes
        self._member = master if legacy_hashes else derive(master, "member hash")
        self._invite = master if legacy_hashes else derive(master, "invite hash")

    def user(self, telegram_user_id: int) -> bytes:
        return _hmac(self._member, f"user:{telegram_user_id}")

    def invite(self, code: str) -> bytes:
        return _hmac(self._invite, f"invite:{normal_code(code)}")

    def check_value(self) -> bytes:
        """Kept in the database to tell a wrong key from the right one; reveals nothing of
        the key (a keyed hash of a constant under a key of its own)."""
        return _hmac(derive(self.master, "key check"), "deflect")

    def sealer(self, purpose: str) -> Sealer:
        return Sealer(derive(self.master, f"seal {purpose}"))


def _hmac(key: bytes, text: str) -> bytes:
    return hmac.new(key, text.encode(), hashlib.sha256).digest()
