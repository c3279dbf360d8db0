"""The shape of the code, read from the code: no import cycle (imports inside functions and
under TYPE_CHECKING count), the domain packages free of Telegram and of the bot, and no module
too long to read in one sitting. And the repository explains itself: no file points to one
outside it, and every file its Markdown links to or docs/architecture.md names exists."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
import textwrap
from collections.abc import Iterable, Iterator
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


# --- The repository explains itself ---------------------------------------------------------

TEXT_SUFFIXES = {".py", ".md", ".toml", ".yaml", ".yml", ".service", ".timer"}
TEXT_NAMES = {"Dockerfile"}
NOT_THE_PROJECT = {".git", ".venv", "__pycache__", ".hypothesis", ".mypy_cache", ".ruff_cache",
                   ".pytest_cache", "build"}
# What points outside the repository: documents kept elsewhere and paths of one machine. Spelled
# in pieces, so that this file does not name them itself.
OUTSIDE = ("DESIGN" + ".md", "STYLE" + ".md", ".." + "/shared", "/" + "work/")
FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.M | re.S)
CODE_SPAN = re.compile(r"`([^`\n]+)`")
LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
REFERENCE_LINK = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)", re.M)
PATH_TOKEN = re.compile(r"[A-Za-z0-9_.-]+(?:/[A-Za-z0-9_.-]+)*/?")


def _not_the_project(relative: Path) -> bool:
    return any(part in NOT_THE_PROJECT or part.endswith(".egg-info")
               for part in relative.parts[:-1])


def _repository_files() -> list[Path]:
    """The repository's files, relative to ROOT: what git tracks or would (not what it
    ignores), else a walk of the tree without environments, caches and build output."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=ROOT,
            capture_output=True, text=True, check=True).stdout.split("\0")
        names = [Path(name) for name in listed if name]
    except (OSError, subprocess.CalledProcessError):
        names = [path.relative_to(ROOT) for path in ROOT.rglob("*")]
    return sorted(name for name in names
                  if (ROOT / name).is_file() and not _not_the_project(name))


def _text_files() -> list[Path]:
    return [path for path in _repository_files()
            if path.suffix in TEXT_SUFFIXES or path.name in TEXT_NAMES]


def _outside_references(root: Path, files: Iterable[Path]) -> list[str]:
    found = []
    for relative in files:
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            found += [f"{relative}:{number}: {needle}" for needle in OUTSIDE if needle in line]
    return found


def _prose(markdown: str) -> str:
    """Markdown without its fenced code blocks (a command's arguments are not links)."""
    return FENCE.sub("", markdown)


def _broken_links(root: Path, document: Path) -> list[str]:
    """The relative links of a Markdown file (anchors stripped; web and mail links and
    in-page anchors skipped) that name no file or folder inside `root`."""
    prose = CODE_SPAN.sub("", _prose((root / document).read_text(encoding="utf-8")))
    broken = []
    for target in LINK.findall(prose) + REFERENCE_LINK.findall(prose):
        if target.startswith(("http://", "https://", "mailto:", "#")):
            continue
        path = target.split("#", 1)[0].split("?", 1)[0]
        resolved = ((root / document).parent / path).resolve()
        if not resolved.is_relative_to(root.resolve()) or not resolved.exists():
            broken.append(f"{document}: {target}")
    return broken


def _named_paths(markdown: str, roots: set[str] | None = None) -> list[str]:
    """The backticked tokens of a Markdown text that look like a path of the repository
    (`bot/app.py`, `storage/postgres/`); with `roots`, only those under one of them."""
    tokens = CODE_SPAN.findall(_prose(markdown))
    return [token for token in tokens if "/" in token and PATH_TOKEN.fullmatch(token)
            and (roots is None or token.split("/", 1)[0] in roots)]


def _documents() -> list[Path]:
    return [Path("README.md"), *sorted(path.relative_to(ROOT)
                                       for path in (ROOT / "docs").glob("*.md"))]


def test_the_checks_below_can_fail(tmp_path: Path) -> None:
    """Each check finds what it is for (else they would pass on anything)."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "here.py").write_text("# see ../" + "shared/DESIGN" + ".md\n", encoding="utf-8")
    assert _outside_references(tmp_path, [Path("here.py")]) == [
        f"here.py:1: {OUTSIDE[0]}", f"here.py:1: {OUTSIDE[2]}"]
    (tmp_path / "docs" / "a.md").write_text(
        "[ok](../here.py#top) [web](https://example.org/x) [gone](../nowhere.md)\n"
        "[out](../../elsewhere.md)\n```sh\n[not a link](nowhere)\n```\n[ref]: missing.md\n",
        encoding="utf-8")
    assert _broken_links(tmp_path, Path("docs/a.md")) == [
        "docs/a.md: ../nowhere.md", "docs/a.md: ../../elsewhere.md", "docs/a.md: missing.md"]
    assert _named_paths("`bot/app.py`, `/start`, `postgresql://x`, `a b/c`, `storage/postgres/`"
                        ) == ["bot/app.py", "storage/postgres/"]


def test_no_file_points_outside_the_repository() -> None:
    files = _text_files()
    assert {Path("README.md"), Path("pyproject.toml"), Path("tests/test_architecture.py"),
            Path("docs/architecture.md")} <= set(files)  # the list is read right
    assert _outside_references(ROOT, files) == []


def test_every_relative_link_of_the_documents_resolves() -> None:
    documents = _documents()
    assert Path("docs/architecture.md") in documents
    assert [broken for document in documents for broken in _broken_links(ROOT, document)] == []


def test_the_architecture_page_names_only_files_that_exist() -> None:
    named = _named_paths((ROOT / "docs" / "architecture.md").read_text(encoding="utf-8"))
    assert "storage/postgres/database.py" in named  # the page is read right
    assert [path for path in named if not (ROOT / path).exists()] == []


def test_the_readme_names_only_files_that_exist() -> None:
    """Its paths under the repository's own folders (`bot/webhook.py`, `.ci/run`); a path of
    the machine it is deployed on (`/var/lib/deflect/...`) is no file of the repository."""
    roots = {path.name for path in ROOT.iterdir() if path.is_dir()}
    named = _named_paths((ROOT / "README.md").read_text(encoding="utf-8"), roots)
    assert "bot/webhook.py" in named
    assert [path for path in named if not (ROOT / path).exists()] == []
