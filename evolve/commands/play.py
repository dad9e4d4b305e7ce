"""`tilerunner play LEVEL`: play a level yourself, with the 13x13 grid the agent would see drawn alongside.

A thin command over `tilerunner.evolve.viewer.human_play.HumanPlay`: it checks the flags,
loads the level, opens the window and says how the agent would have scored the last attempt.
"""

from __future__ import annotations

import argparse

from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import DURATION_RANGE, add_jump_rule_flag, float_in, int_in, span

MAX_VIEW_RADIUS = 20  # as EpisodeSettings.LIMITS["view_radius"] (a test holds them equal)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `play` to the top-level parser."""
    p = sub.add_parser(
        "play",
        help="play a level yourself, seeing what the agent sees",
        description="Play a level with the keyboard (arrows, Z jump, X run; H lists the keys) with the"
        " agent's 13x13 view of the world drawn alongside, under the jump rule --jump-rule names.",
    )
    p.add_argument("level", metavar="LEVEL", help="a built-in level id (1-1 ... 2-4), gen:SEED[:DIFFICULTY], or a file")
    p.add_argument(
        "--view-radius",
        type=int_in(0, MAX_VIEW_RADIUS),
        default=6,
        metavar="N",
        help=f"tiles seen on each side, {span(0, MAX_VIEW_RADIUS)} (default 6: 13x13)",
    )
    p.add_argument(
        "--duration",
        type=float_in(*DURATION_RANGE),
        metavar="SECONDS",
        help=f"close the window after SECONDS, {span(*DURATION_RANGE)}",
    )
    add_jump_rule_flag(p)
    p.set_defaults(run=run)


def check_flags(args: argparse.Namespace) -> None:
    """Reject a view radius or duration that makes no sense, with one line."""
    if not 0 <= args.view_radius <= MAX_VIEW_RADIUS:
        raise UserError(f"--view-radius must be between 0 and {MAX_VIEW_RADIUS}, got {args.view_radius}")
    if args.duration is not None and not DURATION_RANGE[0] <= args.duration <= DURATION_RANGE[1]:
        raise UserError(
            f"--duration must be from {DURATION_RANGE[0]:g} to {DURATION_RANGE[1]:g} seconds, got {args.duration}"
        )


def run(args: argparse.Namespace) -> int:
    """Play the level in a window until Esc, closing it, or --duration; print the last attempt's outcome."""
    check_flags(args)
    from tilerunner.envs.level import load_level
    from tilerunner.evolve.viewer.human_play import HumanPlay

    game = HumanPlay(load_level(args.level), view_radius=args.view_radius, jump_rule=args.jump_rule)
    import pygame

    try:
        outcome = game.run(duration=args.duration)
    except pygame.error as exc:
        raise UserError(f"cannot open a window: {exc} (is there a display?)") from None
    if outcome is not None:
        print(f"{game.level.id}: {outcome.describe(fitness=True)}, as the agent would score it")
    return 0
