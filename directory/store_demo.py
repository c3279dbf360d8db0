"""The bundled demo directory: loaded into a database that has no directory yet.

This module owns the demo (its file, its region, loading it once) and is the only part of
the store that reads a directory file, through the importers; a real source replaces the
demo when it is imported (see `DirectoryWrites.replace_source`).
"""

from __future__ import annotations

from importlib import resources

from directory.store_writer import DEMO_SOURCE, DirectoryWrites

DEMO_REGION = "US-IL"
DEMO_FILE = "demo_chicago.csv"


async def ensure_demo(directory: DirectoryWrites) -> bool:
    """Load the bundled demo directory if there is no directory yet; True if it did."""
    async with directory.db.execute("SELECT 1 FROM directory_source LIMIT 1") as cursor:
        if await cursor.fetchone() is not None:
            return False
    # Imported here, not at the top: opening a directory that has one needs no importer.
    from directory.importers import read_path

    demo = resources.files("directory.data").joinpath(DEMO_FILE)
    with resources.as_file(demo) as path:
        result = read_path(path, format="csv", region=DEMO_REGION)
    if result.errors:
        raise RuntimeError("the bundled demo directory does not import: "
                           + "; ".join(p.render_english() for p in result.errors))
    await directory.replace_source(DEMO_SOURCE, result.services, format="csv",
                                   origin="bundled demo", region=DEMO_REGION)
    return True
