"""The service directory: services, importers, opening hours and nearest-open search.

This package knows nothing about Telegram. Its public surface is re-exported here; the
modules behind it are private to the package.
"""

from directory.gazetteer import Place
from directory.geo import parse_lat_lon
from directory.hours import HoursStatus, State
from directory.live import Live, LiveState
from directory.model import NEEDS, Need, Service
from directory.search import Match, brute_force_nearest, nearest
from directory.store import Directory, open_directory

__all__ = [
    "NEEDS",
    "Directory",
    "HoursStatus",
    "Live",
    "LiveState",
    "Match",
    "Need",
    "Place",
    "Service",
    "State",
    "brute_force_nearest",
    "nearest",
    "open_directory",
    "parse_lat_lon",
]
