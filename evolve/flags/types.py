"""Flag types and flags that the commands and the benchmarks both build their parsers with.

A room of its own (`tilerunner.evolve.flags`) because both use it and neither may import the other's:
the commands import the benchmarks, so a benchmark that declares its own flags cannot import the commands.

Every numeric flag has a documented range and is refused by argparse outside it, with one line naming the
flag, the range and the value (`argument --scale: must be at most 16, got 100000`); nan, inf and numbers too
long to be numbers are refused the same way (`int_in`, `float_in`, `int_list`). Every numeric flag shows its
range in --help (`span`) and its type carries it (`.range`). `--jump-rule` (`add_jump_rule_flag`) and
`--observe` (`features_type`, `OBSERVE_HELP`) are spelt and explained alike on every command that takes them.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable

from tilerunner.envs.observe import FEATURES
from tilerunner.envs.physics import JUMP_RULES
from tilerunner.evolve.core.fitness import EpisodeSettings

_MAX_DIGITS = 30  # longer than any number in range; int() of thousands of digits is slow or refused


def number_text(value: float) -> str:
    """A range end for people: `1e9`, `0.01`, `1,000,000` (no `1e+09`)."""
    if float(value).is_integer() and abs(value) < 1e7:
        return f"{int(value):,}"
    return f"{value:g}".replace("e+0", "e").replace("e+", "e")


def span(lo: float, hi: float) -> str:
    """A flag's range as --help shows it: `1 to 1,000`, `0.01 to 1e7`, `0 to 2**63-1`."""

    def end(value: float) -> str:
        return "2**63-1" if value == 2**63 - 1 else number_text(value)

    return f"{end(lo)} to {end(hi)}"


def _shown(text: str) -> str:
    """A flag's text for a message: quoted, escaped, and short: 42 characters at most, escapes counted."""
    if len(text) <= 40 and len(repr(text)) <= 42:
        return repr(text)
    kept = text[:37]
    while len(repr(kept + "...")) > 42:
        kept = kept[:-1]
    return repr(kept + "...")


def int_in(lo: int, hi: int) -> Callable[[str], int]:
    """argparse type: a whole number from `lo` to `hi` (both allowed); anything else is one argparse line."""

    def parse(text: str) -> int:
        stripped = text.strip().replace("_", "")
        if len(stripped) > _MAX_DIGITS:
            raise argparse.ArgumentTypeError(f"must be a whole number from {lo:,} to {hi:,}, got {_shown(text)}")
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {_shown(text)}") from None
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {lo:,}, got {value:,}")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {hi:,}, got {value:,}")
        return value

    parse.__name__ = f"whole number from {lo} to {hi}"
    parse.range = (lo, hi)  # type: ignore[attr-defined]  # for --help and the tests that hold it to its range
    return parse


def int_list(what: str, lo: int, hi: int, most: int) -> Callable[[str], list[int]]:
    """argparse type: up to `most` comma-separated whole numbers, each from `lo` to `hi` (`what` names them in
    the one line a bad list gets: "expected up to 20 comma-separated population sizes from 2 to 100,000")."""
    expected = f"expected up to {most} comma-separated {what} from {lo:,} to {hi:,}"

    def parse(text: str) -> list[int]:
        parts = text.split(",")
        if len(parts) > most or any(len(p.strip().replace("_", "")) > _MAX_DIGITS for p in parts):
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}")
        try:
            values = [int(p) for p in parts]
        except ValueError:
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}") from None
        if not all(lo <= v <= hi for v in values):
            raise argparse.ArgumentTypeError(f"{expected}, got {_shown(text)}")
        return values

    parse.__name__ = f"whole number from {lo} to {hi}, comma-separated"
    parse.range = (lo, hi)  # type: ignore[attr-defined]
    return parse


