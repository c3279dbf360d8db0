"""Directory import throughput: a big CSV, a big GeoJSON and big HSDS datapackages.

    python -m benchmarks.importing --json
    python -m benchmarks.importing --csv-rows 100000 --osm-features 100000 --hsds-services 20000

Generates seeded files shaped like real exports (scheme-less websites, local phone numbers,
language names, 12-hour times in HSDS 1.x, a few unparsable hours, records that meet no
need), then imports each in a fresh process: read and check (`read_path`), then store
(`Directory.replace_source`) into a new database. Prints one JSON line with, per format:

- `records`: records in the file; `imported`: services stored;
- `read_s`, `store_s`, `total_s`: reading and checking, writing, both (wall clock);
- `records_per_s`: records / total_s;
- `rss_mb`: peak resident memory of the importing process;
- for the CSV, `bare_parse_s`: Python's csv module reading the same file and nothing else,
  and `ratio_to_bare_parse`: total_s / bare_parse_s, measured side by side in one run.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import multiprocessing
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from directory.importers import read_path
from directory.importers.simple_csv import COLUMNS
from storage import directory_session

# (lat, lon, spread in degrees, phone prefix as written locally)
PLACES = [
    (41.88, -87.63, 0.15, "(312) 555-"), (51.51, -0.13, 0.12, "020 7946 "),
    (48.21, 16.37, 0.08, "01 4000 "), (40.42, -3.7, 0.08, "91 123 "),
    (-1.29, 36.82, 0.1, "020 2"), (45.46, 9.19, 0.08, "02 1234 "),
]
NEEDS = ["detox", "treatment", "moud", "harm_reduction", "naloxone", "crisis", "shelter",
         "peer_support"]
HOURS = ["24/7", "Mo-Fr 08:00-17:00", "Mo-Fr 09:00-17:00; Sa 10:00-14:00; PH off",
         "Mo-Su 07:00-23:00", "Mo-Fr 22:00-06:00", "", "by appointment"]
WEBSITES = ["https://example.org/{n}", "www.example.org/{n}", "", "", "info{n}@example.org"]
LANGUAGES = ["en", "en;es", "Spanish", "English;French", ""]
TAXONOMY_NEEDS = ["Detoxification", "Methadone Maintenance", "Substance Use Disorder Treatment",
                  "Harm Reduction", "Crisis Intervention", "Homeless Shelter",
                  "Peer Recovery Support", "Food Pantries"]


def _place(rng: random.Random) -> tuple[float, float, str]:
    lat, lon, spread, phone = rng.choice(PLACES)
    return (round(lat + rng.gauss(0, spread), 6), round(lon + rng.gauss(0, spread), 6),
            f"{phone}{rng.randrange(1000, 9999)}")


def write_csv(folder: Path, rows: int, seed: int) -> Path:
    rng = random.Random(seed)
    path = folder / "big.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            lat, lon, phone = _place(rng)
            writer.writerow([
                f"svc-{n}", f"Service {n}", ";".join(rng.sample(NEEDS, rng.randint(1, 3))),
                lat, lon, f"{n} Main St", phone, rng.choice(HOURS), rng.choice(LANGUAGES),
                rng.choice(["true", "false", ""]), rng.choice(WEBSITES).format(n=n), "",
            ])
    return path


OSM_TAGS: list[dict[str, str]] = [
    {"healthcare": "clinic", "healthcare:speciality": "addiction"},
    {"vending": "syringes"}, {"amenity": "social_facility", "social_facility": "shelter"},
    {"healthcare:speciality": "methadone"}, {"amenity": "pharmacy"},
]


def write_geojson(folder: Path, features: int, seed: int) -> Path:
    rng = random.Random(seed)
    items = []
    for n in range(features):
        lat, lon, phone = _place(rng)
        kind = rng.randrange(4)
        geometry: dict[str, Any]
        if kind == 0:
            geometry = {"type": "Polygon", "coordinates": [[
                [lon, lat], [lon + 0.001, lat], [lon + 0.001, lat + 0.001], [lon, lat + 0.001],
                [lon, lat]]]}
        else:
            geometry = {"type": "Point", "coordinates": [lon, lat]}
        properties: dict[str, Any] = {"name": f"Place {n}", "phone": phone,
                                      "opening_hours": rng.choice(HOURS) or None,
                                      "website": rng.choice(WEBSITES).format(n=n) or None,
                                      **rng.choice(OSM_TAGS)}
        osm_id = f"{'way' if kind == 0 else 'node'}/{n}"
        items.append({"type": "Feature", "id": osm_id, "properties": {"@id": osm_id,
                                                                        **properties},
                      "geometry": geometry})
    path = folder / "big.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": items}))
    return path


def _write_table(path: Path, header: list[str], rows: list[list[Any]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)


def write_hsds(folder: Path, services: int, seed: int, version: int) -> Path:
    """A datapackage of `services` services at as many locations, in HSDS 3.x or 1.x."""
    rng = random.Random(seed)
    root = folder / f"hsds{version}"
    root.mkdir()
    organizations = [[f"o{n}", f"Organization {n}", "", ""] for n in range(services // 4 + 1)]
    service_rows, locations, links, phones, languages, addresses, schedules, links_tax = (
        [], [], [], [], [], [], [], [])
    for n in range(services):
        lat, lon, phone = _place(rng)
        need = rng.choice(TAXONOMY_NEEDS)
        service_rows.append([f"s{n}", f"o{n // 4}", f"{need} program {n}", "",
                             rng.choice(WEBSITES).format(n=n), "active"])
        locations.append([f"l{n}", f"o{n // 4}", f"Site {n}", lat, lon])
        links.append([f"sal{n}", f"s{n}", f"l{n}"])
        phones.append([f"p{n}", f"s{n}", phone])
        languages.append([f"lang{n}", f"s{n}", rng.choice(["es", "Spanish", "fr"])])
        addresses.append([f"a{n}", f"l{n}", f"{n} Main St", "City", "ST", "00000", "US"])
        links_tax.append([f"st{n}", f"s{n}", f"t{TAXONOMY_NEEDS.index(need)}"])
        for day in range(1, 6) if n % 3 else range(1, 8):
            if version == 1:
                schedules.append([f"r{n}-{day}", f"s{n}", "", day, "9:00am", "5:00 PM"])
            else:
                schedules.append([f"r{n}-{day}", f"s{n}", "", "WEEKLY",
                                  "MO TU WE TH FR SA SU".split()[day - 1], "09:00", "17:00"])
    taxonomy = [[f"t{i}", name] for i, name in enumerate(TAXONOMY_NEEDS)]
    _write_table(root / "organizations.csv", ["id", "name", "description", "url"], organizations)
    _write_table(root / "services.csv", ["id", "organization_id", "name", "description", "url",
                                         "status"], service_rows)
    _write_table(root / "locations.csv", ["id", "organization_id", "name", "latitude",
                                          "longitude"], locations)
    _write_table(root / "phones.csv", ["id", "service_id", "number"], phones)
    address_header = ["id", "location_id", "address_1", "city", "state_province", "postal_code",
                      "country"]
    if version == 1:
        _write_table(root / "services_at_location.csv", ["id", "service_id", "location_id"],
                     links)
        _write_table(root / "languages.csv", ["id", "service_id", "language"], languages)
        _write_table(root / "physical_addresses.csv", address_header, addresses)
        _write_table(root / "regular_schedules.csv", ["id", "service_id", "location_id",
                                                      "weekday", "opens_at", "closes_at"],
                     schedules)
        _write_table(root / "taxonomy.csv", ["id", "name"], taxonomy)
        _write_table(root / "services_taxonomy.csv", ["id", "service_id", "taxonomy_id"],
                     links_tax)
    else:
        _write_table(root / "service_at_location.csv", ["id", "service_id", "location_id"],
                     links)
        _write_table(root / "languages.csv", ["id", "service_id", "code"], languages)
        _write_table(root / "addresses.csv", [*address_header, "address_type"],
                     [[*row, "physical"] for row in addresses])
        _write_table(root / "schedules.csv", ["id", "service_id", "location_id", "freq",
                                              "byday", "opens_at", "closes_at"], schedules)
        _write_table(root / "taxonomy_terms.csv", ["id", "name", "description"],
                     [[*row, ""] for row in taxonomy])
        _write_table(root / "attributes.csv", ["id", "link_id", "taxonomy_term_id",
                                               "link_entity"],
                     [[row[0], row[1], row[2], "service"] for row in links_tax])
    return root


def _import(path: str, fmt: str, records: int, queue: Any) -> None:
    """In a fresh process: read, check and store one file; report times and peak memory."""
    started = time.perf_counter()
    result = read_path(Path(path), format=fmt, source="bench")
    read_s = time.perf_counter() - started
    kept = result.without_invalid()

    async def store() -> None:
        async with directory_session(Path(path).parent / f"{fmt}.sqlite3",
                                     demo=False) as directory:
            await directory.replace_source("bench", kept.services, format=fmt, origin=path,
                                           region="")

    begun = time.perf_counter()
    asyncio.run(store())
    store_s = time.perf_counter() - begun
    total = read_s + store_s
    queue.put({"records": records, "imported": len(kept.services),
               "errors": len(result.errors), "warnings": len(result.warnings),
               "out_of_scope": result.not_in_scope, "read_s": round(read_s, 2),
               "store_s": round(store_s, 2), "total_s": round(total, 2),
               "records_per_s": round(records / total),
               "rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})


def _in_fresh_process(path: Path, fmt: str, records: int) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_import, args=(str(path), fmt, records, queue))
    process.start()
    report: dict[str, Any] = queue.get()
    process.join()
    return report


def _bare_parse(path: Path) -> float:
    started = time.perf_counter()
    with path.open(newline="", encoding="utf-8") as handle:
        for _row in csv.reader(handle):
            pass
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.importing")
    parser.add_argument("--csv-rows", type=int, default=100_000)
    parser.add_argument("--osm-features", type=int, default=100_000)
    parser.add_argument("--hsds-services", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        jobs: list[tuple[str, Callable[[], Path], str, int]] = [
            ("csv", lambda: write_csv(folder, args.csv_rows, args.seed), "csv", args.csv_rows),
            ("osm_geojson", lambda: write_geojson(folder, args.osm_features, args.seed), "osm",
             args.osm_features),
            ("hsds_3", lambda: write_hsds(folder, args.hsds_services, args.seed, 3), "hsds",
             args.hsds_services),
            ("hsds_1", lambda: write_hsds(folder, args.hsds_services, args.seed, 1), "hsds",
             args.hsds_services),
        ]
        for name, generate, fmt, records in jobs:
            path = generate()
            report[name] = _in_fresh_process(path, fmt, records)
            if fmt == "csv":
                bare = _bare_parse(path)
                report[name]["bare_parse_s"] = round(bare, 3)
                report[name]["ratio_to_bare_parse"] = round(report[name]["total_s"] / bare, 1)
    if args.json:
        print(json.dumps(report))
    else:
        for name, figures in report.items():
            print(name, figures)
    return 0


if __name__ == "__main__":
    sys.exit(main())
