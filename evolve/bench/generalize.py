"""`tilerunner bench generalize`: do evolved agents play levels they never saw? Trained per seed on a
time budget, the champion picked on validation levels, then measured on levels nothing was picked on.

Levels are kept apart three ways, and every figure names its set:

- training: what the runs evolve on (`--level`; default the public `train/` folder beside
  `--public`, else fresh generated levels, `gen:*`);
- picking: each run checks the best genome of each species on these every `--validate-every`
  generations and keeps the best as `champions/best-validation.json`; the bench's champion is
  the seed whose pick was best here. The first half of each public generator's levels in
  `--public` (by level number: lvl-201 to 250 of validation/), or generated levels
  `gen:900000-900099` at difficulties 1-5 without public levels;
- held out (reported, never picked on): the second half of each public generator's levels (lvl-251
  to 300), and generated levels `gen:500000-500049` at several difficulties (fresh training levels
  take seeds from 1,000,000 up, so they never meet).

Runs live in `--out` (one run folder per seed), so a bench can be stopped and run again with the
same flags: finished seeds are reused, unfinished ones resume with the budget they have left.
With `--solve`, the solver also checks which held-out levels can be finished at all, and the
figures are given against the solvable levels too.

Every figure has its baselines beside it: above the champion's lines, the built-in players of
`evolve.runs.evaluation.BASELINES` play the same sets under the same episode rules and jump rule
(`--jump-rule`, the runs' rule): `hold-right` and `rules` always, `planner` (the solver's own
solutions) with `--solve`.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.level import Level
from tilerunner.evolve.baselines.play import CONTROLLERS
from tilerunner.evolve.bench.errors import BenchError
from tilerunner.evolve.bench.timing import evolution_seconds
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.option_error import OptionError
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.rollout import use_threads
from tilerunner.evolve.core.seeding import NEEDS as SEED_NEEDS
from tilerunner.evolve.runs.evaluation import (
    BASELINE_WHAT,
    LevelResult,
    baseline_results,
    replay_results,
    solvable_levels,
    summarize,
    with_solvable,
)
from tilerunner.evolve.runs.json_fields import shown
from tilerunner.evolve.runs.replay import Replay, ReplayError, load_replay
from tilerunner.evolve.runs.reporting import RunReporter
from tilerunner.evolve.runs.run import Run, as_levels
from tilerunner.evolve.runs.run_folder import RunFolder, RunFolderError
from tilerunner.evolve.runs.run_options import RunOptions, option_fields
from tilerunner.evolve.runs.stats import read_stats

DONE_FILE = "bench-done.json"  # in a seed's run folder once it has had its budget
HELD_OUT_GEN = [f"gen:500000-500049:{d}" for d in (1, 3, 5)]
PICK_GEN = [f"gen:900000-900019:{d}" for d in (1, 2, 3, 4, 5)]
_NUMBER = re.compile(r"^(.*?)(\d+)$")


def split_public(files: Sequence[str]) -> tuple[list[str], list[str]]:
    """Each generator's levels (by file-name prefix) split in two by level number: (first half, second half).

    For validation/ (lvl-201 to 300 of six generators) that is lvl-201..250 to pick on and lvl-251..300 to
    report; a generator with an odd count gives the extra level to the first half.
    """
    groups: dict[str, list[tuple[int, str]]] = {}
    for f in files:
        match = _NUMBER.match(Path(f).stem)
        prefix, number = (match.group(1), int(match.group(2))) if match else (Path(f).stem, 0)
        groups.setdefault(prefix, []).append((number, f))
    first: list[str] = []
    second: list[str] = []
    for members in groups.values():
        members.sort()
        half = (len(members) + 1) // 2
        first += [f for _, f in members[:half]]
        second += [f for _, f in members[half:]]
    return sorted(first), sorted(second)


def _public_files(folder: Path) -> list[str]:
    files = sorted(str(p) for p in folder.glob("*.txt") if p.is_file())
    if len(files) < 2:
        raise BenchError(f"{folder}: needs at least 2 level files (*.txt) to split into picking and held-out halves")
    return files


class _Heard(RunReporter):
    """Tells `progress(generation, seconds)` of each generation a seed's run completes, and its seconds so far."""

    def __init__(self, progress: Callable[[int, float], None], spent: float) -> None:
        self.progress = progress
        self.spent = spent

    def generation_done(self, summary) -> None:
        self.spent += summary.total_seconds
        self.progress(summary.generation, self.spent)


