"""Reading an `opening_hours` expression as the OpenStreetMap specification means it.

opening-hours-py evaluates the expressions, but reads some of them differently from the
specification (https://wiki.openstreetmap.org/wiki/Key:opening_hours/specification) and from
its reference implementation, opening_hours.js. Before evaluation this module cuts an
expression into its rules and rewrites them so that the library's answer is the
specification's, or says why a part can only be answered "unknown":

- A rule whose modifier is only a comment (`"by appointment"`, `Mo-Fr "on request"`) is
  *unknown*, not open: the comment gets an explicit `unknown`.
- `, ` separates two rules only after a rule that ends with a time, a state or a comment
  (`Mo-Fr 08:00-12:00, We 14:00-18:00`); elsewhere it is a list inside one selector
  (`Mo, Th 08:00-12:00` is Monday and Thursday; `09:00-12:00, 14:00-18:00` one time list).
- A fallback rule (`A || B`) applies at every moment at which the rules before it leave the
  place closed, not only on the days they do not name: each fallback rule is a layer of its
  own, evaluated where the layers before it answer closed.
- `PH` and `SH` are replaced by explicit dates from python-holidays (`holidays`), including
  the forms `PH Mo` (a holiday on a Monday), `Jan PH` (holidays in January), `PH +1 day`
  (the day after a holiday) and `Sa,PH`; school holidays where `holidays` has a school
  calendar for the region (the German states, from the KMK's tables).
- Open ends (`18:00+`) are unknown from their start, as opening_hours.js reads them.

Anything else the rewrite cannot express exactly makes the whole expression unknown, with
the reason, so that a status is never definitely wrong.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from directory.i18n import N_, Message

_DAY = r"(?:Mo|Tu|We|Th|Fr|Sa|Su)"
_OFFSET = r"(?:\s*[+-]\s*\d+\s*days?)"
_WEEKDAY = rf"{_DAY}(?:\[[-0-9, ]+\])?(?:-{_DAY})?{_OFFSET}?"
_HOLIDAY = rf"(?:PH|SH){_OFFSET}?"
_ITEM = rf"(?:{_HOLIDAY}|{_WEEKDAY})"
# The weekday selector of a rule: a list of weekdays and holidays, and after a list of
# holidays only, a list of weekdays that the holidays must fall on (`PH Mo-Fr`).
_DAYS = re.compile(rf"(?<![\w\]])(?P<union>{_ITEM}(?:,{_ITEM})*)"
                   rf"(?:\s+(?P<only>{_WEEKDAY}(?:,{_WEEKDAY})*))?(?![\w\[])")
_HOLIDAY_WORD = re.compile(r"\b(?:PH|SH)\b")
_HOLIDAY_ITEM = re.compile(r"^(?P<kind>PH|SH)\s*(?:(?P<sign>[+-])\s*(?P<n>\d+)\s*days?)?$")
_MODIFIER = re.compile(r"(?:^|\s)(?P<word>open|closed|off|unknown)$", re.I)
# What a rule ends with when a following `, ` starts another rule (opening_hours.js's reading).
_ENDS_WITH_TIME = re.compile(r"(?:\d\d?:\d\d\+?|\+|\)|sunrise|sunset|dawn|dusk|24/7)$", re.I)
_ENDS_WITH_STATE = re.compile(r"(?:\bopen|\bclosed|\boff|\bunknown|\")$", re.I)
_STARTS_WITH_TIME = re.compile(r"^\s*(?:\d|\(|sunrise|sunset|dawn|dusk)", re.I)
_RANGE = re.compile(r"(\d\d?):(\d\d)\s*-\s*(\d\d?):(\d\d)")
_EASTER_RANGE = re.compile(r"-\s*easter\b|\beaster\s*-", re.I)
_DAY_OFFSET = re.compile(r"[+-]\s*\d+\s*days?", re.I)
_PLAIN_WEEKDAY = rf"{_DAY}(?:-{_DAY})?"
_ONLY_WEEKDAYS = re.compile(rf"^{_PLAIN_WEEKDAY}(?:,{_PLAIN_WEEKDAY})*$")
_TIME_START = re.compile(r"(?:^|\s)(?=\d\d?:\d\d|\(|sunrise|sunset|dawn|dusk)", re.I)
_ALL_DAYS = frozenset(range(7))
_SUN = re.compile(r"\b(?:sunrise|sunset|dawn|dusk)\b", re.I)
_OPEN_END = re.compile(r"\d\d?:\d\d\s*\+|(?:sunrise|sunset|dawn|dusk|\))\s*\+", re.I)
WEEKDAYS = ("Mo", "Tu", "We", "Th", "Fr", "Sa", "Su")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
NEVER = "1900 Jan 01"  # a date selector that matches no day we will ever be asked about


@dataclass(frozen=True)
class HolidayRule:
    """A rule with PH or SH in its weekday selector, to be written out with dates.

    `items` are (kind, day offset) pairs; `only` the weekdays (0 = Monday) the (shifted)
    holiday must fall on; `wide` the selectors before the weekday selector (`Jan`, `2025`),
    which the dates must also match; `weekdays` the plain weekdays of the same list, kept
    as a rule of their own; `rest` the time selector, modifier and comment.
    """

    items: tuple[tuple[str, int], ...]
    only: frozenset[int] | None
    wide: str
    weekdays: str
    rest: str


@dataclass(frozen=True)
class Piece:
    """One rule as it is handed to opening-hours-py: text, or dates still to write."""

    separator: str  # "" for the first rule of a layer, ";" or ","
    text: str = ""
    holiday: HolidayRule | None = None


@dataclass(frozen=True)
class Reading:
    """An expression cut into layers (the rules before the first `||`, then each fallback
    rule), and what of it can only be answered unknown, and why."""

    layers: tuple[tuple[Piece, ...], ...]
    # `off` rules after a fallback rule, written as `open`: closed wherever they match.
    closing: tuple[Piece, ...] = ()
    unsupported: tuple[Message, ...] = ()  # non-empty: the whole expression is unknown
    partly_unknown: tuple[Message, ...] = ()  # answered unknown at some moments, and why
    kinds: frozenset[str] = field(default_factory=frozenset)  # "PH", "SH" where used
    sun: bool = False  # uses sunrise, sunset, dawn or dusk


def split_rules(expression: str) -> list[tuple[str, str]]:
    """(separator, rule) pairs, reading `, ` as opening_hours.js does; never cuts a comment.

    A comma that does not separate rules loses its space, so that opening-hours-py reads it
    as the list it is (`Mo, Th 08:00` becomes `Mo,Th 08:00`).
    """
    pieces: list[tuple[str, str]] = []
    separator, current = "", ""
    in_quote = False
    i = 0
    while i < len(expression):
        char = expression[i]
        if char == '"':
            in_quote = not in_quote
        elif not in_quote:
            found = ""
            if char == ";":
                found = ";"
            elif expression.startswith("||", i):
                found = "||"
            elif char == "," and expression[i + 1 : i + 2].isspace():
                before, rest = current.rstrip(), expression[i + 1 :]
                if _ENDS_WITH_STATE.search(before) or (
                        _ENDS_WITH_TIME.search(before) and not _STARTS_WITH_TIME.match(rest)):
                    found = ","
                else:  # a list inside a selector: keep the comma, drop the space
                    current = current.rstrip() + ","
                    i += 1
                    while i < len(expression) and expression[i].isspace():
                        i += 1
                    continue
            if found:
                pieces.append((separator, current.strip()))
                separator, current = found, ""
                i += len(found)
                continue
        current += char
        i += 1
    pieces.append((separator, current.strip()))
    return pieces


def _split_modifier(rule: str) -> tuple[str, str, str] | None:
    """(selectors, modifier, comment) of a rule; None where a comment is not at its end."""
    comment = ""
    body = rule.strip()
    if body.count('"') not in (0, 2) or ('"' in body and not body.endswith('"')):
        return None
    if body.endswith('"'):
        start = body.index('"')
        body, comment = body[:start].rstrip(), body[start:]
    match = _MODIFIER.search(body)
    if match is None:
        return body, "", comment
    return body[: match.start()].rstrip(), match["word"].lower(), comment


def _holiday_rule(selectors: str, rest: str) -> HolidayRule | None:
    """The PH/SH parts of a rule's selectors; None where they are not in a form we read."""
    for match in _DAYS.finditer(selectors):
        union = match["union"].split(",")
        if not any(_HOLIDAY_WORD.search(item) for item in union):
            continue
        wide, after = selectors[: match.start()].strip(), selectors[match.end() :].strip()
        if _HOLIDAY_WORD.search(wide) or _HOLIDAY_WORD.search(after):
            return None
        items: list[tuple[str, int]] = []
        weekdays: list[str] = []
        for item in (part.strip() for part in union):
            parsed = _HOLIDAY_ITEM.match(item)
            if parsed is None:
                weekdays.append(item)
                continue
            offset = int(parsed["n"] or 0) * (-1 if parsed["sign"] == "-" else 1)
            items.append((parsed["kind"], offset))
        only = _weekday_set(match["only"]) if match["only"] else None
        if match["only"] and (weekdays or only is None):
            return None  # `Sa,PH Mo`: not a form of the specification
        if any(offset for _, offset in items) and wide:
            return None  # `Jan PH +1 day`: does the month select the holiday or the day after?
        wide = wide.rstrip(":").strip()
        body = " ".join(part for part in (after, rest) if part)
        return HolidayRule(tuple(items), only, wide, ",".join(weekdays), body)
    return None


