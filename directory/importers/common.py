"""What every importer shares: problems with file/row/field, and checking one service.

Each format's reader turns its rows into plain fields and hands them to `ServiceChecker`,
so the rules for coordinates, needs, hours, ids and the rest are written once and give the
same messages whatever the format.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from gettext import NullTranslations
from pathlib import Path

from babel import Locale, UnknownLocaleError

from directory import geo, hours
from directory.i18n import N_, Message, Translator
from directory.model import Need, Service


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as FILE:ROW: FIELD."""

    file: str
    row: int  # line number (CSV) or feature number (GeoJSON); 1 for the file as a whole
    field: str
    message: Message
    severity: Severity = Severity.ERROR

    def render(self, translator: Translator) -> str:
        return f"{self.file}:{self.row}: {self.field}: {self.message.render(translator)}"

    def render_english(self) -> str:
        return self.render(NullTranslations())


@dataclass
class ReadResult:
    """The services read from a file, what was wrong, and which rows were left out."""

    services: list[Service] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)  # row of each service, same order
    not_in_scope: int = 0  # records that meet no deflection need (e.g. a food bank)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.ERROR]

    @property
    def warnings(self) -> list[Problem]:
        return [p for p in self.problems if p.severity is Severity.WARNING]

    def error_rows(self) -> set[int]:
        return {p.row for p in self.errors}

    def without_invalid(self) -> ReadResult:
        """The valid services only (for --skip-invalid)."""
        bad = self.error_rows()
        kept = [(s, r) for s, r in zip(self.services, self.rows, strict=True) if r not in bad]
        return ReadResult([s for s, _ in kept], self.problems, [r for _, r in kept],
                          self.not_in_scope)


def decode(path: Path, data: bytes, problems: list[Problem]) -> str | None:
    """UTF-8 text of a file (a spreadsheet's BOM allowed), or None with the problem noted."""
    if not data.strip():
        problems.append(Problem(path.name, 1, "file", Message(N_("the file is empty"))))
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        problems.append(Problem(path.name, line, "file", Message(
            N_("not UTF-8 text (byte 0x%(byte)02x); save the file as UTF-8"),
            {"byte": data[error.start]})))
        return None


def parse_need(text: str) -> Need | None:
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Need(key)
    except ValueError:
        return None


_TRUE = {"true", "yes", "1", "y"}
_FALSE = {"false", "no", "0", "n"}