@contextlib.contextmanager
def seed_bar(seed: int, budget: float) -> Iterator[Callable[[int, float], None] | None]:
    """On a terminal (stderr, as `tilerunner evolve` decides), a bar of the seed's budget in seconds and its
    latest generation; None elsewhere, where the seed's summary line is all there is."""
    if not sys.stderr.isatty():
        yield None
        return
    bar = tqdm(
        total=round(budget),
        desc=f"seed {seed}",
        unit="s",
        leave=False,
        file=sys.stderr,
        bar_format="{desc}: {percentage:3.0f}%|{bar}| {n:.0f}/{total} s of evolution{postfix}",
    )

    def progress(generation: int, seconds: float) -> None:
        bar.update(min(seconds, budget) - bar.n)
        bar.set_postfix_str(f"gen {generation}")

    try:
        yield progress
    finally:
        bar.close()


def train_seed(
    seed: int,
    folder: Path,
    train: list[str],
    pick: list[Level],
    args: argparse.Namespace,
    progress: Callable[[int, float], None] | None = None,
) -> float:
    """Evolve (or resume) one seed's run in `folder` until its budget is spent; the seconds it has had.

    `progress(generation, seconds)` hears each generation completed and the seed's seconds of evolution so far.
    """
    budget = args.time_limit * 60
    spent = evolution_seconds(folder)
    done = folder / DONE_FILE
    limit = args.generations or 10**6
    # --validate-every only where given: a resumed seed keeps its own otherwise, a new one takes evolve's default
    validate_every = {} if args.validate_every is None else {"validate_every": args.validate_every}
    settings = EpisodeSettings(
        features=tuple(args.observe or ()), jump_rule=args.jump_rule, relative_to=args.relative_to
    )
    options = RunOptions(
        config=args.config,
        settings=settings,
        seed=seed,
        pop=args.pop,
        generations=limit,
        keep_going=True,
        out=folder,
        validate=tuple(pick),
        levels_per_gen=args.levels_per_gen,
        curriculum=args.curriculum,
        time_limit=args.time_limit,
        seed_rules=args.seed_rules,
        recheck=args.recheck,
        **validate_every,
    )
    resuming = RunFolder(folder).holds_a_run()
    if resuming:
        _check_same_run(folder, options)
    budget_given = {"minutes": args.time_limit, "generations": args.generations}
    if done.exists():
        had = json.loads(done.read_text())
        if had == budget_given or (args.generations is None and had == {"minutes": args.time_limit}):
            return spent  # (before the generation limit existed, a seed wrote its minutes alone)
    if resuming:
        run = Run.resume(folder, time_limit=max(budget - spent, 1e-3) / 60, generations=limit, **validate_every)
    else:
        run = Run.create(train, options)
    if progress is not None:
        run.add_reporter(_Heard(progress, spent))
    if run.run(handle_sigint=True).interrupted:
        raise KeyboardInterrupt  # Ctrl-C: the folder is checkpointed; the same command goes on from there
    write_atomic(done, json.dumps(budget_given))  # this seed has had its budget
    return evolution_seconds(folder)


def _check_same_run(folder: Path, asked: RunOptions) -> None:
    """`OptionError` (or `BenchError`, for the jump rule) unless the run in `folder` was started with the options
    fixed for its life (the schema's `fixed`) that this bench asks for: resuming it would go on with its own."""
    saved = RunFolder(folder).read_args()
    kept = RunOptions.from_dict(saved)
    had_rules, rules = kept.settings or EpisodeSettings(), asked.settings or EpisodeSettings()
    if had_rules.jump_rule != rules.jump_rule:
        raise BenchError(
            f"{folder}: its run evolves under the {had_rules.jump_rule} jump rule, not {rules.jump_rule}; give"
            f" --jump-rule {had_rules.jump_rule}, or another --out"
        )
    if asked.seed_rules is not None:  # a seeded run turns on the senses its seed reads (`Run.create`)
        rules = dataclasses.replace(rules, features=(*rules.features, *SEED_NEEDS))
    differ = [(name, getattr(had_rules, name), getattr(rules, name)) for name in ("features", "relative_to")]
    for name, about in option_fields().items():
        if about.fixed and about.kept_as is not None and name not in ("settings", "fitness"):
            differ.append((name, *(options.to_dict([name])[about.kept_as or name] for options in (kept, asked))))
    for name, had, now in differ:
        if had != now:
            raise OptionError(
                f"{{folder}}: its run was started with {{{name}}} {{had}}, not {{now}}; give the same flags, or another"
                " {out}",
                folder=folder,
                had=_as_flag_value(had),
                now=_as_flag_value(now),
            )


def _as_flag_value(value: Any) -> str:
    """An option's value as its flag would take it, in a few characters: `jump,probes`, `none`, `300`."""
    if value is None or value == [] or value == ():
        return "none"
    if isinstance(value, list | tuple):
        return shown(",".join(map(str, value)))[1:-1] if len(value) <= 4 else f"{len(value)} levels"
    return shown(value)


