"""Keyed hashes and random codes.

A Telegram user id is never stored: it is kept as HMAC-SHA256(installation secret, id), and an
invite code as the HMAC of its normal form. Codes (invites, referral codes) are drawn from one
alphabet that is unambiguous on a phone keyboard and when read aloud: no 0/O, 1/I/L.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def new_code(length: int) -> str:
    """A random code of `length` characters of CODE_ALPHABET."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(length))


def normal_code(code: str) -> str:
    """A code as typed ("abcde-23456 ", "7h5 s3v") in the form it was made in."""
    return "".join(code.split()).upper().replace("-", "")


class Keys:
    """The installation's keyed hashes."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def user(self, telegram_user_id: int) -> bytes:
        return self._hash(f"user:{telegram_user_id}")

    def invite(self, code: str) -> bytes:
        return self._hash(f"invite:{normal_code(code)}")

    def _hash(self, text: str) -> bytes:
        return hmac.new(self._secret, text.encode(), hashlib.sha256).digest()
