"""`tilerunner eval`: how well saved genomes, and baselines beside them, play sets of levels, per group and in total."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import check_output_file, writing

if TYPE_CHECKING:
    from tilerunner.evolve.core.fitness import EpisodeSettings

# What each baseline of `tilerunner.evolve.runs.evaluation.BASELINES` is, in its order (a test holds the two
# equal; the library is not imported to build the parser).
BASELINE_ABOUT = {
    "hold-right": "Right+B held, A whenever a jump can start or in the air (the Mario AI ForwardJumpingAgent)",
    "rules": "the hand-written reactive controller of tilerunner.evolve.core.controllers",
    "planner": "the solver's beam search over the real physics (about a second a level)",
}


def register(sub: argparse._SubParsersAction) -> None:
    """Add `eval` to the top-level parser."""
    from tilerunner.evolve.commands.flags import DEFAULT_JUMP_RULE, add_jump_rule_flag

    p = sub.add_parser(
        "eval", help="play saved genomes (or baselines) on a set of levels: finished share, progress, deaths",
        description="Play each replay's genome on every level of the sets given (in the parallel kernel) and"
                    " print, per group of levels (a public level's generator, a folder, a generated"
                    " difficulty), the levels finished, the mean progress towards the exit and how the"
                    " other episodes ended, then a total line. --baseline adds the lines of a built-in player"
                    " on the same levels, above the genomes'. With --solve, the finished share is also given"
                    " against the levels that can be finished (the solver finishes them, or someone did).")
    p.add_argument("replays", nargs="*", metavar="FILE|DIR",
                   help="replay files, folders of them, or names of shipped ones (see replay --list);"
                        " none if --baseline is given")
    p.add_argument("--level", action="append", required=True, metavar="SET",
                   help="levels: an id, a file, a folder of level files, a quoted glob, or gen:A-B[:DIFFICULTY]"
                        " (repeat for several)")
    p.add_argument("--baseline", action="append", choices=tuple(BASELINE_ABOUT), metavar="|".join(BASELINE_ABOUT),
                   help="also play a built-in player on the same levels, under the same episode rules: "
                        + "; ".join(f"{name}, {about}" for name, about in BASELINE_ABOUT.items())
                        + " (repeat for several)")
    add_jump_rule_flag(p, default=None,
                       default_text=f"each replay's own; baselines play by the replays' rule, {DEFAULT_JUMP_RULE}"
                                    " without replays")
    p.add_argument("--json", metavar="PATH", help="also write every result as JSON to PATH")
    p.add_argument("--solve", action="store_true",
                   help="also search every level for a way to the exit (on all cores) and give the finished"
                        " share of the solvable levels too: those the solver finishes or someone finished")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from tilerunner.envs.atomic import write_atomic
    from tilerunner.evolve.commands.flags import DEFAULT_JUMP_RULE
    from tilerunner.evolve.commands.replay import resolve
    from tilerunner.evolve.runs.evaluation import evaluate_baselines, evaluate_on, with_solvable
    from tilerunner.evolve.runs.replay import ReplayError, load_replay
    from tilerunner.evolve.runs.run import as_levels

    if args.json:
        check_output_file(args.json, "--json")
    baselines = list(dict.fromkeys(args.baseline or ()))  # each once, in the order given
    files: list[Path] = []
    for name in args.replays:
        path = Path(resolve(name))
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if not files and not baselines:
        raise UserError("no replay files to evaluate" if args.replays else
                        "give replay files to evaluate, or --baseline hold-right|rules|planner")
    try:
        replays = [load_replay(f) for f in files]
    except ReplayError as exc:
        raise UserError(str(exc)) from None
    rule = args.jump_rule
    if rule is None:  # the replays' own rules; baselines and the solver need the one they share
        rules = sorted({r.settings.jump_rule for r in replays})
        if len(rules) > 1 and (baselines or args.solve):
            what = "the baselines" if baselines else "--solve"
            raise UserError(f"the replays play by different jump rules ({', '.join(rules)}); give --jump-rule to"
                            f" measure {what} under one")
        rule = rules[0] if rules else DEFAULT_JUMP_RULE
    levels = as_levels(args.level)
    t0 = time.perf_counter()
    results = evaluate_on(replays, levels, args.jump_rule)
    seconds = time.perf_counter() - t0
    searches, search_seconds = _search(levels, rule) if args.solve or "planner" in baselines else (None, 0.0)
    t0 = time.perf_counter()
    base_results = evaluate_baselines(baselines, levels, _baseline_settings(replays, rule), searches)
    base_seconds = time.perf_counter() - t0
    solver = None
    if args.solve:
        solver, solvable = _solvable(levels, searches, search_seconds, [*base_results, *results])
        results = [with_solvable(rows, solvable) for rows in results]
        base_results = [with_solvable(rows, solvable) for rows in base_results]
    shown = f", jump rule {args.jump_rule}" if args.jump_rule else ""
    out: dict = {}
    if baselines:
        out["baselines"] = [_block(f"baseline: {name}", f"{len(levels)} levels, jump rule {rule}", rows,
                                   {"baseline": name, "jump_rule": rule})
                            for name, rows in zip(baselines, base_results)]
    out["genomes"] = [_block(file.name, f"{len(levels)} levels{shown}", rows,
                             {"file": str(file), "baseline": None,
                              "jump_rule": args.jump_rule or replay.settings.jump_rule})
                      for file, replay, rows in zip(files, replays, results)]
    if baselines:
        search = f", the solver's search {search_seconds:.1f} s" if "planner" in baselines else ""
        print(f"baseline{'s' if len(baselines) != 1 else ''} {', '.join(baselines)} x {len(levels)} levels in"
              f" {base_seconds:.1f} s{search}")
    if files:
        print(f"{len(files)} genome{'s' if len(files) != 1 else ''} x {len(levels)} levels in {seconds:.1f} s")
    if solver is not None:
        print(solver.pop("summary"))
        out["solver"] = solver
    if args.json:
        with writing(args.json):
            write_atomic(args.json, json.dumps(out, indent=1) + "\n")
        print(f"wrote {args.json}")
    return 0


def _baseline_settings(replays: list, rule: str) -> EpisodeSettings:
    """The episode rules baselines play by, under `rule`: the replays' if they all share them (what a genome
    sees aside: the baselines see by their own senses), else the defaults."""
    from dataclasses import replace

    from tilerunner.evolve.core.fitness import EpisodeSettings

    default = EpisodeSettings(jump_rule=rule)
    shared = {replace(r.settings, features=(), view_radius=default.view_radius, novelty=0.0, jump_rule=rule)
              for r in replays}
    return shared.pop() if len(shared) == 1 else default


def _block(label: str, about: str, rows: list, fields: dict) -> dict:
    """Print one player's lines (its groups and a total) and return its JSON entry."""
    from tilerunner.evolve.runs.evaluation import summarize

    groups, total = summarize(rows)
    print(f"{label}: {about}")
    width = max(len(g) for g in groups)
    for name, tally in groups.items():
        print(f"  {name:<{width}}  {_line(tally)}")
    print(f"  {'total':<{width}}  {_line(total)}", flush=True)
    return {**fields, "groups": {g: t.as_dict() for g, t in groups.items()}, "total": total.as_dict(),
            "levels": [r.as_dict() for r in rows]}


