"""Reading a typed "lat,lon" pair: what the chat and the command line accept as a point."""

from __future__ import annotations

import pytest

from directory.geo import parse_lat_lon


@pytest.mark.parametrize(("text", "point"), [
    ("41.88,-87.63", (41.88, -87.63)),
    (" 41.8781 , -87.6298 ", (41.8781, -87.6298)),
    ("41.88;-87.63", (41.88, -87.63)),
    ("41.88; -87.63", (41.88, -87.63)),
    ("41.88 -87.63", (41.88, -87.63)),
    ("41.88, -87.63\n", (41.88, -87.63)),
    ("41,88", (41.0, 88.0)),  # a decimal comma is two whole degrees
    ("-33.87,151.21", (-33.87, 151.21)),
    ("0,0", (0.0, 0.0)),
    ("90,180", (90.0, 180.0)),
    ("-90,-180", (-90.0, -180.0)),
    ("41.88,-087.63", (41.88, -87.63)),
])
def test_points_people_type(text: str, point: tuple[float, float]) -> None:
    assert parse_lat_lon(text) == point


@pytest.mark.parametrize("text", [
    "90.5,0", "-91,0", "99,0", "0,180.01", "0,-181", "0,999",  # out of range
    "141,2", "041.88,-87.63", "41.88,-0087.6",  # more digits than degrees have
    "+41.88,-87.63", "41.,-87", "41.88,-87.", ".5,1", "4e1,5", "4_1,5", "nan,5", "inf,5",
    "41.88", "41.88,,-87.63", "41.88,-87.63,5", "41.88\t-87.63", "41 . 88,-87", "",
    "Chicago", "N LaSalle St 30",
])
def test_anything_else_is_not_a_point(text: str) -> None:
    assert parse_lat_lon(text) is None
