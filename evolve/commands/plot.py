"""`tilerunner plot RUN_DIR --png OUT.png`: draw a run folder's fitness and species per generation as a PNG."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from tilerunner.envs import render
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import check_not_an_input, check_output_file, writing
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.runs import stats
from tilerunner.evolve.viewer.chart import chart_image

DEFAULT_SIZE = (1000, 600)
_SIZE = re.compile(r"([0-9]{1,9})[xX]([0-9]{1,9})")  # ASCII digits, few enough for int()


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner plot`'s flags."""
    p.description = (
        "Draw a run folder's stats.jsonl: best, mean and best-ever fitness, genomes that finished,"
        " and species, per generation."
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder (or its stats.jsonl)")
    p.add_argument_group("required").add_argument(
        "--png", metavar="PATH", required=True, help="write the chart to PATH, a .png file"
    )
    p.add_argument(
        "--size",
        metavar="WxH",
        default="x".join(map(str, DEFAULT_SIZE)),
        help="picture size in pixels (default %(default)s)",
    )
    p.set_defaults(run=run)


def parse_size(text: str) -> tuple[int, int]:
    """`WxH` -> (width, height); a `UserError` unless both fit a readable chart (200x120 to 10000x10000)."""
    match = _SIZE.fullmatch(text.strip())
    if not match:
        shown = repr(text) if len(text) <= 40 else repr(text[:37] + "...")
        raise UserError(f"--size must look like 1000x600, got {shown}")
    width, height = int(match.group(1)), int(match.group(2))
    if not (200 <= width <= 10_000 and 120 <= height <= 10_000):
        raise UserError(f"--size {width}x{height} is out of range (200x120 to 10000x10000)")
    return width, height


def check_png_path(path: str | None) -> str:
    """`path` if it names a PNG file (ends in .png, any case); a `UserError` otherwise, since PNG is what is written."""
    if not path:
        raise UserError("plot writes a picture: give --png PATH")
    if not path.lower().endswith(".png"):
        raise UserError(f"--png {path}: the chart is written as PNG, so the name must end in .png")
    return path


def run(args: argparse.Namespace) -> int:
    """Read the run's stats, draw the chart and write it to --png atomically; one line says what was drawn."""
    png = check_png_path(args.png)
    width, height = parse_size(args.size)
    check_output_file(png, "--png")
    if not Path(args.run_dir).exists():
        raise UserError(f"{args.run_dir}: no such folder")
    check_not_an_input(png, "--png", [_stats_file(Path(args.run_dir))])
    try:
        rows = stats.read_stats(args.run_dir)
    except stats.StatsError as exc:
        raise UserError(str(exc)) from None
    if not rows:
        raise UserError(f"{args.run_dir}: stats.jsonl is empty (no generation finished yet)")
    image = chart_image(rows, width, height)
    with writing(png):
        render.save_png(image, png)
    top = max(rows, key=lambda row: row["best_fitness"])  # the first generation to reach it
    print(
        f"wrote {png}: {plural(len(rows), 'generation')},"
        f" best fitness {_number(top['best_fitness'])} (gen {top['generation']})"
    )
    return 0


def _stats_file(run: Path) -> Path:
    """The file `plot` reads: a run folder's stats.jsonl, or the file it was given."""
    return run / stats.STATS_FILE if run.is_dir() else run


def _number(value: float) -> str:
    """A fitness for a line of text: one decimal, or 6 significant digits when it is huge."""
    return f"{value:.1f}" if abs(value) < 1e15 else f"{value:.6g}"
