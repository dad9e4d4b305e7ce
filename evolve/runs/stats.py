"""A run's stats.jsonl: one JSON object per generation, read back and fully checked.

`read_stats` is what the viewer, `tilerunner plot` and `tilerunner watch` use, so drawing
never meets garbage: anything wrong is a `StatsError` naming `file:line` and the field.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json

STATS_FILE = "stats.jsonl"
_NUMBERS = ("best_fitness", "mean_fitness", "best_ever")
_COUNTS = ("species", "finished", "population", "frames")
OUTCOME_KINDS = {"fitness": "number", "finished": "bool", "distance": "number", "frames": "count",
                 "coins": "count", "kills": "count", "status": "str", "cause": "str"}


class StatsError(FormatError):
    """A stats.jsonl that cannot be read or holds garbage; one line for the user."""


_read = FieldReader(StatsError)


def read_stats(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a stats.jsonl (or of a run folder's), each checked; generations must increase."""
    path = Path(path)
    file = path / STATS_FILE if path.is_dir() else path
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise StatsError(f"{path}: no {STATS_FILE} (not a run folder, or no generation finished yet)") from None
    except OSError as exc:
        raise StatsError(f"{file}: cannot read: {exc.strerror or exc}") from None
    rows: list[dict[str, Any]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw.strip():
            continue
        row = parse_json(raw, str(file), StatsError, line=number)
        try:
            check_row(row)
        except StatsError as exc:
            raise StatsError(f"{file}:{number}: {exc}") from None
        if rows and row["generation"] <= rows[-1]["generation"]:
            raise StatsError(f"{file}:{number}: generation {row['generation']} after generation"
                             f" {rows[-1]['generation']} (generations must increase)")
        rows.append(row)
    return rows


def check_row(row: Any) -> dict[str, Any]:
    """One stats.jsonl row, checked field by field (`StatsError` without a file name otherwise)."""
    _read.check(row, "object", "the line")
    _read.get(row, "generation", "count", "")
    _read.get(row, "best_genome", "int", "")
    for key in _NUMBERS:
        _read.get(row, key, "number", "")
    for key in _COUNTS:
        _read.get(row, key, "count", "")
    if row["finished"] > row["population"]:
        raise StatsError(f"finished ({row['finished']}) is more than population ({row['population']})")
    for i, outcome in enumerate(_read.get(row, "best", "list", "")):
        for key, kind in OUTCOME_KINDS.items():
            _read.get(outcome, key, kind, f"best[{i}]")
    return row
