"""The live viewer: the game, the agent's 13x13 view and its network lighting up, frame by frame.

    +-------------------------------- status line --------------------------------+
    |  game view (camera follows)   |  input grid -> hidden nodes -> output buttons |
    |                               |                                                |
    +---- this episode -------------+---------- the run's fitness chart -------------+

`Viewer` re-simulates a genome from its replay (the same steps evolution played,
a frame at a time, via `tilerunner.evolve.core.playback.Playback`) and draws everything into one
canvas: the window shows it, `S` and `--screenshot` save it, and the tests read its
pixels. What to play comes from a source in `tilerunner.evolve.viewer.shows` (replay files, a genome
through a level set, or a run folder being followed). A level set gets an overlay at the top
left of the game view (`level 3 of 7`, the level, and the running tally) and the level keys.
Under the game, the episode: its outcome so far, the recorded one, the jump rule it plays by and
the observation features (senses) its network gets; `PanelGeometry` lays out those features' inputs.
A genome that sees foresight also has its last decision's foreseen paths drawn over the game, with a
key to their colours at the top right (`tilerunner.evolve.viewer.foreseen`).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import sys
import threading
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import numpy as np

from tilerunner.agent import CompiledNetwork
from tilerunner.envs import render
from tilerunner.envs.physics import FPS
from tilerunner.evolve.core.playback import Playback
from tilerunner.evolve.core.plural import plural
from tilerunner.evolve.runs.run_folder import unique_path
from tilerunner.evolve.viewer import chart, foreseen, panels
from tilerunner.evolve.viewer.net_layout import NetworkLayout, PanelGeometry, layout_network
from tilerunner.evolve.viewer.shows import Show, ShowSource

WIDTH, HEIGHT = 1120, 700
STATUS_H = 28
GAME_SCALE = 2
GAME_PX = 256 * GAME_SCALE
BOTTOM_Y = STATUS_H + GAME_PX
INFO_W = 380
DISPLAY_FPS = 60
SPEEDS = (0.125, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
END_HOLD = 1.5  # seconds an ended episode stays on screen, with its outcome
POLL_EVERY = 0.5  # seconds between looks at the source's files
MAX_STEPS_PER_DRAW = 64

KEYS = [
    ("Space", "pause / go on"),
    ("Right", "one frame forward (paused)"),
    ("+  /  -", "faster / slower"),
    ("N", "next genome"),
    ("S", "screenshot (PNG)"),
    ("H", "show / hide this help"),
    ("Esc", "quit (or close the window)"),
]
# The level keys, shown in the help (before N) while a level set plays.
SET_KEYS = [("PgDn  or  ]", "next level (after the last: the end)"), ("PgUp  or  [", "previous level")]
MAX_STATUS_LEVEL = 40  # characters of a level id in the status line; a longer path keeps its end


def take_screenshot(save: Callable[[], Path], folder: Path) -> None:
    """The S key: `save()` a screenshot and print its path; where the disk refuses it (full, read-only), warn in
    one line naming `folder`, and play on."""
    try:
        print(f"screenshot: {save()}", flush=True)
    except OSError as exc:
        print(
            f"tilerunner: warning: screenshot not saved in {folder}: {exc.strerror or exc}", file=sys.stderr, flush=True
        )


def save_canvas(canvas, path: str | Path | None, folder: Path, prefix: str) -> Path:
    """Save a drawn canvas (a pygame Surface) as PNG at `path`, or a new name `prefix-TIME.png` in `folder`."""
    if path is None:
        stamp = _dt.datetime.now().strftime("%Y%m%d-%H%M%S")
        path = unique_path(folder, f"{prefix}-{stamp}", ".png")
    render.save_png(render.load_pygame().surfarray.array3d(canvas).swapaxes(0, 1), path)
    return Path(path)


def short_id(level_id: str, limit: int = MAX_STATUS_LEVEL) -> str:
    """A level id of at most `limit` characters: a long file path keeps its end (`...levels/lvl-201.txt`)."""
    return level_id if len(level_id) <= limit else "..." + level_id[-(limit - 3) :]


class Viewer:
    """Plays shows from a source and draws each frame; `run()` opens the window, the rest works headless."""

    def __init__(
        self,
        source: ShowSource,
        title: str = "tilerunner",
        speed: float = 1.0,
        duration: float | None = None,
        screenshot_dir: str | Path = ".",
        report: bool = True,
        parent_pid: int | None = None,
        close_requested: threading.Event | None = None,
    ) -> None:
        self.pg = render.load_pygame()
        self.report = report  # print each episode's outcome as it ends
        self.parent_pid = parent_pid  # the process that started this viewer: when it is gone, the viewer closes
        # Set from a SIGTERM handler (or another thread) to close the window at the next frame. A flag, not an
        # exception: an exception raised by a signal handler is lost when it lands in a finalizer (Numba and
        # llvmlite run many while compiling), and the viewer would then play on.
        self.close_requested = close_requested if close_requested is not None else threading.Event()
        self.source = source
        self.title = title
        self.speed = speed
        self.duration = duration
        self.screenshot_dir = Path(screenshot_dir)
        self.paused = False
        self.help = False
        self.fonts = panels.Fonts()
        self.canvas = self.pg.Surface((WIDTH, HEIGHT))
        self.geometry = PanelGeometry(WIDTH - GAME_PX, GAME_PX)
        self.show: Show | None = None
        self.playback: Playback | None = None
        self.ended_at: float | None = None  # when the window first showed this episode ended
        self.reported = False  # the episode's end has been printed and told to the source
        self.layout: NetworkLayout | None = None
        self.genome = None
        self.fps = 0.0
        self._chart_key: tuple | None = None
        self._chart: object | None = None
        self.load(source.current())

    # What is playing ---------------------------------------------------------------------------

    def load(self, show: Show | None) -> None:
        """Start `show` from its first frame (None: nothing to play yet)."""
        self.show = show
        self.ended_at, self.reported = None, False
        if show is None:
            self.playback = None
            return
        replay = show.replay
        geometry = PanelGeometry(
            WIDTH - GAME_PX, GAME_PX, replay.settings.view_radius, replay.network.num_outputs, replay.settings.features
        )
        if geometry != self.geometry:
            self.geometry, self.layout = geometry, None
        if self.layout is None or self.genome is not replay.genome:
            self.layout = layout_network(replay.genome, replay.network, self.geometry, previous=self.layout)
        net = CompiledNetwork.create(replay.genome, replay.network)
        self.playback = Playback(net, show.level, replay.settings, foresee=True)
        self.genome = replay.genome

    def step(self, frames: int = 1) -> None:
        """Advance the episode by up to `frames` physics frames."""
        if self.playback is None:
            return
        for _ in range(frames):
            if not self.playback.step():
                break

    def report_end(self) -> None:
        """Once the episode has ended: print its outcome (if `report`) and tell the source (once per episode)."""
        pb = self.playback
        if pb is None or not pb.done or self.reported:
            return
        self.reported = True
        outcome = pb.outcome()
        if self.report:
            print(f"{self.show.level.id}: {outcome.describe(fitness=True)}", flush=True)
        self.source.ended(outcome)

    def leave(self) -> None:
        """Before the viewer moves away from the current show: an ended episode is reported, one cut short skipped."""
        pb = self.playback
        if pb is None:
            return
        if pb.done:
            self.report_end()
        else:
            self.source.skipped(pb.frame)

    def skip(self, by: int) -> bool:
        """Move `by` levels through a level set (+1 next, -1 previous); False when that ends the set."""
        if self.source.tally() is None:
            return True
        self.leave()
        following = self.source.skip(by)
        if following is None:
            return False
        self.load(following)
        return True

    def keys(self) -> list[tuple[str, str]]:
        """The keys the help lists: the level keys too while a level set plays."""
        if self.source.tally() is None:
            return KEYS
        at = [k for k, _ in KEYS].index("N")
        return KEYS[:at] + SET_KEYS + KEYS[at:]

    def play_to(self, frame: int) -> None:
        """Restart the current show and play up to `frame` (or its end)."""
        self.load(self.show)
        while self.playback is not None and self.playback.frame < frame and self.playback.step():
            pass

    # Drawing -----------------------------------------------------------------------------------

    def draw(self) -> object:
        """Draw the whole viewer for the current frame into `self.canvas` (a pygame Surface) and return it."""
        c = self.canvas
        c.fill(panels.BACKGROUND)
        pb = self.playback
        outcome = pb.outcome() if pb is not None else None
        game = c.subsurface((0, STATUS_H, GAME_PX, GAME_PX))
        network = c.subsurface((GAME_PX, STATUS_H, WIDTH - GAME_PX, GAME_PX))
        if pb is not None:
            panels.draw_game(game, pb.tiles, pb.state, pb.enemies)
            if pb.foreseen is not None:
                foreseen.draw_foreseen(game, pb.foreseen, pb.tiles, pb.state)
                foreseen.draw_fate_key(game, self.fonts.small)
            net = pb.net
            active = int(net.active[0])
            panels.draw_network(
                network,
                self.layout,
                pb.observation,
                net.values[active],
                net.values[1 - active],
                net.cells,
                pb.outputs,
                pb.settings.threshold,
                self.fonts,
                extra=pb.inputs[pb.grid_inputs :],
            )
        else:
            network.fill(panels.PANEL)
        self._draw_status(c, outcome)
        self._draw_info(c.subsurface((0, BOTTOM_Y, INFO_W, HEIGHT - BOTTOM_Y)), outcome)
        self._draw_chart(c.subsurface((INFO_W, BOTTOM_Y, WIDTH - INFO_W, HEIGHT - BOTTOM_Y)))
        if pb is None:
            panels.draw_banner(c, self.waiting_text(), self.fonts)
        elif pb.done:
            panels.draw_banner(
                game, outcome.describe(), self.fonts, panels.POSITIVE if outcome.finished else panels.TEXT
            )
        tally = self.source.tally() if pb is not None else None
        if tally is not None:
            panels.draw_set_overlay(
                game, tally.heading(), tally.level_id, tally.text(), self.fonts, complete=tally.complete
            )
        if self.paused:
            panels.draw_banner(network, "paused: Space goes on, Right steps", self.fonts)
        if self.help:
            panels.draw_help(c, self.keys(), self.fonts)
        return c

    def waiting_text(self) -> str:
        """What the viewer says while its source has nothing to play."""
        return self.source.waiting

    def status_text(self, outcome=None) -> str:
        """The status line: level, generation, species, genome, fitness now and best, frame, speed."""
        parts = []
        show, pb = self.show, self.playback
        if show is not None and pb is not None:
            outcome = pb.outcome() if outcome is None else outcome
            replay = show.replay
            gen = replay.generation
            species = self._species(gen)
            best = replay.genome.fitness
            rows = self.source.stats()
            if rows:
                best = max(best if best is not None else -math.inf, rows[-1]["best_ever"])
            parts += [
                f"level {short_id(show.level.id)}",
                f"gen {gen}" if gen is not None else "gen -",
                f"species {species}" if species is not None else "species -",
                f"genome {replay.genome.key}",
                f"fitness {outcome.fitness:.1f}",
                f"best {best:.1f}" if best is not None else "best -",
                f"frame {pb.frame}",
            ]
        parts.append(f"speed {self.speed:g}x")
        extra = self.source.status()
        if extra:
            parts.append(extra)
        return "   ".join(parts)

    def _species(self, generation: int | None) -> int | None:
        if generation is None:
            return None
        for row in reversed(self.source.stats()):
            if row["generation"] == generation:
                return int(row["species"])
        return None

    def _draw_status(self, c, outcome) -> None:
        pg = self.pg
        pg.draw.rect(c, panels.PANEL, (0, 0, WIDTH, STATUS_H))
        text = self.fonts.normal.render(self.status_text(outcome), True, panels.TEXT)
        c.blit(text, (10, (STATUS_H - text.get_height()) // 2 + 1))
        fps = f"{self.fps:.0f} fps   " if self.fps else ""
        right = self.fonts.small.render(f"{fps}H: keys", True, panels.DIM_TEXT)
        c.blit(right, (WIDTH - right.get_width() - 10, (STATUS_H - right.get_height()) // 2 + 1))

    def _draw_info(self, surface, now) -> None:
        surface.fill(panels.PANEL)
        lines: list[str] = []
        show, pb = self.show, self.playback
        if show is not None and pb is not None:
            arrays = pb.net.arrays
            n_memory = int(arrays.node_memory.sum())
            lines = [
                show.label,
                f"this episode: {now.distance:.0f} px, {now.coins} coins, {now.kills} kills, fitness {now.fitness:.1f}",
                f"recorded: {show.recorded.describe()}" if show.recorded else "recorded: - (not on this level)",
                f"recorded fitness: {show.recorded.fitness:.1f}" if show.recorded else "",
                f"network: {pb.net.n_nodes} nodes evaluated ({n_memory} memory), {pb.net.n_links} links",
                f"decides every {plural(pb.settings.frame_skip, 'frame')}; presses above {pb.settings.threshold:g}",
                rule_text(pb.settings.jump_rule),
            ]
            if pb.settings.features:
                lines += wrap_words(
                    "senses: " + ", ".join(pb.settings.features), self.fonts.normal, surface.get_width() - 20
                )
        panels.draw_text_lines(surface, surface.get_rect().inflate(-20, -16), lines, self.fonts.normal)

    def _draw_chart(self, surface) -> None:
        rows = self.source.stats()
        key = (len(rows), rows[-1]["generation"] if rows else None, surface.get_size())
        if key != self._chart_key:
            self._chart = self.pg.Surface(surface.get_size())
            if rows:
                chart.draw_chart(self._chart, self._chart.get_rect(), rows, self.fonts.small)
            else:
                self._chart.fill(panels.PANEL)
                panels.draw_text_lines(
                    self._chart,
                    self._chart.get_rect().inflate(-20, -16),
                    ["no run statistics to chart (the run folder's stats.jsonl)"],
                    self.fonts.normal,
                    panels.DIM_TEXT,
                )
            self._chart_key = key
        surface.blit(self._chart, (0, 0))

    def save_screenshot(self, path: str | Path | None = None) -> Path:
        """Save the current canvas as PNG (a new name in `screenshot_dir` unless `path` is given)."""
        return save_canvas(self.draw(), path, self.screenshot_dir, "tilerunner")

    # The window --------------------------------------------------------------------------------

    def handle_key(self, key: int) -> bool:
        """React to a key press; False when it asks to quit."""
        pg = self.pg
        if key == pg.K_ESCAPE:
            return False
        if key == pg.K_SPACE:
            self.paused = not self.paused
        elif key == pg.K_RIGHT and self.paused:
            self.step(1)
        elif key in (pg.K_PLUS, pg.K_EQUALS, pg.K_KP_PLUS):
            self.speed = min((s for s in SPEEDS if s > self.speed), default=self.speed)
        elif key in (pg.K_MINUS, pg.K_KP_MINUS, pg.K_UNDERSCORE):
            self.speed = max((s for s in SPEEDS if s < self.speed), default=self.speed)
        elif key == pg.K_n:
            self.leave()
            self.load(self.source.next())
        elif key in (pg.K_PAGEDOWN, pg.K_RIGHTBRACKET):
            return self.skip(1)
        elif key in (pg.K_PAGEUP, pg.K_LEFTBRACKET):
            return self.skip(-1)
        elif key == pg.K_s:
            take_screenshot(self.save_screenshot, self.screenshot_dir)
        elif key == pg.K_h:
            self.help = not self.help
        return True

    def run(self) -> dict:
        """Play in a window until the source runs out, Esc, the window closes, `duration`, a close request or no parent.

        Returns what was shown: {"frames_drawn", "seconds", "fps" (median over the run)}.
        """
        pg = self.pg
        pg.display.init()
        screen = pg.display.set_mode((WIDTH, HEIGHT))
        pg.display.set_caption(self.title)
        clock = pg.time.Clock()
        start = last_poll = time.perf_counter()
        owed = 0.0  # physics frames due but not yet played
        intervals: deque[float] = deque(maxlen=600)
        drawn = 0
        try:
            running = True
            while running:
                dt = clock.tick(DISPLAY_FPS) / 1000.0
                if drawn:
                    intervals.append(dt)
                    self.fps = 1.0 / max(1e-6, float(np.median(list(intervals)[-60:])))
                for event in pg.event.get():
                    if event.type == pg.QUIT or (event.type == pg.KEYDOWN and not self.handle_key(event.key)):
                        running = False
                now = time.perf_counter()
                if self.close_requested.is_set() or (self.duration is not None and now - start >= self.duration):
                    running = False
                if now - last_poll >= POLL_EVERY:
                    last_poll = now
                    if self.parent_pid is not None and not parent_alive(self.parent_pid):
                        running = False  # e.g. `evolve --watch` was killed: nobody is left to close us
                    self.source.poll()
                    self.print_warnings()
                    if self.playback is None and self.source.current() is not None:
                        self.load(self.source.current())
                pb = self.playback
                if running and pb is not None and not self.paused:
                    if pb.done:
                        if self.ended_at is None:
                            self.ended_at = now
                            self.report_end()
                        if now - self.ended_at >= END_HOLD / max(1.0, self.speed):
                            owed = 0.0
                            following = self.source.after()
                            if following is None:
                                running = False
                            else:
                                self.load(following)
                    else:
                        owed += dt * FPS * self.speed
                        n = min(int(owed), MAX_STEPS_PER_DRAW)
                        owed = min(owed - n, 1.0)
                        self.step(n)
                screen.blit(self.draw(), (0, 0))
                pg.display.flip()
                drawn += 1
        except KeyboardInterrupt:  # Ctrl-C is a fine way to close a viewer
            pass
        finally:
            pg.display.quit()
        self.leave()  # closed in mid-episode: the source hears that it was cut short
        seconds = time.perf_counter() - start
        fps = 1.0 / float(np.median(intervals)) if intervals else 0.0
        return {"frames_drawn": drawn, "seconds": seconds, "fps": fps}

    def print_warnings(self) -> None:
        """Print (once) what the source had to skip, e.g. an unreadable champion file."""
        warnings = self.source.warnings
        while warnings:
            print(f"tilerunner: warning: {warnings.pop(0)}", file=sys.stderr, flush=True)


RULES = {"hold": "holding A jumps again on landing", "press": "A let go before each jump"}


def rule_text(rule: str) -> str:
    """The info panel's line for the episode's jump rule: `jump rule: press (A let go before each jump)`."""
    return f"jump rule: {rule} ({RULES[rule]})" if rule in RULES else f"jump rule: {rule}"


def wrap_words(text: str, font, width: int) -> list[str]:
    """`text` in lines no wider than `width` pixels in `font`, broken between words (a longer word keeps its line)."""
    lines: list[str] = []
    for word in text.split(" "):
        if lines and font.size(lines[-1] + " " + word)[0] <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines


def parent_alive(pid: int) -> bool:
    """Whether process `pid` is still our parent (an orphan is adopted by another process: its parent id changes)."""
    return os.getppid() == pid


def screenshot_middle(viewer: Viewer, path: str | Path) -> Path:
    """Play the current show to the middle of its episode, save the viewer there as PNG, and say where."""
    if viewer.show is None:
        raise ValueError("nothing to show yet")
    viewer.play_to(10**9)
    length = viewer.playback.frame
    viewer.play_to(length // 2)
    return viewer.save_screenshot(path)
