"""What every importer shares: checking one service's fields (`ServiceChecker`).

What a reader returns (`ReadResult`, `Problem`, `Severity`, `Progress`) is in `results`, and
reading a file as text or JSON (`decode`, `read_json`, `NOT_READ`) in `decoding`; both are
re-exported here, where the readers have always imported them from.

Each format's reader turns its rows into plain fields and hands them to `ServiceChecker`,
so the rules for coordinates, needs, hours, ids and the rest are written once and give the
same messages whatever the format.

Severity follows what a field is for. A record without an id, a name, usable coordinates or
a recognisable need, or with an id already used in its source, cannot be shown to anyone:
that is an error for the record (the import is refused, or the record skipped with
--skip-invalid). Everything else is repaired where it can be (a website without its
scheme, a phone number in a local format, a language name instead of a code) or left empty
(an e-mail address in the website column, hours that do not parse), with a warning that
says what was done, and the service is imported.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from dataclasses import replace

from directory import geo, hours, hours_nights
from directory.i18n import N_, Message
from directory.importers import fields
from directory.importers.decoding import NOT_READ, decode, read_json
from directory.importers.results import Problem, Progress, ReadResult, Severity
from directory.mapping import needs_from_text
from directory.model import Need, Service

__all__ = ["NOT_READ", "Problem", "Progress", "ReadResult", "ServiceChecker", "Severity",
           "decode", "parse_need", "read_json"]


def parse_need(text: str) -> Need | None:
    key = text.strip().lower().replace("-", "_").replace(" ", "_")
    try:
        return Need(key)
    except ValueError:
        return None


def _nowhere(zone: str) -> bool:
    """A timezone of the open sea (Etc/GMT+2, UTC) or of Antarctica."""
    return zone.startswith(("Etc/", "Antarctica/")) or zone in ("UTC", "")


class ServiceChecker:
    """Checks the fields of one record at a time and remembers ids across a source.

    A reader calls `begin(row)` for each record, the field checks, then `add()` with the
    service or nothing (a record with an error is left out by the reader). Every problem
    raised in between belongs to that record.
    """

    def __init__(self, file: str, source: str, region: str | None,
                 result: ReadResult) -> None:
        self.file = file
        self.source = source
        self.region = region
        self.result = result
        self._first_row: dict[str, tuple[str, int]] = {}
        self._record: str | None = None
        self._country = ""
        self._failed = False  # the current record has an error: it will not be imported
        self._region_here: str | None = None  # the holiday region of the record's place

    def begin(self, row: int, record: str = "") -> None:
        """Start a record; `record` names it (its id) until `unique_id` finds the id."""
        label = record.strip()
        # An id already taken must not draw this record's problems onto the first one.
        self._record = label if label and label not in self._first_row else f"{self.file}:{row}"
        self._country = ""
        self._failed = False
        self._region_here = None

    def problem(self, row: int, field_name: str, msgid: str,
                severity: Severity = Severity.ERROR, **params: object) -> None:
        """A problem of the current record (of the file, before any `begin`)."""
        self._failed = self._failed or severity is Severity.ERROR
        self.result.problems.append(Problem(self.file, row, field_name, Message(msgid, params),
                                            severity, self._record))

    def warn(self, row: int, field_name: str, msgid: str, **params: object) -> None:
        self.problem(row, field_name, msgid, Severity.WARNING, **params)

    def coordinate(self, row: int, lat_text: str, lon_text: str,
                   names: tuple[str, str] = ("lat", "lon")) -> tuple[float, float] | None:
        values: list[float] = []
        for name, text in zip(names, (lat_text, lon_text), strict=True):
            text = text.strip()
            if not text:
                self.problem(row, name, N_("missing"))
                continue
            try:
                value = float(text.replace(",", ".")) if text.count(",") == 1 and "." not in text \
                    else float(text)
            except ValueError:
                self.problem(row, name, N_("not a number: %(value)s"), value=text)
                continue
            if not math.isfinite(value):
                self.problem(row, name, N_("not a number: %(value)s"), value=text)
                continue
            values.append(value)
        if len(values) != 2:
            return None
        lat, lon = values
        if not -90 <= lat <= 90:
            if -90 <= lon <= 90 and -180 <= lat <= 180:
                self.problem(row, names[0], N_("%(value)s is out of range (-90 to 90); lat and "
                                               "lon look swapped"), value=lat_text.strip())
            else:
                self.problem(row, names[0], N_("%(value)s is out of range (-90 to 90)"),
                             value=lat_text.strip())
            return None
        if not -180 <= lon <= 180:
            self.problem(row, names[1], N_("%(value)s is out of range (-180 to 180)"),
                         value=lon_text.strip())
            return None
        if lat == 0 and lon == 0:
            self.problem(row, names[0], N_("0,0 is not a real place (coordinates left empty?)"))
            return None
        return lat, lon

    def needs(self, row: int, field_name: str, texts: Iterable[str]) -> frozenset[Need] | None:
        """Needs named in a list; a word that is not a need is read for its meaning."""
        found: set[Need] = set()
        for text in texts:
            if not text.strip():
                continue
            need = parse_need(text)
            if need is not None:
                found.add(need)
                continue
            meant = needs_from_text(text)
            if meant:
                found |= meant
                self.warn(row, field_name, N_("%(value)r is not a need; read as %(needs)s"),
                          value=text.strip(), needs=", ".join(sorted(meant)))
            else:
                self.warn(row, field_name, N_("unknown need %(value)r left out (known: "
                                              "%(known)s)"),
                          value=text.strip(), known=", ".join(Need))
        if not found:
            self.problem(row, field_name, N_("no recognisable need (known: %(known)s)"),
                         known=", ".join(Need))
            return None
        return frozenset(found)

    def walk_in(self, row: int, text: str) -> bool | None:
        value = text.strip().lower()
        if not value:
            return None
        if value in fields.TRUE:
            return True
        if value in fields.FALSE:
            return False
        self.warn(row, "walk_in", N_("%(value)r is not true or false; imported as unknown"),
                  value=text.strip())
        return None

    def languages(self, row: int, texts: Iterable[str]) -> tuple[str, ...]:
        codes: list[str] = []
        for text in texts:
            if not text.strip():
                continue
            code = fields.language_code(text)
            if code is None:
                self.warn(row, "languages", N_("unknown language %(value)r left out"),
                          value=text.strip())
                continue
            if code not in codes:
                codes.append(code)
        return tuple(codes)

    def website(self, row: int, text: str) -> str:
        url = text.strip()
        if not url:
            return ""
        if url.lower().startswith(("http://", "https://")):
            if " " in url or len(url) < 11:
                self.warn(row, "website", N_("%(value)r is not a web address; left out"),
                          value=url)
                return ""
            return url
        if fields.EMAIL.match(url):
            self.warn(row, "website", N_("%(value)r is an e-mail address, not a web address; "
                                         "left out"), value=url)
            return ""
        if not fields.URL_SCHEME.match(url) and fields.BARE_HOST.match(url):
            fixed = "https://" + url
            self.warn(row, "website", N_("%(value)r has no scheme; imported as %(fixed)s"),
                      value=url, fixed=fixed)
            return fixed
        self.warn(row, "website", N_("%(value)r is not a web address; left out"), value=url)
        return ""

    def phone(self, row: int, text: str, field_name: str = "phone") -> str:
        """Numbers in the international format of the service's country; else as written."""
        written = " ".join(text.split())
        if not written:
            return ""
        country = self._country or (self.region or "").partition("-")[0] or None
        numbers = fields.phone_numbers(written, country)
        if numbers is not None:
            return "; ".join(numbers)
        if not any(char.isdigit() for char in written):
            self.warn(row, field_name, N_("%(value)r is not a phone number; left out"),
                      value=written)
            return ""
        if country is None:
            if self._failed:  # no place to read it for, and the record is refused anyway
                return written
            self.warn(row, field_name, N_("%(value)r is not an international phone number; kept "
                                          "as written"), value=written)
        else:
            self.warn(row, field_name, N_("%(value)r is not a phone number of %(country)s; kept "
                                          "as written"), value=written, country=country)
        return written

    def opening_hours(self, row: int, text: str) -> str:
        expression = " ".join(text.split())
        problems = fields.check_hours(expression)
        for message in problems:
            self.result.problems.append(Problem(self.file, row, "opening_hours", message,
                                                Severity.WARNING, self._record))
        if problems:
            return ""
        # Parts the OSM specification leaves open (comments, SH without a calendar, ...) are
        # kept and answered "unknown" at those moments; say which and why.
        region = self.region if self.region is not None else self._region_here
        for message in hours.unknown_reasons(expression, region):
            self.result.problems.append(Problem(self.file, row, "opening_hours", message,
                                                Severity.WARNING, self._record))
        # Evaluated as written (a later rule replaces the whole day), but rarely what the
        # person who wrote it meant: say which nights are cut.
        cut = hours_nights.cancelled_nights(expression)
        if cut:
            self.result.problems.append(Problem(
                self.file, row, "opening_hours", hours_nights.cancelled_nights_message(cut),
                Severity.WARNING, self._record))
        return expression

    def unique_id(self, row: int, text: str) -> str | None:
        service_id = text.strip()
        if not service_id:
            self.problem(row, "id", N_("missing"))
            return None
        first = self._first_row.get(service_id)
        if first is not None:
            # The first record keeps the id; this one is reported under its row.
            self._record = f"{self.file}:{row}"
            file, first_row = first
            if file == self.file:
                self.problem(row, "id", N_("duplicate id %(value)r, first used on row "
                                           "%(first)d"), value=service_id, first=first_row)
            else:
                self.problem(row, "id", N_("duplicate id %(value)r, first used in %(file)s on "
                                           "row %(first)d"),
                             value=service_id, file=file, first=first_row)
            return None
        self._record = service_id
        self._first_row[service_id] = (self.file, row)
        return service_id

    def required(self, row: int, field_name: str, text: str) -> str | None:
        value = " ".join(text.split())
        if not value:
            self.problem(row, field_name, N_("missing"))
            return None
        if field_name.startswith("name"):
            self.named(value)
        return value

    def named(self, name: str) -> None:
        """The current record's name, for the summary's list of skipped records."""
        if self._record is not None:
            self.result.names[self._record] = name

    def left_out(self, name: str) -> None:
        """A record dropped with a warning (no geometry, a defunct service): counted apart."""
        self.result.left_out.append(" ".join(name.split()))

    def place(self, lat: float, lon: float) -> tuple[str, str]:
        """Timezone and holiday region of a point: --region if given, else the subdivision
        of its country that it lies in where python-holidays has a calendar for it ("DE-BW",
        "GB-SCT"), else its country.

        Also sets the country that phone numbers of this record are read for.
        """
        zone = geo.timezone_at(lat, lon)
        self._country = geo.country_of_zone(zone)
        if self.region is not None:
            return zone, self.region
        self._region_here = geo.holiday_region(lat, lon, self._country)
        return zone, self._region_here

    def out_of_scope(self, name: str) -> None:
        self.result.out_of_scope.append(" ".join(name.split()))

    def add(self, row: int, service: Service, file: str | None = None) -> None:
        """A valid service, read from `row` of `file` (default: the checker's file)."""
        self.result.services.append(service)
        self.result.rows.append(row)
        self.result.files.append(file or self.file)

    def finish(self) -> ReadResult:
        """File-wide checks once every row is read: coordinates swapped but still in range
        are swapped back when the place then lies among the others in the file; a place at
        sea or in Antarctica that cannot be explained so is an error for its record."""
        services, rows, files = self.result.services, self.result.rows, self.result.files
        middle = None
        if len(services) >= 5:
            middle = (statistics.median(s.lat for s in services),
                      statistics.median(s.lon for s in services))
        for index, (service, row) in enumerate(zip(services, rows, strict=True)):
            self._record = service.id
            lat, lon = service.lat, service.lon
            if middle is not None:
                here = geo.haversine_m(lat, lon, *middle)
                flipped = geo.haversine_m(lon, lat, *middle) if abs(lon) <= 90 else here
                if here > 500_000 and flipped < 100_000:
                    self.warn(row, "lat", N_("lat and lon look swapped: swapped back, this place "
                                             "is then near the others in the file"))
                    zone, region = self.place(lon, lat)
                    services[index] = replace(service, lat=lon, lon=lat, timezone=zone,
                                              region=region)
                    continue
            if _nowhere(service.timezone):
                self.file = files[index]
                self.problem(row, "lat", N_("%(lat)s,%(lon)s lies at sea or in Antarctica, not "
                                            "where a person can be taken (lat and lon "
                                            "swapped?)"), lat=lat, lon=lon)
        self._record = None
        return self.result
