"""`tilerunner watch RUN_DIR`: follow a run folder in the viewer, playing its newest champion as it lands."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    """Add `watch` to the top-level parser."""
    p = sub.add_parser(
        "watch", help="watch a run's newest champion play, live",
        description="Follow a run folder (running or finished, here or copied from elsewhere): the viewer plays"
                    " its newest champion and switches when a better one lands.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder made by tilerunner evolve (runs/...)")
    p.add_argument("--quiet", action="store_true", help="do not print each episode's outcome")
    add_viewer_flags(p)
    p.set_defaults(run=run)


def add_viewer_flags(p: argparse.ArgumentParser) -> None:
    """Flags every viewer command shares: speed, screenshot, duration."""
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1.0: game speed, 60 frames/s)")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save one viewer frame from the middle of the episode as PNG and exit (no window)")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="close the window after SECONDS (for demos and recordings)")


def check_viewer_flags(args: argparse.Namespace) -> None:
    """Reject nonsense in the shared viewer flags with one line."""
    from tilerunner.evolve.commands.cli import UserError

    if not args.speed > 0:
        raise UserError(f"--speed must be positive, got {args.speed}")
    if args.duration is not None and not args.duration > 0:
        raise UserError(f"--duration must be positive, got {args.duration}")


def run(args: argparse.Namespace) -> int:
    from tilerunner.evolve.commands.cli import UserError
    from tilerunner.evolve.viewer.shows import RunFollower

    check_viewer_flags(args)
    path = Path(args.run_dir)
    if not path.is_dir():
        raise UserError(f"{path}: no such run folder")
    if not any((path / name).exists() for name in ("args.json", "champions", "stats.jsonl")):
        raise UserError(f"{path}: not a run folder (no args.json, champions/ or stats.jsonl);"
                        " make one with tilerunner evolve --out DIR")
    follower = RunFollower(path)
    return show_in_viewer(follower, f"tilerunner watch {path}", args)


def show_in_viewer(source, title: str, args: argparse.Namespace) -> int:
    """Run the viewer on `source` (or save one screenshot if asked); what `watch` and `replay` share."""
    from tilerunner.evolve.commands.cli import UserError
    from tilerunner.evolve.viewer.viewer import Viewer, screenshot_middle

    viewer = Viewer(source, title=title, speed=args.speed, duration=args.duration,
                    report=not getattr(args, "quiet", False))
    viewer.print_warnings()
    if args.screenshot:
        if viewer.show is None:
            raise UserError(f"nothing to show yet ({viewer.waiting_text()})")
        path = screenshot_middle(viewer, args.screenshot)
        show = viewer.show
        print(f"wrote {path}: {show.label} on {show.level.id}, frame {viewer.playback.frame}")
        return 0
    import signal

    import pygame

    def close(signum, frame):
        raise KeyboardInterrupt  # the viewer closes cleanly on this, as on Ctrl-C

    signal.signal(signal.SIGTERM, close)
    try:
        shown = viewer.run()
    except pygame.error as exc:
        raise UserError(f"cannot open a window: {exc} (no display here? --screenshot PATH needs none)") from None
    print(f"viewer: {shown['frames_drawn']} frames drawn in {shown['seconds']:.1f} s"
          f" (median {shown['fps']:.0f} frames/s)")
    return 0
