"""The simple CSV a coordinator keeps in a spreadsheet: one service a row.

Columns: id,name,categories,lat,lon (required) and address,phone,opening_hours,languages,
walk_in,website,description (optional), in any order; `latitude`/`longitude`/`lng`, `needs`
and `hours` are read as their Deflect names. `categories` and `languages` are separated by
`;` (or `,` inside a quoted cell); `walk_in` is true/false (or empty: unknown). Spreadsheets
save with a BOM, with `;` or a tab between cells (a European Excel, "Unicode text"), in
cp1252 or UTF-16: all are read; other columns are ignored with one warning.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.common import (
    Problem,
    Progress,
    ReadResult,
    ServiceChecker,
    Severity,
    decode,
)
from directory.model import Service

COLUMNS = ("id", "name", "categories", "lat", "lon", "address", "phone", "opening_hours",
           "languages", "walk_in", "website", "description")
REQUIRED = ("id", "name", "categories", "lat", "lon")
ALIASES = {"latitude": "lat", "longitude": "lon", "lng": "lon", "long": "lon",
           "needs": "categories", "hours": "opening_hours"}
_DELIMITERS = (",", ";", "\t")


def read_csv(path: Path, *, source: str, region: str | None, encoding: str | None = None,
             progress: Progress | None = None) -> ReadResult:
    result = ReadResult()
    text = decode(path, path.read_bytes(), result.problems, encoding)
    if text is None:
        return result
    if "\r" in text and "\n" not in text:  # classic Mac line ends (Excel's "CSV (Macintosh)")
        text = text.replace("\r", "\n")
    if "\x00" in text:
        result.problems.append(Problem(path.name, text[: text.index("\x00")].count("\n") + 1,
                                       "file", Message(N_(
            "not a CSV file: it contains NUL characters (UTF-16 text read as another "
            "encoding? try --encoding utf-16)"))))
        return result
    delimiter = _delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        header = [ALIASES.get(name.strip().lower(), name.strip().lower())
                  for name in next(reader)]
    except (csv.Error, StopIteration) as error:
        result.problems.append(Problem(path.name, 1, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return result
    if not _header_ok(path, header, result):
        return result
    position = {name: header.index(name) for name in COLUMNS if name in header}
    total = text.count("\n")
    checker = ServiceChecker(path.name, source, region, result)
    last_line = reader.line_num
    rows = 0
    try:
        for record in reader:
            row, last_line = last_line + 1, reader.line_num
            if progress is not None and rows % 1000 == 0:
                progress(last_line, total)
            if not any(cell.strip() for cell in record):
                continue
            rows += 1
            cells = {name: record[index] if index < len(record) else ""
                     for name, index in position.items()}
            checker.begin(row, cells["id"])
            if len(record) > len(header) and any(c.strip() for c in record[len(header):]):
                checker.problem(row, "file", N_("%(found)d fields, the header has "
                                                "%(expected)d"),
                                found=len(record), expected=len(header))
                continue
            _row(checker, row, cells)
    except csv.Error as error:
        result.problems.append(Problem(path.name, reader.line_num, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return result
    if progress is not None:
        progress(total, total)
    if rows == 0:
        result.problems.append(Problem(path.name, 1, "file", Message(
            N_("a header but no services"))))
    return checker.finish()


def _delimiter(text: str) -> str:
    """The cell separator that splits the header into the most of our column names."""
    first = text.split("\n", 1)[0]

    def known(delimiter: str) -> int:
        try:
            cells = next(csv.reader([first], delimiter=delimiter), [])
        except csv.Error:  # the reader itself then names the line
            return 0
        return sum(1 for cell in cells
                   if ALIASES.get(cell.strip().lower(), cell.strip().lower()) in COLUMNS)

    return max(_DELIMITERS, key=lambda d: (known(d), d == ","))


def _header_ok(path: Path, header: list[str], result: ReadResult) -> bool:
    missing = [name for name in REQUIRED if name not in header]
    for name in missing:
        result.problems.append(Problem(path.name, 1, name, Message(N_("column missing"))))
    if missing and len(header) == 1 and re.search(r"[;,\t|]", header[0]):
        result.problems.append(Problem(path.name, 1, "file", Message(N_(
            "the header is one cell; the file may use another separator (, ; and tab are "
            "read)"))))
    seen: set[str] = set()
    for name in header:
        if name in COLUMNS and name in seen:
            result.problems.append(Problem(path.name, 1, name, Message(
                N_("column appears twice"))))
            return False
        seen.add(name)
    extra = [name or "(empty)" for name in header if name not in COLUMNS]
    if extra and not missing:
        result.problems.append(Problem(path.name, 1, ",".join(extra), Message(
            N_("not a Deflect column; ignored (the columns read are: %(columns)s)"),
            {"columns": ",".join(COLUMNS)}), Severity.WARNING))
    return not missing


def _row(checker: ServiceChecker, row: int, cells: dict[str, str]) -> None:
    get = cells.get
    service_id = checker.unique_id(row, cells["id"])
    name = checker.required(row, "name", cells["name"])
    needs = checker.needs(row, "categories", _split(cells["categories"]))
    point = checker.coordinate(row, cells["lat"], cells["lon"])
    zone, region = checker.place(*point) if point is not None else ("", "")
    walk_in = checker.walk_in(row, get("walk_in", ""))
    languages = checker.languages(row, _split(get("languages", "")))
    website = checker.website(row, get("website", ""))
    phone = checker.phone(row, get("phone", ""))
    opening_hours = checker.opening_hours(row, get("opening_hours", ""))
    if service_id is None or name is None or needs is None or point is None:
        return
    checker.add(row, Service(
        id=service_id, name=name, categories=needs, lat=point[0], lon=point[1],
        address=" ".join(get("address", "").split()), phone=phone,
        website=website, description=get("description", "").strip(),
        opening_hours=opening_hours, languages=languages, walk_in=walk_in,
        source=checker.source, timezone=zone, region=region,
    ))


def _split(text: str) -> list[str]:
    return re.split(r"[;,]", text)
