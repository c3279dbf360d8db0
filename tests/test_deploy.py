"""The deployment files (Dockerfile, compose.yaml, deploy/) kept true to the program: every
`deflect` command they run parses with the real command line, every DEFLECT_* variable they
set is one the program reads, the key stays apart from the data, and the reverse proxy
exposes the webhook only (never /healthz or /metrics)."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
import subprocess
import sys
import threading
from argparse import Namespace
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from bot.cli import build_parser
from bot.i18n import translations

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("bot", "handlers", "directory", "referrals", "members", "storage")  # what reads env
DEPLOY = ROOT / "deploy"
SERVICES = ("deflect.service", "deflect-backup.service")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?[-?]([^}]*))?\}")


def deflect(argv: list[str], where: str) -> Namespace:
    """`deflect ARGV` as the real parser reads it, or a failure naming the file."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return build_parser(translations("en")).parse_args(argv)
    except SystemExit:
        pytest.fail(f"{where}: `deflect {shlex.join(argv)}` does not parse with bot.cli's "
                    f"parser (a command or flag renamed or not there yet?):\n{stderr.getvalue()}")


def _substituted(text: str) -> str:
    """Compose's ${VAR}, ${VAR:-default}: the default, else a placeholder."""
    return _VARIABLE.sub(
        lambda m: m.group(2) if m.group(2) is not None else f"{m.group(1).lower()}.example",
        text)


def _inside(path: str, folder: str) -> bool:
    return PurePosixPath(path).is_relative_to(PurePosixPath(folder))


def _port(host_port: str) -> int:
    return int(host_port.rpartition(":")[2])