def _line(name: str, entry: dict) -> str:
    """One set's line of a report: finished, progress, (solvable), and how the other episodes ended."""
    levels, finished, solvable = entry["levels"], entry["finished"], entry.get("solvable")
    share = finished / levels if levels else 0.0
    of_solvable = f"  {finished}/{solvable} of the solvable ({finished / solvable:.0%})" if solvable else ""
    ended = ", ".join(f"{n} {how}" for how, n in entry.get("ended", {}).items())
    return (
        f"  {name:<16} finished {finished:5d}/{levels:<5} ({share:4.0%})  progress {entry['mean_progress']:4.0%}"
        f"{of_solvable}" + (f"  not finished: {ended}" if ended else "")
    )


def _entry(rows: list[LevelResult], found: list[bool] | None) -> dict:
    """One player's tally on one set: finished, progress, and (with the solver's `found`) solvable counts."""
    if found is not None:  # a level the player finished counts as solvable, whatever the solver found
        rows = with_solvable(rows, solvable_levels(found, [rows]))
    _, total = summarize(rows)
    entry = {
        "levels": total.levels,
        "finished": total.finished,
        "finished_share": total.finished_share,
        "mean_progress": total.mean_progress,
    }
    if total.solvable is not None:
        entry["solvable"] = total.solvable
    entry["ended"] = dict(sorted(total.ended.items(), key=lambda kv: -kv[1]))
    return entry


def measure(replay: Replay, sets: dict[str, list[Level]], solvable: dict[str, list[bool]] | None) -> dict:
    """The replay's genome on every named set: finished, progress, how the rest ended, and (with `solvable`)
    solvable counts."""
    report = {}
    for name, levels in sets.items():
        (rows,) = replay_results([replay], levels)
        report[name] = _entry(rows, None if solvable is None else solvable[name])
    return report


def measure_baselines(
    names: Sequence[str], settings: EpisodeSettings, sets: dict[str, list[Level]], searches: dict[str, list] | None
) -> dict[str, dict]:
    """Each baseline on every named set under `settings`, as `measure` reports a genome: {baseline: {set: entry}}.

    `searches` are the solver's, per set, under the same jump rule: they give the solvable counts, and the
    `planner` baseline its solutions (it needs them).
    """
    report: dict[str, dict] = {name: {} for name in names}
    for set_name, levels in sets.items():
        found = None if searches is None else searches[set_name]
        per_baseline = baseline_results(names, levels, settings, found)
        for name, rows in zip(names, per_baseline):
            report[name][set_name] = _entry(rows, None if found is None else [s.found for s in found])
    return report