def _search(levels: list, rule: str) -> tuple[list, float]:
    """The solver's search of every level under `rule`, on all cores, with its progress on stderr; (searches,
    seconds)."""
    from tilerunner.envs.physics import jump_rule_id
    from tilerunner.evolve.runs.solvable import search_levels

    workers = os.cpu_count() or 1
    print(f"searching {len(levels)} levels for a way to the exit on {workers} thread{'s' if workers != 1 else ''}"
          " (Ctrl-C stops)", file=sys.stderr, flush=True)
    live = sys.stderr.isatty()

    def done(i: int, _search) -> None:
        if live:
            print(f"\r  searched {i + 1}/{len(levels)}", end="\n" if i + 1 == len(levels) else "",
                  file=sys.stderr, flush=True)

    t0 = time.perf_counter()
    searches = search_levels(levels, workers, done=done, rule=jump_rule_id(rule))
    return searches, time.perf_counter() - t0


def _solvable(levels: list, searches: list, seconds: float, results: list) -> tuple[dict, list[bool]]:
    """The solver's report (with a one-line `summary`) and solvable per level, from its searches and every
    player's results (a level someone finished is solvable)."""
    from tilerunner.evolve.runs.evaluation import solvable_levels

    solvable = solvable_levels([s.found for s in searches], results)
    solved = sum(s.found for s in searches)
    walled = sum(s.walled_in for s in searches)
    not_found = len(levels) - solved - walled
    by_genome = sum(solvable) - solved
    summary = f"solvable: {sum(solvable)} of {len(levels)} levels ({solved} solved by the solver"
    summary += f", {by_genome} more finished by a genome or baseline)" if by_genome else ")"
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
