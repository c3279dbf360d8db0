"""Finding the tables of an HSDS datapackage and telling its version by their names.

This module owns where the CSVs are (in the folder itself, in its `data/` folder, or where
datapackage.json's resources' `path`s point; a .zip of such a folder is read in place, never
extracted), which version the file names say it is, and reading each table once: its
header, its rows with their line numbers, the columns the reader cannot do without.

- 1.x: services_at_location.csv, regular_schedules.csv (or regular_schedule.csv) and
  holiday_schedules.csv, physical_addresses.csv, taxonomy.csv + services_taxonomy.csv;
  1.0 without a service-at-location table links through services.location_id;
- 2.0: services_at_location.csv, schedules.csv, taxonomy_terms.csv + service_attributes.csv;
- 3.x: service_at_location.csv, schedules.csv, addresses.csv, taxonomy_terms.csv +
  attributes.csv.
"""

from __future__ import annotations

import csv
import io
import json
import posixpath
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.common import Problem, ReadResult, Severity, decode

Row = dict[str, str]
Line = tuple[int, Row]  # (line, row)


def read_package(folder: Path, encoding: str | None,
                 result: ReadResult) -> tuple[Layout, dict[str, Table]] | None:
    """The layout and tables of a folder or zip; None with file-level errors in `result`."""
    try:
        with Package(folder, result.problems) as package:
            layout = _layout(package, encoding, result)
            if layout is None:
                return None
            result.version = layout.version
            tables = _read_tables(package, layout, encoding, result)
    except (OSError, zipfile.BadZipFile) as error:
        result.problems.append(Problem(folder.name, 1, "file", Message(
            N_("cannot be read as a folder or a zip file: %(detail)s"), {"detail": str(error)})))
        return None
    return None if tables is None else (layout, tables)


@dataclass(frozen=True)
class Layout:
    """The file names of one HSDS version."""

    version: str
    link: str  # the service-at-location table (services.csv in 1.0 without one)
    schedules: tuple[str, ...]
    holidays: str
    addresses: str
    terms: str
    term_links: str
    term_link_columns: tuple[str, str]  # (service column, term column)
    language_columns: tuple[str, ...]


_V1 = Layout("HSDS 1.x", "services_at_location.csv",
             ("regular_schedules.csv", "regular_schedule.csv"), "holiday_schedules.csv",
             "physical_addresses.csv", "taxonomy.csv", "services_taxonomy.csv",
             ("service_id", "taxonomy_id"), ("language",))
_V2 = Layout("HSDS 2.0", "services_at_location.csv", ("schedules.csv",), "",
             "physical_addresses.csv", "taxonomy_terms.csv", "service_attributes.csv",
             ("service_id", "taxonomy_term_id"), ("language",))
_V3 = Layout("HSDS 3.x", "service_at_location.csv", ("schedules.csv",), "",
             "addresses.csv", "taxonomy_terms.csv", "attributes.csv",
             ("link_id", "taxonomy_term_id"), ("code", "name"))
_V1_ONLY = ("regular_schedules.csv", "regular_schedule.csv", "holiday_schedules.csv",
            "taxonomy.csv", "services_taxonomy.csv")
_V2_ONLY = ("schedules.csv", "taxonomy_terms.csv", "service_attributes.csv")
# The columns without which a table cannot be read: an error for the core tables...
_REQUIRED = {"organizations.csv": ("id",), "services.csv": ("id", "name"),
             "locations.csv": ("id", "latitude", "longitude"),
             "service_at_location.csv": ("id", "service_id", "location_id"),
             "services_at_location.csv": ("id", "service_id", "location_id")}
# ...and for the optional ones, one of these, else a warning and the table is not read.
_USED = {"phones.csv": ("number",), "languages.csv": ("language", "code", "name"),
         "taxonomy.csv": ("name",), "taxonomy_terms.csv": ("name", "term")}


