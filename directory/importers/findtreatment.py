"""FindTreatment.gov, SAMHSA's treatment locator: the JSON of `locator/exportsAsJson/v2`.

This module reads the export's shapes: one page `{page, totalPages, recordCount, rows}`, a
bare list of rows, or several pages in one list. It also decides what one facility is, and
what the locator's fields mean for a service. Whether a field is valid is
`ServiceChecker`'s decision; what a service name means is `directory.mapping`'s
(`FINDTREATMENT_SERVICES`, `FINDTREATMENT_FACILITY_TYPES`).

- Needs come from `typeFacility` (SA: treatment; OTP: moud and treatment) and the service
  names of each `services` entry (`f3`, split on ";"). A facility that meets no need (a
  mental-health clinic with no crisis, peer or substance use service) is listed as out of
  scope by name.
- Hours: the locator has none, so every service's hours are unknown ("call first"). No
  service name says that the facility itself is open 24 hours. "Hospital
  inpatient/24-hour hospital inpatient" and "Residential/24-hour residential" mean
  round-the-clock care for people admitted. "Psychiatric emergency walk-in services" says
  nothing about when. None of them gives 24/7.
- Ids: `frid` where the row has one. Otherwise "ft-" and 16 hex digits of the SHA-256 of
  the facility's name, street and ZIP code, so the same export gives the same ids again.
- One facility listed twice (an SA row and an MH row with the same name, street, ZIP and
  point) is one service with the needs of both. It takes the smaller of the rows' frids, so
  the order of the rows does not change its id. Its fields come from the first row that has
  them.
- Name: `name1`, and "name1 – name2" when `name2` adds something. Phone: `intake1`, else
  `phone`. JSON null is an empty field.

Rows in messages are counted from 1 in `rows`, through every page in the file.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from directory.i18n import N_, Message
from directory.importers.common import (
    NOT_READ,
    Problem,
    Progress,
    ReadResult,
    ServiceChecker,
    Severity,
    read_json,
)
from directory.mapping import needs_from_findtreatment
from directory.model import Need, Service

Row = Mapping[str, Any]
# Keys by which a bare list is recognised as the locator's rows.
_ROW_KEYS = frozenset({"name1", "latitude", "longitude", "frid", "typeFacility", "services"})
_EXPECTED = N_("not a FindTreatment.gov locator export: expected an object with a \"rows\" "
               "list (page, totalPages, recordCount, rows), a list of such pages, or a list "
               "of facility rows (name1, street1, latitude, longitude, services, ...)")


def read_findtreatment(path: Path, *, source: str, region: str | None,
                       encoding: str | None = None,
                       progress: Progress | None = None) -> ReadResult:
    result = ReadResult()
    document = read_json(path, result.problems, encoding)
    if document is NOT_READ:
        return result
    shape = _shape(document)
    if shape is None:
        result.problems.append(Problem(path.name, 1, "file", Message(_EXPECTED)))
        return result
    rows, reported = shape
    if not rows:
        result.problems.append(Problem(path.name, 1, "rows", Message(
            N_("no facilities in the export (the search found none?)"))))
        return result
    if reported > len(rows):
        result.problems.append(Problem(path.name, 1, "recordCount", Message(
            N_("the search found %(total)d facilities, this file holds %(found)d; the others "
               "are on pages not in the file and are not imported"),
            {"total": reported, "found": len(rows)}), Severity.WARNING))
    checker = ServiceChecker(path.name, source, region, result)
    done = 0
    for group in _facilities(checker, rows):
        _facility(checker, group)
        before, done = done, done + len(group)
        if progress is not None and done // 1000 > before // 1000:
            progress(done, len(rows))
    if progress is not None:
        progress(len(rows), len(rows))
    return checker.finish()


def _shape(document: Any) -> tuple[list[Any], int] | None:
    """(rows, recordCount the search reported or 0), or None if this is no locator export."""
    pages: list[Any]
    if isinstance(document, dict):
        pages = [document]
    elif isinstance(document, list) and document and all(
            isinstance(page, dict) and "rows" in page for page in document):
        pages = document
    elif isinstance(document, list):
        if document and not any(isinstance(row, dict) and _ROW_KEYS & row.keys()
                                for row in document):
            return None
        return document, 0
    else:
        return None
    if not all(isinstance(page.get("rows"), list) for page in pages):
        return None
    counts = [page.get("recordCount") for page in pages]
    reported = max((count for count in counts
                    if isinstance(count, int) and not isinstance(count, bool)), default=0)
    return [row for page in pages for row in page["rows"]], reported


def _facilities(checker: ServiceChecker, rows: list[Any]) -> list[list[tuple[int, Row]]]:
    """The rows grouped by facility (name, street, ZIP code, point), in order of first row."""
    groups: dict[tuple[str, ...], list[tuple[int, Row]]] = {}
    for number, row in enumerate(rows, start=1):
        if not isinstance(row, dict):
            checker.begin(number)
            checker.problem(number, "row", N_("not a facility (a JSON object) but %(value)s"),
                            value=json.dumps(row)[:60])
            continue
        key = (_fold(_name(row)), _fold(_text(row, "street1")), _fold(_text(row, "zip")),
               _coordinate_key(_text(row, "latitude")), _coordinate_key(_text(row, "longitude")))
        groups.setdefault(key, []).append((number, row))
    return list(groups.values())


def _facility(checker: ServiceChecker, group: list[tuple[int, Row]]) -> None:
    """Check one facility (its rows from the export) and add it as a service if valid."""
    first_row, first = group[0]
    needs: frozenset[Need] = frozenset().union(*(
        needs_from_findtreatment(_text(row, "typeFacility") or _text(row, "type_facility"),
                                 _service_names(row)) for _number, row in group))
    if not needs:
        checker.out_of_scope(_name(first) or f"{checker.file}:{first_row}")
        return
    frids = sorted(frid for frid in (_text(row, "frid").strip() for _n, row in group) if frid)
    record_id = frids[0] if frids else _derived_id(first)
    checker.begin(first_row, record_id)
    for number, row in group:
        if row.get("services") is not None and not isinstance(row["services"], list):
            checker.warn(number, "services", N_("not a list of services; ignored"))
    service_id = checker.unique_id(first_row, record_id)
    name = checker.required(first_row, "name1", _text(first, "name1"))
    point = checker.coordinate(first_row, _text(first, "latitude"), _text(first, "longitude"),
                               ("latitude", "longitude"))
    if service_id is None or name is None or point is None:
        return
    zone, region = checker.place(*point)
    phone_row, phone_field, phone_text = _first(group, "intake1", "phone")
    phone = checker.phone(phone_row, phone_text, phone_field)
    website_row, _field, website_text = _first(group, "website")
    website = checker.website(website_row, website_text)
    checker.add(first_row, Service(
        id=service_id, name=_name(first), categories=needs, lat=point[0], lon=point[1],
        address=_address(first), phone=phone, website=website, opening_hours="",
        source=checker.source, timezone=zone, region=region,
    ))


def _text(row: Row, key: str) -> str:
    """A field as text: null (or a list, an object) is empty; a number is written out."""
    value = row.get(key)
    if isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return repr(value)
    return ""


def _fold(text: str) -> str:
    return " ".join(text.split()).casefold()


def _name(row: Row) -> str:
    name1 = " ".join(_text(row, "name1").split())
    name2 = " ".join(_text(row, "name2").split())
    if name1 and name2 and name2.casefold() not in name1.casefold():
        return f"{name1} – {name2}"
    return name1


def _address(row: Row) -> str:
    state_zip = " ".join(part for part in (_text(row, "state").strip(),
                                           _text(row, "zip").strip()) if part)
    parts = (_text(row, "street1"), _text(row, "street2"), _text(row, "city"), state_zip)
    return ", ".join(" ".join(part.split()) for part in parts if part.strip())


def _coordinate_key(text: str) -> str:
    try:
        return f"{float(text):.5f}"
    except ValueError:
        return _fold(text)


def _derived_id(row: Row) -> str:
    key = "|".join((_fold(_name(row)), _fold(_text(row, "street1")), _fold(_text(row, "zip"))))
    return "ft-" + hashlib.sha256(key.encode()).hexdigest()[:16]


def _service_names(row: Row) -> list[str]:
    """The service names (or codes) listed in `services`, each entry's f3 split on ";"."""
    services = row.get("services")
    if not isinstance(services, list):
        return []
    names: list[str] = []
    for entry in services:
        if isinstance(entry, dict):
            names.extend(part for part in _text(entry, "f3").split(";") if part.strip())
    return names


def _first(group: list[tuple[int, Row]], *keys: str) -> tuple[int, str, str]:
    """(row, field, text) of the first non-empty of `keys`, trying each row in turn."""
    for key in keys:
        for number, row in group:
            if _text(row, key).strip():
                return number, key, _text(row, key)
    return group[0][0], keys[0], ""
