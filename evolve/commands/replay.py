"""`tilerunner replay`: watch a saved genome, prove it still does what it did, or record it as a GIF."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import add_viewer_flags, check_viewer_flags, positive_int


def register(sub: argparse._SubParsersAction) -> None:
    """Add `replay` to the top-level parser."""
    p = sub.add_parser(
        "replay", help="play, check, or record a saved genome",
        description="Play a replay file in a window at game speed; --headless re-simulates and compares"
                    " with what the file recorded (exit 0 if identical, 1 if not).")
    p.add_argument("file", nargs="?", metavar="FILE",
                   help="a replay file (a run's champions/*.json), or the name of a shipped one (see --list);"
                        " in the window, also a folder of them, played in turn")
    p.add_argument("--headless", action="store_true", help="no window: re-simulate and print a verdict")
    p.add_argument("--level", metavar="ID", help="play the genome on another level instead (no verdict)")
    p.add_argument("--loop", action="store_true", help="start again at the end (window only)")
    p.add_argument("--gif", metavar="OUT", help="record the episode as an animated GIF and exit")
    p.add_argument("--png-frames", metavar="DIR", help="record the episode as numbered PNG frames in DIR")
    p.add_argument("--scale", type=positive_int, default=1, help="pixels per game pixel in --gif/--png-frames")
    p.add_argument("--frame-step", type=positive_int, default=3,
                   help="keep every Nth frame in --gif/--png-frames (default 3: 20 frames/s, exact in a GIF)")
    p.add_argument("--list", nargs="?", const="", metavar="DIR",
                   help="list the replays in DIR instead (default: the champions shipped with tilerunner)")
    add_viewer_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    if args.list is not None:
        return list_replays(args.list or None)
    if not args.file:
        raise UserError("replay needs a FILE (or --list)")
    check_viewer_flags(args)
    from tilerunner.envs.level import load_level
    from tilerunner.evolve.runs.replay import ReplayError, load_replay, verify

    args.file = resolve(args.file)
    if Path(args.file).is_dir():
        if args.headless or args.gif or args.png_frames:
            raise UserError(f"{args.file} is a folder: --headless, --gif and --png-frames take one replay file")
        return watch_folder(Path(args.file), args)
    try:
        replay = load_replay(args.file)
    except ReplayError as exc:
        raise UserError(str(exc)) from None
    levels = [load_level(args.level)] if args.level else [e.level for e in replay.episodes]
    if args.gif or args.png_frames:
        return record(replay, levels[0], args)
    if args.headless:
        if args.level:
            return _play_elsewhere(replay, levels[0])
        checks = verify(replay)
        return _verdict(args.file, checks)
    return watch([(Path(args.file).name, replay)], args)


def resolve(name: str) -> str:
    """A path as given, or, when nothing is there, the shipped replay of that name (`2-3-f3311[.json]`)."""
    if Path(name).exists() or os.sep in name:
        return name
    from tilerunner.evolve.runs.replay import shipped_replays

    shipped = shipped_replays() / (name if name.endswith(".json") else f"{name}.json")
    return str(shipped) if shipped.is_file() else name


def _verdict(path: str, checks) -> int:
    if all(c.identical for c in checks):
        parts = "; ".join(f"{c.episode.level.id} {c.outcome.describe(fitness=True)}" for c in checks)
        print(f"identical: {parts} (buttons sha256 {checks[0].buttons_sha256[:12]}...)")
        return 0
    bad = [c for c in checks if not c.identical]
    parts = "; ".join(f"{c.episode.level.id}: recorded {c.episode.outcome.describe(fitness=True)},"
                      f" now {c.outcome.describe(fitness=True)}"
                      + ("" if c.buttons_sha256 == c.episode.buttons_sha256 else ", different buttons")
                      for c in bad)
    print(f"DIFFERENT: {parts}")
    return 1


def _play_elsewhere(replay, level) -> int:
    from tilerunner.evolve.runs.replay import play

    outcome, _ = play(replay.genome, replay.network, level, replay.settings)
    print(f"on {level.id}: {outcome.describe(fitness=True)}")
    return 0


def _playback(replay, level):
    from tilerunner.agent import CompiledNetwork
    from tilerunner.evolve.core.playback import Playback

    return Playback(CompiledNetwork.create(replay.genome, replay.network), level, replay.settings)


def watch(replays: list, args: argparse.Namespace) -> int:
    """Play replays in the viewer (the game, the agent's view, its network live) at game speed times --speed."""
    from tilerunner.envs.level import load_level
    from tilerunner.evolve.commands.watch import show_in_viewer
    from tilerunner.evolve.viewer.shows import ReplayShows, shows_of

    other = [load_level(args.level)] if args.level else None
    shows = [show for name, replay in replays for show in shows_of(replay, name, other)]
    title = "tilerunner replay " + (replays[0][0] if len(replays) == 1 else args.file)
    return show_in_viewer(ReplayShows(shows, loop=args.loop), title, args)


def watch_folder(folder: Path, args: argparse.Namespace) -> int:
    """Every readable replay in `folder`, one after another."""
    from tilerunner.evolve.runs.replay import ReplayError, load_replay

    replays = []
    for file in sorted(folder.glob("*.json")):
        try:
            replays.append((file.name, load_replay(file)))
        except ReplayError as exc:
            print(f"tilerunner: warning: skipping {exc}", file=sys.stderr)
    if not replays:
        raise UserError(f"{folder}: no readable replay files (*.json)")
    return watch(replays, args)


def record(replay, level, args: argparse.Namespace) -> int:
    """Write the episode as a GIF and/or numbered PNG frames, headless."""
    import numpy as np

    from tilerunner.envs import render
    from tilerunner.envs.atomic import atomic_path
    from tilerunner.envs.physics import FPS

    playback = _playback(replay, level)
    frames = [render.frame(playback.tiles, playback.state, playback.enemies)]
    while not playback.done:
        playback.step()
        if playback.frame % args.frame_step == 0 or playback.done:
            frames.append(render.frame(playback.tiles, playback.state, playback.enemies))
    if args.scale > 1:
        frames = [np.repeat(np.repeat(f, args.scale, axis=0), args.scale, axis=1) for f in frames]
    if args.png_frames:
        folder = Path(args.png_frames)
        folder.mkdir(parents=True, exist_ok=True)
        for i, image in enumerate(frames):
            render.save_png(image, folder / f"frame-{i:05d}.png")
        print(f"wrote {len(frames)} frames to {folder}/")
    if args.gif:
        from PIL import Image

        images = [Image.fromarray(f) for f in frames]
        with atomic_path(args.gif) as tmp:
            images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:],
                           duration=10 * round(100 * args.frame_step / FPS), loop=0, optimize=True)  # GIF: 10 ms units
        size = os.path.getsize(args.gif)
        print(f"wrote {args.gif}: {len(frames)} frames, {frames[0].shape[1]}x{frames[0].shape[0]} px,"
              f" {size / 1024:.0f} KiB ({level.id}: {playback.outcome().describe(fitness=True)})")
    return 0


def list_replays(folder: str | None) -> int:
    """Print a table of the replay files in `folder` (None: the champions shipped with tilerunner)."""
    from tilerunner.evolve.runs.replay import ReplayError, load_replay, shipped_replays

    path = Path(folder) if folder is not None else shipped_replays()
    if not path.is_dir():
        raise UserError(f"{folder}: no such folder")
    rows = []
    for file in sorted(path.glob("*.json")):
        try:
            r = load_replay(file)
        except ReplayError as exc:
            rows.append((file.name, "(unreadable: " + str(exc).split(": ", 1)[-1][:40] + ")", "", "", "", ""))
            continue
        e = r.episodes[0]
        levels = ",".join(ep.level.id for ep in r.episodes)
        rows.append((file.name, levels, f"{r.genome.fitness:.1f}" if r.genome.fitness is not None else "-",
                     "yes" if all(ep.outcome.finished for ep in r.episodes) else "no", str(e.outcome.frames),
                     r.created[:10]))
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

