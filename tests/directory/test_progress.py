"""The import progress bar: drawn on a terminal, absent from pipes and logs."""

from __future__ import annotations

import io

from directory.progress import progress_bar


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_a_bar_that_reaches_the_total() -> None:
    stream = Terminal()
    with progress_bar(stream, "reading") as progress:
        assert progress is not None
        progress(0, 3000)
        progress(3000, 3000)
    drawn = stream.getvalue()
    assert "reading" in drawn
    assert "3000/3000" in drawn


def test_a_pipe_gets_nothing() -> None:
    stream = io.StringIO()
    with progress_bar(stream, "reading") as progress:
        assert progress is None
    assert stream.getvalue() == ""
