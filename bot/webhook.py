"""The webhook Telegram posts updates to, locked so that only Telegram can post to it.

Anyone who learns the public URL could otherwise post forged updates (any `from.id`, any
chat). Two secrets, both derived from the installation's master key, lock it: a path appended
to the public URL, and a token Telegram sends in the X-Telegram-Bot-Api-Secret-Token header.
python-telegram-bot tells Telegram both through setWebhook when it starts; its server then
answers 403 to a post without the header or with another token and 404 to any other path,
and queues neither. Derived rather than drawn at random: every start posts to the same URL,
and there is nothing more to keep.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from telegram import Update
from telegram.ext import Application, Updater

from members.keys import derive

# setWebhook's secret_token: 1-256 characters, A-Z, a-z, 0-9, _ and - (the URL-safe base64
# alphabet, so an encoded key needs no further change, only checking).
SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass(frozen=True)
class WebhookSecrets:
    token: str = field(repr=False)
    path: str = field(repr=False)


@dataclass(frozen=True)
class Webhook:
    """Where the server listens, and what setWebhook tells Telegram."""

    listen: str
    port: int
    url_path: str = field(repr=False)
    webhook_url: str = field(repr=False)
    secret_token: str = field(repr=False)

    def arguments(self) -> dict[str, Any]:
        """The keyword arguments of Application.run_webhook and Updater.start_webhook."""
        return {"listen": self.listen, "port": self.port, "url_path": self.url_path,
                "webhook_url": self.webhook_url, "secret_token": self.secret_token,
                "allowed_updates": Update.ALL_TYPES}


def _encoded(key: bytes) -> str:
    return base64.urlsafe_b64encode(key).rstrip(b"=").decode("ascii")


def webhook_secrets(master: bytes) -> WebhookSecrets:
    """The webhook's secret token and path (43 characters each) for this master key."""
    token = _encoded(derive(master, "webhook token"))
    if not SECRET_TOKEN.fullmatch(token):  # pragma: no cover - the alphabet guarantees it
        raise ValueError("the webhook token is not one Telegram accepts")
    return WebhookSecrets(token=token, path=_encoded(derive(master, "webhook path")))


def locked_webhook(master: bytes, listen: str, public_url: str) -> Webhook:
    """The webhook for `deflect run --webhook-url URL --listen HOST:PORT`.

    The secret path is appended to the public URL's path and is the only path the server
    answers at: a reverse proxy that forwarded the public URL to the server's `/` forwards
    the secret URL to `/<path>`.
    """
    secrets = webhook_secrets(master)
    host, _sep, port = listen.rpartition(":")
    parts = urlsplit(public_url)
    url = urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/" + secrets.path))
    return Webhook(listen=host.strip("[]") or "127.0.0.1", port=int(port),
                   url_path=secrets.path, webhook_url=url, secret_token=secrets.token)


def run_webhook(application: Application[Any, Any, Any, Any, Any, Any], master: bytes,
                listen: str, public_url: str) -> None:
    """Run the application on its locked webhook until stopped (as run_polling does)."""
    application.run_webhook(**locked_webhook(master, listen, public_url).arguments())


async def start_webhook(updater: Updater, master: bytes, listen: str, public_url: str) -> None:
    """Start the locked webhook server in an initialised application (tests, embedding)."""
    await updater.start_webhook(**locked_webhook(master, listen, public_url).arguments())
