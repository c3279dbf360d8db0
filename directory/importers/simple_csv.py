"""The simple CSV a coordinator keeps in a spreadsheet: one service a row.

Columns, exactly: id,name,categories,lat,lon,address,phone,opening_hours,languages,walk_in,
website,description. `categories` and `languages` are separated by `;`; `walk_in` is
true/false (or empty: unknown); UTF-8 with a header row.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.common import Problem, ReadResult, ServiceChecker, decode
from directory.model import Service

COLUMNS = ("id", "name", "categories", "lat", "lon", "address", "phone", "opening_hours",
           "languages", "walk_in", "website", "description")


def read_csv(path: Path, *, source: str, region: str | None) -> ReadResult:
    result = ReadResult()
    text = decode(path, path.read_bytes(), result.problems)
    if text is None:
        return result
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [name.strip().lower() for name in next(reader)]
    except csv.Error as error:
        result.problems.append(Problem(path.name, 1, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return result
    missing = [name for name in COLUMNS if name not in header]
    extra = [name for name in header if name not in COLUMNS]
    for name in missing:
        result.problems.append(Problem(path.name, 1, name, Message(N_("column missing"))))
    for name in extra:
        result.problems.append(Problem(path.name, 1, name or "(empty)", Message(
            N_("unexpected column (expected exactly: %(columns)s)"),
            {"columns": ",".join(COLUMNS)})))
    if missing or extra:
        return result
    checker = ServiceChecker(path.name, source, region, result)
    last_line = reader.line_num
    rows = 0
    try:
        for record in reader:
            row, last_line = last_line + 1, reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            rows += 1
            if len(record) != len(header):
                result.problems.append(Problem(path.name, row, "file", Message(
                    N_("%(found)d fields, the header has %(expected)d"),
                    {"found": len(record), "expected": len(header)})))
                continue
            _row(checker, row, dict(zip(header, record, strict=True)))
    except csv.Error as error:
        result.problems.append(Problem(path.name, reader.line_num, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return result
    if rows == 0:
        result.problems.append(Problem(path.name, 1, "file", Message(
            N_("a header but no services"))))
    return checker.finish()


def _row(checker: ServiceChecker, row: int, cells: dict[str, str]) -> None:
    service_id = checker.unique_id(row, cells["id"])
    name = checker.required(row, "name", cells["name"])
    needs = checker.needs(row, "categories", cells["categories"].split(";"))
    point = checker.coordinate(row, cells["lat"], cells["lon"])
    walk_in_ok, walk_in = checker.walk_in(row, cells["walk_in"])
    languages = checker.languages(row, cells["languages"].split(";"))
    website = checker.website(row, cells["website"])
    opening_hours = checker.opening_hours(row, cells["opening_hours"])
    if (service_id is None or name is None or needs is None or point is None
            or not walk_in_ok or languages is None or website is None):
        return
    zone, region = checker.place(*point)
    checker.add(row, Service(
        id=service_id, name=name, categories=needs, lat=point[0], lon=point[1],
        address=" ".join(cells["address"].split()), phone=cells["phone"].strip(),
        website=website, description=cells["description"].strip(),
        opening_hours=opening_hours, languages=languages, walk_in=walk_in,
        source=checker.source, timezone=zone, region=region,
    ))
