"""`tilerunner levels`: list, show, check, solve levels, and print the character table."""

from __future__ import annotations

import argparse
import sys

from tilerunner.envs import render, solver
from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.level import BUILTIN_LEVELS, Level, LevelError, load_level
from tilerunner.envs.physics import FPS, jump_rule_id
from tilerunner.envs.tiles import char_table_markdown
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.commands.flags import BEAM_WIDTH_RANGE, check_not_an_input, check_output_file, writing
from tilerunner.evolve.commands.terminal import progress_bar, write_line
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import DEFAULT_JUMP_RULE, add_jump_rule_flag, int_in, span
from tilerunner.evolve.runs.solvable import search_levels


def declare(p: argparse.ArgumentParser) -> None:
    """`tilerunner levels` and its subcommands."""
    p.description = "Built-in levels, generated levels (gen:SEED[:DIFFICULTY]) and level files."
    p.set_defaults(run=_list)
    lsub = p.add_subparsers(dest="levels_command", metavar="SUBCOMMAND")

    lsub.add_parser(
        "list",
        help="list the built-in levels (the default)",
        description="List the built-in levels: id, width, enemies and what each is for.",
    ).set_defaults(run=_list)

    show = lsub.add_parser(
        "show",
        help="print a level, or draw it to a PNG",
        description="Print a level's text (the Mario AI Framework's format); --png also draws"
        " the whole level to a picture.",
    )
    show.add_argument("level", metavar="ID|FILE", help="built-in id, gen:SEED[:DIFFICULTY], or a file")
    show.add_argument("--png", metavar="PATH", help="write a picture of the whole level to PATH")
    show.set_defaults(run=_show)

    check = lsub.add_parser(
        "check",
        help="validate level files (exit 2 if any is bad)",
        description="Load each level file and say it is ok (its size, enemies and exit) or"
        " what is wrong with it, as file:line:col; exit 2 if any is bad. With"
        " --solve, also search each for a way to the exit (exit 1 if one has none).",
    )
    check.add_argument("files", nargs="+", metavar="FILE", help="level files in the Mario AI Framework's format")
    check.add_argument(
        "--solve",
        action="store_true",
        help="also search for a button sequence that finishes each level (exit 1 if none is found)",
    )
    add_jump_rule_flag(
        check, default=None, default_text=f"{DEFAULT_JUMP_RULE}; only with --solve, whose search plays by it"
    )
    check.set_defaults(run=_check)

    solve = lsub.add_parser(
        "solve",
        help="find buttons that finish a level (proof it is finishable)",
        description="Search for a button sequence that finishes the level, by beam search over"
        " the real physics, retrying with other beams while its budget lasts."
        " Exit 1 if none is found: that is no proof the level cannot be finished,"
        " unless it says NOT finishable (walled in).",
    )
    solve.add_argument("level", metavar="ID|FILE", help="built-in id, gen:SEED[:DIFFICULTY], or a file")
    solve.add_argument("--save", metavar="PATH", help="write the button sequence (run-length text) to PATH")
    solve.add_argument(
        "--width",
        type=int_in(*BEAM_WIDTH_RANGE),
        default=96,
        metavar="N",
        help=f"beam width, {span(*BEAM_WIDTH_RANGE)} (default 96)",
    )
    add_jump_rule_flag(solve, default_text=f"{DEFAULT_JUMP_RULE}; the buttons found finish the level under it")
    solve.set_defaults(run=_solve)

    lsub.add_parser(
        "chars",
        help="print the level-file character table",
        description="Print, as a Markdown table, what each character of a level file means here:"
        " the Mario AI Framework's characters and the tile or entity each maps to.",
    ).set_defaults(run=_chars)


def _summary(level: Level) -> str:
    return f"{level.width}x{level.height} tiles, {len(level.enemies)} enemies, exit at column {level.exit_col + 1}"


def _list(args: argparse.Namespace) -> int:
    width = max(len(k) for k in BUILTIN_LEVELS)
    for level_id, about in BUILTIN_LEVELS.items():
        level = load_level(level_id)
        print(f"{level_id:<{width}}  {level.width:>4} cols  {len(level.enemies):>3} enemies  {about}")
    print("\nAlso: gen:SEED or gen:SEED:DIFFICULTY (1-10) for a generated level, or a level file path.")
    print("Show one with: tilerunner levels show 1-1 [--png 1-1.png]")
    return 0


def _show(args: argparse.Namespace) -> int:
    if args.png:
        check_output_file(args.png, "--png")
        check_not_an_input(args.png, "--png", [args.level])
    level = load_level(args.level)
    sys.stdout.write(level.text)
    if args.png:
        try:
            image = render.level_image(level)
        except ValueError as exc:  # a picture too big to draw
            raise LevelError(f"{args.png}: {exc}") from None
        with writing(args.png):
            render.save_png(image, args.png)
        print(f"wrote {args.png} ({image.shape[1]}x{image.shape[0]} px)", file=sys.stderr)
    return 0


def _check(args: argparse.Namespace) -> int:
    if args.jump_rule is not None and not args.solve:
        raise UserError("--jump-rule is the rule --solve searches under; without --solve it would change nothing")
    loaded: list[tuple[str, Level]] = []
    bad = 0
    for path in args.files:
        try:
            loaded.append((path, load_level(path)))
        except LevelError as exc:
            print(exc, file=sys.stderr)
            bad += 1
    if not args.solve:
        for path, level in loaded:
            print(f"{path}: ok, {_summary(level)}")
        return 2 if bad else 0
    rule = args.jump_rule or DEFAULT_JUMP_RULE
    if loaded:
        print(f"searching {plural(len(loaded), 'level')} for a way to the exit under jump rule {rule}", flush=True)
    with progress_bar("searched", total=len(loaded), unit="level") as update:

        def report(i: int, result) -> None:  # in file order, as the searches (on all cores) end
            path, level = loaded[i]
            write_line(f"{path}: ok, {_summary(level)}; {result.verdict()}")
            update(i + 1)

        results = search_levels([level for _, level in loaded], done=report, rule=jump_rule_id(rule))
    if bad:
        return 2
    return 1 if any(not r.found for r in results) else 0


def _solve(args: argparse.Namespace) -> int:
    if args.save:
        check_output_file(args.save, "--save")
        check_not_an_input(args.save, "--save", [args.level])
    level = load_level(args.level)
    with progress_bar(f"searching {level.id} for a way to the exit"):  # on a terminal: the time it has taken
        result = solver.search(level, width=args.width, rule=jump_rule_id(args.jump_rule))
    solution = result.solution
    if solution is None:
        print(f"{level.id}: {result.verdict()}")
        return 1
    print(
        f"{level.id}: finished in {solution.frames} frames ({solution.frames / FPS:.1f} s of game time),"
        f" {solution.coins} coins, {solution.kills} kills"
    )
    if args.save:
        with writing(args.save):
            write_atomic(args.save, solver.format_buttons(solution.buttons))
        print(f"wrote {args.save}")
    return 0


def _chars(args: argparse.Namespace) -> int:
    print(char_table_markdown())
    return 0