def _weekday_set(text: str) -> frozenset[int] | None:
    days: set[int] = set()
    for item in text.split(","):
        first, _, last = item.strip().partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            return None  # `PH Mo[1]` and the like
        start, end = WEEKDAYS.index(first), WEEKDAYS.index(last or first)
        days.update((start + k) % 7 for k in range((end - start) % 7 + 1))
    return frozenset(days)


def _days_of(selectors: str) -> frozenset[int]:
    """The weekdays a rule can match (all seven unless it names weekdays only)."""
    day_part = _TIME_START.split(selectors, maxsplit=1)[0].strip().rstrip(":").strip()
    if not day_part:
        return _ALL_DAYS
    if _ONLY_WEEKDAYS.match(day_part):
        return _weekday_set(day_part) or _ALL_DAYS
    return _ALL_DAYS


def _wraps(selectors: str) -> bool:
    """Whether a rule has a time range running past midnight (`22:00-02:00`, `20:00-26:00`)."""
    for h1, m1, h2, m2 in _RANGE.findall(selectors):
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if end <= start or end > 24 * 60:
            return True
    return False


def _cancels_a_night(earlier: list[frozenset[int]], selectors: str) -> bool:
    """opening_hours.js keeps the part past midnight of a rule on the next day even where
    an earlier rule names that day; opening-hours-py drops it there (`Su 11:00-01:00;
    Sa 11:00-02:00` at Sunday 01:00). Where that can happen the two disagree."""
    if not _wraps(selectors):
        return False
    next_days = frozenset((d + 1) % 7 for d in _days_of(selectors))
    return any(days & next_days for days in earlier)


