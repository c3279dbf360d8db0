"""`deflect privacy-check` on an SQLite file: every value of every table that is not the
directory's, looked at with referrals/privacy.py's rules (read-only; nothing is changed)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from referrals.privacy import DIRECTORY_TABLES, TRANSIENT, Finding, inspect


def check(path: Path) -> tuple[list[Finding], dict[str, int]]:
    """Findings, and the row counts of the tables that hold transient data by design."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    findings: list[Finding] = []
    transient: dict[str, int] = {}
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")]
        for table in tables:
            if DIRECTORY_TABLES.match(table) or "_rtree" in table:
                continue
            if table in TRANSIENT:
                transient[table] = connection.execute(
                    f'SELECT count(*) FROM "{table}"').fetchone()[0]
                continue
            cursor = connection.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row, strict=True):
                    finding = inspect(table, column, value)
                    if finding is not None:
                        findings.append(finding)
    finally:
        connection.close()
    return findings, transient
