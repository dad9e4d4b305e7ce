"""`tilerunner eval`: how well saved genomes, and baselines beside them, play sets of levels, per group and in total."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import replace
from pathlib import Path

from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.physics import jump_rule_id
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.evolve import say_if_compiling
from tilerunner.evolve.commands.flags import check_not_an_input, check_output_file, level_files, writing
from tilerunner.evolve.commands.replay import resolve
from tilerunner.evolve.commands.terminal import live, progress_bar
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import DEFAULT_JUMP_RULE, add_jump_rule_flag
from tilerunner.evolve.runs.evaluation import (
    baseline_results,
    replay_results,
    solvable_levels,
    summarize,
    with_solvable,
)
from tilerunner.evolve.runs.replay import ReplayError, load_replay
from tilerunner.evolve.runs.run import as_levels
from tilerunner.evolve.runs.solvable import search_levels

# What each baseline of `tilerunner.evolve.runs.evaluation.BASELINES` is, in its order (a test holds the two equal).
BASELINE_ABOUT = {
    "hold-right": "Right+B held, A whenever a jump can start or in the air (the Mario AI ForwardJumpingAgent)",
    "rules": "the hand-written reactive controller of tilerunner.evolve.baselines.rules",
    "planner": "the solver's beam search over the real physics (about a second a level)",
}


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner eval`'s flags."""
    p.description = (
        "Play each replay's genome on every level of the sets given (in the parallel kernel) and"
        " print, per group of levels (a public level's generator, a folder, a generated"
        " difficulty), the levels finished, the mean progress towards the exit and how the"
        " other episodes ended, then a total line. --baseline adds the lines of a built-in player"
        " on the same levels, above the genomes'. With --solve, the finished share is also given"
        " against the levels that can be finished (the solver finishes them, or someone did)."
        " Progress is the mean share of the way from the start to the exit reached (100% when"
        " finished), in the text and the JSON alike."
    )
    p.add_argument(
        "replays",
        nargs="*",
        metavar="FILE|DIR",
        help="replay files, folders of them, or names of shipped ones (see replay --list); none if --baseline is given",
    )
    p.add_argument_group("required").add_argument(  # as plot's --png: a required flag is listed as one
        "--level",
        action="append",
        required=True,
        metavar="SET",
        help="levels: an id, a file, a folder of level files, a quoted glob, or gen:A-B[:DIFFICULTY]"
        " (repeat for several)",
    )
    p.add_argument(
        "--baseline",
        action="append",
        choices=tuple(BASELINE_ABOUT),
        metavar="|".join(BASELINE_ABOUT),
        help="also play a built-in player on the same levels, under the same episode rules: "
        + "; ".join(f"{name}, {about}" for name, about in BASELINE_ABOUT.items())
        + " (repeat for several)",
    )
    add_jump_rule_flag(
        p,
        default=None,
        default_text=f"each replay's own; baselines play by the replays' rule, {DEFAULT_JUMP_RULE} without replays",
    )
    p.add_argument(
        "--json",
        metavar="PATH",
        help="also write every result as JSON to PATH, or with - to stdout (the text report then goes"
        " to stderr); schema tilerunner-eval version 1, every field described in"
        " tilerunner.evolve.commands.evaluate.eval_report",
    )
    p.add_argument(
        "--solve",
        action="store_true",
        help="also search every level for a way to the exit (on all cores) and give the finished"
        " share of the solvable levels too: those the solver finishes or someone finished",
    )
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    json_out = args.json == "-"
    if args.json is not None and not json_out:
        check_output_file(args.json, "--json")  # an empty path too is one line, not silently no JSON
    text = sys.stderr if json_out else sys.stdout  # stdout holds the JSON alone with --json -
    baselines = list(dict.fromkeys(args.baseline or ()))  # each once, in the order given
    files: list[Path] = []
    for name in args.replays:
        path = Path(resolve(name))
        files += sorted(path.glob("*.json")) if path.is_dir() else [path]
    if args.json is not None and not json_out:  # the report must not land on a replay or a level it reads
        check_not_an_input(args.json, "--json", [*files, *level_files(args.level)])
    if not files and not baselines:
        raise UserError(
            "no replay files to evaluate"
            if args.replays
            else "give replay files to evaluate, or --baseline hold-right|rules|planner"
        )
    try:
        replays = [load_replay(f) for f in files]
    except ReplayError as exc:
        raise UserError(str(exc)) from None
    rule = args.jump_rule
    if rule is None:  # the replays' own rules; baselines and the solver need the one they share
        rules = sorted({r.settings.jump_rule for r in replays})
        if len(rules) > 1 and (baselines or args.solve):
            what = "the baselines" if baselines else "--solve"
            raise UserError(
                f"the replays play by different jump rules ({', '.join(rules)}); give --jump-rule to"
                f" measure {what} under one"
            )
        rule = rules[0] if rules else DEFAULT_JUMP_RULE
    levels = as_levels(args.level)
    report = _measure(args, levels, files, replays, baselines, rule, text)
    if args.json is not None:
        _write_json(args.json, report)
        if not json_out:
            print(f"wrote {args.json}")
    return 0


