"""A loopback fake of the Telegram Bot API, and users who talk to the bot through it.

It speaks the real protocol over HTTP (aiohttp): `/bot<token>/<method>`, form or JSON
parameters, Telegram's `{"ok": ..., "result": ...}` envelope and its error format, including
429 with `parameters.retry_after`. getUpdates long-polls with offset, timeout and
allowed_updates. The real python-telegram-bot Application polls it through its own HTTP stack.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.loopback import serve

TOKEN = "123456:TEST-token-that-must-never-be-logged"
BOT = {"id": 777, "is_bot": True, "first_name": "Deflect", "username": "deflect_test_bot",
       "can_join_groups": True, "can_read_all_group_messages": False,
       "supports_inline_queries": False}
_JSON_FIELDS = {"reply_markup", "allowed_updates", "commands", "entities"}
_NUMBER_FIELDS = {"chat_id", "message_id", "offset", "timeout", "limit", "latitude",
                  "longitude", "retry_after", "max_connections"}
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float = field(default_factory=time.monotonic)


@dataclass
class Fault:
    """Fail the next call of `method` (any method if None) with this status, to any chat or
    to `chat_id`; or, with `hang`, never answer it (kept in FakeTelegram.hung instead of
    done: the bot is caught in the middle of that call, to be killed there)."""

    method: str | None
    status: int = 500
    retry_after: int | None = None
    chat_id: int | None = None
    hang: bool = False


FAULT_KINDS = ("429", "500", "timeout", "drop")


@dataclass
class RandomFaults:
    """Fail this share of calls (getUpdates excepted), each time one of `kinds` at random:
    429 with retry_after 1, 500, an answer held back past the client's timeout (the call
    itself done, as when a reply is lost on the way back), or the connection dropped before
    the call is done."""

    rate: float
    seed: int = 1
    hold_s: float = 2.0
    kinds: tuple[str, ...] = FAULT_KINDS
    injected: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        import random

        self._random = random.Random(self.seed)

    def draw(self) -> str | None:
        if self._random.random() >= self.rate:
            return None
        kind = self._random.choice(self.kinds)
        self.injected[kind] = self.injected.get(kind, 0) + 1
        return kind


class FakeTelegram:
    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        # The same calls by chat (answers to button presses under their query id), so that
        # many users waiting at once each look only at their own.
        self.chat_calls: dict[object, list[Call]] = {}
        self.pending: list[dict[str, Any]] = []
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self.faults: list[Fault] = []
        self.random_faults: RandomFaults | None = None
        self._answered: set[str] = set()
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(5000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.webhook: dict[str, Any] | None = None  # setWebhook's parameters while one is set
        self.webhook_errors: dict[str, Any] = {}  # getWebhookInfo's last_error_date/_message
        self.hung: list[Call] = []  # calls a hanging fault holds, never done
        self._stopping = asyncio.Event()
        self.webhook_set = asyncio.Event()
        self.delivered = 0  # webhook posts answered 200 (deliver)
        self.redelivered = 0  # webhook posts made again after no 200

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner, self.url = await serve(app)
        return self.url

    async def stop(self) -> None:
        self._stopping.set()
        if self._runner:
            await self._runner.cleanup()

    # --- the protocol ---------------------------------------------------------------------

    async def _params(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            body = await request.json()
            return dict(body) if isinstance(body, dict) else {}
        form = await request.post()
        params: dict[str, Any] = {}
        for key, value in form.items():
            if isinstance(value, web.FileField):  # multipart upload (sendPhoto)
                params[key] = value.file.read()
                continue
            text = str(value)
            if key in _JSON_FIELDS:
                params[key] = json.loads(text)
            elif key in _NUMBER_FIELDS:
                params[key] = json.loads(text)
            else:
                params[key] = text
        return params

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params = await self._params(request)
        for fault in list(self.faults):
            if fault.method in (None, method) and fault.chat_id in (
                    None, _int_or_none(params.get("chat_id"))):
                self.faults.remove(fault)
                if fault.hang:
                    self.hung.append(Call(method, params))
                    async with self._changed:
                        self._changed.notify_all()
                    await self._stopping.wait()  # until the server stops
                if fault.retry_after is not None:
                    return _error(429, f"Too Many Requests: retry after {fault.retry_after}",
                                  {"retry_after": fault.retry_after})
                return _error(fault.status, "Internal Server Error")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _error(404, "Not Found")
        if method == "getUpdates" and self.webhook is not None:
            return _error(409, "Conflict: can't use getUpdates method while webhook is active; "
                          "use deleteWebhook to delete the webhook first")
        kind = (self.random_faults.draw() if self.random_faults and method != "getUpdates"
                else None)
        if kind == "429":
            return _error(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        if kind == "500":
            return _error(500, "Internal Server Error")
        if kind == "drop":
            if request.transport is not None:
                request.transport.close()
            return web.Response(status=204)
        if method != "getUpdates":
            call = Call(method, params)
            self.calls.append(call)
            key: object = (("query", params.get("callback_query_id"))
                           if method == "answerCallbackQuery" else params.get("chat_id"))
            if key is not None:
                self.chat_calls.setdefault(_key(key), []).append(call)
        try:
            result = await handler(params)
        except _BadRequest as error:
            return _error(400, f"Bad Request: {error}")
        async with self._changed:
            self._changed.notify_all()
        if kind == "timeout" and self.random_faults is not None:
            await asyncio.sleep(self.random_faults.hold_s)
        return web.json_response({"ok": True, "result": result})

    async def _m_getMe(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return BOT

    async def _m_deleteWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        self.webhook = None
        return True

    async def _m_setWebhook(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if not str(params.get("url", "")).startswith("https://"):
            raise _BadRequest("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise _BadRequest("secret token contains unallowed characters")
        self.webhook = params
        self.webhook_set.set()
        return True

    async def _m_getWebhookInfo(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return {"url": str((self.webhook or {}).get("url", "")), "has_custom_certificate": False,
                "pending_update_count": len(self.pending), **self.webhook_errors}

    async def _m_setMyCommands(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if not isinstance(params.get("commands"), list):
            raise _BadRequest("commands must be a list")
        return True

    async def _m_getUpdates(self, params: dict[str, Any]) -> Any:  # noqa: N802
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        allowed = params.get("allowed_updates") or []
        deadline = time.monotonic() + timeout
        async with self._changed:
            while True:
                self.pending = [u for u in self.pending if u["update_id"] >= offset]
                ready = [u for u in self.pending
                         if not allowed or any(kind in u for kind in allowed)]
                if ready or time.monotonic() >= deadline:
                    return ready[:100]
                try:
                    await asyncio.wait_for(self._changed.wait(), deadline - time.monotonic())
                except TimeoutError:
                    return []

    def _new_message(self, params: dict[str, Any], **extra: Any) -> dict[str, Any]:
        chat_id = int(params["chat_id"])
        message = {"message_id": next(self._message_ids), "date": int(time.time()),
                   "chat": {"id": chat_id, "type": "private" if chat_id > 0 else "group"},
                   "from": BOT, **extra}
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat_id, message["message_id"])] = message
        return message

    async def _m_sendMessage(self, params: dict[str, Any]) -> Any:  # noqa: N802
        if not str(params.get("text", "")).strip():
            raise _BadRequest("message text is empty")
        return self._new_message(params, text=params["text"])

    async def _m_sendVenue(self, params: dict[str, Any]) -> Any:  # noqa: N802
        location = {"latitude": params["latitude"], "longitude": params["longitude"]}
        return self._new_message(params, venue={"location": location, "title": params["title"],
                                                "address": params["address"]},
                                 location=location)

    async def _m_sendPhoto(self, params: dict[str, Any]) -> Any:  # noqa: N802
        photo = params.get("photo")
        if not isinstance(photo, bytes) or not photo.startswith(b"\x89PNG"):
            raise _BadRequest("photo must be an uploaded image")
        caption = str(params.get("caption", ""))
        return self._new_message(params, caption=caption, photo=[{
            "file_id": "photo-upload", "file_unique_id": "pu", "width": 800, "height": 450,
            "file_size": len(photo)}])

    async def _m_sendLocation(self, params: dict[str, Any]) -> Any:  # noqa: N802
        return self._new_message(params, location={"latitude": params["latitude"],
                                                   "longitude": params["longitude"]})

    def _existing(self, params: dict[str, Any]) -> dict[str, Any]:
        key = (int(params["chat_id"]), int(params["message_id"]))
        if key not in self.messages:
            raise _BadRequest("message to edit not found")
        return self.messages[key]

    async def _m_editMessageText(self, params: dict[str, Any]) -> Any:  # noqa: N802
        message = self._existing(params)
        if (message.get("text") == params["text"]
                and message.get("reply_markup") == params.get("reply_markup")):
            raise _BadRequest("message is not modified: specified new message content and "
                              "reply markup are exactly the same as a current content and "
                              "reply markup of the message")
        message["text"] = params["text"]
        message.pop("reply_markup", None)
        if isinstance(params.get("reply_markup"), dict):
            message["reply_markup"] = params["reply_markup"]
        return message

    async def _m_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:  # noqa: N802
        message = self._existing(params)
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and markup.get("inline_keyboard"):
            message["reply_markup"] = markup
        else:
            message.pop("reply_markup", None)
        return message

    async def _m_answerCallbackQuery(self, params: dict[str, Any]) -> Any:  # noqa: N802
        query_id = str(params.get("callback_query_id"))
        if query_id in self._answered:
            raise _BadRequest("query is too old and response timeout expired or query ID is "
                              "invalid")
        self._answered.add(query_id)
        return True

    # --- webhook delivery ------------------------------------------------------------------

    async def deliver(self, local_url: str, stop: asyncio.Event) -> None:
        """Post pending updates to the webhook (at `local_url`, where the test's public URL
        leads), one at a time in order, with its secret token, as Telegram does: an update
        not answered 200 (an error, a dropped connection) is posted again until it is."""
        import aiohttp

        assert self.webhook is not None
        token = str(self.webhook.get("secret_token", ""))
        async with aiohttp.ClientSession() as session:
            while not stop.is_set():
                async with self._changed:
                    if not self.pending:
                        try:
                            await asyncio.wait_for(self._changed.wait(), 0.1)
                        except TimeoutError:
                            pass
                        continue
                    update = self.pending[0]
                try:
                    async with session.post(local_url, json=update, headers={
                            "X-Telegram-Bot-Api-Secret-Token": token},
                            timeout=aiohttp.ClientTimeout(total=10)) as answer:
                        ok = answer.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                if ok:
                    self.pending.remove(update)
                    self.delivered += 1
                else:
                    self.redelivered += 1
                    await asyncio.sleep(0.05)

    # --- what users do ----------------------------------------------------------------------

    async def push(self, update: dict[str, Any]) -> int:
        update_id = next(self._update_ids)
        update["update_id"] = update_id
        async with self._changed:
            self.pending.append(update)
            self._changed.notify_all()
        return update_id

    async def wait_for(self, predicate: Callable[[Call], bool], since: int,
                       wait_s: float = 10.0, chat: object = None) -> Call:
        """The first call from index `since` (of `chat`'s calls, if given) that satisfies
        predicate."""
        deadline = time.monotonic() + wait_s
        async with self._changed:
            while True:
                calls = self.calls if chat is None else self.chat_calls.get(_key(chat), [])
                for call in calls[since:]:
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    sent = [(c.method, c.params.get("text")) for c in calls[since:]]
                    raise AssertionError(f"no matching call; got {sent}")
                try:
                    await asyncio.wait_for(self._changed.wait(), remaining)
                except TimeoutError:
                    pass


def _int_or_none(value: object) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def _key(value: object) -> object:
    if isinstance(value, tuple):
        return value
    return int(str(value))


class _BadRequest(Exception):
    pass


def _error(status: int, description: str, parameters: dict[str, Any] | None = None
           ) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": status, "description": description}
    if parameters:
        body["parameters"] = parameters
    return web.json_response(body, status=status)


@dataclass
class FakeUser:
    """A person in a private chat with the bot (or in a group, with chat_id < 0)."""

    server: FakeTelegram
    id: int
    first_name: str = "Alex"
    username: str = "alex_on_patrol"
    language_code: str = "en"
    chat_id: int | None = None
    cursor: int = 0
    _message_ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def chat(self) -> int:
        return self.chat_id if self.chat_id is not None else self.id

    def _from(self) -> dict[str, Any]:
        return {"id": self.id, "is_bot": False, "first_name": self.first_name,
                "username": self.username, "language_code": self.language_code}

    def _message(self, **content: Any) -> dict[str, Any]:
        return {"message_id": next(self._message_ids), "date": int(time.time()),
                "chat": {"id": self.chat, "type": "private" if self.chat > 0 else "group",
                         **({"first_name": self.first_name} if self.chat > 0
                            else {"title": "Patrol group"})},
                "from": self._from(), **content}

    def _mark(self) -> None:
        self.cursor = len(self.server.chat_calls.get(self.chat, []))

    def text_message(self, text: str) -> dict[str, Any]:
        """A text message from this user as Telegram delivers it (by getUpdates or posted to
        a webhook); the bot's answers are looked for from here on."""
        self._mark()
        content: dict[str, Any] = {"text": text}
        if text.startswith("/"):
            content["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        return self._message(**content)

    async def send(self, text: str) -> None:
        await self.server.push({"message": self.text_message(text)})

    async def share_location(self, lat: float, lon: float, *, edited: bool = False) -> None:
        """A location; `edited`: a live location moving (Telegram edits the message)."""
        self._mark()
        message = self._message(location={"latitude": lat, "longitude": lon})
        if edited:
            message["edit_date"] = int(time.time())
        await self.server.push({"edited_message" if edited else "message": message})

    async def send_sticker(self) -> None:
        self._mark()
        await self.server.push({"message": self._message(sticker={
            "file_id": "sticker1", "file_unique_id": "s1", "type": "regular", "width": 512,
            "height": 512, "is_animated": False, "is_video": False})})

    async def send_photo(self) -> None:
        self._mark()
        await self.server.push({"message": self._message(photo=[{
            "file_id": "photo1", "file_unique_id": "p1", "width": 90, "height": 90}])})

    async def edit_last(self, text: str) -> None:
        """This user's message edited to `text` (a command keeps its command entity)."""
        message = self.text_message(text)
        message["edit_date"] = int(time.time())
        await self.server.push({"edited_message": message})

    def last_keyboard_message(self) -> dict[str, Any]:
        """A copy, as the user's app saw it: later edits do not change what was pressed."""
        for (chat_id, _mid), message in reversed(list(self.server.messages.items())):
            if chat_id == self.chat and message.get("reply_markup"):
                return copy.deepcopy(message)
        raise AssertionError("no message with buttons in this chat")

    def keyboard_message_with(self, contains: str) -> dict[str, Any]:
        """The latest message with buttons whose text has `contains`: what a person looks for
        when a retried send left a duplicate question further down."""
        for (chat_id, _mid), message in reversed(list(self.server.messages.items())):
            if (chat_id == self.chat and message.get("reply_markup")
                    and contains in str(message.get("text", ""))):
                return copy.deepcopy(message)
        raise AssertionError(f"no message with buttons says {contains!r}")

    def buttons(self) -> list[str]:
        markup = self.last_keyboard_message()["reply_markup"]
        return [b["text"] for row in markup["inline_keyboard"] for b in row]

    async def press(self, label: str, message: dict[str, Any] | None = None) -> str:
        """Press the button with this label on the latest message that has buttons."""
        message = message or self.last_keyboard_message()
        for row in message["reply_markup"]["inline_keyboard"]:
            for item in row:
                if item["text"] == label:
                    return await self.press_data(item["callback_data"], message)
        labels = [b["text"] for row in message["reply_markup"]["inline_keyboard"] for b in row]
        raise AssertionError(f"no button {label!r}; buttons: {labels}")

    async def press_data(self, data: str, message: dict[str, Any] | None = None) -> str:
        """Send a callback query with this data (a forged one, if it matches no button)."""
        self._mark()
        message = message or self.last_keyboard_message()
        query_id = f"q{self.id}-{next(self._message_ids)}"
        await self.server.push({"callback_query": {
            "id": query_id, "from": self._from(), "chat_instance": f"ci{self.chat}",
            "data": data, "message": message}})
        return query_id

    async def reply(self, contains: str = "", method: str | None = None,
                    wait_s: float = 10.0) -> Call:
        """The bot's next message to this chat since this user's last action: a new one or
        one edited in place (or a call of `method`)."""
        methods = (method,) if method else ("sendMessage", "editMessageText")
        call = await self.server.wait_for(
            lambda c: c.method in methods and int(c.params.get("chat_id", 0)) == self.chat
            and contains in str(c.params.get("text", c.params.get("title", ""))),
            self.cursor, wait_s, chat=self.chat)
        return call

    async def toast(self, query_id: str, wait_s: float = 10.0) -> str:
        """The answer to a button press (the little notice Telegram shows)."""
        call = await self.server.wait_for(
            lambda c: c.method == "answerCallbackQuery", 0, wait_s, chat=("query", query_id))
        return str(call.params.get("text", ""))

