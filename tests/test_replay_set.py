"""`tilerunner replay FILE --level SET`: a genome through a level set in turn, in the window, headless and recorded.

The levels are made here: three small level files (one the shipped 1-1 champion finishes, one with a pit
it falls into, one with a wall it stalls at) and generated ones. The outcomes must be the kernel's
(`replay_results`, what `tilerunner eval` plays); the overlay is checked in the pixels.
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.runs.evaluation import replay_results
from tilerunner.evolve.runs.replay import load_replay
from tilerunner.evolve.runs.run import as_levels
from tilerunner.evolve.viewer import panels
from tilerunner.evolve.viewer.shows import LevelSetShows, ReplayShows, Skipped, shows_of
from tilerunner.evolve.viewer.viewer import GAME_PX, SET_KEYS, STATUS_H, Viewer

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED_1_1 = ROOT / "replays" / "1-1-f2475.json"  # the shipped champion of 1-1


def level_text(width: int = 40, pit: tuple[int, int] | None = None, wall: int | None = None, rows: int = 16) -> str:
    """A small level: ground, a start near the left, the exit near the right; optionally a pit or a wall."""
    grid = [["-"] * width for _ in range(rows)]
    for r in (rows - 2, rows - 1):
        for c in range(width):
            grid[r][c] = "-" if pit and pit[0] <= c < pit[1] else "X"
    if wall is not None:
        for r in range(2, rows - 2):
            grid[r][wall] = "X"
    grid[rows - 3][2] = "M"
    grid[rows - 3][width - 2] = "F"
    return "\n".join("".join(row) for row in grid) + "\n"


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> pathlib.Path:
    """Three level files, in the order a folder set sorts them: finished, dead in a pit, stalled at a wall."""
    path = tmp_path_factory.mktemp("levels")
    (path / "a-flat.txt").write_text(level_text())
    (path / "b-pit.txt").write_text(level_text(pit=(12, 24)))
    (path / "c-wall.txt").write_text(level_text(wall=14))
    return path


@pytest.fixture(scope="module")
def champion():
    return load_replay(SHIPPED_1_1)


@pytest.fixture(scope="module")
def expected(champion, folder) -> tuple[list, list[Outcome]]:
    """The levels of `--level FOLDER --level gen:1-2` and the kernel's outcome on each (what eval plays)."""
    levels = as_levels([str(folder), "gen:1-2"])
    outcomes = [r.outcome for r in replay_results([champion], levels)[0]]
    return levels, outcomes


def test_the_levels_made_here_end_in_different_ways(expected):
    levels, outcomes = expected
    assert [lv.id.rsplit("/", 1)[-1] for lv in levels] == [
        "a-flat.txt",
        "b-pit.txt",
        "c-wall.txt",
        "gen:1:3",
        "gen:2:3",
    ]
    assert [(o.finished, o.status, o.cause) for o in outcomes[:3]] == [
        (True, "finished", ""),
        (False, "dead", "pit"),
        (False, "stalled", ""),
    ]


def run_cli(capsys, *argv):
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def summary_of(out: str, n: int) -> tuple[list[str], str]:
    """The summary's level lines (their text after the level id) and its total line, from `out`."""
    rows = {}
    for line in out.splitlines():
        match = re.match(rf"^  +(\d+)/{n}  (\S+) +(.+)$", line)
        if match:
            rows[int(match.group(1))] = (match.group(2), match.group(3))
    total = [line.strip() for line in out.splitlines() if line.strip().startswith("total: ")]
    assert sorted(rows) == list(range(1, n + 1)) and len(total) == 1, out
    return [rows[i + 1] for i in range(n)], total[0]


def expected_total(outcomes: list[Outcome]) -> str:
    finished = sum(o.finished for o in outcomes)
    return f"total: finished {finished} of {len(outcomes)} levels"


