"""Nearest-open search on a large synthetic directory, against a naive linear scan.

    python -m benchmarks.nearest --services 100000 --queries 1000 --json

Generates a seeded directory clustered like real cities (mixed hours, a few unknown and
unparsable), imports it through the CSV importer, then in a fresh process (so `rss_mb` is
what serving costs, not what generating cost) opens the database and runs the queries warm.
Prints one JSON line:

- `p50_ms`, `p99_ms`: our `nearest`, per query, in process, warm;
- `naive_ms`: mean per query of a linear scan computing geopy's geodesic distance to every
  service and evaluating its hours, on `--naive-queries` of the same queries;
- `speedup`: naive_ms / p50_ms;
- `mismatches`: of `--check-queries` queries, how many differ from `brute_force_nearest`
  (ids, order, states and staff statuses);
- `rss_mb`: peak resident memory of the serving process (which never held the generator's
  or the importer's data);
- `open_db_ms`: time to open the existing database until it is ready to query;
- `warm_ms`: compiling every service's hours for the queries' year before the first query
  (`Directory.warm`, which the bot runs at start for the current year);
- `live`: with `--live N`, N services have a staff status (open, full or closed, some with
  beds) that holds over all the queries, and N field reports are spread over their weeks:
  what every search then reads and ranks by. Default 0: the live tables are empty.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import random
import resource
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from directory.importers import read_path
from directory.importers.simple_csv import COLUMNS
from directory.live import LiveState
from directory.model import Need
from directory.search import Match, brute_force_nearest, nearest
from directory.store import open_directory
from storage import directory_session
from storage.sqlite.database import open_database

# (name, lat, lon, weight, spread in degrees): cities of very different densities and zones.
CITIES = [
    ("Chicago", 41.88, -87.63, 10, 0.15), ("New York", 40.71, -74.0, 12, 0.12),
    ("Los Angeles", 34.05, -118.24, 9, 0.2), ("London", 51.51, -0.13, 10, 0.12),
    ("Brighton", 50.82, -0.14, 2, 0.04), ("Rome", 41.9, 12.5, 5, 0.08),
    ("Paris", 48.86, 2.35, 7, 0.08), ("Madrid", 40.42, -3.7, 5, 0.08),
    ("Munich", 48.14, 11.58, 3, 0.06), ("Pretoria", -25.75, 28.19, 3, 0.1),
    ("Skopje", 41.99, 21.43, 1, 0.04), ("Beirut", 33.89, 35.5, 2, 0.04),
    ("Sao Paulo", -23.55, -46.63, 8, 0.2), ("Mexico City", 19.43, -99.13, 8, 0.15),
    ("Sydney", -33.87, 151.21, 4, 0.15), ("Auckland", -36.85, 174.76, 2, 0.08),
    ("Anchorage", 61.22, -149.9, 1, 0.1), ("Glasgow", 55.86, -4.25, 2, 0.06),
    ("Toronto", 43.65, -79.38, 6, 0.12), ("Jura", 47.35, 7.15, 1, 0.1),
]
HOURS = (
    ["24/7"] * 10
    + ["Mo-Fr 08:00-17:00; PH off", "Mo-Fr 09:00-17:00", "Mo-Fr 08:00-18:00; Sa 09:00-13:00",
       "Mo-Fr 07:00-15:30; PH off", "Mo-Th 08:00-19:00; Fr 08:00-15:00; PH off",
       "Tu-Sa 11:00-19:00; PH off", "Mo,We,Fr 13:00-19:00", "Mo-Fr 06:00-14:00; Sa 07:00-11:00"] * 6
    + ["Mo-Su 18:00-08:00", "Mo-Su 20:00-06:00", "Mo-Su 22:00-06:00", "Fr-Su 20:00-08:00",
       "Mo-Su 16:00-02:00", "Mo-Su 12:00-24:00"] * 3
    + ["Mo-Su 08:00-22:00", "Mo-Su 08:00-20:00; PH 10:00-16:00", "Sa-Su 10:00-14:00"] * 3
    + [""] * 3 + ["Mo-Fr 9am-5pm"]
)
NEEDS = list(Need)
START = datetime(2025, 3, 3, tzinfo=UTC)  # a Monday; queries spread over the next 10 weeks
SPAN = timedelta(weeks=10)


def generate(path: Path, count: int, seed: int) -> None:
    rng = random.Random(seed)
    weights = [c[3] for c in CITIES]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for index in range(count):
            _name, lat, lon, _weight, spread = rng.choices(CITIES, weights)[0]
            needs = rng.sample(NEEDS, rng.choice([1, 1, 2, 2, 3]))
            writer.writerow([
                f"bench-{index:06d}", f"Service {index}", ";".join(n.value for n in needs),
                f"{lat + rng.gauss(0, spread):.6f}", f"{lon + rng.gauss(0, spread):.6f}",
                "", "", rng.choice(HOURS), "en", rng.choice(["true", "false", ""]), "", "",
            ])


@dataclass(frozen=True)
class Query:
    lat: float
    lon: float
    needs: tuple[Need, ...]
    at: datetime


def queries(count: int, seed: int) -> list[Query]:
    rng = random.Random(seed + 1)
    weights = [c[3] for c in CITIES]
    made = []
    for _ in range(count):
        _name, lat, lon, _weight, spread = rng.choices(CITIES, weights)[0]
        needs = tuple(rng.sample(NEEDS, rng.choice([1, 1, 1, 2])))
        at = START + timedelta(minutes=rng.randrange(int(SPAN.total_seconds()) // 60))
        made.append(Query(lat + rng.gauss(0, spread), lon + rng.gauss(0, spread), needs, at))
    return made


async def _add_live(db_path: Path, count: int, seed: int) -> None:
    """`count` staff statuses holding over every query, and `count` field reports.

    Written directly: `set_status` refuses a status lasting beyond the next day, and these
    must hold over the ten weeks the queries span (so that the reference sees the same).
    """
    if not count:
        return
    rng = random.Random(seed + 2)
    async with directory_session(db_path, demo=False) as directory:
        ids = [row[0] for row in await directory.db.execute_fetchall("SELECT id FROM service")]
        chosen = rng.sample(ids, min(count, len(ids)))
        start, end = int(START.timestamp()), int((START + SPAN + timedelta(days=1)).timestamp())
        await directory.db.executemany(
            "INSERT INTO service_status (service_id, state, beds, until, updated) "
            "VALUES (?, ?, ?, ?, ?)",
            [(service_id, state.value, rng.randrange(1, 9) if state is LiveState.OPEN
              and rng.random() < 0.3 else None, end, start)
             for service_id in chosen for state in [rng.choice(list(LiveState))]])
        days = [(START + timedelta(days=day)).date().isoformat() for day in range(SPAN.days)]
        await directory.db.executemany(
            "INSERT OR IGNORE INTO service_report (service_id, day, reports) VALUES (?, ?, 1)",
            [(rng.choice(ids), rng.choice(days)) for _ in range(count)])


async def _import(csv_path: Path, db_path: Path) -> float:
    started = time.perf_counter()
    result = await asyncio.to_thread(read_path, csv_path, source="bench")
    # The generator scatters points around coastal cities too: the few it puts at sea are
    # refused by the importer, and left out here as `--skip-invalid` would.
    refused = {problem.record for problem in result.errors}
    services = [service for service in result.services if service.id not in refused]
    if len(services) < 0.99 * len(result.services):
        raise SystemExit(f"generated directory does not import: {result.errors[0]}")
    async with directory_session(db_path, demo=False) as directory:
        await directory.replace_source("bench", services, format="csv",
                                       origin=str(csv_path), region="")
    return time.perf_counter() - started


def serve(db_path: str, count: int, seed: int, check: int) -> dict[str, Any]:
    """Runs in a fresh process: open, warm up, time every query."""
    return asyncio.run(_serve(Path(db_path), count, seed, check))


async def _serve(db_path: Path, count: int, seed: int, check: int) -> dict[str, Any]:
    started = time.perf_counter()
    db = await open_database(db_path)
    directory = await open_directory(db)
    await directory.reader.run(lambda reader: reader.hours())
    open_db_ms = (time.perf_counter() - started) * 1000
    # As the bot does at start for the current year (bot/app.py): here, the queries' year.
    warm_started = time.perf_counter()
    await directory.warm(START)
    warm_ms = (time.perf_counter() - warm_started) * 1000
    try:
        planned = queries(count, seed)
        for query in planned[:50]:  # warm-up: caches, the R*Tree pages, compiled hours
            await nearest(directory, query.lat, query.lon, query.needs, query.at)
        timings = []
        answers = []
        for index, query in enumerate(planned):
            began = time.perf_counter()
            matches = await nearest(directory, query.lat, query.lon, query.needs, query.at)
            timings.append((time.perf_counter() - began) * 1000)
            if index < check:
                answers.append(_answer(matches))
    finally:
        await directory.close()
        await db.close()
    return {"timings": timings, "answers": answers, "open_db_ms": open_db_ms,
            "warm_ms": round(warm_ms, 1),
            "rss_mb": _peak_rss_mb()}


def _answer(matches: list[Match]) -> list[tuple[str, str, str | None]]:
    return [(m.service.id, m.status.state.value,
             m.live.state.value if m.live and m.live.state else None) for m in matches]


def _peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM). Not getrusage's ru_maxrss: on Linux that
    survives fork and exec, so a spawned child would report its parent's peak."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


_WORKER: dict[str, Any] = {}


def _load_all(db_path: str) -> None:
    async def load() -> Any:
        async with directory_session(db_path, demo=False) as directory:
            hours = await directory.hours()
            # The benchmark's statuses hold over every query (see _add_live).
            live = await directory.live.current(now=START)
            return live, [(service, hours[key])
                          for _k, key, service in await directory.all_services()]
    _WORKER["live"], _WORKER["services"] = asyncio.run(load())


def _brute(query: Query) -> list[tuple[str, str, str | None]]:
    matches = brute_force_nearest(_WORKER["services"], query.lat, query.lon, query.needs,
                                  query.at, live=_WORKER["live"])
    return _answer(matches)


def _naive(query: Query) -> float:
    """The obvious program: geopy's geodesic to every service, hours for each, sort."""
    from geopy.distance import geodesic

    began = time.perf_counter()
    wanted = set(query.needs)
    rank = {"open": 0, "unknown": 1, "closed": 2}
    scored = []
    for service, hours in _WORKER["services"]:
        distance = geodesic((query.lat, query.lon), (service.lat, service.lon)).meters
        state = hours.state(query.at)
        if service.categories & wanted:
            scored.append((rank[state.value], distance, service.id))
    scored.sort()
    _best = scored[:3]
    return (time.perf_counter() - began) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.nearest")
    parser.add_argument("--services", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=1000)
    parser.add_argument("--check-queries", type=int, default=200)
    parser.add_argument("--naive-queries", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--live", type=int, default=0, metavar="N",
                        help="services with a staff status (and field reports) during the run")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="deflect-bench-") as folder:
        csv_path, db_path = Path(folder) / "bench.csv", Path(folder) / "bench.sqlite3"
        generate(csv_path, args.services, args.seed)
        import_s = asyncio.run(_import(csv_path, db_path))
        asyncio.run(_add_live(db_path, args.live, args.seed))
        context = multiprocessing.get_context("spawn")
        check = min(args.check_queries, args.queries)
        with context.Pool(1) as pool:
            served = pool.apply(serve, (str(db_path), args.queries, args.seed, check))
        planned = queries(args.queries, args.seed)
        with context.Pool(2, initializer=_load_all, initargs=(str(db_path),)) as pool:
            reference = pool.map(_brute, planned[:check], chunksize=4)
            naive = pool.map(_naive, planned[: args.naive_queries], chunksize=1)
    mismatches = sum(1 for ours, theirs in zip(served["answers"], reference, strict=True)
                     if [tuple(x) for x in ours] != [tuple(x) for x in theirs])
    timings = sorted(served["timings"])
    p50 = statistics.median(timings)
    p99 = timings[min(len(timings) - 1, round(0.99 * (len(timings) - 1)))]
    naive_ms = statistics.mean(naive)
    report = {
        "services": args.services, "queries": args.queries, "p50_ms": round(p50, 3),
        "p99_ms": round(p99, 3), "naive_ms": round(naive_ms, 1),
        "speedup": round(naive_ms / p50, 1), "mismatches": mismatches,
        "checked": check, "rss_mb": round(served["rss_mb"], 1),
        "open_db_ms": round(served["open_db_ms"], 1), "warm_ms": served["warm_ms"],
        "import_s": round(import_s, 1),
        "live": args.live,
    }
    if args.json:
        print(json.dumps(report))
    else:
        for key, value in report.items():
            print(f"{key:>12}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
