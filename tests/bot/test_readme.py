"""The README's Quick start and .ci/run must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(?:sh|bash)\n(.+?)\n```", section, re.S)


def test_quick_start_has_a_run_and_a_test_command() -> None:
    run, test = quick_start_commands()
    assert "pip install" in run
    assert ".venv/bin/deflect" in run
    assert "pip install" in test
    assert "pytest" in test


def test_ci_runs_exactly_the_readme_test_command() -> None:
    _run, test = quick_start_commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert f"({test})" in ci
