"""`TileRunnerEnv`: the platformer as a gymnasium environment, one agent decision per step."""

from __future__ import annotations

import os
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces
from numba import njit

from tilerunner.envs import episode_defaults as D
from tilerunner.envs import physics as P
from tilerunner.envs.arguments import instance, shown
from tilerunner.envs.buttons import N_BUTTONS, mask_from_pressed
from tilerunner.envs.foresight import MOVES, N_PARTS, Sight, sight_buffers
from tilerunner.envs.generator import MAX_DIFFICULTY
from tilerunner.envs.level import Level, LevelError, level_spec, load_level
from tilerunner.envs.observe import feature_mask, input_slices, n_inputs, observe_inputs

# gen:* seeds (lowest included), here and in evolution's level plan: held-out sets below 1,000,000 stay unseen
FRESH_SEEDS = (1_000_000, 2**31)


def fresh_difficulties(spec: str) -> tuple[int, ...] | None:
    """The difficulties `gen:*` (all) or `gen:*:D` names; None for any other spec; `LevelError` if malformed."""
    if not spec.startswith("gen:*"):
        return None
    if spec == "gen:*":
        return tuple(range(1, MAX_DIFFICULTY + 1))
    tail = spec[len("gen:*") :]
    if tail.startswith(":") and tail[1:].isdigit() and tail[1:].isascii() and 1 <= int(tail[1:]) <= MAX_DIFFICULTY:
        return (int(tail[1:]),)
    raise LevelError(f"{spec}: bad fresh-level set: expected gen:* or gen:*:DIFFICULTY (DIFFICULTY 1-{MAX_DIFFICULTY})")


@njit(cache=True)
def _step_and_observe(
    tiles: np.ndarray,
    state: np.ndarray,
    enemies: np.ndarray,
    buttons: int,
    frame_skip: int,
    max_frames: int,
    stall_frames: int,
    radius: int,
    features: int,
    out: np.ndarray,
    sight: Sight,
) -> int:
    # One Numba call per env step: hold the buttons for frame_skip frames, then look.
    status = P.advance(tiles, state, enemies, buttons, frame_skip, max_frames, stall_frames)
    observe_inputs(tiles, state, enemies, radius, features, out, sight)
    return status


