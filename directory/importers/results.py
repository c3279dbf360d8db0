"""What a reader returns: the services read, and the problems found, located as
FILE:ROW: FIELD.

This module owns `ReadResult` (services with the row and file each came from, problems,
records left out and why), `Problem` and its `Severity`, and `Progress`, the callback a
reader reports its progress through.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from gettext import NullTranslations

from directory.i18n import Message, Translator
from directory.model import Service


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as FILE:ROW: FIELD.

    `record` is the record it concerns (the service's id, or FILE:ROW when it has none);
    None means the file as a whole (a missing column, a file that is not CSV), which no
    --skip-invalid can get past.
    """

    file: str
    row: int  # line number (CSV) or feature number (GeoJSON); 1 for the file as a whole
    field: str
    message: Message
    severity: Severity = Severity.ERROR
    record: str | None = None

    def render(self, translator: Translator) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message.render(translator)}"

    def render_english(self) -> str:
        return self.render(NullTranslations())


# Called by readers as they go: (records done, records in all). The CLI draws a bar with it.
Progress = Callable[[int, int], None]


@dataclass
class ReadResult:
    """The services read from a file, what was wrong, and what was left out and why."""

    services: list[Service] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # row of each service, same order
    files: list[str] = field(default_factory=list)  # and the file that row is in
    out_of_scope: list[str] = field(default_factory=list)  # names of records meeting no need
    version: str = ""  # the format's version where it has several (e.g. "HSDS 1.x")
    left_out: list[str] = field(default_factory=list)  # dropped with a warning (no geometry)
    names: dict[str, str] = field(default_factory=dict)  # record -> its name, where read

    @property
    def not_in_scope(self) -> int:
        return len(self.out_of_scope)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    @property
    def file_errors(self) -> list[Problem]:
        """Errors about a file as a whole: nothing can be imported past them."""
        return [p for p in self.errors if p.record is None]

    def invalid_records(self) -> set[str]:
        return {p.record for p in self.errors if p.record is not None}

    def repaired_records(self) -> set[str]:
        """Imported records that carry at least one warning (something was repaired)."""
        valid = {s.id for s in self.services} - self.invalid_records()
        return {p.record for p in self.warnings if p.record in valid}

    def without_invalid(self) -> ReadResult:
        """The valid services only (for --skip-invalid), chosen by record, not by line."""
        bad = self.invalid_records()
        kept = [(s, r, f) for s, r, f in zip(self.services, self.rows, self.files, strict=True)
                if s.id not in bad]
        return ReadResult([s for s, _, _ in kept], self.problems, [r for _, r, _ in kept],
                          [f for _, _, f in kept], self.out_of_scope, self.version,
                          self.left_out, self.names)
