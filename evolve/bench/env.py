"""`tilerunner bench env`: frames per second of the bare physics kernel against `env.step` through gymnasium."""

from __future__ import annotations

import argparse

import numpy as np
from numba import njit

from tilerunner.envs import ENV_ID
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import LEFT, RIGHT, A, B, pressed
from tilerunner.envs.level import load_level
from tilerunner.envs.observe import DEFAULT_RADIUS, observe
from tilerunner.evolve.bench.flags import STEPS_RANGE, add_level, add_repeats, add_whole
from tilerunner.evolve.bench.timing import fmt_rate, median_rate, verdict
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.flags.types import add_jump_rule_flag, setting_type, span

KERNEL_TARGET = 5_000_000  # frames/s, issue #2
ENV_TARGET = 30_000  # steps/s, issue #2
FRAMES_RANGE = (1, 10**9)
HELP = "physics kernel frames/s vs gymnasium env.step steps/s"
DESCRIPTION = (
    "Time the Numba physics kernel (frames/s on one core, observing every --frame-skip frames) against the"
    " gymnasium env's step() on the same level, and print the ratio."
)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The flags of `tilerunner bench env`."""
    add_level(p, "2-3", "12 enemies")
    add_whole(p, "--frames", "frames per kernel run", FRAMES_RANGE, 5_000_000)
    add_whole(p, "--steps", "env steps per env run", STEPS_RANGE, 60_000)
    add_repeats(p, "runs of each", 5)
    p.add_argument(
        "--frame-skip",
        type=setting_type("frame_skip"),
        default=5,
        metavar="N",
        help=f"frames per decision, {span(*EpisodeSettings.LIMITS['frame_skip'])} (default 5)",
    )
    add_jump_rule_flag(p)


def scripted_buttons(n: int = 240) -> np.ndarray:
    """A fixed, repeating decision script: run right, with jumps of varying length and a pause now and then."""
    script = np.empty(n, dtype=np.int64)
    for i in range(n):
        mask = RIGHT | B
        if i % 12 < 1 + (i // 12) % 4:
            mask |= A
        if i % 60 >= 56:
            mask = LEFT
        script[i] = mask
    return script


@njit(cache=True)
def run_kernel(
    level_tiles: np.ndarray,
    level_enemies: np.ndarray,
    start_col: int,
    start_row: int,
    exit_col: int,
    script: np.ndarray,
    frame_skip: int,
    radius: int,
    n_frames: int,
    rule: int = P.HOLD,
) -> np.ndarray:
    """Step the physics `n_frames` frames through the script, observing every `frame_skip` frames.

    The world plays by jump rule `rule` (`P.HOLD` or `P.PRESS`). Episodes restart when they end.
    Returns (episodes, finished, checksum) so the work cannot be optimised away.
    """
    tiles = np.empty_like(level_tiles)
    state = np.empty(P.STATE_SIZE, np.int64)
    enemies = np.empty((level_enemies.shape[0], P.ENEMY_FIELDS), np.int64)
    P.reset_world(level_tiles, level_enemies, start_col, start_row, exit_col, tiles, state, enemies, rule)
    size = 2 * radius + 1
    obs = np.empty((size, size), np.float32)
    episodes = 0
    finished = 0
    checksum = 0.0
    decision = 0
    buttons = 0
    for f in range(n_frames):
        if f % frame_skip == 0:
            observe(tiles, state, enemies, radius, obs)
            checksum += obs[radius, radius + 1]
            buttons = script[decision % script.shape[0]]
            decision += 1
        status = P.step(tiles, state, enemies, buttons)
        if status != P.RUNNING:
            episodes += 1
            finished += status == P.FINISHED
            decision = 0
            P.reset_world(level_tiles, level_enemies, start_col, start_row, exit_col, tiles, state, enemies, rule)
    out = np.empty(3, np.int64)
    out[0] = episodes
    out[1] = finished
    out[2] = int(checksum)
    return out


def run(args: argparse.Namespace) -> int:
    """Time the kernel and the env on the same level and script; print both rates, their ratio, the targets."""
    import gymnasium as gym

    level = load_level(args.level)
    script = scripted_buttons()
    col, row = level.start
    rule = P.jump_rule_id(args.jump_rule)
    kernel_args = (level.tiles, level.enemies, col, row, level.exit_col, script, args.frame_skip, DEFAULT_RADIUS)
    run_kernel(*kernel_args, 1000, rule)  # compile or load from cache before timing

    def kernel_work() -> int:
        run_kernel(*kernel_args, args.frames, rule)
        return args.frames

    env = gym.make(
        ENV_ID, level=level, frame_skip=args.frame_skip, max_frames=0, stall_frames=0, jump_rule=args.jump_rule
    )
    actions = [pressed(mask) for mask in script]

    def env_work() -> int:
        env.reset()
        k = 0
        for _ in range(args.steps):
            _, _, terminated, truncated, _ = env.step(actions[k % len(actions)])
            k += 1
            if terminated or truncated:
                env.reset()
                k = 0
        return args.steps

    env_work()  # warm up
    n_en = len(level.enemies)
    print(
        f"tilerunner bench env: level {level.id} ({level.width} columns, {n_en} enemies), "
        f"frame_skip {args.frame_skip}, jump rule {args.jump_rule}, median of {plural(args.repeats, 'run')}"
    )
    k_rate, k_all = median_rate(kernel_work, args.repeats)
    print(
        f"(a) physics kernel, 1 core, 13x13 observation every {args.frame_skip} frames: "
        f"{fmt_rate(k_rate)} frames/s   (runs: {', '.join(fmt_rate(r) for r in k_all)})"
    )
    e_rate, e_all = median_rate(env_work, args.repeats)
    env.close()
    print(
        f"(b) gymnasium env.step via gym.make:  {fmt_rate(e_rate)} steps/s = "
        f"{fmt_rate(e_rate * args.frame_skip)} frames/s   (runs: {', '.join(fmt_rate(r) for r in e_all)})"
    )
    ratio = k_rate / (e_rate * args.frame_skip)
    print(f"ratio: the kernel simulates {ratio:.0f}x as many frames per second as env.step")
    print(
        f"targets: (a) >= {fmt_rate(KERNEL_TARGET)} frames/s: {verdict(k_rate >= KERNEL_TARGET)};"
        f" (b) >= {fmt_rate(ENV_TARGET)} steps/s: {verdict(e_rate >= ENV_TARGET)}"
    )
    return 0
