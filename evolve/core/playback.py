"""One genome playing one level, a frame at a time, for windows, GIFs and the viewer.

The fused kernel plays whole episodes in one call and cannot be watched; `Playback`
runs the same steps (observe, activate, buttons, one physics frame at a time) from
Python, exposing the world, the observation and the network's outputs after every
frame. A test holds its trajectory equal to the kernel's. Asked to (`foresee=True`), a playback
of a genome that sees foresight also keeps what foresight foresaw at the last decision
(`Foreseen`: each move's path and fate, and the move the network chose), for the viewer to draw.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from tilerunner.agent import CompiledNetwork
from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs
from tilerunner.envs.foresight import sight_buffers
from tilerunner.envs.level import Level
from tilerunner.envs.observe import NO_GRID, observe, observe_inputs
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import episode_outcome


class Foreseen(NamedTuple):
    """What foresight foresaw at one decision, for drawing: the moves that applied and the one chosen."""

    origin: tuple[int, int]  # the player's top-left (x, y) at the decision, in level sub-pixels
    paths: list[tuple[int, int, np.ndarray]]  # (move, fate, path): `foresight.foreseen_paths`
    chosen: int  # the move the pressed buttons begin (an index of `foresight.MOVES`)


def foreseen_at(
    tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, radius: int, frame_skip: int, buttons: int
) -> Foreseen:
    """What foresight foresees from this world, and which move `buttons` begin (A held in the air with no lift
    left does what letting go does, so it marks the move without A)."""
    ground = bool(state[P.S_GROUND])
    chosen = F.move_of(buttons, ground)
    if chosen == F.KEEP_A and not F.applies(state, F.KEEP_A):
        chosen = F.move_of(buttons & ~P.A, ground)
    paths = F.foreseen_paths(tiles, state, enemies, radius, frame_skip)
    return Foreseen((int(state[P.S_X]), int(state[P.S_Y])), paths, chosen)


class Playback:
    """Steps a compiled network through a level; `step()` advances one frame.

    With `foresee` and a network that sees foresight, `foreseen` is what it foresaw at the last decision
    (None before the first, and always without either).
    """

    def __init__(self, net: CompiledNetwork, level: Level, settings: EpisodeSettings, foresee: bool = False) -> None:
        self.net = net
        self.level = level
        self.settings = settings
        self._kernel_settings = settings.kernel_settings()
        size = 2 * settings.view_radius + 1
        self._features = self._kernel_settings.features
        self.inputs = np.zeros(settings.n_inputs)  # what the network sees: the grid, then any extra inputs
        # The grid the network sees, as a view of its inputs; without it (`no-grid`) the grid drawn beside it.
        self._sees_grid = not self._features & NO_GRID
        self.grid_inputs = size * size if self._sees_grid else 0  # where the features' inputs start
        self.observation = (
            self.inputs[: size * size].reshape((size, size)) if self._sees_grid else np.zeros((size, size))
        )
        self.outputs = np.zeros(net.arrays.n_outputs)
        self.sight = sight_buffers(settings.view_radius, settings.frame_skip)  # foresight's scratch
        self.foresee = foresee and "foresight" in settings.features
        self.reset()

    def reset(self) -> None:
        """Back to the level's start with a fresh network."""
        self.tiles, self.state, self.enemies = P.new_world(self.level, self._kernel_settings.jump_rule)
        self.net.reset()
        self.buttons = 0
        self.frame = 0
        self.decisions: list[int] = []
        self.foreseen: Foreseen | None = None

    @property
    def done(self) -> bool:
        return int(self.state[P.S_STATUS]) != P.RUNNING

    def step(self) -> bool:
        """Advance one frame (deciding first, every frame_skip frames); False once the episode is over."""
        if self.done:
            return False
        s = self.settings
        if self.frame % s.frame_skip == 0:
            observe_inputs(self.tiles, self.state, self.enemies, s.view_radius, self._features, self.inputs, self.sight)
            if not self._sees_grid:
                observe(self.tiles, self.state, self.enemies, s.view_radius, self.observation)
            self.outputs = self.net.activate(self.inputs)
            self.buttons = mask_from_outputs(self.outputs, s.threshold)
            self.decisions.append(self.buttons)
            if self.foresee:
                world = (self.tiles, self.state, self.enemies)
                self.foreseen = foreseen_at(*world, s.view_radius, s.frame_skip, self.buttons)
        P.advance(self.tiles, self.state, self.enemies, self.buttons, 1, s.max_frames, s.stall_frames)
        self.frame += 1
        return not self.done

    def run(self) -> Outcome:
        """Play to the end; the outcome."""
        while self.step():
            pass
        return self.outcome()

    def outcome(self) -> Outcome:
        """What the episode did so far (its fitness as the rollout kernel scores it)."""
        return episode_outcome(self.state, self._kernel_settings)