def test_the_window_plays_the_set_in_order_and_each_level_ends_as_the_kernel_says(champion, folder, expected, capsys):
    levels, outcomes = expected
    code, out, _ = run_cli(capsys, "replay", SHIPPED_1_1, "--level", folder, "--level", "gen:1-2", "--speed", "1000")
    assert code == 0
    # Each episode's line as it ends, in the set's order ...
    ended = [line for line in out.splitlines() if not line.startswith((" ", "viewer:", "1-1-f2475.json"))]
    assert ended == [f"{lv.id}: {o.describe(fitness=True)}" for lv, o in zip(levels, outcomes)]
    # ... then the summary: the genome, every level's outcome, the total.
    assert "1-1-f2475.json (genome 824) on 5 levels:" in out.splitlines()
    rows, total = summary_of(out, 5)
    assert rows == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels, outcomes)]
    assert total.startswith(expected_total(outcomes)) and total.startswith("total: finished 1 of 5 levels;")
    assert "1 dead (pit)" in total and "stalled" in total


def test_headless_plays_the_set_in_the_kernel_and_prints_the_same_summary(expected, folder, capsys):
    levels, outcomes = expected
    code, out, _ = run_cli(capsys, "replay", SHIPPED_1_1, "--headless", "--level", folder, "--level", "gen:1-2")
    assert code == 0 and "identical" not in out and "viewer:" not in out
    rows, total = summary_of(out, 5)
    assert rows == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels, outcomes)]
    assert total.startswith(expected_total(outcomes))
    # `tilerunner eval` on the same set counts the same finishes.
    code, out, _ = run_cli(capsys, "eval", SHIPPED_1_1, "--level", folder, "--level", "gen:1-2")
    assert code == 0 and re.search(r"total +finished +1/5 ", out)


def set_viewer(champion, levels, loop=False, **kw) -> tuple[Viewer, LevelSetShows]:
    source = LevelSetShows([("champ.json", champion)], levels, loop=loop)
    return Viewer(source, report=False, **kw), source


def play_out(viewer: Viewer) -> None:
    """Play the current episode to its end and let the viewer report it, as the window does."""
    while viewer.playback.step():
        pass
    viewer.report_end()


def test_the_tally_counts_levels_played_finished_and_skipped(champion, expected):
    import pygame

    levels, outcomes = expected
    v, source = set_viewer(champion, levels[:3])
    t = source.tally()
    assert (t.heading(), t.text(), t.level_id) == ("level 1 of 3", "no level played to the end yet", levels[0].id)
    play_out(v)
    assert source.results[0][0] == outcomes[0] and source.tally().text() == "finished 1 of 1 so far"
    v.load(source.after())  # what the window does after its pause
    v.step(30)
    assert v.handle_key(pygame.K_PAGEDOWN)  # skip level 2 in mid-episode
    assert source.results[0][1] == Skipped(30) and v.playback.frame == 0 and v.show.level is levels[2]
    t = source.tally()
    assert (t.heading(), t.text(), t.complete) == ("level 3 of 3", "finished 1 of 1 so far, 1 skipped", False)
    assert v.handle_key(pygame.K_PAGEUP) and v.show.level is levels[1]  # back to it: played this time
    assert source.results[0][2] == Skipped(0)
    play_out(v)
    assert source.results[0][1] == outcomes[1]  # the outcome replaces the skip
    assert v.handle_key(pygame.K_RIGHTBRACKET) and v.show.level is levels[2]  # ] as PgDn, after an ended one
    play_out(v)
    t = source.tally()
    assert source.results[0] == outcomes[:3] and (t.text(), t.complete) == ("finished 1 of 3", True)
    assert v.handle_key(pygame.K_LEFTBRACKET) and v.show.level is levels[1]  # [ as PgUp
    assert source.results[0] == outcomes[:3]  # an episode seen to its end stays as it ended
    v.handle_key(pygame.K_PAGEUP)
    v.handle_key(pygame.K_PAGEUP)  # at the first level, previous stays there
    assert v.show.level is levels[0] and source.tally().position == 1
    assert v.handle_key(pygame.K_PAGEDOWN) and v.handle_key(pygame.K_PAGEDOWN) and v.show.level is levels[2]
    assert v.handle_key(pygame.K_PAGEDOWN) is False  # next after the last level: the set is over


