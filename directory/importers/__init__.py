"""Reading directories from files: simple CSV, Open Referral HSDS (1.x, 2.0, 3.x), OSM
GeoJSON (or a raw Overpass answer) and the US federal treatment locator's JSON.

Every reader returns a `ReadResult` (services, problems located as FILE:ROW: FIELD, the
records left out as meeting no need) and touches no database: storing is the caller's
decision, all or nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.common import Problem, Progress, ReadResult, Severity
from directory.importers.findtreatment import read_findtreatment
from directory.importers.hsds import read_hsds
from directory.importers.osm import read_osm
from directory.importers.simple_csv import COLUMNS, read_csv
from directory.model import Need

FORMATS = ("csv", "hsds", "osm", "findtreatment")


def detect_format(path: Path) -> str:
    """The format of a path: a folder or a zip is HSDS, JSON is told apart by its shape,
    else CSV."""
    if path.is_dir() or path.suffix.lower() == ".zip":
        return "hsds"
    if path.suffix.lower() in (".geojson", ".json"):
        return "findtreatment" if _looks_like_findtreatment(path) else "osm"
    return "csv"


def _looks_like_findtreatment(path: Path) -> bool:
    """The locator's export: a page with a list of `rows`, a list of such pages, or a bare
    list of rows with its `name1` and `latitude` (OSM has features or elements)."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1 << 16)
    except OSError:
        return False
    if b'"rows"' not in head and b'"name1"' not in head:
        return False
    try:
        document = json.loads(path.read_bytes())
    except (ValueError, OSError):
        return False
    if isinstance(document, list) and document and isinstance(document[0], dict):
        first = document[0]
        return isinstance(first.get("rows"), list) or ("name1" in first and "latitude" in first)
    return isinstance(document, dict) and isinstance(document.get("rows"), list) \
        and "features" not in document and "elements" not in document


def default_source(path: Path) -> str:
    """A source is named after its file or folder unless --source says otherwise."""
    return path.stem if path.is_file() else path.name


def read_path(path: Path, *, format: str | None = None, region: str | None = None,
              source: str | None = None, encoding: str | None = None,
              progress: Progress | None = None, needs: Iterable[Need] = ()) -> ReadResult:
    """Read a directory file or folder in the given (or detected) format; `needs` (what the
    coordinator knows every service of the source meets) are added to each service read."""
    kind = format or detect_format(path)
    name = source or default_source(path)
    readers = {"hsds": read_hsds, "osm": read_osm, "findtreatment": read_findtreatment,
               "csv": read_csv}
    return add_needs(readers[kind](path, source=name, region=region, encoding=encoding,
                                   progress=progress), needs)


def add_needs(result: ReadResult, needs: Iterable[Need]) -> ReadResult:
    """The services of `result` with `needs` added to the needs read (in place). Records read
    as meeting no need stay out of scope: this adds to what was read, it reads nothing."""
    extra = frozenset(needs)
    if extra:
        result.services = [replace(service, categories=service.categories | extra)
                           for service in result.services]
    return result


def read_paths(paths: Sequence[Path], *, format: str, region: str | None, source: str,
               encoding: str | None = None, progress: Progress | None = None,
               needs: Iterable[Need] = ()) -> ReadResult:
    """Several files of one format as one source, `needs` added to every service.

    The same OpenStreetMap object in two files (a doctor exported again as a dentist) is one
    service with the needs of both; in other formats an id used twice is an error.
    """
    if len(paths) == 1:
        return read_path(paths[0], format=format, region=region, source=source,
                         encoding=encoding, progress=progress, needs=needs)
    merged = ReadResult()
    first: dict[str, tuple[int, str, int]] = {}  # id -> (index, file, row)
    for path in paths:
        part = read_path(path, format=format, region=region, source=source,
                         encoding=encoding, progress=progress)
        merged.version = merged.version or part.version
        merged.problems.extend(part.problems)
        merged.out_of_scope.extend(part.out_of_scope)
        merged.left_out.extend(part.left_out)
        merged.names.update(part.names)
        for service, row, file in zip(part.services, part.rows, part.files, strict=True):
            seen = first.get(service.id)
            if seen is None:
                first[service.id] = (len(merged.services), file, row)
                merged.services.append(service)
                merged.rows.append(row)
                merged.files.append(file)
            elif format == "osm":
                index = seen[0]
                kept = merged.services[index]
                merged.services[index] = replace(
                    kept, categories=kept.categories | service.categories)
            else:
                merged.problems.append(Problem(file, row, "id", Message(
                    N_("duplicate id %(value)r, first used in %(file)s on row %(first)d"),
                    {"value": service.id, "file": seen[1], "first": seen[2]}),
                    record=f"{file}:{row}"))
    return add_needs(merged, needs)


__all__ = ["COLUMNS", "FORMATS", "Problem", "Progress", "ReadResult", "Severity", "add_needs",
           "default_source", "detect_format", "read_path", "read_paths"]