def _read_by_program(name: str) -> bool:
    quoted = re.compile(rf"[\"']{re.escape(name)}[\"']")
    return any(quoted.search(path.read_text(encoding="utf-8"))
               for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


# Dockerfile -------------------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with `\\` continuations joined and comments left out."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _sep, rest = (pending + line).partition(" ")
        instructions.append((keyword.upper(), rest.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends in a continuation"
    return instructions


def _all(keyword: str) -> list[str]:
    return [rest for name, rest in dockerfile() if name == keyword]


def _exec_form(rest: str, what: str) -> list[str]:
    assert rest.startswith("["), f"{what} must be in exec (JSON) form: {rest}"
    value = json.loads(rest)
    assert isinstance(value, list)
    assert all(isinstance(part, str) for part in value)
    return value


def image_env() -> dict[str, str]:
    env: dict[str, str] = {}
    for rest in _all("ENV"):
        words = shlex.split(rest)
        if "=" in words[0]:
            env.update(word.partition("=")[::2] for word in words)
        else:  # the old `ENV NAME value` form
            env[words[0]] = " ".join(words[1:])
    return env


def healthcheck() -> list[str]:
    (rest,) = _all("HEALTHCHECK")
    options = re.match(r"((?:--[a-z-]+=\S+\s+)*)CMD\s+(.*)", rest)
    assert options, f"HEALTHCHECK without CMD: {rest}"
    return _exec_form(options.group(2), "HEALTHCHECK CMD")


def test_the_image_runs_deflect_and_its_default_command_parses() -> None:
    (base,) = _all("FROM")
    assert base.startswith("python:3.11-slim")
    (entrypoint,) = _all("ENTRYPOINT")
    assert _exec_form(entrypoint, "ENTRYPOINT") == ["deflect"]
    (cmd,) = _all("CMD")
    args = deflect(_exec_form(cmd, "CMD"), "Dockerfile CMD")
    assert args.command == "run"
    exposed = {int(port.split("/")[0]) for rest in _all("EXPOSE") for port in rest.split()}
    assert _port(args.listen) in exposed
    assert _port(image_env()["DEFLECT_OPS_LISTEN"]) in exposed


def test_the_image_runs_as_a_fixed_unprivileged_user() -> None:
    users = _all("USER")
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any("--uid 10001" in rest for rest in _all("RUN"))


def test_the_key_is_on_another_volume_than_the_data() -> None:
    env = image_env()
    data = str(PurePosixPath(env["DEFLECT_DB"]).parent)
    keys = str(PurePosixPath(env["DEFLECT_KEY_FILE"]).parent)
    assert not _inside(env["DEFLECT_KEY_FILE"], data)
    assert not _inside(data, keys)
    volumes = [v for rest in _all("VOLUME") for v in
               (_exec_form(rest, "VOLUME") if rest.startswith("[") else rest.split())]
    assert data in volumes
    assert keys in volumes


def test_the_healthcheck_asks_the_ops_server_for_healthz() -> None:
    command = healthcheck()
    urls = re.findall(r"http://127\.0\.0\.1:(\d+)(/[\w/]*)", " ".join(command))
    assert urls == [(str(_port(image_env()["DEFLECT_OPS_LISTEN"])), "/healthz")]


class _Health(BaseHTTPRequestHandler):
    status = 200

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self.send_response(self.status if self.path == "/healthz" else 404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def _ops_server(status: int) -> Iterator[int]:
    handler = type("Handler", (_Health,), {"status": status})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.mark.parametrize(("status", "healthy"), [(200, True), (503, False)])
def test_the_healthcheck_fails_on_503(status: int, healthy: bool) -> None:
    program, *arguments = healthcheck()
    assert program == "python"
    port = _port(image_env()["DEFLECT_OPS_LISTEN"])
    with _ops_server(status) as actual:
        run = subprocess.run(
            [sys.executable, *(a.replace(f":{port}/", f":{actual}/") for a in arguments)],
            capture_output=True, timeout=30, check=False)
    assert (run.returncode == 0) is healthy, run.stderr.decode()


# compose.yaml -----------------------------------------------------------------------------

def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(_substituted((ROOT / "compose.yaml").read_text(encoding="utf-8")))
    assert isinstance(loaded, dict)
    return loaded


def deflect_services() -> dict[str, dict[str, Any]]:
    """The services built from this repository's image (its ENTRYPOINT is `deflect`)."""
    return {name: service for name, service in compose()["services"].items()
            if "build" in service}


def command_of(name: str) -> Namespace:
    service = deflect_services()[name]
    assert "entrypoint" not in service, f"{name} must keep the image's ENTRYPOINT (deflect)"
    command = service["command"]
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    return deflect(argv, f"compose.yaml, service {name}")


def test_compose_has_one_process_by_default_and_workers_under_postgres() -> None:
    services = compose()["services"]
    assert {"bot", "caddy", "postgres", "receiver", "worker"} <= set(services)
    for name in ("postgres", "receiver", "worker"):
        assert services[name]["profiles"] == ["postgres"], name
    assert "profiles" not in services["caddy"]
    # `bot` is off under --profile postgres (else it and the receiver both set the webhook)
    # and on by default: .env (from deploy/env.example) turns its profile on.
    (default,) = services["bot"]["profiles"]
    assert default != "postgres"
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    assert re.search(rf"^COMPOSE_PROFILES={default}$", example, re.MULTILINE)
    assert set(deflect_services()) == {"bot", "receiver", "worker"}


def test_every_compose_command_parses_with_the_real_command_line() -> None:
    assert command_of("bot").command == "run"
    assert command_of("receiver").command == "serve-webhook"
    assert command_of("worker").command == "worker"
    for name in ("bot", "receiver"):
        args = command_of(name)
        assert args.webhook_url.startswith("https://")
        assert args.webhook_url.endswith("/tg")
        assert _port(args.listen) == 8443


def test_the_commands_in_composes_comments_parse() -> None:
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    found = re.findall(r"docker compose exec \w+ deflect ([^#\n]+)", text)
    assert len(found) >= 3
    for argv in found:
        deflect(shlex.split(argv), "compose.yaml, a comment")


def test_compose_publishes_only_caddy_and_keeps_the_key_apart() -> None:
    services = compose()["services"]
    assert all("ports" not in service for service in deflect_services().values())
    env = image_env()
    mounts = {target: source for source, target, *_ in
              (volume.split(":") for volume in services["bot"]["volumes"])}
    data = mounts[str(PurePosixPath(env["DEFLECT_DB"]).parent)]
    keys = mounts[str(PurePosixPath(env["DEFLECT_KEY_FILE"]).parent)]
    assert data != keys
    for name in ("receiver", "worker"):
        url = services[name]["environment"]["DEFLECT_DATABASE_URL"]
        assert url.startswith("postgresql://"), name
        assert "@postgres:" in url, name
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(services["postgres"]["healthcheck"]["test"])
    assert int(services["worker"]["deploy"]["replicas"]) >= 1


def test_every_variable_the_deployment_sets_is_read_by_the_program() -> None:
    set_here = {name: "Dockerfile" for name in image_env() if name.startswith("DEFLECT_")}
    for name, service in deflect_services().items():
        set_here.update(dict.fromkeys(service.get("environment", {}), f"compose.yaml {name}"))
    for unit in SERVICES:
        set_here.update(dict.fromkeys(unit_environment(unit), f"deploy/{unit}"))
    unread = {name: where for name, where in set_here.items() if not _read_by_program(name)}
    assert unread == {}, "set for deflect but read nowhere in the program"


def test_the_example_environment_names_only_known_variables() -> None:
    example = (DEPLOY / "env.example").read_text(encoding="utf-8")
    used = (ROOT / "compose.yaml").read_text(encoding="utf-8") + caddyfile_text()
    for name in set(re.findall(r"\b(DEFLECT_[A-Z_]+)=", example)):
        assert _read_by_program(name) or name in used, name


# deploy/Caddyfile -------------------------------------------------------------------------

def caddyfile_text() -> str:
    return (DEPLOY / "Caddyfile").read_text(encoding="utf-8")


def caddy_directives() -> list[tuple[tuple[str, ...], str]]:
    """Each directive with the blocks it is in, outermost first."""
    found: list[tuple[tuple[str, ...], str]] = []
    blocks: list[str] = []
    for raw in caddyfile_text().splitlines():
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if line == "}":
            blocks.pop()
        elif line.endswith("{"):
            blocks.append(line[:-1].strip())
        elif line:
            found.append((tuple(blocks), line))
    assert not blocks, "unbalanced braces in deploy/Caddyfile"
    return found


def test_caddy_proxies_only_the_webhook_prefix() -> None:
    directives = caddy_directives()
    proxies = [(blocks, line) for blocks, line in directives if line.startswith("reverse_proxy")]
    assert proxies
    for blocks, _line in proxies:
        assert blocks[1:] == ("handle_path /tg/*",), blocks
    assert (("{$DEFLECT_DOMAIN}", "handle"), "respond 404") in directives
    # Whatever else the file says, none of it names the ops server.
    code = " ".join(line for _blocks, line in directives) + " ".join(
        block for blocks, _line in directives for block in blocks)
    assert not re.search(r"metrics|healthz|9464", code)
    # It forwards to the port the webhook server listens on, on a compose service.
    (upstream,) = {line.split()[1] for _blocks, line in proxies}
    default = re.fullmatch(r"\{\$DEFLECT_UPSTREAM:([\w.-]+):(\d+)\}", upstream)
    assert default
    assert default.group(1) in deflect_services()
    assert int(default.group(2)) == _port(command_of(default.group(1)).listen)
    caddy = compose()["services"]["caddy"]
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in caddy["volumes"]


# deploy/*.service, *.timer ----------------------------------------------------------------

def unit(name: str) -> dict[str, list[str]]:
    """A systemd unit's settings (every value of a repeated key), sections merged."""
    settings: dict[str, list[str]] = {}
    pending = ""
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line[0] in "#;" or line.startswith("["):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        key, _sep, value = (pending + line).partition("=")
        settings.setdefault(key.strip(), []).append(value.strip())
        pending = ""
    return settings


def unit_environment(name: str) -> dict[str, str]:
    return dict(word.partition("=")[::2] for value in unit(name).get("Environment", [])
                for word in shlex.split(value))


def unit_command(name: str) -> Namespace:
    (command,) = unit(name)["ExecStart"]
    program, *argv = shlex.split(command)
    assert PurePosixPath(program).name == "deflect", program
    return deflect(argv, f"deploy/{name}, ExecStart")


@pytest.mark.parametrize("name", SERVICES)
def test_the_units_keep_the_key_out_of_the_state_directory(name: str) -> None:
    settings = unit(name)
    (state,) = settings["StateDirectory"]
    folder = f"/var/lib/{state}"
    assert settings["WorkingDirectory"] == [folder]
    env = unit_environment(name)
    assert _inside(env["DEFLECT_DB"], folder)
    assert not _inside(env["DEFLECT_KEY_FILE"], folder)
    assert settings["User"] != ["root"]
    assert settings["UMask"] == ["0077"]
    assert settings["NoNewPrivileges"] == ["yes"]
    assert settings["ProtectSystem"] == ["strict"]
    assert env == unit_environment(SERVICES[0])


def test_the_bot_unit_runs_the_webhook_on_loopback() -> None:
    args = unit_command("deflect.service")
    assert args.command == "run"
    assert args.webhook_url.startswith("https://")
    assert args.webhook_url.endswith("/tg")
    assert args.listen.startswith("127.0.0.1:")
    assert args.ops_listen.startswith("127.0.0.1:")
    assert unit("deflect.service")["Restart"] == ["on-failure"]


def test_the_backup_unit_writes_a_copy_apart_from_the_key() -> None:
    args = unit_command("deflect-backup.service")
    assert args.command == "backup"
    key = unit_environment("deflect-backup.service")["DEFLECT_KEY_FILE"]
    copies = str(args.target.parent)
    assert not _inside(key, copies)
    assert not _inside(copies, str(PurePosixPath(key).parent))
    assert unit("deflect-backup.service")["ReadWritePaths"] == [copies]
    assert args.force  # one copy, replaced each day
    timer = unit("deflect-backup.timer")
    assert timer["Unit"] == ["deflect-backup.service"]
    assert timer["OnCalendar"]


@pytest.mark.parametrize(("command", "required"), [
    ("run", []), ("serve-webhook", ["--webhook-url", "https://bot.example.org/tg"]),
    ("worker", [])])
def test_every_long_running_command_has_the_ops_server(command: str,
                                                       required: list[str]) -> None:
    args = deflect([command, *required, "--ops-listen", "127.0.0.1:9464"], "the ops server")
    assert args.ops_listen == "127.0.0.1:9464"
