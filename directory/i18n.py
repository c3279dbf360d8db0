"""Message marking for the directory package.

The directory produces messages (import problems, status phrases) long before anyone knows
which language they will be shown in, so it marks them with `N_` for extraction and returns
the English msgid with its parameters; the caller translates with the reader's own catalog.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


def N_(message: str) -> str:
    """Mark a message for extraction without translating it yet."""
    return message


class Translator(Protocol):
    """What the directory needs of a gettext catalog (stdlib and Babel both fit)."""

    def gettext(self, message: str, /) -> str: ...

    def ngettext(self, singular: str, plural: str, n: int, /) -> str: ...


@dataclass(frozen=True)
class Message:
    """A message to translate later: an N_-marked msgid and its named parameters."""

    msgid: str
    params: Mapping[str, object] = field(default_factory=dict)

    def render(self, translator: Translator) -> str:
        text = translator.gettext(self.msgid)
        return text % dict(self.params) if self.params else text