def _measure(
    args: argparse.Namespace, levels: list, files: list[Path], replays: list, baselines: list[str], rule: str, text
) -> dict:
    """Play the genomes and baselines, print their lines to `text`, and return the report (`eval_report`)."""
    t0 = time.perf_counter()
    results = _play(replays, levels, args.jump_rule)
    seconds = time.perf_counter() - t0
    searches, search_seconds = _search(levels, rule) if args.solve or "planner" in baselines else (None, 0.0)
    t0 = time.perf_counter()
    base_results = baseline_results(baselines, levels, _baseline_settings(replays, rule), searches)
    base_seconds = time.perf_counter() - t0
    solver = None
    if args.solve:
        solver, solvable = _solvable(levels, searches, search_seconds, [*base_results, *results])
        results = [with_solvable(rows, solvable) for rows in results]
        base_results = [with_solvable(rows, solvable) for rows in base_results]
    shown = f", jump rule {args.jump_rule}" if args.jump_rule else ""
    base_blocks = [
        _block(
            f"baseline: {name}",
            f"{len(levels)} levels, jump rule {rule}",
            rows,
            {"baseline": name, "jump_rule": rule},
            text,
        )
        for name, rows in zip(baselines, base_results)
    ]
    genome_blocks = [
        _block(
            file.name,
            f"{len(levels)} levels{shown}",
            rows,
            {"file": str(file), "baseline": None, "jump_rule": args.jump_rule or replay.settings.jump_rule},
            text,
        )
        for file, replay, rows in zip(files, replays, results)
    ]
    if baselines:
        search = f", the solver's search {search_seconds:.1f} s" if "planner" in baselines else ""
        print(
            f"baseline{'s' if len(baselines) != 1 else ''} {', '.join(baselines)} x {len(levels)} levels in"
            f" {base_seconds:.1f} s{search}",
            file=text,
        )
    if files:
        print(f"{plural(len(files), 'genome')} x {len(levels)} levels in {seconds:.1f} s", file=text)
    if solver is not None:
        print(solver.pop("summary"), file=text, flush=True)
    return eval_report(args.level, levels, base_blocks if baselines else None, genome_blocks, solver)


def _play(replays: list, levels: list, jump_rule: str | None) -> list:
    """`replay_results`, with a bar of the episodes played on a terminal (and word of a first compile)."""
    if not replays:
        return []
    say_if_compiling()
    with progress_bar("playing", total=len(replays) * len(levels), unit="episode") as update:
        return replay_results(replays, levels, jump_rule, progress=(lambda done, _: update(done)) if live() else None)


def _write_json(target: str, report: dict) -> None:
    """The report as JSON to file `target` (atomically), or to stdout for `-`."""
    data = json.dumps(report, indent=1) + "\n"
    if target == "-":
        sys.stdout.write(data)
        sys.stdout.flush()
        return
    with writing(target):
        write_atomic(target, data)


EVAL_SCHEMA = "tilerunner-eval"
EVAL_VERSION = 1


