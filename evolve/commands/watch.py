"""`tilerunner watch RUN_DIR`: follow a run folder in the viewer, playing its newest champion as it lands.

`show_in_viewer` is what `watch` and `replay` share: the window, or one screenshot, for any
`tilerunner.evolve.viewer.shows.ShowSource`.
"""

from __future__ import annotations

import argparse
import signal
from pathlib import Path

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import add_viewer_flags, check_not_an_input, check_output_file, writing
from tilerunner.evolve.flags.types import int_in
from tilerunner.evolve.runs.run_folder import RUN_FILES, SUBFOLDERS
from tilerunner.evolve.runs.stats import STATS_FILE
from tilerunner.evolve.viewer import viewer
from tilerunner.evolve.viewer.shows import RunFollower, ShowSource

RUN_FOLDER_MARKS = ("args.json", "champions", STATS_FILE)  # any of these: a run folder


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner watch`'s flags."""
    p.description = (
        "Follow a run folder (running or finished, here or copied from elsewhere): the viewer plays"
        " its newest champion and switches when a better one lands."
    )
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder made by tilerunner evolve (runs/...)")
    p.add_argument("--quiet", action="store_true", help="do not print each episode's outcome")
    # Set by `evolve --watch`: the viewer closes when that process is gone, even if it was killed.
    p.add_argument("--parent-pid", type=int_in(1, 2**31 - 1), help=argparse.SUPPRESS)
    add_viewer_flags(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Check the flags and the folder, then follow it in the viewer."""
    if args.screenshot:
        check_output_file(args.screenshot, "--screenshot")
    path = Path(args.run_dir)
    if not path.is_dir():
        raise UserError(f"{path}: no such run folder")
    if not any((path / name).exists() for name in RUN_FOLDER_MARKS):
        raise UserError(
            f"{path}: not a run folder (no args.json, champions/ or stats.jsonl);"
            " make one with tilerunner evolve --out DIR"
        )
    if args.screenshot:
        check_not_an_input(args.screenshot, "--screenshot", run_files(path))
    return show_in_viewer(RunFollower(path), f"tilerunner watch {path}", args, report=not args.quiet)


def run_files(folder: Path) -> list[Path]:
    """What a run keeps in `folder` (its files, and its folders of champions, checkpoints ...): what `watch` reads,
    and what no output may replace."""
    return [folder / name for name in (*RUN_FILES, *SUBFOLDERS)]


def show_in_viewer(source: ShowSource, title: str, args: argparse.Namespace, report: bool = True) -> int:
    """Run the viewer on `source` (or save one screenshot if asked); what `watch` and `replay` share.

    `args` holds the shared viewer flags (`add_viewer_flags`); `report` prints each episode's outcome.
    """
    window = viewer.Viewer(
        source,
        title=title,
        speed=args.speed,
        duration=args.duration,
        report=report,
        parent_pid=getattr(args, "parent_pid", None),
    )
    window.print_warnings()
    if args.screenshot:
        if window.show is None:
            raise UserError(f"nothing to show yet ({window.waiting_text()})")
        with writing(args.screenshot):
            path = viewer.screenshot_middle(window, args.screenshot)
        show = window.show
        print(f"wrote {path}: {show.label} on {show.level.id}, frame {window.playback.frame}")
        return 0
    import pygame

    # SIGTERM (`evolve --watch` closing us) closes the window at the next frame, and the figures are printed
    signal.signal(signal.SIGTERM, lambda signum, frame: window.close_requested.set())
    try:
        shown = window.run()
    except pygame.error as exc:
        raise UserError(f"cannot open a window: {exc} (no display here? --screenshot PATH needs none)") from None
    print(
        f"viewer: {shown['frames_drawn']} frames drawn in {shown['seconds']:.1f} s (median {shown['fps']:.0f} frames/s)"
    )
    return 0