def test_looping_goes_round_and_n_moves_to_the_next_genome(champion, expected):
    import pygame

    levels, _ = expected
    v, source = set_viewer(champion, levels[:2], loop=True)
    assert v.handle_key(pygame.K_PAGEUP) and source.tally().position == 2  # looping: previous wraps round
    assert v.handle_key(pygame.K_PAGEDOWN) and source.tally().position == 1
    play_out(v)
    assert source.after().level is levels[1] and source.after().level is levels[0]
    other = load_replay(ROOT / "replays" / "2-4-f3549.json")
    two = LevelSetShows([("a.json", champion), ("b.json", other)], levels[:2])
    v = Viewer(two, report=False)
    v.step(10)
    v.handle_key(pygame.K_n)
    assert v.show.replay is other and two.tally().position == 1 and two.status() == "genome 2 of 2"
    assert two.results == [[Skipped(10), None], [None, None]]
    v.handle_key(pygame.K_PAGEUP)  # before the second genome's first level: the first genome's last
    assert v.show.replay is champion and two.tally().position == 2


def test_the_level_keys_are_in_the_help_only_for_a_set(champion, expected):
    levels, _ = expected
    v, _ = set_viewer(champion, levels[:2])
    keys = [k for k, _ in v.keys()]
    assert all(k in keys for k, _ in SET_KEYS) and keys.index(SET_KEYS[0][0]) < keys.index("N")
    plain = Viewer(ReplayShows(shows_of(champion, "champ.json")), report=False)
    assert not any(k in [k for k, _ in plain.keys()] for k, _ in SET_KEYS)
    plain.skip(1)  # the level keys do nothing without a set
    assert plain.show.level.id == "1-1"


def pixels(surface) -> np.ndarray:
    import pygame

    return pygame.surfarray.array3d(surface).swapaxes(0, 1)  # (height, width, 3)


def overlay_shows(
    image: np.ndarray, viewer: Viewer, heading: str, name: str, tally: str, complete: bool = False
) -> bool:
    """Whether the whole-canvas `image` shows exactly this overlay text, glyph for glyph, where the overlay puts it."""
    import pygame

    runs = panels.overlay_lines(heading, name, tally, viewer.fonts, GAME_PX, complete)
    positions, _ = panels.overlay_layout(runs)
    for (text, font, colour), (x, y) in zip(runs, positions):
        want = pygame.Surface(font.size(text))
        want.fill(panels.OVERLAY_FILL)
        want.blit(font.render(text, True, colour), (0, 0))
        expect = pixels(want)
        got = image[STATUS_H + y : STATUS_H + y + expect.shape[0], x : x + expect.shape[1]]
        if got.shape != expect.shape or not np.array_equal(got, expect):
            return False
    return True


def test_the_overlay_shows_level_i_of_n_and_the_tally_in_the_pixels(champion, expected, tmp_path):
    import pygame

    levels, outcomes = expected
    v, source = set_viewer(champion, levels[:3])
    play_out(v)
    v.load(source.after())
    v.step(40)
    image = pixels(v.draw())
    assert overlay_shows(image, v, "level 2 of 3", levels[1].id, "finished 1 of 1 so far")
    assert not overlay_shows(image, v, "level 3 of 3", levels[1].id, "finished 1 of 1 so far")
    assert not overlay_shows(image, v, "level 2 of 3", levels[1].id, "finished 0 of 1 so far")
    # It sits inside the game view, clear of the status line and the network panel, and reads the same on the PNG.
    _, box = panels.overlay_layout(
        panels.overlay_lines("level 2 of 3", levels[1].id, "finished 1 of 1 so far", v.fonts, GAME_PX)
    )
    assert box.left > 0 and box.top > 0 and box.right < GAME_PX and box.bottom < GAME_PX // 4
    assert (image[STATUS_H + box.top + 1, box.left + 1 : box.right - 1] == panels.OVERLAY_FILL).all()
    shot = v.save_screenshot(tmp_path / "mid.png")
    assert overlay_shows(
        pixels(pygame.image.load(str(shot))), v, "level 2 of 3", levels[1].id, "finished 1 of 1 so far"
    )
    # At the end of the set: the last level's outcome in the banner and the final tally, in green, still legible.
    play_out(v)
    v.load(source.after())
    play_out(v)
    assert source.after() is None
    image = pixels(v.draw())
    assert overlay_shows(image, v, "level 3 of 3", levels[2].id, "finished 1 of 3", complete=True)
    # Without a set there is no overlay.
    plain = Viewer(ReplayShows(shows_of(champion, "c", [levels[1]])), report=False)
    plain.step(40)
    assert not overlay_shows(
        pixels(plain.draw()), plain, "level 1 of 1", levels[1].id, "no level played to the end yet"
    )
    assert (
        not (pixels(plain.draw())[STATUS_H + box.top + 2, box.left + 2 : box.right - 2] == panels.OVERLAY_FILL)
        .all(axis=-1)
        .all()
    )