def _explicit_night(selectors: str) -> str:
    """The part past midnight of a weekday-only rule as a rule of the next days
    (`Sa 11:00-02:00` gives `Su 00:00-02:00`), to add after it as an additional rule: then
    opening-hours-py keeps it where an earlier rule names the next day, as opening_hours.js
    does, and drops it where a later one does. "" where the rule names more than weekdays."""
    day_part = _TIME_START.split(selectors, maxsplit=1)[0].strip()
    times = selectors[len(day_part):].strip()
    if day_part and not _ONLY_WEEKDAYS.match(day_part):
        return ""
    if not re.fullmatch(r"\d\d?:\d\d-\d\d?:\d\d(?:,\d\d?:\d\d-\d\d?:\d\d)*", times):
        return ""
    nights = []
    for h1, m1, h2, m2 in _RANGE.findall(times):
        start, end = int(h1) * 60 + int(m1), int(h2) * 60 + int(m2)
        if end > 48 * 60:
            return ""
        if end <= start or end > 24 * 60:
            end = end - 24 * 60 if end > 24 * 60 else end
            nights.append(f"00:00-{end // 60:02d}:{end % 60:02d}")
    days = sorted((d + 1) % 7 for d in _days_of(selectors))
    return f"{','.join(WEEKDAYS[d] for d in days)} {','.join(nights)}"


def _closing_pieces(closing: list[str], kinds: set[str],
                    unsupported: list[Message]) -> list[Piece]:
    """The off rules after a fallback rule, as one layer that reads open where they match."""
    pieces: list[Piece] = []
    for selectors in closing:
        separator = "," if pieces else ""
        if not _HOLIDAY_WORD.search(selectors):
            pieces.append(Piece(separator, f"{selectors} open".strip()))
            continue
        holiday = _holiday_rule(selectors, "open")
        if holiday is None:
            unsupported.append(Message(N_("the holiday form %(rule)r"), {"rule": selectors}))
            continue
        kinds.update(kind for kind, _ in holiday.items)
        pieces.append(Piece(separator, holiday=holiday))
    return pieces


