"""One genome playing one level, a frame at a time, for windows, GIFs and the viewer.

The fused kernel plays whole episodes in one call and cannot be watched; `Playback`
runs the same steps (observe, activate, buttons, one physics frame at a time) from
Python, exposing the world, the observation and the network's outputs after every
frame. A test holds its trajectory equal to the kernel's.
"""

from __future__ import annotations

import numpy as np

from tilerunner.agent import CompiledNetwork
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs
from tilerunner.envs.level import Level
from tilerunner.envs.observe import observe_inputs
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.rollout import episode_outcome


class Playback:
    """Steps a compiled network through a level; `step()` advances one frame."""

    def __init__(self, net: CompiledNetwork, level: Level, settings: EpisodeSettings) -> None:
        self.net = net
        self.level = level
        self.settings = settings
        self._kernel_settings = settings.kernel_settings()
        size = 2 * settings.view_radius + 1
        self._features = self._kernel_settings.features
        self.inputs = np.zeros(settings.n_inputs)  # what the network sees: the grid, then any extra inputs
        self.observation = self.inputs[: size * size].reshape((size, size))  # the grid part, as a view
        self.outputs = np.zeros(net.arrays.n_outputs)
        self.reset()

    def reset(self) -> None:
        """Back to the level's start with a fresh network."""
        self.tiles, self.state, self.enemies = P.new_world(self.level, self._kernel_settings.jump_rule)
        self.net.reset()
        self.buttons = 0
        self.frame = 0
        self.decisions: list[int] = []

    @property
    def done(self) -> bool:
        return int(self.state[P.S_STATUS]) != P.RUNNING

    def step(self) -> bool:
        """Advance one frame (deciding first, every frame_skip frames); False once the episode is over."""
        if self.done:
            return False
        s = self.settings
        if self.frame % s.frame_skip == 0:
            observe_inputs(self.tiles, self.state, self.enemies, s.view_radius, self._features, self.inputs)
            self.outputs = self.net.activate(self.inputs)
            self.buttons = mask_from_outputs(self.outputs, s.threshold)
            self.decisions.append(self.buttons)
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