def float_in(lo: float, hi: float) -> Callable[[str], float]:
    """argparse type: a finite number from `lo` to `hi` (both allowed); nan, inf and the rest are refused."""

    def parse(text: str) -> float:
        if len(text.strip()) > 4 * _MAX_DIGITS:
            raise argparse.ArgumentTypeError(
                f"must be a number from {number_text(lo)} to {number_text(hi)}, got {_shown(text)}"
            )
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a number, got {_shown(text)}") from None
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"expected a finite number, got {_shown(text)}")
        if value < lo:
            raise argparse.ArgumentTypeError(f"must be at least {number_text(lo)}, got {_shown(text)}")
        if value > hi:
            raise argparse.ArgumentTypeError(f"must be at most {number_text(hi)}, got {_shown(text)}")
        return value

    parse.__name__ = f"number from {number_text(lo)} to {number_text(hi)}"
    parse.range = (lo, hi)  # type: ignore[attr-defined]
    return parse


def setting_type(name: str) -> Callable[[str], int | float]:
    """argparse type for the episode setting `name`, with the range `EpisodeSettings.LIMITS` gives it."""
    lo, hi = EpisodeSettings.LIMITS[name]
    return int_in(int(lo), int(hi)) if name in EpisodeSettings.WHOLE else float_in(lo, hi)


# A few words on each observation feature of `tilerunner.envs.observe.FEATURES`, in its order (its
# docstring says every input); a test holds the two lists equal.
FEATURE_ABOUT = {
    "speed": "3 inputs: the player's speeds and whether it stands on something",
    "enemy-kinds": "no inputs: stompable enemies -0.5 in the grid, spiky ones -1",
    "jump": "3 inputs: on the ground, may jump now, lift left if A stays held",
    "enemy-grid": "(2r+1)^2 inputs: the enemies in a grid of their own, tiles alone in the first",
    "position": "2 inputs: where the player is within its tile",
    "probes": "7 inputs: the next gap's distance and width, the next wall's distance and height, the nearest"
    " enemy ahead's dx, dy and kind",
    "foresight": "45 inputs: nine candidate moves (run, jump, hop, wait, back; keep-a, let-go, drift, steer-back)"
    " played forward by the physics over what is in view, each's progress, dies, stomps, away and frames",
    "no-grid": "takes the grid's (2r+1)^2 inputs away: the network sees only the other features",
}
OBSERVE_HELP = (
    "opt-in observation features on top of MarI/O's grid, comma-separated: "
    + "; ".join(f"{name} ({about})" for name, about in FEATURE_ABOUT.items())
    + "; default none, the grid alone"
)


def features_type(text: str) -> tuple[str, ...]:
    """argparse type for `--observe`: comma-separated observation feature names, each known."""
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected feature names ({', '.join(FEATURES)}), got {_shown(text)}")
    for name in names:
        if name not in FEATURES:
            raise argparse.ArgumentTypeError(f"unknown feature {_shown(name)}; the features are {', '.join(FEATURES)}")
    return names


# The jump rule a command uses when --jump-rule is not given (a replay keeps its own). One place, so
# that it can be switched once the experiment of issue 21 says which rule agents should learn under.
DEFAULT_JUMP_RULE = "hold"
JUMP_RULE_ABOUT = {  # every name of `tilerunner.envs.physics.JUMP_RULES` (a test holds them equal)
    "press": "A pressed anew for each jump, letting go ends the lift (Super Mario Bros)",
    "hold": "holding A jumps again on landing",
}


def add_jump_rule_flag(
    p: argparse.ArgumentParser, default: str | None = DEFAULT_JUMP_RULE, default_text: str | None = None
) -> None:
    """Add `--jump-rule press|hold`, spelt, checked and explained alike on every command that sets up episodes.

    argparse refuses any other rule in one line. `default` None leaves the choice to the command
    (a resumed run or a replay keeps its own rule); `default_text` then says what happens.
    """
    rules = "; or ".join(f"{name}, {about}" for name, about in JUMP_RULE_ABOUT.items())
    p.add_argument(
        "--jump-rule",
        choices=JUMP_RULES,
        default=default,
        metavar="|".join(JUMP_RULE_ABOUT),
        help=f"the world's jump rule: {rules} (default {default_text or default})",
    )
