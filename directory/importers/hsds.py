"""Open Referral HSDS 3.x, as a CSV datapackage: a folder of one CSV per table.

One Deflect service is made per `service_at_location` row: the service's name and needs,
the location's coordinates and address, the phones, languages and schedules that belong to
it. Needs come from the service's names, description and taxonomy terms through
`directory.mapping.HSDS_KEYWORDS`. Weekly schedule rows become an `opening_hours` string;
rows bounded by valid_from/valid_to become dated rules placed after the weekly ones, so they
win on their dates (a holiday closure, a winter schedule).
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.common import Problem, ReadResult, ServiceChecker, Severity, decode
from directory.mapping import needs_from_text
from directory.model import Service

REQUIRED = {
    "organizations.csv": ("id", "name"),
    "services.csv": ("id", "organization_id", "name"),
    "locations.csv": ("id", "latitude", "longitude"),
    "service_at_location.csv": ("id", "service_id", "location_id"),
    "schedules.csv": ("id", "freq", "byday", "opens_at", "closes_at"),
    "phones.csv": ("id", "number"),
    "languages.csv": ("id", "code"),
}
OPTIONAL = ("addresses.csv", "taxonomy_terms.csv", "attributes.csv")

_DAYS = {"MO": "Mo", "TU": "Tu", "WE": "We", "TH": "Th", "FR": "Fr", "SA": "Sa", "SU": "Su"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

Table = list[tuple[int, dict[str, str]]]  # (line, row)


def read_hsds(folder: Path, *, source: str, region: str | None) -> ReadResult:
    result = ReadResult()
    tables: dict[str, Table] = {}
    for name in (*REQUIRED, *OPTIONAL):
        path = folder / name
        if not path.is_file():
            if name in REQUIRED:
                result.problems.append(Problem(name, 1, "file", Message(
                    N_("missing from the datapackage folder %(folder)s"),
                    {"folder": folder.name})))
            continue
        table = _read_table(path, REQUIRED.get(name, ()), result)
        if table is not None:
            tables[name] = table
    if result.errors:
        return result
    if not tables["service_at_location.csv"]:
        result.problems.append(Problem("service_at_location.csv", 1, "file", Message(
            N_("a header but no services"))))
        return result
    return _Assembler(tables, source, region, result).run()


def _read_table(path: Path, required: tuple[str, ...], result: ReadResult) -> Table | None:
    text = decode(path, path.read_bytes(), result.problems)
    if text is None:
        return None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    fields = [f.strip() for f in reader.fieldnames or []]
    missing = [column for column in required if column not in fields]
    for column in missing:
        result.problems.append(Problem(path.name, 1, column, Message(N_("column missing"))))
    if missing:
        return None
    rows: Table = []
    last_line = reader.line_num
    try:
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            rows.append((line, {(k or "").strip(): (v or "").strip() for k, v in record.items()
                                if isinstance(v, str)}))
    except csv.Error as error:
        result.problems.append(Problem(path.name, reader.line_num, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return None
    return rows


@dataclass(frozen=True)
class _Span:
    opens: str
    closes: str


class _Assembler:
    def __init__(self, tables: dict[str, Table], source: str, region: str | None,
                 result: ReadResult) -> None:
        self.tables = tables
        self.result = result
        self.checker = ServiceChecker("service_at_location.csv", source, region, result)

    def _index(self, name: str, key: str = "id") -> dict[str, tuple[int, dict[str, str]]]:
        return {row[key]: (line, row) for line, row in self.tables.get(name, []) if row.get(key)}

    def _group(self, name: str, key: str) -> dict[str, list[dict[str, str]]]:
        grouped: dict[str, list[dict[str, str]]] = defaultdict(list)
        for _line, row in self.tables.get(name, []):
            if row.get(key):
                grouped[row[key]].append(row)
        return grouped

    def run(self) -> ReadResult:
        organizations = self._index("organizations.csv")
        services = self._index("services.csv")
        locations = self._index("locations.csv")
        addresses = self._group("addresses.csv", "location_id")
        terms = self._index("taxonomy_terms.csv")
        attributes = self._group("attributes.csv", "link_id")
        schedules = self.tables["schedules.csv"]
        locations_per_service: dict[str, int] = defaultdict(int)
        for _line, row in self.tables["service_at_location.csv"]:
            locations_per_service[row.get("service_id", "")] += 1
        checked_locations: dict[str, tuple[float, float] | None] = {}

        for line, link in self.tables["service_at_location.csv"]:
            checker = self.checker
            checker.file = "service_at_location.csv"
            service_row = services.get(link.get("service_id", ""))
            location_row = locations.get(link.get("location_id", ""))
            if service_row is None:
                self._problem("service_at_location.csv", line, "service_id",
                              N_("no service with id %(value)r"), value=link.get("service_id"))
            if location_row is None:
                self._problem("service_at_location.csv", line, "location_id",
                              N_("no location with id %(value)r"), value=link.get("location_id"))
            if service_row is None or location_row is None:
                continue
            _sline, service = service_row
            lline, location = location_row
            term_names = [terms[a["taxonomy_term_id"]][1].get("name", "")
                          for a in attributes.get(service["id"], [])
                          if a.get("taxonomy_term_id") in terms]
            needs = needs_from_text(service.get("name", ""), service.get("alternate_name", ""),
                                    service.get("description", ""), *term_names)
            if not needs:
                self.result.not_in_scope += 1
                continue
            service_id = checker.unique_id(line, link["id"])
            if location["id"] not in checked_locations:
                checker.file = "locations.csv"
                checked_locations[location["id"]] = checker.coordinate(
                    lline, location.get("latitude", ""), location.get("longitude", ""))
            point = checked_locations[location["id"]]
            checker.file = "services.csv"
            website = checker.website(_sline, service.get("url", "") or organizations.get(
                service.get("organization_id", ""), (0, {}))[1].get("website", ""))
            languages = checker.languages(_sline, [
                row.get("code", "") for _line, row in self.tables["languages.csv"]
                if row.get("service_id") == service["id"]
                or (row.get("location_id") == location["id"] and not row.get("service_id"))])
            checker.file = "schedules.csv"
            opening_hours = self._hours(link, service["id"], location["id"], schedules)
            if service_id is None or point is None or website is None or languages is None:
                continue
            name = service.get("name", "")
            if locations_per_service[service["id"]] > 1 and location.get("name"):
                name = f"{name} ({location['name']})"
            zone, region = checker.place(*point)
            checker.add(line, Service(
                id=service_id, name=name, categories=needs, lat=point[0], lon=point[1],
                address=_address(addresses.get(location["id"], [])),
                phone=self._phone(link["id"], service["id"], location["id"]),
                website=website or "", description=service.get("description", ""),
                opening_hours=opening_hours, languages=languages,
                min_age=_int(service.get("minimum_age", "")),
                max_age=_int(service.get("maximum_age", "")),
                source=checker.source, timezone=zone, region=region,
            ))
        return self.checker.finish()

    def _problem(self, file: str, row: int, field: str, msgid: str,
                 severity: Severity = Severity.ERROR, **params: object) -> None:
        self.result.problems.append(Problem(file, row, field, Message(msgid, params), severity))

    def _phone(self, link_id: str, service_id: str, location_id: str) -> str:
        phones = [row for _line, row in self.tables["phones.csv"]]
        for key, value in (("service_at_location_id", link_id), ("service_id", service_id),
                           ("location_id", location_id)):
            for row in phones:
                if row.get(key) == value and row.get("number"):
                    extension = row.get("extension", "")
                    return row["number"] + (f" ext. {extension}" if extension else "")
        return ""

    def _hours(self, link: dict[str, str], service_id: str, location_id: str,
               schedules: Table) -> str:
        """The schedule rows that belong to this service at this location, as OSM hours."""
        matchers: tuple[Callable[[dict[str, str]], bool], ...] = (
            lambda r: r.get("service_at_location_id") == link["id"],
            lambda r: r.get("service_id") == service_id and r.get("location_id") == location_id,
            lambda r: r.get("service_id") == service_id and not r.get("location_id")
            and not r.get("service_at_location_id"),
            lambda r: r.get("location_id") == location_id and not r.get("service_id")
            and not r.get("service_at_location_id"),
        )
        for matches in matchers:
            rows = [(line, row) for line, row in schedules if matches(row)]
            if rows:
                break
        else:
            return ""
        expression = schedule_to_opening_hours(rows, self)
        if not expression:
            return ""
        return self.checker.opening_hours(rows[0][0], expression)


def schedule_to_opening_hours(rows: Table, assembler: _Assembler | None = None) -> str:
    """HSDS weekly schedule rows as one OSM opening_hours expression."""
    weekly: dict[str, list[_Span]] = defaultdict(list)
    dated: list[str] = []
    for line, row in rows:
        freq = row.get("freq", "").upper()
        if freq and freq != "WEEKLY":
            if assembler:
                assembler._problem("schedules.csv", line, "freq", N_(
                    "only WEEKLY schedules are read; this row is left out"), Severity.WARNING)
            continue
        days = []
        for day in row.get("byday", "").upper().replace(" ", "").split(","):
            if day in _DAYS:
                days.append(_DAYS[day])
            elif day and assembler:
                assembler._problem("schedules.csv", line, "byday", N_(
                    "%(value)r is not a weekday (MO..SU); this day is left out"),
                    Severity.WARNING, value=day)
        opens, closes = _time(row.get("opens_at", "")), _time(row.get("closes_at", ""))
        valid_from, valid_to = _date(row.get("valid_from", "")), _date(row.get("valid_to", ""))
        span = _Span(opens, "24:00" if closes in ("23:59", "00:00") and opens == "00:00"
                     else closes) if opens and closes else None
        if valid_from or valid_to:
            start = valid_from or date(2000, 1, 1)
            end = valid_to or date(2099, 12, 31)
            selector = f"{_osm_date(start)}-{_osm_date(end)}"
            day_part = f" {','.join(days)}" if days else ""
            dated.append(f"{selector}{day_part} {span.opens}-{span.closes}" if span
                         else f"{selector}{day_part} off")
        elif span and days:
            for day in days:
                weekly[day].append(span)
    rules: list[str] = []
    by_spans: dict[tuple[_Span, ...], list[str]] = defaultdict(list)
    for day in _DAYS.values():
        if day in weekly:
            by_spans[tuple(sorted(set(weekly[day]), key=lambda s: s.opens))].append(day)
    for spans, days in by_spans.items():
        times = ",".join(f"{s.opens}-{s.closes}" for s in spans)
        rules.append(f"{_day_ranges(days)} {times}")
    if dated and not rules:
        rules.append("off")  # closed outside the dated rules
    return "; ".join(rules + dated)


def _day_ranges(days: list[str]) -> str:
    """"Mo,Tu,We,Fr" -> "Mo-We,Fr": runs of three or more consecutive days as ranges."""
    order = list(_DAYS.values())
    runs: list[list[str]] = []
    for day in days:
        if runs and order.index(day) == order.index(runs[-1][-1]) + 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ",".join(f"{run[0]}-{run[-1]}" if len(run) > 2 else ",".join(run) for run in runs)


def _time(text: str) -> str:
    parts = text.strip().split(":")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        return ""
    return f"{int(parts[0]):02d}:{int(parts[1]):02d}"


def _date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip()[:10]) if text.strip() else None
    except ValueError:
        return None


def _osm_date(day: date) -> str:
    return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"


def _address(rows: list[dict[str, str]]) -> str:
    if not rows:
        return ""
    row = next((r for r in rows if r.get("address_type") == "physical"), rows[0])
    parts = [row.get("address_1", ""), row.get("address_2", ""), row.get("city", ""),
             " ".join(p for p in (row.get("state_province", ""), row.get("postal_code", "")) if p)]
    return ", ".join(p for p in parts if p)


def _int(text: str) -> int | None:
    try:
        return int(float(text)) if text.strip() else None
    except ValueError:
        return None
