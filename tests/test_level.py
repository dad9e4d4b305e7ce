"""Level files: the Mario AI format loads, every character maps to something, bad files fail in one line."""

from __future__ import annotations

import pathlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilerunner.envs import physics as P
from tilerunner.envs import tiles as T
from tilerunner.envs.level import BUILTIN_LEVELS, LevelError, load_level, parse_level

ROOT = pathlib.Path(__file__).resolve().parents[1]

# A small level in the framework's format that uses every character of the table.
EVERY_CHAR = (
    "------------------------------\n"
    "----?@Q!12DSCUL-----oo--------\n"
    "------------------------------\n"
    "---------------------------*--\n"
    "-------------%%%%----------B--\n"
    "--M----<>----||||--tT------b-F\n"
    "--gEGkKrRyY-[]-----tt--#--##-#\n"
    "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n"
)


def test_every_character_in_the_table_loads():
    level = parse_level(EVERY_CHAR, "every.txt")
    assert set(EVERY_CHAR) - {"\n"} == set(T.CHAR_TABLE)
    assert level.start == (2, 5)
    assert level.exit_col == 29
    assert level.tiles.shape == (8, 30)
    # Enemies become spawns on empty tiles, with the right kinds and wings.
    kinds = {(int(k), bool(w)) for k, w, _, _ in level.enemies}
    assert kinds == {
        (T.WALKER, False),
        (T.WALKER, True),
        (T.LEDGE_TURNER, False),
        (T.LEDGE_TURNER, True),
        (T.SPIKY, False),
        (T.SPIKY, True),
    }
    assert len(level.enemies) == 9
    for _, _, col, row in level.enemies:
        assert level.tiles[row, col] == T.EMPTY
    # Unmodelled things map to the nearest modelled one, as the table says.
    row1 = level.tiles[1]
    assert list(row1[4:15]) == [T.QUESTION] * 4 + [T.HIDDEN] * 2 + [T.USED, T.BRICK] + [T.BRICK_COIN] * 3
    assert level.tiles[6, 12] == T.PIPE and level.tiles[5, 20] == T.PIPE  # '[' and 'T'
    assert level.tiles[3, 27] == T.CANNON


def test_without_m_the_player_starts_as_the_mario_ai_framework_places_it():
    # Its findFirstFloor: from the bottom of column 0, up through the first ground, then the first
    # tile that is not ground; a platform support '|' is not ground, a platform '%' is.
    text = "-----\n%----\n|----\n|---X\nXXXXX\n"
    assert parse_level(text).start == (0, 3)  # on the ground, under the platform
    assert parse_level("-----\n%----\n|----\n|---X\n----X\n").start == (0, 0)  # on the platform
    assert parse_level("X----\n-----\nX---X\nXXXXX\n").start == (0, 1)


def test_without_ground_in_column_zero_the_player_falls_in_from_above():
    # The patternCount levels' first column is platform support over nothing: the Mario AI
    # Framework starts the player above the top row, and one that moves right lands on column 1.
    text = "-" * 30 + "\n" + "-" * 30 + "\n" + "-" * 30 + "\n" + ("|" + "X" * 29 + "\n") * 2
    level = parse_level(text)
    assert level.start == (0, -1)
    tiles, state, enemies = P.new_world(level)
    for _ in range(60):
        P.step(tiles, state, enemies, P.RIGHT)
    assert state[P.S_STATUS] == P.RUNNING and state[P.S_GROUND]
    assert state[P.S_X] // P.TILE >= 1 and state[P.S_Y] == 2 * P.TILE  # standing on the ground of row 3


def test_without_f_the_exit_is_the_last_column():
    assert parse_level("---\nXXX\n").exit_col == 2


def test_windows_line_ends_and_trailing_blank_lines_are_accepted():
    a = parse_level("M--\nXXX\n")
    b = parse_level("M--\r\nXXX\r\n\r\n\n")
    assert np.array_equal(a.tiles, b.tiles) and a.text == b.text and a.sha256 == b.sha256


def test_level_hash_changes_with_content():
    assert parse_level("M--\nXXX\n").sha256 != parse_level("M-o\nXXX\n").sha256


def test_level_arrays_are_read_only():
    level = parse_level("M--\nXXX\n")
    with pytest.raises(ValueError):
        level.tiles[0, 0] = T.GROUND