def test_a_long_level_path_keeps_its_end_in_the_overlay_and_the_status_line(champion, tmp_path):
    deep = tmp_path / ("a-folder-with-a-rather-long-name-" * 3) / "levels"
    deep.mkdir(parents=True)
    (deep / "the-level.txt").write_text(level_text())
    levels = as_levels([str(deep)])
    v, _ = set_viewer(champion, levels)
    runs = panels.overlay_lines("level 1 of 1", levels[0].id, "no level played to the end yet", v.fonts, GAME_PX)
    positions, box = panels.overlay_layout(runs)
    assert runs[1][0].startswith("...") and runs[1][0].endswith("levels/the-level.txt") and box.right < GAME_PX
    assert overlay_shows(pixels(v.draw()), v, "level 1 of 1", levels[0].id, "no level played to the end yet")
    status = v.status_text()
    assert "levels/the-level.txt" in status and levels[0].id not in status


def test_skipping_in_the_window_shows_in_the_summary(folder, expected, capsys, monkeypatch):
    import pygame

    levels, outcomes = expected
    real_get = pygame.event.get
    calls = []

    def get(*args, **kw):  # PgDn pressed on the third frame the window draws: level 1 is cut short
        calls.append(1)
        events = real_get(*args, **kw)
        if len(calls) == 3:
            events.append(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_PAGEDOWN))
        return events

    monkeypatch.setattr(pygame.event, "get", get)
    code, out, _ = run_cli(capsys, "replay", SHIPPED_1_1, "--level", folder, "--speed", "1000")
    assert code == 0
    rows, total = summary_of(out, 3)
    assert rows[0][0] == levels[0].id and re.fullmatch(r"skipped at frame \d+", rows[0][1])
    assert rows[1:] == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels[1:3], outcomes[1:3])]
    assert total == "total: finished 0 of 3 levels; 1 skipped, 1 dead (pit), 1 stalled"


def test_closing_the_window_early_leaves_the_rest_not_played(folder, capsys):
    code, out, _ = run_cli(capsys, "replay", SHIPPED_1_1, "--level", folder, "--speed", "0.01", "--duration", "0.3")
    assert code == 0
    rows, total = summary_of(out, 3)
    assert re.fullmatch(r"skipped at frame \d+", rows[0][1]) and rows[1][1] == rows[2][1] == "not played"
    assert total == "total: finished 0 of 3 levels; 2 not played, 1 skipped"


def test_a_screenshot_shows_the_first_level_with_the_overlay(champion, folder, expected, tmp_path, capsys):
    import pygame

    levels, _ = expected
    code, out, _ = run_cli(capsys, "replay", SHIPPED_1_1, "--level", folder, "--screenshot", tmp_path / "s.png")
    assert code == 0 and out.startswith("wrote ") and "total:" not in out
    v, _ = set_viewer(champion, levels[:3])
    image = pixels(pygame.image.load(str(tmp_path / "s.png")))
    assert overlay_shows(image, v, "level 1 of 3", levels[0].id, "no level played to the end yet")


