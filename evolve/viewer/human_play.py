"""A person playing a level, with the 13x13 grid the agent would see drawn alongside (`tilerunner play`).

To try a level before evolving on it, and to feel how little the agent gets to go on:
arrows move (Up and Down do nothing in this world, as for the agent), Z jumps (A),
X runs (B). The world plays by the jump rule given (`tilerunner.envs.physics`): under `press`
a second jump needs Z let go and pressed again, under `hold` Z held jumps again on every
landing; the help and the line under the game say which. The right-hand panel shows the
observation exactly as a network receives it and the buttons held; the status line the
fitness the agent would score so far. `HumanPlay.step` and `draw` work without a window
(the tests use them); `run` opens one.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from tilerunner.envs import physics as P
from tilerunner.envs import render
from tilerunner.envs.buttons import mask_from_pressed
from tilerunner.envs.level import Level
from tilerunner.envs.observe import observe
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.core.rollout import episode_outcome
from tilerunner.evolve.viewer import panels
from tilerunner.evolve.viewer.viewer import GAME_PX, HEIGHT, STATUS_H, WIDTH, save_canvas, take_screenshot

# How to jump again under each jump rule, for the help (short) and the line under the game.
JUMP_AGAIN = {"press": "let go of Z and press it to jump again", "hold": "Z held jumps again on every landing"}
GRID_CELL = 26  # pixels per cell of the agent's grid, at most


def keys_help(jump_rule: str) -> list[tuple[str, str]]:
    """The keys and what they do, as H lists them; how to jump again depends on the jump rule."""
    return [
        ("Left / Right", "walk"),
        ("Z", "jump (A); hold it to jump higher"),
        ("", JUMP_AGAIN[jump_rule]),
        ("X", "run (B), held with a direction"),
        ("Up / Down", "the agent's Up and Down (no effect)"),
        ("R", "start again"),
        ("Space", "pause / go on"),
        ("S", "screenshot (PNG)"),
        ("H", "show / hide this help"),
        ("Esc", "quit (or close the window)"),
    ]


class HumanPlay:
    """One person playing one level; `step(buttons)` and `draw()` work without a window, `run()` opens one."""

    def __init__(self, level: Level, view_radius: int = 6, jump_rule: str = "hold") -> None:
        """`jump_rule`: `"hold"` or `"press"` (`tilerunner.envs.physics.JUMP_RULES`); anything else is a ValueError."""
        self.pg = render.load_pygame()
        self.level = level
        self.settings = EpisodeSettings(view_radius=view_radius, jump_rule=jump_rule)
        self._kernel_settings = self.settings.kernel_settings()
        self.keys = keys_help(self.settings.jump_rule)
        self.fonts = panels.Fonts()
        self.canvas = self.pg.Surface((WIDTH, HEIGHT))
        size = 2 * view_radius + 1
        self.observation = np.zeros((size, size))
        self.paused = False
        self.help = False
        self.reset()

    def reset(self) -> None:
        """Back to the level's start, nothing held."""
        self.tiles, self.state, self.enemies = P.new_world(self.level, self._kernel_settings.jump_rule)
        self.buttons = 0
        observe(self.tiles, self.state, self.enemies, self.settings.view_radius, self.observation)

    @property
    def done(self) -> bool:
        """Whether the episode is over (dead or finished)."""
        return int(self.state[P.S_STATUS]) != P.RUNNING

    def step(self, buttons: int) -> None:
        """One frame with `buttons` held (a bit mask, Left = 1), then what the agent would see now."""
        if self.done:
            return
        self.buttons = buttons
        P.advance(self.tiles, self.state, self.enemies, buttons, 1, 0, 0)  # no time limits for a person
        observe(self.tiles, self.state, self.enemies, self.settings.view_radius, self.observation)

    def outcome(self) -> Outcome:
        """What the episode did so far, scored as the agent's episodes are scored."""
        return episode_outcome(self.state, self._kernel_settings)

    def draw(self):
        """The whole window for this frame into `self.canvas` (a pygame Surface), returned."""
        pg = self.pg
        c = self.canvas
        c.fill(panels.BACKGROUND)
        game = c.subsurface((0, STATUS_H, GAME_PX, GAME_PX))
        panels.draw_game(game, self.tiles, self.state, self.enemies)

        o = self.outcome()
        status = (
            f"level {self.level.id}   frame {int(self.state[P.S_FRAMES])}   distance {o.distance:.0f} px"
            f"   coins {o.coins}   kills {o.kills}   fitness {o.fitness:.1f} (as the agent is scored)"
        )
        pg.draw.rect(c, panels.PANEL, (0, 0, WIDTH, STATUS_H))
        c.blit(self.fonts.normal.render(status, True, panels.TEXT), (10, 7))
        hint = self.fonts.small.render("H: keys", True, panels.DIM_TEXT)
        c.blit(hint, (WIDTH - hint.get_width() - 10, 8))

        side = c.subsurface((GAME_PX, STATUS_H, WIDTH - GAME_PX, HEIGHT - STATUS_H))
        side.fill(panels.PANEL)
        size = self.observation.shape[0]
        cell = max(4, min(GRID_CELL, (side.get_width() - 48) // size))
        origin = ((side.get_width() - cell * size) // 2, 52)
        side.blit(self.fonts.big.render(f"what the agent sees ({size}x{size})", True, panels.TEXT), (origin[0], 16))
        panels.draw_input_grid(side, origin, cell, self.observation)
        y = origin[1] + cell * size + 14
        legend = [(panels.SOLID_CELL, "solid: 1"), (panels.ENEMY_CELL, "enemy: -1"), (panels.EMPTY_CELL, "empty: 0")]
        x = origin[0]
        for colour, text in legend:
            pg.draw.rect(side, colour, (x, y + 2, 14, 14))
            rendered = self.fonts.normal.render(text, True, panels.TEXT)
            side.blit(rendered, (x + 20, y + 1))
            x += 40 + rendered.get_width()
        pg.draw.rect(side, panels.PLAYER_MARK, (x, y + 1, 16, 16), 2)
        side.blit(self.fonts.normal.render("you", True, panels.TEXT), (x + 22, y + 1))
        side.blit(self.fonts.normal.render("buttons held", True, panels.DIM_TEXT), (origin[0], y + 34))
        panels.draw_buttons(side, (origin[0], y + 56), self.buttons, self.fonts)

        bottom = c.subsurface((0, STATUS_H + GAME_PX, GAME_PX, HEIGHT - STATUS_H - GAME_PX))
        bottom.fill(panels.PANEL)
        panels.draw_text_lines(
            bottom,
            bottom.get_rect().inflate(-20, -16),
            [
                "arrows move, Z jumps, X runs; R starts again",
                f"jump rule {self.settings.jump_rule}: {JUMP_AGAIN[self.settings.jump_rule]}",
                f"the agent gets this grid every {plural(self.settings.frame_skip, 'frame')} and nothing else:",
                "no speed, no score, no memory unless it evolves one",
            ],
            self.fonts.normal,
        )
        if self.done:
            colour = panels.POSITIVE if o.finished else panels.TEXT
            panels.draw_banner(game, f"{o.describe()}: R to play again", self.fonts, colour)
        elif self.paused:
            panels.draw_banner(game, "paused: Space goes on", self.fonts)
        if self.help:
            panels.draw_help(c, self.keys, self.fonts)
        return c

    def save_screenshot(self, path: str | Path | None = None) -> Path:
        """Save the window as it is now as PNG (a new name in the current folder unless `path` is given)."""
        return save_canvas(self.draw(), path, Path("."), "tilerunner-play")

    def held(self) -> int:
        """The button mask from the keys held down right now: arrows, Z (A) and X (B)."""
        pg = self.pg
        keys = pg.key.get_pressed()
        return mask_from_pressed([keys[k] for k in (pg.K_LEFT, pg.K_RIGHT, pg.K_UP, pg.K_DOWN, pg.K_z, pg.K_x)])

    def run(self, duration: float | None = None) -> Outcome | None:
        """Play in a window at 60 frames/s until Esc, closing the window, or `duration`; the last outcome."""
        pg = self.pg
        pg.display.init()
        screen = pg.display.set_mode((WIDTH, HEIGHT))
        pg.display.set_caption(f"tilerunner play {self.level.id}")
        clock = pg.time.Clock()
        start = time.perf_counter()
        last: Outcome | None = None
        try:
            while duration is None or time.perf_counter() - start < duration:
                clock.tick(P.FPS)
                quit_now = False
                for event in pg.event.get():
                    if event.type == pg.QUIT:
                        quit_now = True
                    elif event.type == pg.KEYDOWN:
                        if event.key == pg.K_ESCAPE:
                            quit_now = True
                        elif event.key == pg.K_r:
                            last = self.outcome() if self.state[P.S_FRAMES] else last
                            self.reset()
                        elif event.key == pg.K_SPACE:
                            self.paused = not self.paused
                        elif event.key == pg.K_h:
                            self.help = not self.help
                        elif event.key == pg.K_s:
                            take_screenshot(self.save_screenshot, Path.cwd())
                if quit_now:
                    break
                if not self.paused and not self.help:
                    self.step(self.held())
                screen.blit(self.draw(), (0, 0))
                pg.display.flip()
        except KeyboardInterrupt:
            pass
        finally:
            pg.display.quit()
        return self.outcome() if self.state[P.S_FRAMES] else last
