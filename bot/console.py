"""`deflect console`: the real Application in a terminal, through an in-process Bot API.

`OfflineBotApi` is a `telegram.request.BaseRequest` that answers the Bot API methods the bot
uses as Telegram would (envelope, message objects) and keeps what was sent; the console
prints it, numbers the buttons, and turns each typed line into an Update: a number presses a
button, `lat,lon` shares a location, anything else is a text message. Each line is handled
only after the bot has answered the previous one, so piped input replays a conversation.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sys
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any, TextIO

from telegram import Update
from telegram.request import BaseRequest, RequestData

from bot.app import running
from bot.i18n import parse_locale, translations
from directory.geo import parse_lat_lon

BOT_USER = {"id": 1, "is_bot": True, "first_name": "Deflect", "username": "deflect_bot",
            "can_join_groups": False, "can_read_all_group_messages": False,
            "supports_inline_queries": False}


@dataclass
class Sent:
    """One thing the bot sent: its method and parameters."""

    method: str
    params: dict[str, Any]


@dataclass
class OfflineBotApi(BaseRequest):
    """An in-process Bot API: answers like Telegram, records what the bot sent."""

    on_send: Callable[[Sent], None] | None = None
    sent: list[Sent] = field(default_factory=list)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1000))

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    @property
    def read_timeout(self) -> float | None:
        return 1.0

    async def do_request(self, url: str, method: str, request_data: RequestData | None = None,
                         read_timeout: Any = None, write_timeout: Any = None,
                         connect_timeout: Any = None, pool_timeout: Any = None
                         ) -> tuple[int, bytes]:
        name = url.rsplit("/", 1)[-1]
        params = request_data.parameters if request_data else {}
        result: object = True
        if name == "getMe":
            result = BOT_USER
        elif name == "getUpdates":
            result = []
        elif name in ("sendMessage", "sendVenue", "sendLocation", "editMessageText",
                      "editMessageReplyMarkup"):
            result = self._message(name, params)
        sent = Sent(name, dict(params))
        if name not in ("getMe", "getUpdates", "deleteWebhook", "setMyCommands"):
            self.sent.append(sent)
            if self.on_send:
                self.on_send(sent)
        return 200, json.dumps({"ok": True, "result": result}).encode()

    def _message(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = int(params.get("chat_id", 0) or 0)
        message: dict[str, Any] = {
            "message_id": int(params.get("message_id") or next(self._ids)),
            "date": int(time.time()), "chat": {"id": chat_id, "type": "private"},
            "from": BOT_USER,
        }
        if "text" in params:
            message["text"] = params["text"]
        if method == "sendVenue":
            message["venue"] = {"location": {"latitude": params["latitude"],
                                             "longitude": params["longitude"]},
                                "title": params["title"], "address": params["address"]}
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        return message


@dataclass
class ConsoleUser:
    """The person at the terminal, as Telegram would describe them."""

    id: int = 424242
    first_name: str = "Console"
    language_code: str = "en"
    username: str | None = None

    def as_dict(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name,
                                "language_code": self.language_code}
        if self.username:
            user["username"] = self.username
        return user


class Console:
    """Prints what the bot sends and turns typed lines into updates."""

    def __init__(self, user: ConsoleUser, out: TextIO) -> None:
        self.user = user
        self.out = out
        self.translator = translations(str(parse_locale(user.language_code)))
        self.buttons: list[tuple[str, dict[str, Any]]] = []  # (label, button) by number
        self.button_message: dict[str, Any] | None = None
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)

    def show(self, sent: Sent) -> None:
        params = sent.params
        if sent.method == "answerCallbackQuery":
            if params.get("text"):
                self.out.write(f"  ({params['text']})\n")
            return
        if sent.method == "sendVenue":
            self.out.write(f"📍 {params['title']}, {params['address']} "
                           f"({params['latitude']:.5f},{params['longitude']:.5f})\n")
            return
        if sent.method == "editMessageReplyMarkup" and not params.get("reply_markup"):
            return
        if "text" in params:
            self.out.write(f"{params['text']}\n")
        if sent.method == "editMessageText" and not params.get("reply_markup"):
            self.buttons = []  # the question was answered in place; its buttons are gone
        markup = params.get("reply_markup")
        if isinstance(markup, str):
            markup = json.loads(markup)
        if isinstance(markup, dict):
            rows = markup.get("inline_keyboard") or markup.get("keyboard")
            if rows:
                self.buttons = [(b["text"] if isinstance(b, dict) else str(b),
                                 b if isinstance(b, dict) else {"text": b})
                                for row in rows for b in row]
                self.button_message = {"message_id": int(params.get("message_id") or 0) or
                                       next(self._message_ids) + 10_000,
                                       "chat": {"id": self.user.id, "type": "private"},
                                       "date": int(time.time()), "text": params.get("text", "")}
                for number, (label, _button) in enumerate(self.buttons, start=1):
                    self.out.write(f"  [{number}] {label}\n")
            elif markup.get("remove_keyboard"):
                self.buttons = []
        self.out.flush()

    def number_of(self, label: str) -> str:
        """The number to type for the button with this label."""
        for number, (text, _button) in enumerate(self.buttons, start=1):
            if text == label:
                return str(number)
        raise KeyError(f"no button {label!r} among {[text for text, _ in self.buttons]}")

    def press(self, label: str) -> dict[str, Any]:
        """The update for pressing the button with this label (for scripts and tests)."""
        data = self.update_for(self.number_of(label))
        if data is None:
            raise KeyError(label)
        return data

    def update_for(self, line: str) -> dict[str, Any] | None:
        text = line.strip()
        if not text:
            return None
        base: dict[str, Any] = {"update_id": next(self._update_ids)}
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "chat": {"id": self.user.id, "type": "private",
                                            "first_name": self.user.first_name},
                                   "from": self.user.as_dict()}
        if text.isdigit() and 1 <= int(text) <= len(self.buttons):
            _label, pressed = self.buttons[int(text) - 1]
            if "callback_data" in pressed:
                base["callback_query"] = {
                    "id": str(base["update_id"]), "from": self.user.as_dict(),
                    "chat_instance": "console", "data": pressed["callback_data"],
                    "message": self.button_message or message,
                }
                return base
            if pressed.get("request_location"):
                self.out.write(self.translator.gettext(
                    "  (type your location as lat,lon, e.g. 41.8781,-87.6298)") + "\n")
                return None
            text = pressed["text"]
        point = parse_lat_lon(text)
        if point is not None:
            message["location"] = {"latitude": point[0], "longitude": point[1]}
        else:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(text.split()[0])}]
        base["message"] = message
        return base


async def run_console(application: Any, console: Console, api: OfflineBotApi,
                      lines: TextIO,
                      prepare: Callable[[Any], Coroutine[Any, Any, None]] | None = None) -> int:
    """Feed lines to the application until end of input; 0 at Ctrl-D."""
    api.on_send = console.show
    async with running(application):
        if prepare is not None:
            await prepare(application)
        first = console.update_for("/start")
        assert first is not None
        await application.process_update(Update.de_json(first, application.bot))
        while True:
            line = await asyncio.to_thread(lines.readline)
            if not line:
                break
            data = console.update_for(line)
            if data is not None:
                await application.process_update(Update.de_json(data, application.bot))
    return 0


def main_console(application_factory: Callable[[OfflineBotApi], Any], user: ConsoleUser,
                 prepare: Callable[[Any], Coroutine[Any, Any, None]] | None = None,
                 out: TextIO | None = None, lines: TextIO | None = None) -> int:
    api = OfflineBotApi()
    console = Console(user, out or sys.stdout)
    return asyncio.run(run_console(application_factory(api), console, api, lines or sys.stdin,
                                   prepare))
