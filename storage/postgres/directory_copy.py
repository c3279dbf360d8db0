"""The directory on PostgreSQL: imported once, kept here as an image of its SQLite file, and
loaded by every worker into the copy its searches read (with the R*Tree an exact nearest
search needs). A worker loads the image at start and again when a newer one is published.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from directory.store import Directory
from storage.postgres.database import Pool, transaction


async def publish(pool: Pool, directory: Directory) -> int:
    """Publish this directory for every worker; returns its version."""
    with tempfile.TemporaryDirectory(prefix="deflect-directory-") as folder:
        image = Path(folder) / "directory.sqlite3"
        await directory.write_image(image)
        data = image.read_bytes()
    async with transaction(pool) as db:
        version = int(await db.fetchval(
            "INSERT INTO directory_copy (made_at, image) VALUES ($1, $2) RETURNING version",
            time.time(), data))
        await db.execute("DELETE FROM directory_copy WHERE version < $1", version)
    return version


async def latest(pool: Pool) -> int:
    """The newest published version (0: none yet)."""
    return int(await pool.fetchval("SELECT coalesce(max(version), 0) FROM directory_copy"))


async def load(pool: Pool, directory: Directory, newer_than: int) -> int:
    """Load the newest image into `directory` if newer than `newer_than`; returns the
    version the directory now has."""
    row = await pool.fetchrow("SELECT version, image FROM directory_copy WHERE version > $1 "
                              "ORDER BY version DESC LIMIT 1", newer_than)
    if row is None:
        return newer_than
    with tempfile.TemporaryDirectory(prefix="deflect-directory-") as folder:
        image = Path(folder) / "directory.sqlite3"
        image.write_bytes(bytes(row["image"]))
        await directory.load_image(image)
    return int(row["version"])
