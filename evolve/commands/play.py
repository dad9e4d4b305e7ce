"""`tilerunner play LEVEL`: play a level yourself, with the 13x13 grid the agent would see drawn alongside.

A thin command over `tilerunner.evolve.viewer.human_play.HumanPlay`: it loads the level, opens the
window and says how the agent would have scored the last attempt.
"""

from __future__ import annotations

import argparse

from tilerunner.envs.level import load_level
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import DURATION_RANGE
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.flags.types import add_jump_rule_flag, float_in, setting_type, span
from tilerunner.evolve.viewer.human_play import HumanPlay


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner play`'s flags."""
    p.description = (
        "Play a level with the keyboard (arrows, Z jump, X run; H lists the keys) with the"
        " agent's 13x13 view of the world drawn alongside, under the jump rule --jump-rule names."
    )
    p.add_argument("level", metavar="LEVEL", help="a built-in level id (1-1 ... 2-4), gen:SEED[:DIFFICULTY], or a file")
    p.add_argument(
        "--view-radius",
        type=setting_type("view_radius"),
        default=6,
        metavar="N",
        help=f"tiles seen on each side, {span(*EpisodeSettings.LIMITS['view_radius'])} (default 6: 13x13)",
    )
    p.add_argument(
        "--duration",
        type=float_in(*DURATION_RANGE),
        metavar="SECONDS",
        help=f"close the window after SECONDS, {span(*DURATION_RANGE)}",
    )
    add_jump_rule_flag(p)
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Play the level in a window until Esc, closing it, or --duration; print the last attempt's outcome."""
    game = HumanPlay(load_level(args.level), view_radius=args.view_radius, jump_rule=args.jump_rule)
    import pygame

    try:
        outcome = game.run(duration=args.duration)
    except pygame.error as exc:
        raise UserError(f"cannot open a window: {exc} (is there a display?)") from None
    if outcome is not None:
        print(f"{game.level.id}: {outcome.describe(fitness=True)}, as the agent would score it")
    return 0
