"""A directory file's bytes as text or JSON, or the problem that stops it being read.

This module owns decoding (UTF-8, UTF-16 by its byte order mark, or the encoding given) and
parsing JSON, each failure reported as a file-wide problem at FILE:LINE.
"""

from __future__ import annotations

import json
from pathlib import Path

from directory.i18n import N_, Message
from directory.importers.results import Problem

_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))


def decode(path: Path, data: bytes, problems: list[Problem],
           encoding: str | None = None) -> str | None:
    """The text of a file, or None with the problem noted.

    Without `encoding`: UTF-8, or UTF-16 when the file starts with its byte order mark (as
    spreadsheets save "Unicode text"); a BOM is dropped.
    """
    if not data.strip(b" \t\r\n\x00"):
        problems.append(Problem(path.name, 1, "file", Message(N_("the file is empty"))))
        return None
    if encoding is None:
        encoding = next((name for bom, name in _BOMS if data.startswith(bom)), "utf-8-sig")
        hint = True
    else:
        hint = False
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        if hint:
            message = Message(N_("not UTF-8 text (byte 0x%(byte)02x); save the file as UTF-8, "
                                 "or give its encoding, e.g. --encoding cp1252 (Excel in "
                                 "Western Europe and the Americas) or --encoding utf-16"),
                              {"byte": data[error.start]})
        else:
            message = Message(N_("not %(encoding)s text (byte 0x%(byte)02x)"),
                              {"encoding": encoding, "byte": data[error.start]})
        problems.append(Problem(path.name, line, "file", message))
        return None
    except LookupError:
        problems.append(Problem(path.name, 1, "file", Message(
            N_("%(encoding)s is not an encoding Python knows (e.g. utf-8, cp1252, utf-16, "
               "latin-1)"), {"encoding": encoding})))
        return None
    return text.removeprefix("\ufeff")


NOT_READ = object()  # what read_json returns for a file it could not read


def read_json(path: Path, problems: list[Problem], encoding: str | None = None) -> object:
    """The parsed JSON of a file, or `NOT_READ` with the problem noted (FILE:LINE)."""
    text = decode(path, path.read_bytes(), problems, encoding)
    if text is None:
        return NOT_READ
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        problems.append(Problem(path.name, error.lineno, "file", Message(
            N_("not valid JSON: %(detail)s (column %(column)d)"),
            {"detail": error.msg, "column": error.colno})))
    except RecursionError:
        problems.append(Problem(path.name, 1, "file", Message(
            N_("not valid JSON: nested too deeply"))))
    return NOT_READ