def test_gif_and_png_frames_go_through_the_set(expected, folder, tmp_path, capsys):
    from PIL import Image

    levels, outcomes = expected
    code, out, _ = run_cli(
        capsys,
        "replay",
        SHIPPED_1_1,
        "--level",
        folder,
        "--gif",
        tmp_path / "set.gif",
        "--png-frames",
        tmp_path / "frames",
        "--frame-step",
        "5",
    )
    assert code == 0
    counts = [o.frames // 5 + 1 + (o.frames % 5 != 0) for o in outcomes[:3]]  # start, every 5th, last, per level
    assert len(list((tmp_path / "frames").glob("frame-*.png"))) == sum(counts)
    with Image.open(tmp_path / "set.gif") as im:  # Pillow merges identical neighbouring frames, adding their times
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            durations.append(im.info["duration"])
    assert sum(durations) == sum(counts) * 80 + 3 * 1500  # 5 frames at 60/s each; each level's end held 1.5 s
    assert sum(d >= 1500 for d in durations) == 3
    rows, total = summary_of(out, 3)
    assert rows == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels[:3], outcomes[:3])]
    # Levels of different heights: PNG frames, yes; one GIF, no (one line, exit 2).
    (tmp_path / "tall.txt").write_text(level_text(rows=20))
    code, out, err = run_cli(
        capsys,
        "replay",
        SHIPPED_1_1,
        "--level",
        folder / "a-flat.txt",
        "--level",
        tmp_path / "tall.txt",
        "--png-frames",
        tmp_path / "mixed",
        "--frame-step",
        "50",
    )
    sizes = set()
    for png in (tmp_path / "mixed").iterdir():
        with Image.open(png) as im:
            sizes.add(im.size)
    assert code == 0 and sizes == {(256, 256), (256, 320)}
    code, _, err = run_cli(
        capsys,
        "replay",
        SHIPPED_1_1,
        "--level",
        folder / "a-flat.txt",
        "--level",
        tmp_path / "tall.txt",
        "--gif",
        tmp_path / "mixed.gif",
    )
    assert code == 2 and "not all one height" in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "mixed.gif").exists()


@pytest.fixture
def no_window(monkeypatch):
    """Fail the test if a viewer is made (the input should be refused before any window opens)."""

    def refuse(*args, **kw):
        raise AssertionError("a viewer was made")

    monkeypatch.setattr(Viewer, "__init__", refuse)


@pytest.mark.parametrize(
    "make, argv, needle",
    [
        (None, ["--level", "no-such-level"], "no-such-level: unknown level"),
        ("empty", ["--level", "{tmp}/empty"], "a folder with no level files"),
        (None, ["--level", "{tmp}/nothing-*.txt"], "matches no level file"),
        ("bad", ["--level", "{tmp}/levels"], "ragged row"),
        ("bad", ["--level", "1-1", "--level", "{tmp}/levels/b.txt"], "b.txt:3:"),
        (None, ["--level", "gen:9-3"], "bad generator range"),
        (None, ["--level", "1-1", "--list"], "takes no --level"),
        (None, ["--level", "nope", "--headless"], "nope: unknown level"),
        (None, ["--level", "nope", "--gif", "{tmp}/x.gif"], "nope: unknown level"),
    ],
)
def test_bad_level_sets_are_one_line_and_exit_2_before_any_window(tmp_path, capsys, no_window, make, argv, needle):
    if make == "empty":
        (tmp_path / "empty").mkdir()
    if make == "bad":
        (tmp_path / "levels").mkdir()
        (tmp_path / "levels" / "a.txt").write_text(level_text())
        lines = level_text().splitlines()
        lines[2] += "-"  # a row longer than the first
        (tmp_path / "levels" / "b.txt").write_text("\n".join(lines) + "\n")
    code, out, err = run_cli(capsys, "replay", SHIPPED_1_1, *[a.format(tmp=tmp_path) for a in argv])
    assert code == 2 and out == "" and needle in err and len(err.strip().splitlines()) == 1, err
    assert err.startswith("tilerunner: error: ")


def test_a_folder_of_replays_plays_each_genome_through_the_set(folder, expected, tmp_path, capsys):
    import shutil

    levels, outcomes = expected
    replays = tmp_path / "replays"
    replays.mkdir()
    shutil.copy(SHIPPED_1_1, replays / "a.json")
    shutil.copy(ROOT / "replays" / "2-4-f3549.json", replays / "b.json")
    code, out, _ = run_cli(capsys, "replay", replays, "--level", folder, "--speed", "1000")
    assert code == 0
    blocks = out.split("b.json (genome ")
    assert len(blocks) == 2 and "a.json (genome 824) on 3 levels:" in blocks[0]
    rows, _ = summary_of(blocks[0], 3)
    assert rows == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels[:3], outcomes[:3])]
    other = [r.outcome for r in replay_results([load_replay(replays / "b.json")], levels[:3])[0]]
    rows, _ = summary_of(blocks[1], 3)
    assert rows == [(lv.id, o.describe(fitness=True)) for lv, o in zip(levels[:3], other)]