class Package:
    """The files of a datapackage, in a folder or a zip, found where exports put them."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.label = path.name
        self._zip = zipfile.ZipFile(path) if path.is_file() else None
        self._root = path
        if self._zip is not None:
            names = [n for n in self._zip.namelist() if not n.endswith("/")]
            self._files = {name.lower(): name for name in names}
            self.base = _zip_base(names)
        else:
            if not path.is_dir():
                raise FileNotFoundError(f"no such folder: {path}")
            self._files = {}
            for directory in (path, path / "data"):
                if directory.is_dir():
                    for entry in directory.iterdir():
                        if entry.is_file():
                            relative = entry.relative_to(path).as_posix()
                            self._files[relative.lower()] = relative
            self.base = ""
        self._declared: dict[str, str] = {}  # file name -> where datapackage.json puts it
        self.declared_version = ""  # datapackage.json's "version" (the template says "1.0")
        self._read_datapackage(problems)

    def __enter__(self) -> Package:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self._zip is not None:
            self._zip.close()

    def where(self) -> tuple[str, str]:
        """The places looked in, for messages: the folder and its data/ folder."""
        folder = posixpath.join(self.label, self.base).rstrip("/") + "/"
        return folder, folder + "data/"

    def find(self, name: str) -> str | None:
        for candidate in (self._declared.get(name.lower()), posixpath.join(self.base, name),
                          posixpath.join(self.base, "data", name)):
            if candidate and candidate.lower() in self._files:
                return self._files[candidate.lower()]
        return None

    def read(self, member: str) -> bytes:
        if self._zip is not None:
            return self._zip.read(member)
        return (self._root / member).read_bytes()

    def _exists(self, member: str) -> bool:
        if self._zip is not None:
            return member.lower() in self._files
        return (self._root / member).is_file()

    def _read_datapackage(self, problems: list[Problem]) -> None:
        member = self._files.get(posixpath.join(self.base, "datapackage.json").lower())
        if member is None:
            return
        try:
            document = json.loads(self.read(member))
        except ValueError as error:
            problems.append(Problem("datapackage.json", 1, "file", Message(
                N_("not valid JSON (%(detail)s); the paths it gives are not used"),
                {"detail": str(error)}), Severity.WARNING))
            return
        if not isinstance(document, dict):
            return
        self.declared_version = str(document.get("version", ""))
        resources = document.get("resources")
        for resource in resources if isinstance(resources, list) else []:
            path = resource.get("path") if isinstance(resource, dict) else None
            if not isinstance(path, str) or "://" in path or path.startswith("/"):
                continue
            relative = posixpath.normpath(posixpath.join(self.base, path))
            if not relative.startswith("..") and self._exists(relative):
                self._files.setdefault(relative.lower(), relative)
                self._declared[posixpath.basename(relative).lower()] = relative


def _zip_base(names: list[str]) -> str:
    """The folder of a zip the package is in: where datapackage.json is, else the one
    folder everything is in (a zipped folder), else the top."""
    packages = sorted((n for n in names if posixpath.basename(n) == "datapackage.json"),
                      key=lambda n: n.count("/"))
    if packages:
        return posixpath.dirname(packages[0])
    tops = {name.split("/", 1)[0] for name in names}
    if len(tops) == 1 and all("/" in name for name in names) and tops != {"data"}:
        return tops.pop()
    return ""


def _layout(package: Package, encoding: str | None, result: ReadResult) -> Layout | None:
    """The version, told by the file names; None with a file-level error if not one."""
    folder, data = package.where()
    missing = False
    for name in ("organizations.csv", "services.csv", "locations.csv"):
        if package.find(name) is None:
            result.problems.append(Problem(package.label, 1, "file", Message(
                N_("no %(file)s in %(folder)s or %(data)s"),
                {"file": name, "folder": folder, "data": data})))
            missing = True
    if package.find("service_at_location.csv"):
        return None if missing else _V3
    if package.find("services_at_location.csv"):
        if missing:
            return None
        if any(package.find(name) for name in _V1_ONLY):
            return _V1
        if any(package.find(name) for name in _V2_ONLY):
            return _V2
        return _V2 if package.declared_version.startswith("2") else _V1
    services = package.find("services.csv")
    if services is not None and "location_id" in _header(package, services, encoding):
        return None if missing else replace(_V1, link="services.csv")
    result.problems.append(Problem(package.label, 1, "file", Message(
        N_("no service_at_location.csv (HSDS 3.x) or services_at_location.csv (HSDS 1.x, "
           "2.0) in %(folder)s or %(data)s, and services.csv has no location_id column "
           "(HSDS 1.0)"), {"folder": folder, "data": data})))
    return None


def _header(package: Package, member: str, encoding: str | None) -> list[str]:
    text = decode(Path(member), package.read(member), [], encoding) or ""
    first = next(csv.reader(io.StringIO(text, newline="")), [])
    return [name.strip().lower() for name in first]


@dataclass
class Table:
    file: str  # the name problems give: the file's own name
    columns: tuple[str, ...]
    rows: list[Line]


def _read_tables(package: Package, layout: Layout, encoding: str | None,
                 result: ReadResult) -> dict[str, Table] | None:
    """Every table the reader uses, by its name in `layout` (missing optional ones empty)."""
    names = ("organizations.csv", "services.csv", "locations.csv", layout.link,
             *layout.schedules, layout.holidays, layout.addresses, layout.terms,
             layout.term_links, "phones.csv", "languages.csv")
    tables: dict[str, Table] = {}
    for name in dict.fromkeys(n for n in names if n):
        member = package.find(name)
        required = _REQUIRED.get(name, ())
        if layout.link == "services.csv" and name == "services.csv":
            required = ("id", "name", "location_id")
        table = None
        if member is not None:
            table = _read_table(name, package.read(member), required, encoding, result)
        tables[name] = table or Table(name, (), [])
    if result.file_errors:
        return None
    if not tables[layout.link].rows:
        result.problems.append(Problem(layout.link, 1, "file", Message(
            N_("a header but no services"))))
        return None
    schedules = next((n for n in layout.schedules if tables[n].rows), layout.schedules[0])
    tables["schedules"] = tables[schedules]
    return tables


def _columns_ok(name: str, header: list[str], required: tuple[str, ...],
                result: ReadResult) -> bool:
    missing = [column for column in required if column not in header]
    for column in missing:
        result.problems.append(Problem(name, 1, column, Message(N_("column missing"))))
    used = _USED.get(name, ())
    if used and not set(used) & set(header):
        result.problems.append(Problem(name, 1, "/".join(used), Message(
            N_("column missing; this table is not read")), Severity.WARNING))
        return False
    return not missing


def _read_table(name: str, data: bytes, required: tuple[str, ...], encoding: str | None,
                result: ReadResult) -> Table | None:
    if not required and not data.strip(b" \t\r\n\x00"):
        return None  # an empty optional table is no table
    text = decode(Path(name), data, result.problems, encoding)
    if text is None:
        return None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [column.strip().lower() for column in next(reader, [])]
        if not _columns_ok(name, header, required, result):
            return None
        rows: list[Line] = []
        last_line = reader.line_num
        for record in reader:
            line, last_line = last_line + 1, reader.line_num
            if any(record):
                rows.append((line, dict(zip(header, map(str.strip, record), strict=False))))
    except csv.Error as error:
        result.problems.append(Problem(name, reader.line_num, "file", Message(
            N_("not a CSV file: %(detail)s"), {"detail": str(error)})))
        return None
    return Table(name, tuple(header), rows)

