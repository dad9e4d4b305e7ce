"""A run's stats.jsonl: one JSON object per generation, read back and fully checked.

`read_stats` is what the viewer, `tilerunner plot` and `tilerunner watch` use, so drawing
never meets garbage: anything wrong is a `StatsError` naming `file:line` and the field.
Only a regular file of at most `MAX_STATS_BYTES` (64 MiB, about 150,000 generations) is read,
so a path from elsewhere (a replay's `run`) naming a device or a pipe is refused, not read.
Whole numbers fit 64 bits, other numbers are finite, and an outcome's `status` and `cause`
are names the engine uses (`envs.physics.STATUS_NAMES`, `CAUSE_NAMES`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tilerunner.envs.bounded_read import read_regular_file
from tilerunner.envs.physics import CAUSE_NAMES, STATUS_NAMES
from tilerunner.evolve.runs.json_fields import FieldReader, FormatError, parse_json, shown

STATS_FILE = "stats.jsonl"
MAX_STATS_BYTES = 64 * 1024 * 1024
_NUMBERS = ("best_fitness", "mean_fitness", "best_ever")
_COUNTS = ("species", "finished", "population", "frames")
VALIDATION_KINDS = {
    "levels": "count",
    "finished": "count",
    "finished_share": "number",
    "mean_progress": "number",
    "genome": "int",
    "checked": "count",
    "best": "bool",
}
OUTCOME_KINDS = {
    "fitness": "number",
    "finished": "bool",
    "distance": "number",
    "frames": "count",
    "coins": "count",
    "kills": "count",
    "status": "str",
    "cause": "str",
}


class StatsError(FormatError):
    """A stats.jsonl that cannot be read or holds garbage; one line for the user."""


_read = FieldReader(StatsError)


def read_stats(path: str | os.PathLike) -> list[dict[str, Any]]:
    """The rows of a stats.jsonl (or of a run folder's), each checked; generations must increase."""
    path = Path(path)
    file = path / STATS_FILE if path.is_dir() else path
    if not os.path.lexists(file):
        raise StatsError(f"{path}: no {STATS_FILE} (not a run folder, or no generation finished yet)")
    data = read_regular_file(file, MAX_STATS_BYTES, StatsError, what=STATS_FILE)
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
            raise StatsError(
                f"{file}:{number}: generation {row['generation']} after generation"
                f" {rows[-1]['generation']} (generations must increase)"
            )
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
        check_outcome_names(outcome, f"best[{i}]", StatsError)
    if "levels" in row:  # runs with --levels-per-gen: the levels this generation played
        for i, level_id in enumerate(_read.get(row, "levels", "list", "")):
            _read.check(level_id, "str", f"levels[{i}]")
    if "validation" in row:  # runs with --validate, on the generations they checked
        for key, kind in VALIDATION_KINDS.items():
            _read.get(row["validation"], key, kind, "validation")
    return row


def check_outcome_names(outcome: dict[str, Any], where: str, error: type[FormatError]) -> None:
    """Refuse an outcome whose `status` or `cause` is not a name the engine uses (`error`, one line)."""
    if outcome["status"] not in STATUS_NAMES:
        raise error(f"{where}.status: expected one of {', '.join(STATUS_NAMES)}, got {shown(outcome['status'])}")
    if outcome["cause"] not in CAUSE_NAMES:
        causes = ", ".join(repr(c).replace("'", '"') for c in CAUSE_NAMES)
        raise error(f"{where}.cause: expected one of {causes}, got {shown(outcome['cause'])}")
