"""How a result reads on a phone screen: distances and opening-hours phrases, per locale."""

from __future__ import annotations

from datetime import datetime

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.units import format_unit

from directory.hours import HoursStatus, State
from directory.i18n import Translator

METRES_PER_MILE = 1609.344
METRES_PER_FOOT = 0.3048


def format_distance(distance_m: float, locale: Locale | str, *, miles: bool = False) -> str:
    """"850 m" under a kilometre (to 10 m), "1.2 km" / "1,2 km" above, the locale's way.

    With `miles` (US agencies that ask for it): "500 ft" under a tenth of a mile (to 10 ft),
    "0.4 mi", "12 mi" above.
    """
    if miles:
        if distance_m < METRES_PER_MILE / 10:
            feet = round(distance_m / METRES_PER_FOOT, -1)
            return format_unit(feet, "length-foot", length="short", locale=locale)
        in_miles = distance_m / METRES_PER_MILE
        rounded = round(in_miles, 1) if in_miles < 10 else round(in_miles)
        return format_unit(rounded, "length-mile", length="short", locale=locale)
    if distance_m < 1000:
        metres = round(distance_m, -1) if distance_m >= 100 else round(distance_m)
        return format_unit(metres, "length-meter", length="short", locale=locale)
    kilometres = round(distance_m / 1000, 1) if distance_m < 10_000 else round(distance_m / 1000)
    return format_unit(kilometres, "length-kilometer", length="short", locale=locale)


def describe(status: HoursStatus, at: datetime, locale: Locale | str,
             translator: Translator) -> str:
    """A short phrase for a phone screen: "open until 18:00", "opens Mon 08:00", ..."""
    _ = translator.gettext
    change = status.next_change
    if status.state is State.UNKNOWN:
        return _("hours unknown, call first")
    if change is None:
        return _("open 24 hours") if status.state is State.OPEN else _("closed")
    here = at.astimezone(change.tzinfo) if at.tzinfo else at
    time_text = format_time(change, format="short", locale=locale)
    same_day = change.date() == here.date()
    if status.state is State.OPEN:
        if same_day:
            return _("open until %(time)s") % {"time": time_text}
        day_text = format_skeleton("EEE", change, locale=locale)
        return _("open until %(day)s %(time)s") % {"day": day_text, "time": time_text}
    if same_day:
        return _("opens at %(time)s") % {"time": time_text}
    day_text = format_skeleton("EEE", change, locale=locale)
    return _("opens %(day)s %(time)s") % {"day": day_text, "time": time_text}
