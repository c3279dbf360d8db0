"""Reading directories from files: simple CSV, Open Referral HSDS 3.x and OSM GeoJSON.

Every reader returns a `ReadResult` (services, problems located as FILE:ROW: FIELD) and
touches no database: storing is the caller's decision, all or nothing.
"""

from __future__ import annotations

from pathlib import Path

from directory.importers.common import Problem, ReadResult, Severity
from directory.importers.hsds import read_hsds
from directory.importers.osm import read_osm
from directory.importers.simple_csv import COLUMNS, read_csv

FORMATS = ("csv", "hsds", "osm")


def detect_format(path: Path) -> str:
    if path.is_dir():
        return "hsds"
    if path.suffix.lower() in (".geojson", ".json"):
        return "osm"
    return "csv"


def default_source(path: Path) -> str:
    """A source is named after its file or folder unless --source says otherwise."""
    return path.stem if path.is_file() else path.name


def read_path(path: Path, *, format: str | None = None, region: str | None = None,
              source: str | None = None) -> ReadResult:
    """Read a directory file or folder in the given (or detected) format."""
    kind = format or detect_format(path)
    name = source or default_source(path)
    if kind == "hsds":
        return read_hsds(path, source=name, region=region)
    if kind == "osm":
        return read_osm(path, source=name, region=region)
    return read_csv(path, source=name, region=region)


__all__ = ["COLUMNS", "FORMATS", "Problem", "ReadResult", "Severity", "default_source",
           "detect_format", "read_path"]
