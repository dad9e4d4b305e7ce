"""`tilerunner eval`: how well saved genomes play a set of levels, per group of levels and in total."""

from __future__ import annotations

import argparse
import json
import os
import sys
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
                    " other episodes ended, then a total line. With --solve, the finished share is also given"
                    " against the levels that can be finished (the solver finishes them, or a genome did).")
    p.add_argument("replays", nargs="+", metavar="FILE|DIR",
                   help="replay files, folders of them, or names of shipped ones (see replay --list)")
    p.add_argument("--level", action="append", required=True, metavar="SET",
                   help="levels: an id, a file, a folder of level files, a quoted glob, or gen:A-B[:DIFFICULTY]"
                        " (repeat for several)")
    p.add_argument("--json", metavar="PATH", help="also write every result as JSON to PATH")
    p.add_argument("--solve", action="store_true",
                   help="also search every level for a way to the exit (on all cores) and give the finished"
                        " share of the solvable levels too: those the solver finishes or a genome finished")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tilerunner.envs.atomic import write_atomic
    from tilerunner.evolve.commands.replay import resolve
    from tilerunner.evolve.runs.evaluation import evaluate_on, summarize, with_solvable
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
    solver = None
    if args.solve:
        solver, solvable = _solve(levels, results)
        results = [with_solvable(rows, solvable) for rows in results]
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
    out = {"genomes": report}
    if solver is not None:
        print(solver.pop("summary"))
        out["solver"] = solver
    if args.json:
        write_atomic(args.json, json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


def _solve(levels: list, results: list) -> tuple[dict, list[bool]]:
    """Search every level; (the solver's report, with a one-line `summary`; solvable per level)."""
    from tilerunner.evolve.runs.evaluation import solvable_levels
    from tilerunner.evolve.runs.solvable import search_levels

    workers = os.cpu_count() or 1
    print(f"searching {len(levels)} levels for a way to the exit on {workers} thread{'s' if workers != 1 else ''}"
          " (Ctrl-C stops)", file=sys.stderr, flush=True)
    t0 = time.perf_counter()
    searches = search_levels(levels, workers)
    seconds = time.perf_counter() - t0
    solvable = solvable_levels([s.found for s in searches], results)
    solved = sum(s.found for s in searches)
    walled = sum(s.walled_in for s in searches)
    not_found = len(levels) - solved - walled
    by_genome = sum(solvable) - solved
    summary = f"solvable: {sum(solvable)} of {len(levels)} levels ({solved} solved by the solver"
    summary += f", {by_genome} more finished by a genome)" if by_genome else ")"
    if solved < len(levels):
        why = [f"no solution found for {not_found}"] if not_found else []
        why += [f"{walled} proved unfinishable (walled in)"] if walled else []
        summary += f"; the solver could not solve {len(levels) - solved}: {', '.join(why)}"
    summary += f"; searched in {seconds:.1f} s"
    report = {
        "summary": summary, "levels": len(levels), "solvable": sum(solvable), "solved": solved,
        "finished_by_a_genome_only": by_genome, "no_solution_found": not_found, "walled_in": walled,
        "per_level": [{"level": s.level_id, "solver": _verdict(s), "solvable": v,
                       "frames": s.solution.frames if s.solution else None} for s, v in zip(searches, solvable)],
    }
    return report, solvable


def _verdict(search) -> str:
    return "solved" if search.found else ("walled in" if search.walled_in else "no solution found")


def _line(tally) -> str:
    ended = ", ".join(f"{n} {how}" for how, n in sorted(tally.ended.items(), key=lambda kv: -kv[1]))
    of_solvable = ""
    if tally.solvable is not None:
        share = f"{tally.finished_share_of_solvable:4.0%}" if tally.solvable else "   -"
        of_solvable = f"  of solvable {tally.finished:>4}/{tally.solvable:<4} ({share})"
    return (f"finished {tally.finished:>4}/{tally.levels:<4} ({tally.finished_share:4.0%}){of_solvable}"
            f"  progress {tally.mean_progress:4.0%}" + (f"  not finished: {ended}" if ended else ""))
