"""Rendering: tiles and creatures are told apart by their pixels, the camera follows the player,
PNGs and windows work."""

from __future__ import annotations

import io
import os

import numpy as np
import pytest

from tilerunner.envs import physics as P
from tilerunner.envs import render as R
from tilerunner.envs.level import parse_level

SKY = np.array(R.SKY, dtype=np.uint8)
PX = 16


def level_from_rows(*rows: str):
    return parse_level("\n".join(rows) + "\n", "test.txt")


def flat(width: int, spawn_row: str = "") -> list[str]:
    """16 rows: empty sky, an optional row just above the ground, then two ground rows."""
    above = spawn_row.ljust(width, "-") if spawn_row else "-" * width
    return ["-" * width] * 13 + [above] + ["X" * width] * 2


def tile_px(image: np.ndarray, row: int, col: int) -> np.ndarray:
    return image[row * PX : (row + 1) * PX, col * PX : (col + 1) * PX]


def is_sky(pixels: np.ndarray) -> np.ndarray:
    return np.all(pixels == SKY, axis=-1)


def mean_colour(pixels: np.ndarray) -> np.ndarray:
    return pixels.reshape(-1, 3).astype(float).mean(axis=0)


def player_pixels(tiles, state, enemies, **kw) -> np.ndarray:
    """Mask of the frame's pixels that belong to the player (the frame minus the same frame without the player)."""
    image = R.frame(tiles, state, enemies, **kw)
    hidden = state.copy()
    hidden[P.S_Y] = -100 * P.TILE  # far above the view
    return np.any(image != R.frame(tiles, hidden, enemies, **kw), axis=-1)


def enemy_pixels(tiles, state, enemies, i: int) -> np.ndarray:
    """Mask of the whole-level image's pixels drawn for enemy i."""
    image = R.world_image(tiles, state, enemies)
    without = enemies.copy()
    without[i, P.E_STATE] = P.GONE
    return np.any(image != R.world_image(tiles, state, without), axis=-1)