def run(args: argparse.Namespace) -> int:
    """Train every seed (or reuse/resume it), pick the champion on validation, report the held-out sets."""
    use_threads(args.workers)
    public = Path(args.public) if args.public else None  # no default: the public levels are not shipped
    have_public = public is not None and public.is_dir()
    if public is not None and not have_public:
        raise BenchError(f"--public {args.public}: no such folder")
    if have_public:
        pick_ids, report_ids = split_public(_public_files(public))
    else:
        pick_ids, report_ids = PICK_GEN, []
    train = args.level or (
        [str(public.parent / "train")] if have_public and (public.parent / "train").is_dir() else ["gen:*"]
    )
    try:
        pick = as_levels(pick_ids)
        held_out = {"public held-out": as_levels(report_ids)} if report_ids else {}
        for spec in HELD_OUT_GEN:
            held_out[f"gen held-out d{spec.rsplit(':', 1)[1]}"] = as_levels([spec])
    except ValueError as exc:
        raise BenchError(str(exc)) from None
    out = Path(args.out)
    print(
        f"tilerunner bench generalize: {plural(args.seeds, 'seed')}, {args.time_limit:g} min each"
        f"{f' (at most {args.generations:,} generations)' if args.generations else ''},"
        f" population {args.pop}, {plural(args.levels_per_gen, 'level')} a generation"
        f"{', sees ' + ' and '.join(args.observe) if args.observe else ''},"
        f" jump rule {args.jump_rule}"
        f"{f', {args.seed_rules:g} seeded from the rules' if args.seed_rules else ''}"
        f"{f', the best rechecked on {args.recheck} more levels' if args.recheck else ''}"
        f"{', fitness against hold-right' if args.relative_to == 'hold-right' else ''}"
    )
    print(f"  training: {', '.join(train)}")
    print(
        f"  picking on: {plural(len(pick), 'level')} ({public.name} first halves)"
        if have_public
        else f"  picking on: {', '.join(PICK_GEN)}"
    )
    if report_ids:
        print(
            f"  public held-out: {plural(len(report_ids), 'level')} ({public.name} second halves),"
            " never trained or picked on"
        )
    print(f"  gen held-out dN: {', '.join(HELD_OUT_GEN)} (difficulty N), never trained or picked on")
    print(f"  run folders: {out}/seed-N (run the bench again with the same flags to go on)", flush=True)

    picks: list[tuple[int, Path, tuple[float, float], float]] = []
    for seed in range(args.seeds):
        folder = out / f"seed-{seed}"
        t0 = time.perf_counter()
        try:
            with seed_bar(seed, args.time_limit * 60) as progress:
                seconds = train_seed(seed, folder, train, pick, args, progress)
        except OptionError as exc:  # options that do not fit together, named as this command's flags
            raise BenchError(exc.as_flags()) from None
        except (ValueError, RunFolderError) as exc:
            raise BenchError(str(exc)) from None
        except KeyboardInterrupt:
            print(f"\ninterrupted in seed {seed}: its folder is checkpointed; run the same command to go on")
            return 130
        rows = read_stats(folder / "stats.jsonl")
        checks = [r["validation"] for r in rows if "validation" in r]
        best = max(((c["finished_share"], c["mean_progress"]) for c in checks), default=(0.0, 0.0))
        print(
            f"  seed {seed}: {plural(len(rows), 'generation')}, {seconds / 60:.1f} min of evolution"
            f" ({time.perf_counter() - t0:.0f} s this call); best on picking levels: finished {best[0]:.0%},"
            f" progress {best[1]:.0%}",
            flush=True,
        )
        picks.append((seed, folder, best, seconds))

    seed, folder, best, _ = max(picks, key=lambda p: p[2])
    try:
        champion = load_replay(folder / "champions" / "best-validation.json")
    except ReplayError as exc:
        raise BenchError(str(exc)) from None
    train_levels, fixed = _training_levels(folder)
    sets = {"training": train_levels, "picking": pick, **held_out}
    rule = champion.settings.jump_rule
    searches = _searches(sets, rule) if args.solve else None
    solvable = None if searches is None else {name: [s.found for s in found] for name, found in searches.items()}
    report = measure(champion, sets, solvable)
    names = [*CONTROLLERS, *(["planner"] if args.solve else [])]
    baselines = measure_baselines(names, champion.settings, sets, searches)
    for name, entries in baselines.items():
        print(f"baseline: {name} ({BASELINE_WHAT[name]}), jump rule {rule}")
        for set_name, entry in entries.items():
            print(_line(set_name, entry))
    training = "its training set" if fixed else "the levels of its last 10 generations"
    print(
        f"champion: seed {seed}'s best on the picking levels ({folder / 'champions' / 'best-validation.json'}),"
        f" generation {champion.generation}; training = {training}"
    )
    for name, entry in report.items():
        print(_line(name, entry))
    per_seed = {}
    for s, f, _, seconds in picks:
        r = load_replay(f / "champions" / "best-validation.json")
        per_seed[s] = {"minutes": seconds / 60, **measure(r, held_out, None)}
    if len(picks) > 1:
        print("every seed's pick, finished share of each held-out set:")
        print("  seed  " + "  ".join(f"{name:>16}" for name in held_out) + "  minutes")
        for s, entry in per_seed.items():
            cells = "  ".join(f"{entry[name]['finished_share']:16.0%}" for name in held_out)
            print(f"  {s:4d}  {cells}  {entry['minutes']:7.1f}")
    if args.json:
        try:
            write_atomic(
                args.json,
                json.dumps(
                    {
                        "champion_seed": seed,
                        "champion": str(folder / "champions" / "best-validation.json"),
                        "jump_rule": rule,
                        "report": report,
                        "baselines": baselines,
                        "per_seed": per_seed,
                    },
                    indent=1,
                ),
            )
        except OSError as exc:  # a full or read-only disk: one line, as every command's output
            raise BenchError(f"{args.json}: cannot write: {exc.strerror or exc}") from None
        print(f"wrote {args.json}")
    return 0


def _training_levels(folder: Path) -> tuple[list[Level], bool]:
    """The levels the run in `folder` trained on, and whether they are a fixed set: its fixed set, or (fresh
    generated levels) the ones its last 10 generations played."""
    specs = RunFolder(folder).read_args()["levels"]
    if not all(spec.startswith("gen:*") for spec in specs):
        return as_levels(specs), True
    rows = read_stats(folder / "stats.jsonl")
    return as_levels([lv for r in rows[-10:] for lv in r.get("levels", [])]), False


def _searches(sets: dict[str, list[Level]], rule: str) -> dict[str, list]:
    """The solver's search of every set's levels under jump rule `rule` (on all cores), per set."""
    from tilerunner.envs.physics import jump_rule_id
    from tilerunner.evolve.runs.solvable import search_levels

    return {name: search_levels(levels, rule=jump_rule_id(rule)) for name, levels in sets.items()}
