"""What the logs may hold: never the bot token, and by default nothing of the people who use
the bot.

httpx logs request URLs, which contain the token, and python-telegram-bot puts it in the
message of the error it raises when Telegram refuses it. At DEBUG, python-telegram-bot logs
every update (ids, names, texts, coordinates) and every call's parameters: those libraries
are capped at INFO unless the operator sets DEFLECT_DEBUG_UNSAFE=1.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager

_LOGGER = logging.getLogger(__name__)

# The most each library may log by default. httpx's INFO line is each request's URL: without
# the token (redacted) it is still one line per poll, so it stays at WARNING. aiosqlite logs
# every statement with its parameters at DEBUG.
LIBRARY_CAPS = {
    "telegram": logging.INFO,
    "telegram.ext": logging.INFO,
    "httpx": logging.WARNING,
    "httpcore": logging.INFO,
    "apscheduler": logging.INFO,
    "aiosqlite": logging.INFO,
}


class RedactToken(logging.Filter):
    """Replaces the token wherever it appears in a record's message, arguments or traceback."""

    def __init__(self, token: str) -> None:
        super().__init__()
        self.token = token

    def filter(self, record: logging.LogRecord) -> bool:
        if self.token:
            message = record.getMessage()
            if self.token in message:
                record.msg = message.replace(self.token, "<token>")
                record.args = None
            if record.exc_info and record.exc_info[1] is not None:
                # Formatters print exc_text when it is set, so the redacted text is what
                # every handler shows.
                text = record.exc_text or logging.Formatter().formatException(record.exc_info)
                if self.token in text:
                    record.exc_text = text.replace(self.token, "<token>")
        return True


class DropLibraryDebug(logging.Filter):
    """Drops the capped libraries' records below their cap, should one of their loggers have
    been set to DEBUG by name."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, cap in LIBRARY_CAPS.items():
            if record.name == name or record.name.startswith(name + "."):
                return record.levelno >= cap
        return True


_DROP_LIBRARY_DEBUG = DropLibraryDebug()  # one instance, so installing twice adds it once


class DropReported(logging.Filter):
    """Drops records of an exception the caller reports itself, in one line of its own."""

    def __init__(self, errors: tuple[type[BaseException], ...]) -> None:
        super().__init__()
        self.errors = errors

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], self.errors))


def install_log_redaction(token: str | None) -> None:
    """Redact the token on every handler of the root logger; quieten httpx's request log."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if not token:
        return
    redact = RedactToken(token)
    root = logging.getLogger()
    for handler in root.handlers:
        handler.addFilter(redact)
    root.addFilter(redact)


def cap_library_logs(debug_unsafe: bool) -> None:
    """Cap the libraries that log people's data at DEBUG (LIBRARY_CAPS), whatever the root
    logger's level; with `debug_unsafe` (DEFLECT_DEBUG_UNSAFE=1) leave them to the root
    level, and say once what the logs now hold."""
    root = logging.getLogger()
    if debug_unsafe:
        for handler in root.handlers:
            handler.removeFilter(_DROP_LIBRARY_DEBUG)
        for name in LIBRARY_CAPS:
            logging.getLogger(name).setLevel(logging.NOTSET)
        _LOGGER.warning("DEFLECT_DEBUG_UNSAFE=1: at DEBUG the logs now hold Telegram ids, "
                        "names and message texts (and the webhook's secret); turn it off "
                        "when done and delete these logs")
        return
    for name, cap in LIBRARY_CAPS.items():
        # The cap only ever quietens: with the root at WARNING, a library stays at WARNING.
        logging.getLogger(name).setLevel(max(cap, root.getEffectiveLevel()))
    for handler in root.handlers:
        handler.addFilter(_DROP_LIBRARY_DEBUG)


@contextmanager
def reported_by_caller(*errors: type[BaseException]) -> Iterator[None]:
    """While inside, leave out of the logs the records (and tracebacks) of these exceptions:
    the caller catches them and says what to do in one line."""
    drop = DropReported(errors)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(drop)
    try:
        yield
    finally:
        for handler in handlers:
            handler.removeFilter(drop)
