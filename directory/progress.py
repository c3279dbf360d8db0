"""A progress bar for long jobs (imports, backups) on a terminal, and nothing elsewhere.

Readers report `(done, total)` as they go (`directory.importers.Progress`); this draws it
with tqdm on the given stream when that stream is a terminal, so piped output and logs get
only the summary line.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

from tqdm import tqdm

from directory.importers import Progress


@contextmanager
def progress_bar(stream: TextIO, label: str, unit: str = " rows"
                 ) -> Iterator[Progress | None]:
    """A `Progress` that draws on `stream` if it is a terminal, else None; closed on exit.
    `unit`: what is counted, as tqdm shows it after the numbers (" rows", " pages")."""
    if not stream.isatty():
        yield None
        return
    bar: Any = None

    def advance(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, file=stream, unit=unit, leave=False,
                       mininterval=0.2)
        if bar.total != total:
            bar.reset(total=total)
        bar.update(done - bar.n)
        if done >= total:
            bar.refresh()  # the last step is drawn even when it came within mininterval

    try:
        yield advance
    finally:
        if bar is not None:
            bar.close()
