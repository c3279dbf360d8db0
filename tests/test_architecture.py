"""The shape of the code, read from the code: no import cycle (imports inside functions and
under TYPE_CHECKING count), the domain packages free of Telegram and of the bot, and no module
too long to read in one sitting."""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "directory", "referrals", "members", "storage")
DOMAIN = ("directory", "referrals", "members", "storage")
# Which project packages each domain package may import (a layered graph: no cycle between
# packages, and nothing of the bot or the conversations below it).
MAY_IMPORT = {
    "members": set(),
    "directory": set(),
    "referrals": {"members", "directory"},
    "storage": {"members", "directory", "referrals"},
}
MAX_LINES = 400


def _modules() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


MODULES = _modules()


def _imported(path: Path, name: str) -> Iterator[str]:
    """Every module of the project this file imports, wherever the import statement is."""
    is_package = path.name == "__init__.py"
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the package this module is in
                base = name.split(".")
                base = base if is_package else base[:-1]
                base = base[: len(base) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            for alias in node.names:
                # `from package import submodule` depends on the submodule (the package's
                # __init__ runs first, as for every import, and is not counted as an edge);
                # `from module import name` on the module.
                submodule = f"{module}.{alias.name}"
                yield submodule if submodule in MODULES else module


def _graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for name, path in MODULES.items():
        targets = {target for target in _imported(path, name) if target in MODULES}
        graph[name] = targets - {name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. the cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in sorted(graph[node]):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_reader_finds_the_imports_it_must() -> None:
    """The graph is read right (else the tests below would pass on an empty graph): a
    function-local import and a relative one are edges too."""
    graph = _graph()
    assert len(graph) > 80
    assert "storage.sqlite.database" in graph["storage.sqlite"]
    assert "bot.app" in graph["bot.cli"]  # imported inside _console, to load Telegram late
    assert "referrals.figures" in graph["handlers.coordinator"]  # from referrals import figures
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_module_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_domain_packages_import_only_the_packages_below_them() -> None:
    wrong = []
    for name, targets in _graph().items():
        package = name.split(".")[0]
        if package not in MAY_IMPORT:
            continue
        for target in targets:
            other = target.split(".")[0]
            if other != package and other not in MAY_IMPORT[package]:
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def test_only_bot_and_handlers_name_telegram() -> None:
    wrong = []
    for name, path in MODULES.items():
        if name.split(".")[0] in ("bot", "handlers"):
            continue
        for target in _imported(path, name):
            if target == "telegram" or target.startswith("telegram."):
                wrong.append(f"{name} imports {target}")
    assert wrong == []


def _loaded_in_a_fresh_interpreter(modules: list[str]) -> list[str]:
    script = textwrap.dedent(f"""
        import importlib, sys
        for name in {modules!r}:
            importlib.import_module(name)
        print("\\n".join(sorted(m for m in sys.modules if m.split(".")[0] == "telegram")))
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


def test_importing_the_domain_packages_loads_no_telegram() -> None:
    domain = [name for name in MODULES if name.split(".")[0] in DOMAIN]
    assert "storage.sqlite.referrals" in domain
    assert _loaded_in_a_fresh_interpreter(domain) == []
    # And the check can see Telegram when it is there.
    assert "telegram" in _loaded_in_a_fresh_interpreter(["bot.runtime"])


@pytest.mark.parametrize("folder", ["directory", "members", "referrals", "storage"])
def test_the_domain_tests_run_without_telegram(folder: str) -> None:
    tests = ["tests.conftest"] + [
        ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for path in sorted((ROOT / "tests" / folder).glob("*.py"))]
    assert len(tests) > 2
    assert _loaded_in_a_fresh_interpreter(tests) == []


def test_no_module_is_too_long_to_read() -> None:
    long = {name: lines for name, path in MODULES.items()
            if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert long == {}