class ServiceChecker:
    """Checks the fields of one service at a time and remembers ids across a file."""

    def __init__(self, file: str, source: str, region: str | None,
                 result: ReadResult) -> None:
        self.file = file
        self.source = source
        self.region = region
        self.result = result
        self._first_row: dict[str, int] = {}

    def _problem(self, row: int, field_name: str, msgid: str, severity: Severity = Severity.ERROR,
                 **params: object) -> None:
        self.result.problems.append(
            Problem(self.file, row, field_name, Message(msgid, params), severity))

    def coordinate(self, row: int, lat_text: str, lon_text: str) -> tuple[float, float] | None:
        values: list[float] = []
        for name, text in (("lat", lat_text), ("lon", lon_text)):
            text = text.strip()
            if not text:
                self._problem(row, name, N_("missing"))
                continue
            try:
                value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text \
                    else float(text)
            except ValueError:
                self._problem(row, name, N_("not a number: %(value)s"), value=text)
                continue
            if not math.isfinite(value):
                self._problem(row, name, N_("not a number: %(value)s"), value=text)
                continue
            values.append(value)
        if len(values) != 2:
            return None
        lat, lon = values
        if not -90 <= lat <= 90:
            if -90 <= lon <= 90 and -180 <= lat <= 180:
                self._problem(row, "lat", N_("%(value)s is out of range (-90 to 90); lat and lon "
                                             "look swapped"), value=lat_text.strip())
            else:
                self._problem(row, "lat", N_("%(value)s is out of range (-90 to 90)"),
                              value=lat_text.strip())
            return None
        if not -180 <= lon <= 180:
            self._problem(row, "lon", N_("%(value)s is out of range (-180 to 180)"),
                          value=lon_text.strip())
            return None
        if lat == 0 and lon == 0:
            self._problem(row, "lat", N_("0,0 is not a real place (coordinates left empty?)"))
            return None
        return lat, lon

    def needs(self, row: int, field_name: str, texts: Iterable[str]) -> frozenset[Need] | None:
        found: set[Need] = set()
        ok = True
        for text in texts:
            if not text.strip():
                continue
            need = parse_need(text)
            if need is None:
                self._problem(row, field_name, N_("unknown need %(value)r (known: %(known)s)"),
                              value=text.strip(), known=", ".join(Need))
                ok = False
            else:
                found.add(need)
        if ok and not found:
            self._problem(row, field_name, N_("no need given (known: %(known)s)"),
                          known=", ".join(Need))
            return None
        return frozenset(found) if ok else None

    def walk_in(self, row: int, text: str) -> tuple[bool, bool | None]:
        value = text.strip().lower()
        if not value:
            return True, None
        if value in _TRUE:
            return True, True
        if value in _FALSE:
            return True, False
        self._problem(row, "walk_in", N_("%(value)r is not true or false"), value=text.strip())
        return False, None

    def languages(self, row: int, texts: Iterable[str]) -> tuple[str, ...] | None:
        codes: list[str] = []
        ok = True
        for text in texts:
            code = text.strip()
            if not code:
                continue
            try:
                Locale.parse(code.replace("_", "-"), sep="-")
            except (ValueError, UnknownLocaleError):
                self._problem(row, "languages", N_("unknown language code %(value)r"), value=code)
                ok = False
                continue
            codes.append(code.replace("_", "-"))
        return tuple(codes) if ok else None

    def website(self, row: int, text: str) -> str | None:
        url = text.strip()
        if url and not url.lower().startswith(("http://", "https://")):
            self._problem(row, "website", N_("%(value)r is not a web address (http:// or "
                                             "https://)"), value=url)
            return None
        return url

    def opening_hours(self, row: int, text: str) -> str:
        expression = " ".join(text.split())
        problems = hours.check(expression)
        for message in problems:
            self.result.problems.append(
                Problem(self.file, row, "opening_hours", message, Severity.WARNING))
        if problems:
            return ""
        if hours.uses_unsupported_holiday_form(expression):
            self._problem(row, "opening_hours", N_("this form of PH uses opening-hours-py's own "
                                                   "holiday calendar, which may miss holidays"),
                          Severity.WARNING)
        return expression

    def unique_id(self, row: int, text: str) -> str | None:
        service_id = text.strip()
        if not service_id:
            self._problem(row, "id", N_("missing"))
            return None
        first = self._first_row.get(service_id)
        if first is not None:
            self._problem(row, "id", N_("duplicate id %(value)r, first used on row %(first)d"),
                          value=service_id, first=first)
            return None
        self._first_row[service_id] = row
        return service_id

    def required(self, row: int, field_name: str, text: str) -> str | None:
        value = " ".join(text.split())
        if not value:
            self._problem(row, field_name, N_("missing"))
            return None
        return value

    def place(self, lat: float, lon: float) -> tuple[str, str]:
        """Timezone and holiday region of a point: --region if given, else its country."""
        zone = geo.timezone_at(lat, lon)
        return zone, self.region if self.region is not None else geo.country_of_zone(zone)

    def add(self, row: int, service: Service) -> None:
        self.result.services.append(service)
        self.result.rows.append(row)

    def finish(self) -> ReadResult:
        """File-wide checks once every row is read: swapped coordinates that stayed in range."""
        points = [(s.lat, s.lon, r) for s, r in zip(self.result.services, self.result.rows,
                                                   strict=True)]
        if len(points) >= 5:
            mid_lat = statistics.median(p[0] for p in points)
            mid_lon = statistics.median(p[1] for p in points)
            for lat, lon, row in points:
                here = geo.haversine_m(lat, lon, mid_lat, mid_lon)
                flipped = geo.haversine_m(lon, lat, mid_lat, mid_lon) if abs(lon) <= 90 else here
                if here > 500_000 and flipped < 100_000:
                    self._problem(row, "lat", N_("lat and lon look swapped: swapped back, this "
                                                 "place is near the others in the file"))
        return self.result