class TileRunnerEnv(gym.Env):
    """A tile platformer in the style of Super Mario Bros, seen as MarI/O saw it.

    ## Description

    The player starts at the left of a level and must reach the exit column on the
    right, jumping gaps, stomping walkers and avoiding spiky enemies. The level is a
    Mario AI Framework ASCII file (built-in, generated, or yours). Physics runs in
    Numba at 60 frames per second on integer sub-pixels, so every run is exactly
    repeatable. The agent decides every `frame_skip` frames and its buttons are held
    in between, as in MarI/O.

    ## Action Space

    `MultiBinary(6)`: the buttons Left, Right, Up, Down, A (jump), B (run), 1 = held.
    Left with Right, or Up with Down, cancel. Holding A longer jumps higher. Under the
    `jump_rule` `"press"` (Super Mario Bros and the Mario AI Framework) a jump needs A
    pressed anew on the ground and releasing A ends the lift; under `"hold"` (the
    default, this project's first rule) holding A jumps again on every landing. Up and
    Down do nothing in this world (there are no vines or pipes to enter); they are kept
    so MarI/O-style networks carry over.

    ## Observation Space

    `Box(-1, 1, (2r+1, 2r+1), float32)` with r = `view_radius` (13x13 by default):
    the tiles around the player, centred on it, 16 px per cell, in MarI/O's encoding:
    1 where the cell holds something to stand on (ground, blocks, pipes, platforms),
    -1 where an enemy is, 0 otherwise. Row 0 is the top.

    With opt-in `features` (see `tilerunner.envs.observe` for every input and its range):
    `"enemy-kinds"` marks enemies that can be stomped -0.5 (spiky ones stay -1). Any feature
    with inputs of its own makes the observation a `Dict` of `"grid"` (the Box above) and one
    `Box` per such feature, under its name: `"speed"` (3: horizontal and vertical speed,
    scaled, and on the ground), `"jump"` (3: on the ground, may jump, can jump higher),
    `"enemy-grid"` ((2r+1, 2r+1): the enemies; the grid then shows tiles only),
    `"position"` (2: x and y within the tile), `"probes"` (7: the next gap's distance and
    width, the next wall's distance and height, the nearest enemy ahead's dx, dy and kind),
    `"foresight"` ((9, 5): for each candidate move of `tilerunner.envs.foresight.MOVES`, played
    forward by the physics over what is in view, its progress, dies, stomps, away and frames).
    `"no-grid"` leaves `"grid"` out of the Dict (the network sees only the other features).
    These are the inputs `tilerunner evolve --observe ...` gives its networks, in this order.

    ## Rewards

    Progress: the number of pixels by which the rightmost position reached grew
    during the step (never negative). The sum over an episode is the distance
    reached, MarI/O's fitness without its time penalty.

    ## Starting State

    The player stands at the level's start ('M', or column 0 on the first floor).
    Enemies sleep until the player comes within 12 tiles.

    ## Episode End

    Terminated when the player dies (falls into a pit, touches an enemy, stomps a
    spiky one) or finishes (its centre reaches the exit column). Truncated when the
    rightmost position has not grown for `stall_frames` frames, or after
    `max_frames` frames. `info` holds `x` and `rightmost` (pixels), `frames`,
    `coins`, `kills`, `status` (running, dead, finished, stalled or timeout), the
    `cause` of death (pit, enemy, spiky, or "") and the `level` id (`gen:SEED:D` for `gen:*`).

    ## Arguments

    ```python
    import gymnasium as gym
    env = gym.make("tilerunner/TileRunner-v0", level="1-1", frame_skip=5, view_radius=6,
                   max_frames=6000, stall_frames=120, render_mode="rgb_array")
    ```

    - `level`: a built-in id (`1-1` ... `2-4`), `gen:SEED[:DIFFICULTY]`, a file path (text or a
      `pathlib.Path`), or a `Level`; or `gen:*` (`gen:*:DIFFICULTY`): a fresh generated level at every reset,
      of any difficulty (of that one), drawn from `np_random`, so `reset(seed=...)` gives the
      same levels again. `reset(options={"level": ...})` switches level.
    - `frame_skip`: frames per step (the buttons are held for all of them), 1 to 600.
    - `view_radius`: cells on each side of the player in the observation, 0 to 20.
    - `features`: opt-in observation features, e.g. `("jump", "probes")`.
    - `jump_rule`: `"hold"` (default) or `"press"`, see Action Space.
    - `max_frames`, `stall_frames`: truncation limits in frames, 0 to 1,000,000 (0 turns one off).
    - `render_mode`: `"human"` (a pygame window at game speed) or `"rgb_array"`.

    The defaults and ranges are evolution's (`tilerunner.EpisodeSettings`), from
    `tilerunner.envs.episode_defaults`, so an agent trained here meets the episodes `tilerunner evolve` plays.
    An argument of the wrong type is a `TypeError`, one out of its range a `ValueError`, naming it.

    The world has no randomness: `reset(seed=...)` seeds `np_random`, which only draws
    `gen:*` levels, and the same level and actions always give the same episode.
    """

    metadata = {"render_modes": ["human", "rgb_array"], "render_fps": P.FPS}

    def __init__(
        self,
        level: str | os.PathLike | Level = "1-1",
        frame_skip: int = D.FRAME_SKIP,
        view_radius: int = D.VIEW_RADIUS,
        max_frames: int = D.MAX_FRAMES,
        stall_frames: int = D.STALL_FRAMES,
        render_mode: str | None = None,
        features: tuple[str, ...] | list[str] = (),
        jump_rule: str = D.JUMP_RULE,
    ) -> None:
        # The ranges are evolution's (`episode_defaults.LIMITS`): a TypeError or ValueError naming the argument.
        self.frame_skip = D.check_rule("frame_skip", frame_skip)
        self.view_radius = D.check_rule("view_radius", view_radius)
        self.max_frames = D.check_rule("max_frames", max_frames)
        self.stall_frames = D.check_rule("stall_frames", stall_frames)
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise ValueError(f"render_mode must be one of {self.metadata['render_modes']}, got {shown(render_mode)}")
        self.render_mode = render_mode
        # Human rendering shows one picture per step, so steps are paced at 60/frame_skip per second.
        self.metadata = {**self.metadata, "render_fps": P.FPS / self.frame_skip}
        self.features = tuple(instance("features", features, (list, tuple), "a list of feature names"))
        self._features = feature_mask(self.features)
        self.jump_rule = jump_rule
        self._rule = P.jump_rule_id(jump_rule if isinstance(jump_rule, str) else repr(jump_rule))
        self._inputs = np.zeros(n_inputs(self.view_radius, self.features), dtype=np.float32)
        self._sight = sight_buffers(self.view_radius, self.frame_skip)  # foresight's scratch
        # The flat input vector's parts: (the grid or a feature, where it is, its shape), in `FEATURES` order.
        size = 2 * self.view_radius + 1
        shapes = {"grid": (size, size), "enemy-grid": (size, size), "foresight": (len(MOVES), N_PARTS)}
        self._parts = [
            (name, part, shapes.get(name, (part.stop - part.start,)))
            for name, part in input_slices(self.view_radius, self.features).items()
        ]
        boxes = {name: spaces.Box(-1.0, 1.0, shape, dtype=np.float32) for name, _, shape in self._parts}
        self.observation_space = boxes["grid"] if list(boxes) == ["grid"] else spaces.Dict(boxes)
        self.action_space = spaces.MultiBinary(N_BUTTONS)
        self._window = None
        self._set_level(level)

    def _set_level(self, level: str | os.PathLike | Level, name: str = "level") -> None:
        """Play `level` from now on; `gen:*` (`gen:*:D`) plays a fresh generated level at each reset. A `level`
        that is no level at all is a `TypeError` naming the argument it came in (`name`)."""
        spec = level_spec(name, level)
        self._fresh = fresh_difficulties(spec) if isinstance(spec, str) else None
        self._load(self._draw_fresh() if self._fresh else spec)

    def _load(self, level: str | Level) -> None:
        self.level = level if isinstance(level, Level) else load_level(level)
        self._tiles, self._state, self._enemies = P.new_world(self.level, self._rule)

    def _draw_fresh(self) -> str:
        """A generated level's id, `gen:SEED:D`, drawn from `np_random` among the fresh difficulties."""
        difficulty = self._fresh[int(self.np_random.integers(len(self._fresh)))]
        return f"gen:{int(self.np_random.integers(*FRESH_SEEDS))}:{difficulty}"

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        if options and "level" in options:
            self._set_level(options["level"], 'options["level"]')
        elif self._fresh:
            self._load(self._draw_fresh())
        level, (col, row) = self.level, self.level.start
        P.reset_world(level.tiles, level.enemies, col, row, level.exit_col, *self.world, self._rule)
        observe_inputs(*self.world, self.view_radius, self._features, self._inputs, self._sight)
        if self.render_mode == "human":
            self.render()
        return self._observation(), self._info()

    def step(self, action) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        buttons = mask_from_pressed(action)
        before = self._state[P.S_RIGHTMOST]
        status = _step_and_observe(
            *self.world,
            buttons,
            self.frame_skip,
            self.max_frames,
            self.stall_frames,
            self.view_radius,
            self._features,
            self._inputs,
            self._sight,
        )
        obs = self._observation()
        reward = float(self._state[P.S_RIGHTMOST] - before) / P.SUB
        terminated = status == P.DEAD or status == P.FINISHED
        truncated = status == P.STALLED or status == P.TIMEOUT
        if self.render_mode == "human":
            self.render()
        return obs, reward, terminated, truncated, self._info()

    def _observation(self) -> np.ndarray | dict[str, np.ndarray]:
        # Copies of the flat input vector's parts, shaped as `observation_space` says.
        parts = {name: self._inputs[part].reshape(shape).copy() for name, part, shape in self._parts}
        return parts["grid"] if list(parts) == ["grid"] else parts

    def _info(self) -> dict[str, Any]:
        s = self._state
        return {
            "x": float(s[P.S_X]) / P.SUB,
            "rightmost": float(s[P.S_RIGHTMOST]) / P.SUB,
            "frames": int(s[P.S_FRAMES]),
            "coins": int(s[P.S_COINS]),
            "kills": int(s[P.S_KILLS]),
            "status": P.STATUS_NAMES[s[P.S_STATUS]],
            "cause": P.CAUSE_NAMES[s[P.S_CAUSE]],
            "level": self.level.id,
        }

    def render(self) -> np.ndarray | None:
        if self.render_mode is None:
            gym.logger.warn(
                "You are calling render method without specifying any render mode. "
                'Set render_mode at initialization, e.g. gym.make("tilerunner/TileRunner-v0", render_mode="rgb_array")'
            )
            return None
        from tilerunner.envs import render

        image = render.frame(self._tiles, self._state, self._enemies)
        if self.render_mode == "rgb_array":
            return image
        if self._window is None:
            self._window = render.Window(f"tilerunner {self.level.id}")
        self._window.show(image, self.metadata["render_fps"])
        return None

    def close(self) -> None:
        if self._window is not None:
            self._window.close()
            self._window = None

    @property
    def world(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The live (tiles, state, enemies) arrays, for renderers and tests (do not resize them)."""
        return self._tiles, self._state, self._enemies
