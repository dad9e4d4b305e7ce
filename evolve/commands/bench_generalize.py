"""`tilerunner bench generalize`'s flags: the run options it shares with `tilerunner evolve`, made from the same
fields (`option_flags`), in the same groups, beside the few of its own (--public, --seeds, --solve, --out, --json).
"""

from __future__ import annotations

import argparse

from tilerunner.evolve.bench.flags import COUNT, add_workers, seeds_help
from tilerunner.evolve.commands.option_flags import add_episode_flags, add_option_flags, groups
from tilerunner.evolve.flags.types import DEFAULT_JUMP_RULE

# The run options each seed's run takes from a flag, with the bench's defaults where they are not evolve's.
# --validate-every has none here (evolve's, 10, is shown): None says it was not given, so a resumed seed keeps
# its own and one given changes it.
OPTIONS = ["generations", "config", "pop", "levels_per_gen", "curriculum", "validate_every", "time_limit"]
OPTIONS += ["seed_rules", "recheck"]
DEFAULTS = {"generations": None, "pop": 300, "levels_per_gen": 20, "time_limit": 45.0}


def register(bsub: argparse._SubParsersAction, run) -> None:
    """Add `bench generalize`, which `run(args)` runs."""
    gen = bsub.add_parser(
        "generalize",
        help="train per seed on a time budget, pick on validation, report levels never seen",
        description="Evolve from several seeds on training levels only (each on a time budget), pick the"
        " champion that was best on validation levels, and report what it finishes on held-out"
        " public and generated levels nothing was picked on. Run folders are kept in --out: run"
        " the same command again to resume an interrupted bench or reuse finished seeds.",
    )
    where = groups(gen)
    where["levels"].add_argument(
        "--public",
        metavar="DIR",
        help="a folder of public levels never trained on (e.g. the Mario AI Framework's levels/ folder, or a part"
        " of it), split per generator by level number: the first half picks the champion, the second half is"
        " reported (default none: picking and reporting on generated levels only)",
    )
    where["levels"].add_argument(
        "--level",
        action="append",
        metavar="SET",
        help="the training levels, as evolve --level takes (repeat for several; default the train/ folder"
        " beside --public, else gen:*)",
    )
    add_option_flags(
        where,
        OPTIONS,
        DEFAULTS,
        time_limit="minutes of evolution per seed",
        generations="also stop each seed after N generations, whichever comes first (none: the time limit"
        " alone); on a shared machine a generation budget compares variants alike",
        validate_every="generations between checks on the picking levels",
    )
    add_episode_flags(
        where,
        ["features", "jump_rule", "relative_to"],
        {"jump_rule": DEFAULT_JUMP_RULE, "relative_to": "none"},
        jump_rule_text=f"{DEFAULT_JUMP_RULE}; the runs evolve, and the baselines play, under it",
    )
    where["search"].add_argument("--seeds", type=COUNT, default=3, metavar="N", help=seeds_help(3))
    add_workers(where["backend"])
    where["output"].add_argument(
        "--solve",
        action="store_true",
        help="also run the solver on the reported levels, give shares of the solvable ones, and"
        " the planner's line beside the baselines'",
    )
    where["output"].add_argument(
        "--out",
        metavar="DIR",
        default="runs/bench-generalize",
        help="where the seeds' run folders are kept (default runs/bench-generalize)",
    )
    where["output"].add_argument("--json", metavar="PATH", help="also write the report as JSON")
    gen.set_defaults(run=run)