def read(expression: str) -> Reading:
    """Cut and rewrite an expression; see the module's docstring for what changes."""
    layers: list[list[Piece]] = [[]]
    unsupported: list[Message] = []
    partly: list[Message] = []
    kinds: set[str] = set()
    after_fallback = False
    earlier: list[frozenset[int]] = []  # the days each earlier rule of the layer names
    closing: list[str] = []  # selectors of the off rules after a fallback
    for separator, rule in split_rules(expression):
        if separator == "||":
            layers.append([])
            earlier = []
            after_fallback = True
        parts = _split_modifier(rule)
        if after_fallback and separator != "||":
            if parts is None or parts[1] not in ("closed", "off"):
                unsupported.append(Message(N_(
                    "a rule after a fallback rule that is not an off rule (%(rule)r)"),
                    {"rule": rule}))
                continue
            closing.append(parts[0])
            continue
        if parts is None:
            unsupported.append(Message(N_("a comment inside the rule %(rule)r"), {"rule": rule}))
            continue
        selectors, modifier, comment = parts
        if _EASTER_RANGE.search(_DAY_OFFSET.sub("", selectors)):
            unsupported.append(Message(N_("a date range ending or starting at easter (%(rule)r)"),
                                       {"rule": rule}))
        night = ""
        if separator in ("", ";") and _cancels_a_night(earlier, selectors):
            night = _explicit_night(selectors)
            if not night:
                unsupported.append(Message(N_("the night past midnight of %(rule)r falls on a day "
                                              "an earlier rule names"), {"rule": rule}))
        if modifier not in ("closed", "off"):  # an off rule keeps an earlier night: both agree
            earlier.append(_days_of(selectors))
        if comment and not modifier:
            modifier = "unknown"  # the specification: a comment without a state is unknown
            partly.append(Message(N_("%(comment)s is a comment, not hours: unknown, call first"),
                                  {"comment": comment}))
        if _OPEN_END.search(selectors) and modifier != "closed" and modifier != "off":
            partly.append(Message(N_("the closing time of %(rule)r is not given: unknown from "
                                     "its opening"), {"rule": rule}))
        rest = " ".join(part for part in (modifier, comment) if part)
        layer_separator = "" if not layers[-1] else ("," if separator == "," else ";")
        if not _HOLIDAY_WORD.search(selectors):
            layers[-1].append(Piece(layer_separator, " ".join(p for p in (selectors, rest) if p)))
            if night:
                layers[-1].append(Piece(",", " ".join(p for p in (night, rest) if p)))
            continue
        holiday = _holiday_rule(selectors, rest)
        if holiday is None:
            unsupported.append(Message(N_("the holiday form %(rule)r"), {"rule": rule}))
            continue
        kinds.update(kind for kind, _ in holiday.items)
        layers[-1].append(Piece(layer_separator, holiday=holiday))
    if not layers[0]:
        unsupported.append(Message(N_("nothing before the fallback rule")))
    closing_pieces = _closing_pieces(closing, kinds, unsupported)
    return Reading(tuple(tuple(layer) for layer in layers), tuple(closing_pieces),
                   tuple(unsupported), tuple(partly), frozenset(kinds),
                   bool(_SUN.search(_without_comments(expression))))


def _without_comments(text: str) -> str:
    return re.sub(r'"[^"]*"', '""', text)


def uses_open_end(expression: str) -> bool:
    return bool(_OPEN_END.search(_without_comments(expression)))


DateFilter = Callable[[date], bool]


def holiday_dates(rule: HolidayRule, calendars: dict[str, frozenset[date]],
                  wide: DateFilter | None) -> list[date]:
    """The days a holiday rule selects, from the calendars of its kinds."""
    days: set[date] = set()
    for kind, offset in rule.items:
        for day in calendars.get(kind, frozenset()):
            shifted = day + timedelta(days=offset)
            if rule.only is not None and shifted.weekday() not in rule.only:
                continue
            if wide is not None and not wide(shifted):
                continue
            days.add(shifted)
    return sorted(days)


def date_selector(days: Iterable[date]) -> str:
    """`2025 Jan 01,2025 Apr 18-2025 Apr 21`: consecutive days written as one range."""
    runs: list[tuple[date, date]] = []
    for day in sorted(days):
        if runs and day - runs[-1][1] == timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))

    def written(day: date) -> str:
        return f"{day.year} {_MONTHS[day.month - 1]} {day.day:02d}"

    return ",".join(written(a) if a == b else f"{written(a)}-{written(b)}"
                    for a, b in runs) or NEVER


def render(pieces: Iterable[Piece], calendars: dict[str, frozenset[date]],
           wide_filter: Callable[[str], DateFilter | None]) -> str:
    """One layer as an expression opening-hours-py reads, holidays written as dates."""
    out: list[str] = []
    for piece in pieces:
        lead = {"": "", ";": "; ", ",": ", "}[piece.separator]
        if piece.holiday is None:
            out.append(lead + piece.text)
            continue
        rule = piece.holiday
        dated = date_selector(holiday_dates(rule, calendars, wide_filter(rule.wide)
                                            if rule.wide else None))
        texts = []
        if rule.weekdays:
            texts.append(" ".join(p for p in (rule.wide, rule.weekdays, rule.rest) if p))
        # The dated rule last, so that on a holiday it wins, as the holiday did.
        texts.append(" ".join(p for p in (dated, rule.rest) if p))
        joiner = ", " if piece.separator == "," else "; "
        out.append(lead + joiner.join(texts))
    return "".join(out)
