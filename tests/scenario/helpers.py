"""Helpers to break scenario files on purpose and find the resulting problems."""

from __future__ import annotations

import csv
from pathlib import Path

from coalition.errors import Problem


def edit_csv(path: Path, row: int, column: str, value: str) -> None:
    """Set one cell of a CSV file (row is the 1-based data row, header excluded)."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    rows[row - 1][column] = value
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def find(problems: list[Problem], *, file: str | None = None, row: int | None = None,
         field: str | None = None, contains: str = "") -> Problem:
    """The one problem at that place (fails with the full list otherwise)."""
    hits = [
        p for p in problems
        if (file is None or (p.file or "").endswith(file))
        and (row is None or p.row == row)
        and (field is None or p.field == field)
        and contains in p.message
    ]
    assert len(hits) == 1, f"expected one problem at {file} {row} {field} {contains!r}, got:\n" + "\n".join(
        str(p) for p in problems)
    return hits[0]