@pytest.mark.parametrize(
    "text, message",
    [
        ("", "bad.txt:1:1: empty level file"),
        ("\n\n", "bad.txt:1:1: empty level file"),
        ("M---\nXXX\n", "bad.txt:2:4: ragged row: 3 tiles, but row 1 has 4"),
        ("M--\nXXXX\n", "bad.txt:2:4: ragged row: 4 tiles, but row 1 has 3"),
        ("M-Z\nXXX\n", "bad.txt:1:3: unknown character 'Z'"),
        ("M- \nXXX\n", "bad.txt:1:3: unknown character a space"),
        ("M-\t\nXXX\n", "bad.txt:1:3: unknown character a tab"),
        ("M-M\nXXX\n", "bad.txt:1:3: second start 'M' (the first is at 1:1)"),
        ("F-F\nXXX\n", "bad.txt:1:3: second exit 'F' (the first is at 1:1)"),
        ("-M-\nX-X\n", "bad.txt:1:2: no floor under the start 'M'"),
        ("F-M\nXXX\n", "bad.txt:1:1: the exit must be to the right of the start"),
        ("\nXXX\n", "bad.txt:2:1: ragged row: 3 tiles, but row 1 has 0"),
    ],
)
def test_bad_files_are_reported_as_file_line_col(text, message):
    with pytest.raises(LevelError) as info:
        parse_level(text, "bad.txt")
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_binary_file_is_not_text(tmp_path):
    path = tmp_path / "level.bin"
    path.write_bytes(b"M--\nXX\xff\x00\n")
    with pytest.raises(LevelError, match=r"level\.bin:2:3: not a text file \(byte 0xff"):
        load_level(str(path))


def test_unknown_ids_and_folders_are_one_line_errors(tmp_path):
    with pytest.raises(LevelError, match="unknown level"):
        load_level("9-9")
    with pytest.raises(LevelError, match="is a folder"):
        load_level(str(tmp_path))
    for bad in ("gen:", "gen:x", "gen:1:0", "gen:1:11", "gen:-1", "gen:1:2:3", "gen:١"):
        with pytest.raises(LevelError, match="bad generator id"):
            load_level(bad)


def test_builtin_ids_and_generator_ids_load():
    for level_id in BUILTIN_LEVELS:
        assert load_level(level_id).id == level_id
    level = load_level("gen:12")
    assert level.id.startswith("gen:12:")


def test_a_level_file_loads_by_path(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text(EVERY_CHAR)
    level = load_level(str(path))
    assert level.id == str(path) and level.text == EVERY_CHAR


LEVEL_CHARS = "".join(T.CHAR_TABLE) + "\n\n\n\n\r Z\t\x00é"


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text(alphabet=LEVEL_CHARS, max_size=300))
def test_random_text_either_loads_or_raises_level_error(text):
    try:
        level = parse_level(text, "fuzz.txt")
    except LevelError as exc:
        msg = str(exc)
        assert msg.startswith("fuzz.txt:") and "\n" not in msg
        return
    # Whatever loads is a consistent level the physics can start.
    col, row = level.start
    assert 0 <= col < level.exit_col < level.width
    assert row == -1 or not T.SOLID[level.tiles[row, col]]  # -1: above the top row, falling in
    if "M" in text:
        assert T.FLOOR[level.tiles[row + 1 :, col]].any()


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_either_load_or_raise_level_error(data):
    try:
        parse_level(data, "fuzz.bin")
    except LevelError as exc:
        assert str(exc).startswith("fuzz.bin:") and "\n" not in str(exc)


def test_the_levels_guide_tile_table_is_the_code_table():
    guide = (ROOT / "evolve" / "docs" / "pages" / "guides" / "levels.md").read_text()
    # The site's Markdown keeps a pipe inside a code span in its cell; GitHub's wants it escaped (`levels chars`).
    assert T.char_table_markdown().replace("`\\|`", "`|`") in guide


def test_a_level_file_starting_with_a_utf8_bom_loads_as_without_it(tmp_path):
    # Editors on Windows write UTF-8 with a byte order mark; it is no tile, and errors still count from the first.
    text = load_level("1-1").text
    path = tmp_path / "bom.txt"
    path.write_text(text, encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    level = load_level(str(path))
    assert level.sha256 == load_level("1-1").sha256 and np.array_equal(level.tiles, load_level("1-1").tiles)
    assert parse_level("\ufeffM--\nXXX\n").text == "M--\nXXX\n"
    with pytest.raises(LevelError, match=r"^bad\.txt:1:2: unknown character 'Z'"):
        parse_level("\ufeffMZ-\nXXX\n", "bad.txt")
