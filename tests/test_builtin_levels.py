"""Built-in levels: each loads, its stored button sequence finishes it, and the difficulty really grows."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest

from tilerunner.envs import physics as P
from tilerunner.envs import tiles as T
from tilerunner.envs.level import BUILTIN_LEVELS, Level, load_level, parse_level
from tilerunner.envs.solver import SEARCH_ACTIONS, beam_search, final_state, parse_buttons

IDS = list(BUILTIN_LEVELS)
LEVELS_DIR = resources.files("tilerunner.envs").joinpath("levels")
WALKING_JUMP_MAX_GAP = 5  # tiles a jump without B clears on flat ground (see the physics tests)


def _level(level_id: str) -> Level:
    return load_level(level_id)


def _pit_widths(level: Level) -> list[int]:
    """Widths of the runs of columns that have nothing to stand on at any height."""
    has_floor = T.FLOOR[level.tiles].any(axis=0)
    widths, run = [], 0
    for floor in has_floor:
        if floor:
            if run:
                widths.append(run)
            run = 0
        else:
            run += 1
    return widths + ([run] if run else [])


def _widest_pit(level: Level) -> int:
    return max(_pit_widths(level), default=0)


def _enemy_kinds(level: Level) -> set[tuple[int, bool]]:
    return {(int(kind), bool(winged)) for kind, winged, _, _ in level.enemies}


def _has_tile(level: Level, tile: int) -> bool:
    return bool((level.tiles == tile).any())


def _first_level_with(predicate) -> str:
    return next(level_id for level_id in IDS if predicate(_level(level_id)))


def test_every_builtin_id_has_a_level_file_and_a_solution_and_nothing_else():
    files = {entry.name for entry in LEVELS_DIR.iterdir() if entry.name.endswith((".txt", ".buttons"))}
    assert files == {f"{i}.txt" for i in IDS} | {f"{i}{SOLUTION_SUFFIX[r]}" for i in IDS for r in P.JUMP_RULES}


@pytest.mark.parametrize("level_id", IDS)
def test_level_file_is_a_16_row_level_in_the_framework_format(level_id):
    level = _level(level_id)
    text = LEVELS_DIR.joinpath(f"{level_id}.txt").read_text("utf-8")
    assert level.text == text  # stored normalised: `\n` line ends, one trailing newline
    assert set(text) - {"\n"} <= set(T.CHAR_TABLE)
    assert level.height == 16 and 120 <= level.width <= 220
    # Smb-style: two rows of ground under the start and under the exit, which stands near the end.
    col, row = level.start
    assert list(level.tiles[14:, col]) == [T.GROUND, T.GROUND] and row == 13
    exit_rows = np.flatnonzero(level.tiles[:, level.exit_col] == T.EXIT)
    assert len(exit_rows) == 1
    assert T.FLOOR[level.tiles[exit_rows[0] + 1, level.exit_col]]
    assert level.width - 20 <= level.exit_col < level.width - 4


# A stored solution for each jump rule: a sequence that finishes under one rarely does under the other.
SOLUTION_SUFFIX = {"hold": ".buttons", "press": ".press.buttons"}


@pytest.mark.parametrize("rule", P.JUMP_RULES)
@pytest.mark.parametrize("level_id", IDS)
def test_stored_buttons_finish_the_level(level_id, rule):
    level = _level(level_id)
    buttons = parse_buttons(LEVELS_DIR.joinpath(f"{level_id}{SOLUTION_SUFFIX[rule]}").read_text("utf-8"))
    state = final_state(level, buttons, P.jump_rule_id(rule))
    assert P.STATUS_NAMES[state[P.S_STATUS]] == "finished"
    # The sequence ends on the frame the level is finished, not before and not after.
    assert state[P.S_FRAMES] == len(buttons)


def test_1_1_is_flat_with_small_gaps_and_only_plain_walkers():
    level = _level("1-1")
    assert _widest_pit(level) <= 2
    assert _enemy_kinds(level) == {(T.WALKER, False)} and len(level.enemies) <= 5
    # Flat: ground only in the two bottom rows, and no walls to climb.
    assert not (level.tiles[:14] == T.GROUND).any()
    for tile in (T.BLOCK, T.PIPE, T.CANNON, T.PLATFORM, T.HIDDEN):
        assert not _has_tile(level, tile), T.TILE_NAMES[tile]


def test_widest_gap_never_shrinks_along_the_list():
    widest = [_widest_pit(_level(i)) for i in IDS]
    assert widest == sorted(widest)
    assert widest[-1] > widest[-2]  # 2-4 has the widest gap of all


def test_features_arrive_in_the_order_the_descriptions_promise():
    assert _first_level_with(lambda lv: (T.LEDGE_TURNER, False) in _enemy_kinds(lv)) == "1-3"
    assert _first_level_with(lambda lv: _has_tile(lv, T.PLATFORM)) == "1-4"
    assert _first_level_with(lambda lv: any(w for _, w in _enemy_kinds(lv))) == "1-4"
    assert _first_level_with(lambda lv: any(k == T.SPIKY for k, _ in _enemy_kinds(lv))) == "2-1"
    assert _first_level_with(lambda lv: _widest_pit(lv) > WALKING_JUMP_MAX_GAP) == "2-2"
    assert _first_level_with(lambda lv: _has_tile(lv, T.HIDDEN)) == "2-4"
    for level_id in ("2-3", "2-4"):
        kinds = _enemy_kinds(_level(level_id))
        assert {(T.SPIKY, False), (T.SPIKY, True)} <= kinds


def test_enemy_count_never_shrinks_and_2_4_has_the_most():
    counts = [len(_level(i).enemies) for i in IDS]
    assert counts == sorted(counts)
    assert counts[0] < counts[1] and counts[-1] > counts[-2]


def test_2_4_has_every_feature():
    level = _level("2-4")
    for tile in (T.BLOCK, T.PIPE, T.PLATFORM, T.HIDDEN, T.BRICK, T.QUESTION, T.COIN):
        assert _has_tile(level, tile), T.TILE_NAMES[tile]
    assert {k for k, _ in _enemy_kinds(level)} == {T.WALKER, T.LEDGE_TURNER, T.SPIKY}
    assert any(w for _, w in _enemy_kinds(level))


def test_2_2_first_wide_gap_needs_a_running_jump():
    # Crop 2-2 just past its first wide gap; the exit is the crop's last column.
    level = _level("2-2")
    has_floor = T.FLOOR[level.tiles].any(axis=0)
    start = level.start[0]
    gap0 = start + int(np.argmin(has_floor[start:]))
    gap1 = gap0 + int(np.argmax(has_floor[gap0:]))
    assert gap1 - gap0 > WALKING_JUMP_MAX_GAP
    crop = parse_level("\n".join(row[: gap1 + 6] for row in level.text.splitlines()) + "\n")
    col, row = crop.start

    def search(actions: np.ndarray) -> np.ndarray:
        return beam_search(crop.tiles, crop.enemies, col, row, crop.exit_col, actions, 4, 96, 2000)[0]

    walking = np.array([a for a in SEARCH_ACTIONS if not a & P.B], dtype=np.int64)
    assert search(walking).size == 0
    assert search(SEARCH_ACTIONS).size > 0
