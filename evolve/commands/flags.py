"""Argument types and flag groups shared by `tilerunner` subcommands, so bad values fail in argparse in one line."""

from __future__ import annotations

import argparse
import math

from tilerunner.evolve.commands.errors import UserError


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def finite_float(text: str) -> float:
    """argparse type: a finite number (no nan, no inf)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def add_viewer_flags(p: argparse.ArgumentParser) -> None:
    """Flags every viewer command shares: speed, screenshot, duration."""
    p.add_argument("--speed", type=float, default=1.0, help="playback speed (default 1.0: game speed, 60 frames/s)")
    p.add_argument("--screenshot", metavar="PATH",
                   help="save one viewer frame from the middle of the episode as PNG and exit (no window)")
    p.add_argument("--duration", type=float, metavar="SECONDS",
                   help="close the window after SECONDS (for demos and recordings)")


def check_viewer_flags(args: argparse.Namespace) -> None:
    """Reject nonsense in the shared viewer flags with one line."""
    if not args.speed > 0 or not math.isfinite(args.speed):
        raise UserError(f"--speed must be a positive number, got {args.speed}")
    if args.duration is not None and (not args.duration > 0 or not math.isfinite(args.duration)):
        raise UserError(f"--duration must be a positive number of seconds, got {args.duration}")
