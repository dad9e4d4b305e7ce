"""`tilerunner replay`: watch a saved genome, prove it still does what it did, or record it as a GIF.

With `--level SET` (repeatable; what `evolve --level` takes) the genome plays every level of the set
in turn with the replay's own episode settings (`--jump-rule` may change its jump rule there; the
episodes a replay recorded are only ever checked under the rule they were played by): in the
window with an overlay (`level 3 of 7`, the level, the running tally) and the level keys (PgDn
or ], PgUp or [), headless in the parallel kernel, or recorded into one GIF or one numbered run
of PNG frames. Each way ends with the same summary: every level's outcome and the total.

Recording is the library's (`tilerunner.evolve.viewer.recording.record`): frames are drawn one at a time
and PNG frames written as they come, so only the GIF holds the episode in memory, and a GIF is limited to
`MAX_GIF_PIXELS` over all its frames, checked before anything is drawn; a longer or larger one asks for a
larger --frame-step or a smaller --scale.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import (
    add_viewer_flags,
    check_not_an_input,
    check_output_file,
    check_output_folder,
    level_files,
    writing,
)
from tilerunner.evolve.commands.watch import show_in_viewer
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import add_jump_rule_flag, int_in, span
from tilerunner.evolve.runs import replay as replay_file
from tilerunner.evolve.runs.evaluation import replay_results
from tilerunner.evolve.runs.json_fields import printable
from tilerunner.evolve.runs.run import as_levels
from tilerunner.evolve.viewer import recording
from tilerunner.evolve.viewer.shows import LevelSetShows, ReplayShows, shows_of
from tilerunner.evolve.viewer.viewer import END_HOLD


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner replay`'s flags."""
    p.description = (
        "Play a replay file in a window at game speed; --headless re-simulates and compares"
        " with what the file recorded (exit 0 if identical, 1 if not). With --level SET the genome"
        " plays each level of the set in turn instead and a summary is printed at the end."
    )
    p.epilog = (
        "keys in the window: Space pause / go on, Right one frame forward (paused), + / - faster / slower,"
        " PgDn or ] next level of a --level set (after the last: the end), PgUp or [ previous level,"
        " N next genome, S screenshot, H help, Esc quit"
    )
    p.add_argument(
        "file",
        nargs="?",
        metavar="FILE|NAME",
        help="a replay file (a run's champions/*.json), or the name of a shipped one (see --list);"
        " in the window, also a folder of them, played in turn",
    )
    p.add_argument(
        "--headless",
        action="store_true",
        help="no window: re-simulate and print a verdict (with --level: each level's outcome and the total)",
    )
    p.add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="play the genome on these levels instead, in turn (no verdict; a summary at the end): an id,"
        " a file, a folder of level files, a quoted glob, or gen:A-B[:DIFFICULTY] (repeat for"
        " several); in the window PgDn or ] skips to the next level, PgUp or [ goes back one",
    )
    p.add_argument("--loop", action="store_true", help="start again at the end (window only)")
    p.add_argument(
        "--gif",
        metavar="OUT",
        help="record the episode as an animated GIF and exit (with --level: the levels in turn, in one GIF)",
    )
    p.add_argument(
        "--png-frames",
        metavar="DIR",
        help="record the episode as numbered PNG frames in DIR (with --level: the levels in turn, one run)",
    )
    p.add_argument(
        "--scale",
        type=int_in(*recording.SCALE_RANGE),
        default=1,
        metavar="N",
        help=f"pixels per game pixel in --gif/--png-frames, {span(*recording.SCALE_RANGE)} (default 1)",
    )
    p.add_argument(
        "--frame-step",
        type=int_in(*recording.FRAME_STEP_RANGE),
        default=3,
        metavar="N",
        help=f"keep every Nth frame in --gif/--png-frames, {span(*recording.FRAME_STEP_RANGE)} (default 3: 20"
        " frames/s, exact in a GIF)",
    )
    p.add_argument(
        "--list",
        nargs="?",
        const="",
        metavar="DIR",
        help="list the replays in DIR instead (default: the champions shipped with tilerunner)",
    )
    add_jump_rule_flag(
        p,
        default=None,
        default_text="the replay's own; only with --level, since the episodes a"
        " replay recorded are checked under their own rule",
    )
    add_viewer_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the flags, the levels and the file (each a one-line error), then list, play, check or record."""
    if args.jump_rule is not None and not args.level:
        raise UserError(
            "--jump-rule plays the genome on --level levels under another rule; without --level the"
            " replay's own episodes play, and they are checked under the rule they were recorded by"
        )
    if args.list is not None:
        if args.level:
            raise UserError("--list lists replay files; it plays nothing, so it takes no --level")
        return list_replays(args.list or None)
    if not args.file:
        raise UserError("replay needs a FILE (or --list)")
    if args.screenshot:
        check_output_file(args.screenshot, "--screenshot")
    if args.gif:
        check_output_file(args.gif, "--gif")
    if args.png_frames:
        check_output_folder(args.png_frames, "--png-frames")
    args.file = resolve(args.file)
    _check_outputs_are_not_inputs(args)
    if Path(args.file).is_dir():
        if args.headless or args.gif or args.png_frames:
            raise UserError(f"{args.file} is a folder: --headless, --gif and --png-frames take one replay file")
        levels = as_levels(args.level) if args.level else None  # a bad level: one line, before any window
        return watch_folder(Path(args.file), args, levels)
    try:
        replay = with_jump_rule(replay_file.load_replay(args.file), args.jump_rule)
    except replay_file.ReplayError as exc:
        raise UserError(str(exc)) from None
    levels = as_levels(args.level) if args.level else None
    label = Path(args.file).name
    if args.gif or args.png_frames:
        return record(replay, levels or [replay.episodes[0].level], args, label if levels else None)
    if args.headless:
        if levels:
            return _play_set(label, replay, levels)
        checks = replay_file.verify(replay)
        return _verdict(args.file, checks)
    return watch([(label, replay)], args, levels)


def _check_outputs_are_not_inputs(args: argparse.Namespace) -> None:
    """Refuse, in one line, a --gif, --screenshot or PNG frame (a `frame-NNNNN.png` already in --png-frames) that
    would replace the replay or a level file it plays."""
    inputs = [args.file, *level_files(args.level)]
    outputs = [(args.gif, "--gif"), (args.screenshot, "--screenshot")]
    if args.png_frames and os.path.isdir(args.png_frames):
        outputs += [(frame, "--png-frames") for frame in sorted(Path(args.png_frames).glob("frame-*.png"))]
    for output, flag in outputs:
        if output:
            check_not_an_input(output, flag, inputs)


def resolve(name: str) -> str:
    """A path as given, or, when nothing is there, the shipped replay of that name (`2-3-f3311[.json]`)."""
    if Path(name).exists() or os.sep in name:
        return name
    shipped = replay_file.shipped_replays() / (name if name.endswith(".json") else f"{name}.json")
    return str(shipped) if shipped.is_file() else name


def with_jump_rule(replay: replay_file.Replay, rule: str | None) -> replay_file.Replay:
    """`replay` with its genome playing by jump rule `rule` (None: the replay's own), for `--level` sets.

    A copy without the recorded episodes: they happened under the replay's own rule, so they say
    nothing of a level played under another (the viewer shows no "recorded" outcome for them).
    """
    if rule is None or rule == replay.settings.jump_rule:
        return replay
    return replace(replay, settings=replace(replay.settings, jump_rule=rule), episodes=[])


def _verdict(path: str, checks) -> int:
    if all(c.identical for c in checks):
        parts = "; ".join(f"{c.episode.level.id} {c.outcome.describe(fitness=True)}" for c in checks)
        print(f"identical: {parts} (buttons sha256 {checks[0].buttons_sha256[:12]}...)")
        return 0
    bad = [c for c in checks if not c.identical]
    parts = "; ".join(
        f"{c.episode.level.id}: recorded {c.episode.outcome.describe(fitness=True)},"
        f" now {c.outcome.describe(fitness=True)}"
        + ("" if c.buttons_sha256 == c.episode.buttons_sha256 else ", different buttons")
        for c in bad
    )
    print(f"DIFFERENT: {parts}")
    return 1


def _play_set(label: str, replay, levels: list) -> int:
    """--headless --level SET: every level in the parallel kernel (as `tilerunner eval`), then the summary."""
    (results,) = replay_results([replay], levels)
    print("\n".join(set_summary(label, replay, levels, [r.outcome for r in results])))
    return 0


def set_summary(label: str, replay, levels: list, results: list) -> list[str]:
    """The lines printed after a genome's pass through a level set: one per level, then the total.

        champ.json (genome 824) on 3 levels:
          1/3  1-1      finished in 844 frames, fitness 2474.7
          2/3  gen:1:3  dead (pit) at 98 px after 115 frames, fitness 48.5
          3/3  gen:2:3  skipped at frame 40
          total: finished 1 of 3 levels; 1 dead (pit), 1 skipped

    `results[i]` is level i's `Outcome`, a `Skipped`, or None (not played).
    """
    n = len(levels)
    digits = len(str(n))
    ids = [printable(lv.id) for lv in levels]
    width = min(max(len(i) for i in ids), 40)
    lines = [f"{printable(label)} (genome {replay.genome.key}) on {plural(n, 'level')}:"]
    finished = 0
    others: dict[str, int] = {}
    for i, (level_id, result) in enumerate(zip(ids, results)):
        if result is None:
            what, how = "not played", "not played"
        elif isinstance(result, Outcome):
            what = result.describe(fitness=True)
            how = "" if result.finished else (f"{result.status} ({result.cause})" if result.cause else result.status)
            finished += result.finished
        else:
            what, how = result.describe(), "skipped"
        if how:
            others[how] = others.get(how, 0) + 1
        lines.append(f"  {i + 1:>{digits}}/{n}  {level_id:<{width}}  {what}")
    rest = ", ".join(f"{count} {how}" for how, count in sorted(others.items(), key=lambda kv: -kv[1]))
    lines.append(f"  total: finished {finished} of {plural(n, 'level')}" + (f"; {rest}" if rest else ""))
    return lines


def watch(replays: list, args: argparse.Namespace, levels: list | None = None) -> int:
    """Play replays in the viewer (the game, the agent's view, its network live) at game speed times --speed.

    With `levels` each genome plays every one of them in turn, and a summary per genome is printed at the end.
    """
    title = "tilerunner replay " + (replays[0][0] if len(replays) == 1 else args.file)
    if not levels:
        shows = [show for name, replay in replays for show in shows_of(replay, name)]
        return show_in_viewer(ReplayShows(shows, loop=args.loop), title, args)
    source = LevelSetShows(replays, levels, loop=args.loop)
    title += f" on {plural(len(levels), 'level')}"
    code = show_in_viewer(source, title, args)
    if not args.screenshot:  # a screenshot plays nothing through
        for (label, replay), results in zip(replays, source.results):
            print("\n".join(set_summary(label, replay, levels, results)))
    return code


def watch_folder(folder: Path, args: argparse.Namespace, levels: list | None = None) -> int:
    """Every readable replay in `folder`, one after another (each through `levels`, when given)."""
    replays = []
    for file in sorted(folder.glob("*.json")):
        try:
            replays.append((printable(file.name), with_jump_rule(replay_file.load_replay(file), args.jump_rule)))
        except replay_file.ReplayError as exc:
            print(f"tilerunner: warning: skipping {printable(str(exc))}", file=sys.stderr)
    if not replays:
        raise UserError(f"{folder}: no readable replay files (*.json)")
    return watch(replays, args, levels)


def record(replay, levels: list, args: argparse.Namespace, label: str | None = None) -> int:
    """Write the episodes as one GIF and/or one numbered run of PNG frames (`tilerunner.evolve.viewer.recording`).

    `label` given (a `--level` set): the levels one after another (the GIF holds the last frame of each
    for the viewer's pause between levels), then the set's summary.
    """
    try:
        done = recording.record(
            replay,
            levels,
            gif=args.gif,
            png_folder=args.png_frames,
            frame_step=args.frame_step,
            scale=args.scale,
            hold_last=END_HOLD if label is not None else 0.0,
        )
    except OSError as exc:  # name the output that failed: the frames' folder or the GIF
        failed = os.fspath(exc.filename or "")
        frames = args.png_frames and (
            failed == os.fspath(args.png_frames) or Path(args.png_frames) in Path(failed).parents or not args.gif
        )
        with writing(args.png_frames if frames else args.gif):
            raise
    except recording.RecordingError as exc:
        hint = "use --png-frames" if exc.kind == "heights" else "use a larger --frame-step or a smaller --scale"
        raise UserError(f"--gif {args.gif}: {exc}; {hint}") from None
    except ValueError as exc:  # an image too large to draw at this --scale
        raise UserError(f"--scale {args.scale}: {exc}") from None
    if args.png_frames:
        print(f"wrote {done.frames} frames to {args.png_frames}/")
    if args.gif:
        size = os.path.getsize(args.gif)
        what = (
            plural(len(levels), "level")
            if label is not None
            else f"{levels[0].id}: {done.outcomes[0].describe(fitness=True)}"
        )
        print(f"wrote {args.gif}: {done.frames} frames, {done.width}x{done.height} px, {size / 1024:.0f} KiB ({what})")
    if label is not None:
        print("\n".join(set_summary(label, replay, levels, done.outcomes)))
    return 0


def list_replays(folder: str | None) -> int:
    """Print a table of the replay files in `folder` (None: the champions shipped with tilerunner)."""
    path = Path(folder) if folder is not None else replay_file.shipped_replays()
    if path.exists() and not path.is_dir():
        raise UserError(
            f"{printable(str(folder))}: is a file, not a folder; --list lists the replay files in a folder"
            f" (to play a replay file: tilerunner replay {printable(str(folder))})"
        )
    if not path.is_dir():
        raise UserError(f"{folder}: no such folder")
    rows = []
    for file in sorted(path.glob("*.json")):
        try:
            r = replay_file.load_replay(file)
        except replay_file.ReplayError as exc:  # a bad file is listed as such; a file name is printed escaped
            problem = printable(str(exc).split(": ", 1)[-1])
            rows.append((printable(file.name), "(unreadable: " + problem[:40] + ")", "", "", "", ""))
            continue
        e = r.episodes[0]
        n = len(r.episodes)
        levels = printable(e.level.id) + (f" and {n - 1} more" if n > 1 else "")
        done = sum(ep.outcome.finished for ep in r.episodes)
        finished = ("yes" if done else "no") if n == 1 else f"{done} of {n}"
        rows.append(
            (
                printable(file.name),
                levels,
                f"{r.genome.fitness:.1f}" if r.genome.fitness is not None else "-",
                finished,
                str(e.outcome.frames),
                r.created[:10],
            )
        )
    if not rows:
        print(f"no replays in {path}")
        return 0
    header = ("file", "level", "fitness", "finished", "frames", "date")
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    for row in [header, *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths)).rstrip())
    if folder is None:
        print(f"\nthe champions shipped with tilerunner ({path}); play one: tilerunner replay {rows[-1][0]}")
    return 0