def eval_report(
    level_sets: list[str], levels: list, baselines: list[dict] | None, genomes: list[dict], solver: dict | None
) -> dict:
    """What `tilerunner eval --json` writes, so that scripts can read results without parsing text:

    - `schema`: "tilerunner-eval"; `version`: 1 (a reader refuses versions it does not know);
    - `level_sets`: the --level sets as given; `levels`: how many levels they hold, in order;
    - `baselines` (only with --baseline) and `genomes`: one entry per player, in the order printed, each with
      - `file`: the replay file (genomes only), `baseline`: the baseline's name or null, `jump_rule`: the
        rule it played by;
      - `total` and `groups` (one per group of levels, as printed): tallies of `levels`, `finished`,
        `finished_share` (finished / levels), `progress` (the mean share of the way from the start to the
        exit reached, 0 to 1, 1 when finished: the text's `progress`), `mean_progress` (the same number, as
        stats.jsonl names it), `ended` (how the unfinished episodes ended: {"dead (pit)": 3, ...}), and with
        --solve `solvable` (levels that can be finished) and `finished_share_of_solvable`;
      - `levels`: one row per level: `level` (id), `group`, `progress` (0 to 1), with --solve `solvable`, and
        the episode's outcome: `fitness`, `finished`, `distance` (px right of the start, at the furthest),
        `frames`, `coins`, `kills`, `status` (finished, dead, stalled, timeout ...) and `cause` (pit, enemy,
        spiky, or "");
    - `solver` (only with --solve): `levels`, `solvable`, `solved` (by the solver), `finished_by_a_genome_only`,
      `no_solution_found`, `walled_in` (proved unfinishable), and `per_level` rows of `level`, `solver`
      (solved, walled in, no solution found), `solvable` and `frames` (the solution's length, or null).
    """
    report: dict = {
        "schema": EVAL_SCHEMA,
        "version": EVAL_VERSION,
        "level_sets": list(level_sets),
        "levels": len(levels),
    }
    if baselines is not None:
        report["baselines"] = baselines
    report["genomes"] = genomes
    if solver is not None:
        report["solver"] = solver
    return report


def _baseline_settings(replays: list, rule: str) -> EpisodeSettings:
    """The episode rules baselines play by, under `rule`: the replays' if they all share them (what a genome
    sees aside: the baselines see by their own senses), else the defaults."""
    default = EpisodeSettings(jump_rule=rule)
    shared = {
        replace(r.settings, features=(), view_radius=default.view_radius, novelty=0.0, jump_rule=rule) for r in replays
    }
    return shared.pop() if len(shared) == 1 else default


def _block(label: str, about: str, rows: list, fields: dict, text) -> dict:
    """Print one player's lines (its groups and a total) to `text` and return its JSON entry."""
    groups, total = summarize(rows)
    print(f"{label}: {about}", file=text)
    width = max(len(g) for g in groups)
    for name, tally in groups.items():
        print(f"  {name:<{width}}  {_line(tally)}", file=text)
    print(f"  {'total':<{width}}  {_line(total)}", file=text, flush=True)
    return {
        **fields,
        "groups": {g: t.as_dict() for g, t in groups.items()},
        "total": total.as_dict(),
        "levels": [r.as_dict() for r in rows],
    }


def _search(levels: list, rule: str) -> tuple[list, float]:
    """The solver's search of every level under `rule`, on all cores, with its progress on stderr; (searches,
    seconds)."""
    workers = os.cpu_count() or 1
    print(
        f"searching {len(levels)} levels for a way to the exit on {plural(workers, 'thread')} (Ctrl-C stops)",
        file=sys.stderr,
        flush=True,
    )
    t0 = time.perf_counter()
    with progress_bar("searched", total=len(levels), unit="level") as update:
        searches = search_levels(levels, workers, done=lambda i, _: update(i + 1), rule=jump_rule_id(rule))
    return searches, time.perf_counter() - t0


def _solvable(levels: list, searches: list, seconds: float, results: list) -> tuple[dict, list[bool]]:
    """The solver's report (with a one-line `summary`) and solvable per level, from its searches and every
    player's results (a level someone finished is solvable)."""
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
        "summary": summary,
        "levels": len(levels),
        "solvable": sum(solvable),
        "solved": solved,
        "finished_by_a_genome_only": by_genome,
        "no_solution_found": not_found,
        "walled_in": walled,
        "per_level": [
            {
                "level": s.level_id,
                "solver": _verdict(s),
                "solvable": v,
                "frames": s.solution.frames if s.solution else None,
            }
            for s, v in zip(searches, solvable)
        ],
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
    return (
        f"finished {tally.finished:>4}/{tally.levels:<4} ({tally.finished_share:4.0%}){of_solvable}"
        f"  progress {tally.mean_progress:4.0%}" + (f"  not finished: {ended}" if ended else "")
    )
