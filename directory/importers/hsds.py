"""Open Referral HSDS 1.x, 2.0 and 3.x: a CSV datapackage, as a folder or a .zip of one.

This module owns making one Deflect service per service-at-location row, with every table
indexed once by its link columns: the service's name and needs, the location's coordinates
and address, and the phones, languages and schedules that belong to it. Finding the tables
and telling the version is `hsds_package`'s job; turning schedule rows into opening hours is
`hsds_schedules`'s.

Only organizations, services, locations and the service-at-location table are needed (1.0
without the last links through services.location_id); every other table may be missing or
hold only its header. Needs come from the service's taxonomy terms (AIRS/211 codes decide
where there are any), names and description through `directory.mapping.needs_of_service`; a
service that meets none is out of scope.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

from directory.i18n import N_
from directory.importers.common import Progress, ReadResult, ServiceChecker
from directory.importers.hsds_package import Layout, Line, Row, Table, read_package
from directory.importers.hsds_schedules import convert, schedule_to_opening_hours
from directory.mapping import Term, needs_of_service
from directory.mapping_airs import airs_code
from directory.model import Need, Service

__all__ = ["read_hsds", "schedule_to_opening_hours"]


# HSDS service.status values that mean nobody is there to take a person today.
_NOT_RUNNING = frozenset({"inactive", "defunct", "temporarily closed"})


def read_hsds(folder: Path, *, source: str, region: str | None, encoding: str | None = None,
              progress: Progress | None = None) -> ReadResult:
    """Read an HSDS datapackage folder, or a .zip of one."""
    result = ReadResult()
    package = read_package(folder, encoding, result)
    if package is None:
        return result
    layout, tables = package
    return _Reader(tables, layout, source, region, result).run(progress)


def _by_id(table: Table, key: str = "id") -> dict[str, Line]:
    index: dict[str, Line] = {}
    for line, row in table.rows:
        if row.get(key):
            index.setdefault(row[key], (line, row))
    return index


def _group(rows: Iterable[Line], key: str) -> dict[str, list[Line]]:
    grouped: dict[str, list[Line]] = defaultdict(list)
    for line, row in rows:
        if row.get(key):
            grouped[row[key]].append((line, row))
    return grouped


def _by_owner(table: Table) -> dict[tuple[str, ...], list[Line]]:
    """Schedule rows by what they belong to, most precise first: ("sal", id), ("both",
    service, location), ("service", id), ("location", id)."""
    grouped: dict[tuple[str, ...], list[Line]] = defaultdict(list)
    for line, row in table.rows:
        link, service, location = (row.get("service_at_location_id", ""),
                                   row.get("service_id", ""), row.get("location_id", ""))
        key = (("sal", link) if link else ("both", service, location) if service and location
               else ("service", service) if service else ("location", location) if location
               else None)
        if key is not None:
            grouped[key].append((line, row))
    return grouped


def _text(value: str) -> str:
    """One line of text: newlines written as the two characters \\n (as Miami's 211 export
    does) and runs of white space become single spaces."""
    return " ".join(value.replace("\\n", " ").replace("\\r", " ").replace("\\t", " ").split())


def _int(text: str) -> int | None:
    try:
        return int(float(text)) if text.strip() else None
    except ValueError:
        return None


class _Reader:
    """One service per service-at-location row, every table indexed once by its links."""

    def __init__(self, tables: dict[str, Table], layout: Layout, source: str,
                 region: str | None, result: ReadResult) -> None:
        self.tables = tables
        self.layout = layout
        self.checker = ServiceChecker(layout.link, source, region, result)
        self.organizations = _by_id(tables["organizations.csv"])
        self.services = _by_id(tables["services.csv"])
        self.locations = _by_id(tables["locations.csv"])
        self.addresses = _group(tables[layout.addresses].rows, "location_id")
        phones = [(line, row) for line, row in tables["phones.csv"].rows
                  if row.get("number") and row.get("type", "").lower() != "fax"]
        self.phones = {column: _group(phones, column)
                       for column in ("service_at_location_id", "service_id", "location_id")}
        languages = tables["languages.csv"].rows
        self.service_languages = _group(languages, "service_id")
        self.location_languages = _group(((line, row) for line, row in languages
                                          if not row.get("service_id")), "location_id")
        self.schedules = _by_owner(tables["schedules"])
        self.holidays = _by_owner(tables[layout.holidays]) if layout.holidays else {}
        self.terms = self._service_terms()
        self.sites = Counter(row.get("service_id", "") for _line, row in tables[layout.link].rows)

    def _service_terms(self) -> dict[str, list[Term]]:
        """The taxonomy terms of each service, (code, name), from every version's link table.
        The code is 3.x's `code` column, else the term's id where that is an AIRS code (the
        Open211 Miami export's taxonomy.csv: `RX-8450.5000,Medication Assisted ...`)."""
        names = {row["id"]: ((row.get("code") or "").strip() or
                             (row["id"] if airs_code(row["id"]) else ""),
                             _text(row.get("name") or row.get("term", "")))
                 for _line, row in self.tables[self.layout.terms].rows if row.get("id")}
        service_column, term_column = self.layout.term_link_columns
        found: dict[str, list[Term]] = defaultdict(list)
        for _line, row in self.tables[self.layout.term_links].rows:
            if row.get(term_column) in names:
                found[row.get(service_column, "")].append(names[row[term_column]])
        for _line, row in self.tables["services.csv"].rows:  # 1.0: services.taxonomy_ids
            for term in row.get("taxonomy_ids", "").split(","):
                if term.strip() in names:
                    found[row["id"]].append(names[term.strip()])
        return found

    def run(self, progress: Progress | None) -> ReadResult:
        rows = self.tables[self.layout.link].rows
        for done, (line, link) in enumerate(rows):
            if progress is not None and done % 1000 == 0:
                progress(done, len(rows))
            self._record(line, link)
        if progress is not None:
            progress(len(rows), len(rows))
        self.checker.file = self.layout.link
        return self.checker.finish()

    def _record(self, line: int, link: Row) -> None:
        """The references of one link row, and whether it is a deflection service at all."""
        checker = self.checker
        checker.file = self.layout.link
        link_id = link.get("id", "")
        checker.begin(line, link_id)
        if self.layout.link == "services.csv":  # 1.0: the service row names its location
            service: Line | None = (line, link)
        else:
            service = self._find(line, link, "service_id", self.services,
                                 N_("no service with id %(value)r"))
        if service is None:
            return
        row = service[1]
        name = _text(row.get("name", ""))
        needs = needs_of_service(name, (_text(row.get("alternate_name", "")),
                                        _text(row.get("description", ""))),
                                 self.terms.get(row["id"], ()))
        if not needs:
            checker.out_of_scope(name or link_id)
            return
        status = row.get("status", "").strip().lower()
        if status in _NOT_RUNNING:
            # An inactive or defunct service shown as a place to go is a definite wrong answer.
            checker.file = "services.csv"
            checker.warn(service[0], "status", N_("the service is %(value)r; left out"),
                         value=status)
            checker.left_out(name or link_id)
            return
        record_id = checker.unique_id(line, link_id)
        location = self._find(line, link, "location_id", self.locations,
                              N_("no location with id %(value)r"))
        if location is not None:
            self._build(line, record_id, service, location, needs)

    def _build(self, line: int, record_id: str | None, service: Line, location: Line,
               needs: frozenset[Need]) -> None:
        """Check the fields of a record in scope, and add it if nothing stops it."""
        checker = self.checker
        (service_line, row), (location_line, place) = service, location
        checker.file = "services.csv"
        name = checker.required(service_line, "name", _text(row.get("name", "")))
        checker.file = "locations.csv"
        point = checker.coordinate(location_line, place.get("latitude", ""),
                                   place.get("longitude", ""), ("latitude", "longitude"))
        zone, region = checker.place(*point) if point is not None else ("", "")
        link_id = "" if self.layout.link == "services.csv" else (record_id or "")
        keys = (link_id, row["id"], place["id"])
        website = self._website(service)
        phone = self._phone(*keys)
        languages = self._languages(row["id"], place["id"])
        opening_hours = self._hours(*keys)
        if record_id is None or name is None or point is None:
            return
        if self.sites[row["id"]] > 1 and place.get("name"):
            name = f"{name} ({_text(place['name'])})"
        checker.add(line, Service(
            id=record_id, name=name, categories=needs, lat=point[0], lon=point[1],
            address=self._address(place["id"]), phone=phone, website=website,
            description=_text(row.get("description", "")), opening_hours=opening_hours,
            languages=languages, min_age=_int(row.get("minimum_age", "")),
            max_age=_int(row.get("maximum_age", "")), source=checker.source, timezone=zone,
            region=region,
        ), file=self.layout.link)

    def _find(self, line: int, link: Row, column: str, index: dict[str, Line],
              msgid: str) -> Line | None:
        value = link.get(column, "")
        found = index.get(value)
        if found is None:
            self.checker.file = self.layout.link
            if value:
                self.checker.problem(line, column, msgid, value=value)
            else:
                self.checker.problem(line, column, N_("missing"))
        return found

    def _website(self, service: Line) -> str:
        """The service's url, else its organization's (url in 1.x and 2.0, website in 3.x)."""
        line, row = service
        if row.get("url"):
            self.checker.file = "services.csv"
            return self.checker.website(line, row["url"])
        organization = self.organizations.get(row.get("organization_id", ""))
        if organization is None:
            return ""
        line, row = organization
        self.checker.file = "organizations.csv"
        return self.checker.website(line, row.get("url") or row.get("website", ""))

    def _phone(self, link_id: str, service_id: str, location_id: str) -> str:
        """The first number of the service at this location, else the service's, else the
        location's; its extension kept."""
        for column, key in (("service_at_location_id", link_id), ("service_id", service_id),
                            ("location_id", location_id)):
            rows = self.phones[column].get(key) if key else None
            if rows:
                line, row = rows[0]
                extension = row.get("extension", "")
                self.checker.file = "phones.csv"
                return self.checker.phone(line, row["number"] + (f" ext. {extension}"
                                                                 if extension else ""), "number")
        return ""

    def _languages(self, service_id: str, location_id: str) -> tuple[str, ...]:
        rows = self.service_languages.get(service_id, []) + \
            self.location_languages.get(location_id, [])
        self.checker.file = "languages.csv"
        codes: list[str] = []
        for line, row in rows:
            text = next((row[c] for c in self.layout.language_columns if row.get(c)), "")
            codes.extend(c for c in self.checker.languages(line, [_text(text)])
                         if c not in codes)
        return tuple(codes)

    def _hours(self, link_id: str, service_id: str, location_id: str) -> str:
        """The schedule rows that belong most precisely to this service at this location."""
        keys = (("sal", link_id), ("both", service_id, location_id), ("service", service_id),
                ("location", location_id))
        weekly = next((self.schedules[k] for k in keys if k in self.schedules), [])
        holidays = next((self.holidays[k] for k in keys if k in self.holidays), [])
        if not weekly and not holidays:
            return ""
        weekly_file = self.tables["schedules"].file
        converted = convert(weekly, weekly_file, holidays, self.layout.holidays)
        for note in converted.notes:
            self.checker.file = note.file
            self.checker.warn(note.row, note.field_name, note.msgid, **note.params)
        if not converted.expression:
            return ""
        self.checker.file = weekly_file if weekly else self.layout.holidays
        return self.checker.opening_hours((weekly or holidays)[0][0], converted.expression)

    def _address(self, location_id: str) -> str:
        """The location's physical address (a postal one is not where a person goes)."""
        rows = [row for _line, row in self.addresses.get(location_id, [])
                if row.get("address_type", "").lower() in ("", "physical")]
        if not rows:
            return ""
        row = rows[0]
        parts = (row.get("address_1", ""), row.get("address_2", ""), row.get("city", ""),
                 f"{row.get('state_province', '')} {row.get('postal_code', '')}")
        return ", ".join(part for part in map(_text, parts) if part)
