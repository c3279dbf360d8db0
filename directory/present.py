"""How a result reads on a phone screen: distances, opening-hours and live-status phrases,
per locale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_skeleton, format_time
from babel.units import format_unit

from directory.hours import HoursStatus, State
from directory.i18n import Translator
from directory.live import Live, LiveState

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


def describe_live(live: Live, at: datetime, locale: Locale | str, translator: Translator, *,
                  zone: str | tzinfo | None = None) -> str | None:
    """What staff or field reports say, for a phone screen: "full until 18:00", "3 beds free
    (updated 14:10)", "closed today (said by staff)", "open now (said by staff, updated
    14:10)", "reported closed recently: call first"; None when there is nothing to say.

    Times are shown in `zone` (the service's IANA zone; default: `at`'s own), as `describe`
    shows them; "today" is `at`'s day there.
    """
    _ = translator.gettext
    place = ZoneInfo(zone) if isinstance(zone, str) and zone else zone
    here = at.astimezone(place if isinstance(place, tzinfo) else (at.tzinfo or UTC))
    if live.state is None:
        return _("reported closed recently: call first") if live.reported_closed else None
    updated = format_time(live.updated.astimezone(here.tzinfo), format="short",
                          locale=locale) if live.updated else ""
    if live.state is LiveState.OPEN:
        if live.beds is not None:
            text = translator.ngettext("%(count)d bed free (updated %(time)s)",
                                       "%(count)d beds free (updated %(time)s)",
                                       live.beds) % {"count": live.beds, "time": updated}
        else:
            text = _("open now (said by staff, updated %(time)s)") % {"time": updated}
        if live.reported_closed:  # reported closed on a day after the staff said open
            text += " · " + _("reported closed since: call first")
        return text
    until = live.until.astimezone(here.tzinfo) if live.until else None
    today_ends = until is not None and until.time() == datetime.min.time() and (
        until.date() == here.date() + timedelta(days=1))
    if live.state is LiveState.CLOSED:
        if until is None or today_ends:
            return _("closed today (said by staff)")
        if until.date() == here.date():
            return _("closed until %(time)s (said by staff)") % {
                "time": format_time(until, format="short", locale=locale)}
        return _("closed until %(day)s %(time)s (said by staff)") % {
            "day": format_skeleton("EEE", until, locale=locale),
            "time": format_time(until, format="short", locale=locale)}
    if until is None or today_ends:
        return _("full today")
    if until.date() == here.date():
        return _("full until %(time)s") % {
            "time": format_time(until, format="short", locale=locale)}
    return _("full until %(day)s %(time)s") % {
        "day": format_skeleton("EEE", until, locale=locale),
        "time": format_time(until, format="short", locale=locale)}
