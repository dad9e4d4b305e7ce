"""`tilerunner replay`: watch a saved genome, prove it still does what it did, or record it as a GIF.

Recording streams: frames are drawn one at a time and PNG frames written as they come, so only
the GIF holds the episode in memory (Pillow keeps every frame, one byte per pixel). A GIF is
therefore limited to `MAX_GIF_PIXELS` (2**28, 256 MiB) over all its frames, checked before
anything is drawn; a longer or larger one asks for a larger --frame-step or a smaller --scale.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import (
    FRAME_STEP_RANGE,
    SCALE_RANGE,
    add_viewer_flags,
    check_output_file,
    check_output_folder,
    check_viewer_flags,
    int_in,
)

MAX_GIF_PIXELS = 2**28


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
    p.add_argument("--scale", type=int_in(*SCALE_RANGE), default=1,
                   help="pixels per game pixel in --gif/--png-frames, 1 to 16 (default 1)")
    p.add_argument("--frame-step", type=int_in(*FRAME_STEP_RANGE), default=3,
                   help="keep every Nth frame in --gif/--png-frames, 1 to 600 (default 3: 20 frames/s, exact in a GIF)")
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
    if args.gif:
        check_output_file(args.gif, "--gif")
    if args.png_frames:
        check_output_folder(args.png_frames, "--png-frames")
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
    from tilerunner.evolve.runs.json_fields import printable
    from tilerunner.evolve.runs.replay import ReplayError, load_replay

    replays = []
    for file in sorted(folder.glob("*.json")):
        try:
            replays.append((printable(file.name), load_replay(file)))
        except ReplayError as exc:
            print(f"tilerunner: warning: skipping {printable(str(exc))}", file=sys.stderr)
    if not replays:
        raise UserError(f"{folder}: no readable replay files (*.json)")
    return watch(replays, args)


def record(replay, level, args: argparse.Namespace) -> int:
    """Write the episode as a GIF and/or numbered PNG frames, headless, drawing one frame at a time."""
    import numpy as np

    from tilerunner.envs import render
    from tilerunner.envs.atomic import atomic_path
    from tilerunner.envs.physics import FPS
    from tilerunner.evolve.runs.replay import play

    step, scale = args.frame_step, args.scale
    frames = play(replay.genome, replay.network, level, replay.settings)[0].frames  # the kernel: milliseconds
    count = frames // step + 1 + (frames % step != 0)  # the start, every step-th frame, and the last
    height, width = level.height * render.TILE_PX * scale, 16 * render.TILE_PX * scale
    try:
        render.check_image_size(height, width)
    except ValueError as exc:
        raise UserError(f"--scale {scale}: {exc}") from None
    if args.gif and count * height * width > MAX_GIF_PIXELS:
        raise UserError(f"--gif {args.gif}: {count:,} frames of {width}x{height} px is more than a GIF may hold"
                        f" ({MAX_GIF_PIXELS:,} px in all); use a larger --frame-step or a smaller --scale")
    playback = _playback(replay, level)
    folder = Path(args.png_frames) if args.png_frames else None
    written = 0

    def drawn():
        yield render.frame(playback.tiles, playback.state, playback.enemies)
        while not playback.done:
            playback.step()
            if playback.frame % step == 0 or playback.done:
                yield render.frame(playback.tiles, playback.state, playback.enemies)

    def frames_out():
        nonlocal written
        for image in drawn():
            if scale > 1:
                image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
            if folder is not None:
                render.save_png(image, folder / f"frame-{written:05d}.png")
            written += 1
            yield image

    try:
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        if args.gif:
            from PIL import Image

            images = (Image.fromarray(f) for f in frames_out())
            first = next(images)
            with atomic_path(args.gif) as tmp:
                first.save(tmp, format="GIF", save_all=True, append_images=images,
                           duration=10 * round(100 * step / FPS), loop=0, optimize=True)  # GIF: 10 ms units
        else:
            for _ in frames_out():
                pass
    except OSError as exc:
        where = exc.filename or args.gif or folder
        raise UserError(f"{where}: cannot write: {exc.strerror or exc}") from None
    if folder is not None:
        print(f"wrote {written} frames to {folder}/")
    if args.gif:
        size = os.path.getsize(args.gif)
        print(f"wrote {args.gif}: {written} frames, {width}x{height} px,"
              f" {size / 1024:.0f} KiB ({level.id}: {playback.outcome().describe(fitness=True)})")
    return 0


def list_replays(folder: str | None) -> int:
    """Print a table of the replay files in `folder` (None: the champions shipped with tilerunner)."""
    from tilerunner.evolve.runs.json_fields import printable
    from tilerunner.evolve.runs.replay import ReplayError, load_replay, shipped_replays

    path = Path(folder) if folder is not None else shipped_replays()
    if not path.is_dir():
        raise UserError(f"{folder}: no such folder")
    rows = []
    for file in sorted(path.glob("*.json")):
        try:
            r = load_replay(file)
        except ReplayError as exc:  # a bad file is listed as such; a file name is printed escaped
            problem = printable(str(exc).split(": ", 1)[-1])
            rows.append((printable(file.name), "(unreadable: " + problem[:40] + ")", "", "", "", ""))
            continue
        e = r.episodes[0]
        levels = ",".join(ep.level.id for ep in r.episodes)
        rows.append((printable(file.name), levels, f"{r.genome.fitness:.1f}" if r.genome.fitness is not None else "-",
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

