"""`tilerunner eval`: how well saved genomes play a set of levels, per group of levels and in total."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import check_output_file


def register(sub: argparse._SubParsersAction) -> None:
    """Add `eval` to the top-level parser."""
    p = sub.add_parser(
        "eval", help="play saved genomes on a set of levels: finished share, progress, deaths",
        description="Play each replay's genome on every level of the sets given (in the parallel kernel) and"
                    " print, per group of levels (a public level's generator, a folder, a generated"
                    " difficulty), the levels finished, the mean progress towards the exit and how the"
                    " other episodes ended, then a total line.")
    p.add_argument("replays", nargs="+", metavar="FILE|DIR",
                   help="replay files, folders of them, or names of shipped ones (see replay --list)")
    p.add_argument("--level", action="append", required=True, metavar="SET",
                   help="levels: an id, a file, a folder of level files, a quoted glob, or gen:A-B[:DIFFICULTY]"
                        " (repeat for several)")
    p.add_argument("--json", metavar="PATH", help="also write every result as JSON to PATH")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tilerunner.envs.atomic import write_atomic
    from tilerunner.evolve.commands.replay import resolve
    from tilerunner.evolve.runs.evaluation import evaluate_on, summarize
    from tilerunner.evolve.runs.replay import ReplayError, load_replay
    from tilerunner.evolve.runs.run import as_levels

    if args.json:
        check_output_file(args.json, "--json")
    files: list[Path] = []
    for name in args.replays:
        path = Path(resolve(name))
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files:
        raise UserError("no replay files to evaluate")
    try:
        replays = [load_replay(f) for f in files]
    except ReplayError as exc:
        raise UserError(str(exc)) from None
    levels = as_levels(args.level)
    t0 = time.perf_counter()
    results = evaluate_on(replays, levels)
    seconds = time.perf_counter() - t0
    report = []
    for file, rows in zip(files, results):
        groups, total = summarize(rows)
        print(f"{file.name}: {len(levels)} levels")
        width = max(len(g) for g in groups)
        for name, tally in groups.items():
            print(f"  {name:<{width}}  {_line(tally)}")
        print(f"  {'total':<{width}}  {_line(total)}")
        report.append({"file": str(file), "groups": {g: t.as_dict() for g, t in groups.items()},
                       "total": total.as_dict(), "levels": [r.as_dict() for r in rows]})
    print(f"{len(files)} genome{'s' if len(files) != 1 else ''} x {len(levels)} levels in {seconds:.1f} s")
    if args.json:
        write_atomic(args.json, json.dumps({"genomes": report}, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


def _line(tally) -> str:
    ended = ", ".join(f"{n} {how}" for how, n in sorted(tally.ended.items(), key=lambda kv: -kv[1]))
    return (f"finished {tally.finished:>4}/{tally.levels:<4} ({tally.finished_share:4.0%})"
            f"  progress {tally.mean_progress:4.0%}" + (f"  not finished: {ended}" if ended else ""))