def box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of a non-empty mask, inclusive."""
    ys, xs = np.nonzero(mask)
    assert ys.size, "nothing drawn"
    return int(ys.min()), int(ys.max()), int(xs.min()), int(xs.max())


# A level with one of each tile in row 1 (columns 1, 3, 5, ...), a pipe, a cannon and a platform.
SHOWCASE = level_from_rows(
    "------------------------",
    "-X-#-S-Q-C-D-2-o--------",
    "------------------------",
    "------------------------",
    "------------------------",
    "------------------------",
    "------------------------",
    "------------------------",
    "--------%%%-------------",
    "--------|||------*------",
    "--------|||--tt--b------",
    "--M-----|||--tt--b-----F",
    "XXXXXXXXXXXXXXXXXXXXXXXX",
)
TILE_COL = {"X": 1, "#": 3, "S": 5, "Q": 7, "C": 9, "D": 11, "2": 13, "o": 15}


@pytest.fixture(scope="module")
def showcase() -> np.ndarray:
    return R.level_image(SHOWCASE)


def test_level_image_covers_the_level(showcase):
    assert showcase.shape == (13 * PX, 24 * PX, 3)
    assert showcase.dtype == np.uint8
    assert is_sky(tile_px(showcase, 0, 0)).all()


def test_solid_tiles_look_different_from_each_other_and_from_sky(showcase):
    names = ["X", "#", "S", "Q", "D"]
    patches = {ch: tile_px(showcase, 1, TILE_COL[ch]) for ch in names}
    for ch, patch in patches.items():
        assert not is_sky(patch).any(), f"{ch} has holes of sky"
    for i, a in enumerate(names):
        for b in names[i + 1 :]:
            diff = np.any(patches[a] != patches[b], axis=-1).mean()
            assert diff > 0.3, f"{a} and {b} look alike"
    # The question block carries a pale '?' mark that a used block lacks.
    pale = lambda p: (p.astype(int).min(axis=-1) > 190).sum()  # noqa: E731
    assert pale(patches["Q"]) >= 10 and pale(patches["D"]) == 0
    # A brick with a coin looks like a brick, as in the original game.
    assert np.array_equal(tile_px(showcase, 1, TILE_COL["C"]), patches["S"])


def test_hidden_block_is_invisible_and_coin_is_yellow_and_round(showcase):
    assert is_sky(tile_px(showcase, 1, TILE_COL["2"])).all()
    coin = tile_px(showcase, 1, TILE_COL["o"]).astype(int)
    centre = coin[6:10, 5:11].reshape(-1, 3)
    r, g, b = np.median(centre, axis=0)
    assert r > 200 and g > 150 and b < 120, "coin is not yellow"
    assert is_sky(coin[0, :]).all() and is_sky(coin[:, 0]).all(), "coin fills its tile, not round"


def test_platform_is_a_thin_slab_and_its_supports_are_pale(showcase):
    slab = tile_px(showcase, 8, 9)
    solid_rows = [
        not np.any(is_sky(slab[y]) | np.all(slab[y] == tile_px(showcase, 9, 9)[y], axis=-1)) for y in range(PX)
    ]
    assert solid_rows[0] and not solid_rows[-1], "platform is not a slab along the top of its tile"
    assert sum(solid_rows) <= 8
    # Supports are background: closer to the sky's colour than any solid tile is.
    support = mean_colour(tile_px(showcase, 10, 9))
    dist = lambda c: np.abs(c - SKY).sum()  # noqa: E731
    assert 0 < dist(support) < min(dist(mean_colour(tile_px(showcase, 1, TILE_COL[ch]))) for ch in "X#SQD")


def test_pipe_has_a_wider_lip_on_top_and_is_green(showcase):
    lip = np.concatenate([tile_px(showcase, 10, 13), tile_px(showcase, 10, 14)], axis=1)
    body = np.concatenate([tile_px(showcase, 11, 13), tile_px(showcase, 11, 14)], axis=1)
    lip_width = (~is_sky(lip[2])).sum()
    body_width = (~is_sky(body[8])).sum()
    assert lip_width > body_width >= 20
    r, g, b = mean_colour(body[~is_sky(body)])
    assert g > r + 40 and g > b + 40


def test_cannon_is_dark(showcase):
    for row in (9, 10, 11):
        cannon = tile_px(showcase, row, 17)
        assert mean_colour(cannon[~is_sky(cannon)]).max() < 110


def test_exit_column_shows_a_pole_standing_on_the_floor():
    level = level_from_rows(*flat(30))  # no 'F': the exit is the last column
    image = R.level_image(level)
    col = image[:, 29 * PX : 30 * PX]
    drawn_rows = np.flatnonzero(~is_sky(col).all(axis=1))
    # Something stands in the exit column for several tiles above the ground (rows 14, 15).
    assert drawn_rows.min() < 10 * PX
    assert set(range(drawn_rows.min(), 14 * PX)) <= set(drawn_rows)
    assert is_sky(image[:, 20 * PX : 21 * PX][: 14 * PX]).all()  # an ordinary column is empty sky


def test_used_and_collected_tiles_update_in_the_frame():
    level = level_from_rows("-" * 20, "-" * 20, "--Q" + "-" * 17, "-" * 20, "--M-o" + "-" * 15, "X" * 20)
    tiles, state, enemies = P.new_world(level)
    before = R.frame(tiles, state, enemies).copy()
    # Jump into the question block, then walk through the coin.
    for f in range(40):
        P.step(tiles, state, enemies, P.A if f < 20 else 0)
    for _ in range(60):
        P.step(tiles, state, enemies, P.RIGHT)
    assert state[P.S_COINS] == 2
    after = R.frame(tiles, state, enemies)
    assert not np.array_equal(tile_px(after, 2, 2), tile_px(before, 2, 2)), "question block not shown as used"
    coin_px = tile_px(after, 4, 4)
    player = player_pixels(tiles, state, enemies)[4 * PX : 5 * PX, 4 * PX : 5 * PX]
    assert is_sky(coin_px[~player]).all(), "collected coin still drawn"


def test_frame_shape_and_narrow_levels_pad_with_sky():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(100)))
    image = R.frame(tiles, state, enemies)
    assert image.shape == (16 * PX, 16 * PX, 3) and image.dtype == np.uint8
    assert R.frame(tiles, state, enemies, view_cols=20).shape == (16 * PX, 20 * PX, 3)
    narrow = level_from_rows("-----", "-----", "M----", "XXXXX")
    image = R.frame(*P.new_world(narrow), view_cols=8)
    assert image.shape == (4 * PX, 8 * PX, 3)
    assert is_sky(image[:, 5 * PX :]).all()
    assert not is_sky(image[3 * PX :, : 5 * PX]).any()


def test_camera_clamps_at_the_left_edge_then_keeps_the_player_centred():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(200)))
    # At the start the camera sits at the level's left edge: the player is drawn where it is in the level.
    _, _, left, right = box(player_pixels(tiles, state, enemies))
    assert left == state[P.S_X] // P.SUB and right - left + 1 <= P.PLAYER_W // P.SUB
    centres = []
    for _ in range(300):
        P.step(tiles, state, enemies, P.RIGHT | P.B)
        if state[P.S_X] > 20 * P.TILE:
            _, _, left, right = box(player_pixels(tiles, state, enemies))
            centres.append((left + right + 1) / 2)
    assert len(centres) > 50
    assert all(abs(c - 8 * PX) <= 2 for c in centres), "player not centred while running"


def test_camera_clamps_at_the_right_edge():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(40)))
    state[P.S_X] = 38 * P.TILE
    _, _, left, _ = box(player_pixels(tiles, state, enemies))
    assert left == (38 - 24) * PX  # the view shows columns 24-39


def test_player_moves_in_the_frame_when_the_world_steps():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(100)))
    _, _, left0, _ = box(player_pixels(tiles, state, enemies))
    for _ in range(30):
        P.step(tiles, state, enemies, P.RIGHT)
    _, _, left1, _ = box(player_pixels(tiles, state, enemies))
    assert left1 > left0
    top0 = box(player_pixels(tiles, state, enemies))[0]
    for _ in range(10):
        P.step(tiles, state, enemies, P.A)
    assert box(player_pixels(tiles, state, enemies))[0] < top0 - 10  # jumped up on screen


def test_facing_direction_is_visible():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(20)))
    right = R.frame(tiles, state, enemies)
    mask = player_pixels(tiles, state, enemies)
    state[P.S_FACING] = -1
    left = R.frame(tiles, state, enemies)
    t, b, x0, x1 = box(mask)
    assert not np.array_equal(right[t : b + 1, x0 : x1 + 1], left[t : b + 1, x0 : x1 + 1])
    assert np.array_equal(right[t : b + 1, x0 : x1 + 1][:, ::-1], left[t : b + 1, x0 : x1 + 1])  # a mirror image


def test_enemy_kinds_wings_and_states_are_drawn_distinctly():
    level = level_from_rows(*flat(30, "--M---g--r--y--G--------------"))
    tiles, state, enemies = P.new_world(level)
    image = R.world_image(tiles, state, enemies)
    sprites = []
    for i in range(3):  # walker, ledge-turner, spiky, all dormant at their spawns
        mask = enemy_pixels(tiles, state, enemies, i)
        t, b, left_px, right_px = box(mask)
        col = int(enemies[i, P.E_X] // P.TILE)
        assert 13 * PX <= t and b < 14 * PX and col * PX <= left_px and right_px < (col + 1) * PX  # drawn at the spawn
        sprites.append(image[13 * PX : 14 * PX, col * PX : (col + 1) * PX])
    for i in range(3):
        for j in range(i + 1, 3):
            assert np.any(sprites[i] != sprites[j], axis=-1).mean() > 0.2
    # Wings stick out of a winged enemy's body; the wingless walker stays inside its tile.
    _, _, left_px, right_px = box(enemy_pixels(tiles, state, enemies, 3))
    assert right_px - left_px + 1 > P.ENEMY_W // P.SUB + 4
    # Squashed: flatter, lying on the same floor. Gone: not drawn.
    t_active, b_active, _, _ = box(enemy_pixels(tiles, state, enemies, 0))
    enemies[0, P.E_STATE] = P.SQUASHED
    t_squashed, b_squashed, _, _ = box(enemy_pixels(tiles, state, enemies, 0))
    assert b_squashed == b_active and (b_squashed - t_squashed) * 2 <= (b_active - t_active) + 2
    enemies[0, P.E_STATE] = P.GONE
    assert is_sky(R.world_image(tiles, state, enemies)[13 * PX : 14 * PX, 6 * PX : 7 * PX]).all()


def test_stomping_a_walker_flattens_it_in_the_frame():
    level = level_from_rows(*flat(40, "--M-----g"))
    tiles, state, enemies = P.new_world(level)
    active = None
    for f in range(150):
        if enemies[0, P.E_STATE] == P.ACTIVE and active is None:
            active = box(enemy_pixels(tiles, state, enemies, 0))
        P.step(tiles, state, enemies, P.RIGHT | (P.A if 25 <= f < 37 else 0))
        if enemies[0, P.E_STATE] == P.SQUASHED:
            break
    assert enemies[0, P.E_STATE] == P.SQUASHED, "the scripted stomp missed"
    squashed = box(enemy_pixels(tiles, state, enemies, 0))
    assert squashed[1] - squashed[0] < active[1] - active[0]


def test_creatures_are_clipped_at_the_view_edges():
    tiles, state, enemies = P.new_world(level_from_rows(*flat(60, "--M----------------------G")))
    state[P.S_Y] = -5 * P.SUB  # partly above the top
    enemies[0, P.E_X] = 15 * P.TILE + 8 * P.SUB  # straddles the right edge of the 16-column view
    enemies[0, P.E_STATE] = P.ACTIVE
    image = R.frame(tiles, state, enemies)
    assert image.shape == (16 * PX, 16 * PX, 3)
    assert not is_sky(image[13 * PX : 14 * PX, -4:]).all()  # the enemy's left part shows at the edge
    assert not is_sky(image[:PX, 2 * PX : 3 * PX]).all()  # the player's lower part shows at the top


def load_png(path) -> np.ndarray:
    import pygame

    return pygame.surfarray.array3d(pygame.image.load(str(path))).swapaxes(0, 1)


def test_save_png_writes_a_readable_png(tmp_path):
    image = R.level_image(SHOWCASE)
    path = tmp_path / "level.png"
    R.save_png(image, path)
    assert np.array_equal(load_png(path), image)
    assert os.listdir(tmp_path) == ["level.png"]
    # Whatever the name ends in, the file is a PNG.
    R.save_png(image[:32, :48], tmp_path / "picture")
    assert (tmp_path / "picture").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # A bad image is refused before anything is written.
    before = path.read_bytes()
    with pytest.raises(ValueError):
        R.save_png(np.zeros((4, 4)), path)
    assert path.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == ["level.png", "picture"]


def test_save_png_is_atomic_while_writing_and_when_writing_fails(tmp_path, monkeypatch):
    """Halfway through writing the new PNG, the old one is still whole; a write that fails there leaves it so."""
    import pygame

    old, new = R.level_image(SHOWCASE), R.level_image(level_from_rows(*flat(30, "--M---g")))
    path = tmp_path / "level.png"
    R.save_png(old, path)
    old_bytes = path.read_bytes()
    real_save = pygame.image.save
    seen = []

    def save_in_two_halves(fail: bool):
        def save(surface, fh, namehint=""):
            buffer = io.BytesIO()
            real_save(surface, buffer, namehint)
            data = buffer.getvalue()
            fh.write(data[: len(data) // 2])
            fh.flush()
            seen.append(path.read_bytes())  # what anyone reading the picture now gets
            if fail:
                raise pygame.error("No space left on device")
            fh.write(data[len(data) // 2 :])

        return save

    monkeypatch.setattr(pygame.image, "save", save_in_two_halves(fail=True))
    with pytest.raises(pygame.error):
        R.save_png(new, path)
    assert seen == [old_bytes] and path.read_bytes() == old_bytes  # the old picture, whole, throughout
    assert os.listdir(tmp_path) == ["level.png"]  # the half-written temporary is gone

    monkeypatch.setattr(pygame.image, "save", save_in_two_halves(fail=False))
    R.save_png(new, path)
    assert seen[-1] == old_bytes  # still the old picture halfway through the new one ...
    assert np.array_equal(load_png(path), new)  # ... then the whole new one
    assert os.listdir(tmp_path) == ["level.png"]


def test_window_shows_frames_and_closes_headless(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    tiles, state, enemies = P.new_world(SHOWCASE)
    image = R.frame(tiles, state, enemies)
    window = R.Window("tilerunner test", scale=2)
    try:
        window.show(image, fps=1000)
        assert not window.closed
        shown = pygame.surfarray.array3d(pygame.display.get_surface()).swapaxes(0, 1)
        assert shown.shape == (image.shape[0] * 2, image.shape[1] * 2, 3)
        assert np.array_equal(shown[::2, ::2], image)
        pygame.event.post(pygame.event.Event(pygame.KEYDOWN, key=pygame.K_ESCAPE))
        window.show(image, fps=1000)
        assert window.closed
        window.show(image, fps=1000)  # showing after closing does nothing
    finally:
        window.close()
    window.close()  # closing twice is fine
    assert not pygame.display.get_init()


def test_window_closes_when_the_user_closes_it(monkeypatch):
    monkeypatch.setenv("SDL_VIDEODRIVER", "dummy")
    import pygame

    window = R.Window("tilerunner test")
    try:
        window.show(np.zeros((32, 32, 3), dtype=np.uint8))
        pygame.event.post(pygame.event.Event(pygame.QUIT))
        window.show(np.zeros((32, 32, 3), dtype=np.uint8))
        assert window.closed
    finally:
        window.close()
