"""Draw the world as RGB images from the art of `tilerunner.envs.sprites`, and show or save them with pygame.

`frame` is the game view that follows the player (called every step in `rgb_array` mode, so it only
draws the visible columns); `world_image` is the whole level as it is now and `level_image` a level at
its start, for `tilerunner levels show --png`. `load_pygame`, `save_png` and `Window` are the only parts
that use pygame, and import it when called, so drawing into arrays needs numpy alone.

Pictures are at most `MAX_IMAGE_SIDE` (65,536) px on a side and `MAX_IMAGE_PIXELS`
(67,108,864 = 2**26, 192 MiB of RGB) in all: the largest level (4,096 x 64 tiles, see
`envs.level`) fits exactly. `level_image`, `world_image` and `save_png` refuse anything larger
with a `ValueError` (one line) before allocating it; pygame crashes (SIGSEGV) on surfaces
whose size overflows its int arithmetic, so nothing larger may reach it.
"""

from __future__ import annotations

import io
import os

import numpy as np

from tilerunner.envs import physics as P
from tilerunner.envs.atomic import write_atomic
from tilerunner.envs.sprites import SKY, WING_PX, Sprite, creature_sprites, display_ids, tile_patches

TILE_PX = P.TILE_PX
MAX_IMAGE_SIDE = 65_536
MAX_IMAGE_PIXELS = 2**26
SHIFT = 8  # sub-pixels -> pixels
assert P.SUB == 1 << SHIFT
PLAYER_W_PX = P.PLAYER_W // P.SUB
ENEMY_W_PX = P.ENEMY_W // P.SUB

# ---------------------------------------------------------------------------------------------
# Drawing


# The display ids of the last few tile grids drawn, by the grid's id: (a copy of the tiles, exit column, ids).
_display_cache: dict[int, tuple[np.ndarray, int, np.ndarray]] = {}
_DISPLAY_CACHE_SIZE = 16


def _cached_display(tiles: np.ndarray, exit_col: int) -> np.ndarray:
    """`display_ids` of `tiles`, worked out once per grid and kept while the grid is unchanged (every frame asks)."""
    key = id(tiles)
    hit = _display_cache.get(key)
    if hit is not None and hit[1] == exit_col and hit[0].shape == tiles.shape and np.array_equal(hit[0], tiles):
        return hit[2]
    disp = display_ids(tiles, exit_col)
    if key not in _display_cache and len(_display_cache) >= _DISPLAY_CACHE_SIZE:
        _display_cache.pop(next(iter(_display_cache)))
    _display_cache[key] = (tiles.copy(), exit_col, disp)
    return disp


def _paste(out: np.ndarray, sprite: Sprite, x: int, y: int) -> None:
    """Draw `sprite` with its body's top-left at pixel (x, y) of `out`, clipped to `out`."""
    rgb, mask, dx, dy = sprite
    x += dx
    y += dy
    h, w = mask.shape
    oh, ow = out.shape[:2]
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, ow), min(y + h, oh)
    if x0 >= x1 or y0 >= y1:
        return
    np.copyto(
        out[y0:y1, x0:x1], rgb[y0 - y : y1 - y, x0 - x : x1 - x], where=mask[y0 - y : y1 - y, x0 - x : x1 - x, None]
    )


def _draw(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, cam: int, view_w: int) -> np.ndarray:
    """Draw the level's pixels [cam, cam + view_w) horizontally, tiles then enemies then the player."""
    rows, cols = tiles.shape
    height = rows * TILE_PX
    disp = _cached_display(tiles, int(state[P.S_EXIT_X]) >> P.TILE_SHIFT)
    c0 = cam // TILE_PX
    c1 = min(cols, -(-(cam + view_w) // TILE_PX))
    out = np.empty((height, view_w, 3), dtype=np.uint8)
    if c1 > c0:
        strip = tile_patches()[disp[:, c0:c1]]  # (rows, n, 16, 16, 3)
        n = c1 - c0
        strip = strip.transpose(0, 2, 1, 3, 4).reshape(height, n * TILE_PX, 3)
        off = cam - c0 * TILE_PX
        w = min(view_w, n * TILE_PX - off)
        out[:, :w] = strip[:, off : off + w]
    else:
        w = 0
    if w < view_w:
        out[:, w:] = SKY

    sprites = creature_sprites()
    for e in enemies.tolist():
        status = e[P.E_STATE]
        if status == P.GONE:
            continue
        x = (e[P.E_X] >> SHIFT) - cam
        if x - WING_PX >= view_w or x + ENEMY_W_PX + WING_PX <= 0:
            continue
        winged = e[P.E_WINGED] != 0
        key = (e[P.E_KIND], winged, e[P.E_VX] > 0, status == P.SQUASHED, winged and e[P.E_VY] < 0)
        _paste(out, sprites[key], x, e[P.E_Y] >> SHIFT)

    right = int(state[P.S_FACING]) >= 0
    dead = int(state[P.S_STATUS]) == P.DEAD
    _paste(out, sprites["player", right, dead], (int(state[P.S_X]) >> SHIFT) - cam, int(state[P.S_Y]) >> SHIFT)
    return out


def camera_x(tiles: np.ndarray, state: np.ndarray, view_cols: int = 16) -> int:
    """The level pixel column at the view's left edge: the player centred, clamped to the level's edges."""
    level_w = tiles.shape[1] * TILE_PX
    view_w = view_cols * TILE_PX
    if level_w <= view_w:
        return 0
    centre = (int(state[P.S_X]) >> SHIFT) + PLAYER_W_PX // 2
    return min(max(centre - view_w // 2, 0), level_w - view_w)


def frame(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray, view_cols: int = 16) -> np.ndarray:
    """The game view, uint8 (rows*16, view_cols*16, 3), following the player; sky beyond a narrow level's end."""
    if view_cols < 1:
        raise ValueError(f"view_cols must be at least 1, got {view_cols}")
    return _draw(tiles, state, enemies, camera_x(tiles, state, view_cols), view_cols * TILE_PX)


def check_image_size(height: int, width: int) -> None:
    """Refuse (`ValueError`, one line) a picture beyond `MAX_IMAGE_SIDE` or `MAX_IMAGE_PIXELS`."""
    if height < 1 or width < 1:
        raise ValueError(f"a picture needs at least 1x1 px, got {width}x{height}")
    if max(height, width) > MAX_IMAGE_SIDE or height * width > MAX_IMAGE_PIXELS:
        raise ValueError(
            f"a {width:,}x{height:,} px picture is too big (at most {MAX_IMAGE_SIDE:,} px a side and"
            f" {MAX_IMAGE_PIXELS:,} px in all)"
        )


def world_image(tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray) -> np.ndarray:
    """The whole level with the current world on it, uint8 (rows*16, cols*16, 3); `ValueError` if too big."""
    check_image_size(tiles.shape[0] * TILE_PX, tiles.shape[1] * TILE_PX)
    return _draw(tiles, state, enemies, 0, tiles.shape[1] * TILE_PX)


def level_image(level) -> np.ndarray:
    """A level at its start (enemies at their spawns, the player at the start), uint8 (rows*16, cols*16, 3).

    `ValueError` (one line) if the picture would exceed `MAX_IMAGE_SIDE` or `MAX_IMAGE_PIXELS`.
    """
    check_image_size(level.tiles.shape[0] * TILE_PX, level.tiles.shape[1] * TILE_PX)
    return world_image(*P.new_world(level))


# ---------------------------------------------------------------------------------------------
# pygame: files and windows


def load_pygame():
    """pygame, imported on first use (so nothing that only simulates pays for it), without its banner."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    return pygame


def _check_image(image: np.ndarray) -> np.ndarray:
    image = np.asarray(image)
    if image.ndim != 3 or image.shape[2] != 3 or image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"expected an RGB image of shape (height, width, 3), got shape {image.shape}")
    check_image_size(image.shape[0], image.shape[1])
    return image.astype(np.uint8, copy=False)


def save_png(image: np.ndarray, path: str | os.PathLike) -> None:
    """Write an RGB image to `path` as PNG, atomically (a temporary file beside it, then a rename).

    The PNG is encoded in memory first, so a disk that is full or read-only fails as an `OSError`
    (with the reason in `strerror`), never as pygame's vague "Error writing the PNG file".
    `ValueError` (one line) for a picture beyond `MAX_IMAGE_SIDE` or `MAX_IMAGE_PIXELS`.
    """
    pygame = load_pygame()
    surface = pygame.surfarray.make_surface(_check_image(image).swapaxes(0, 1))
    encoded = io.BytesIO()
    pygame.image.save(surface, encoded, "image.png")  # the name hint picks PNG whatever `path` ends in
    write_atomic(path, encoded.getvalue())


class Window:
    """A pygame window that shows frames scaled up, for `render_mode="human"`.

    The window opens on the first `show`. `closed` turns True when the user closes
    the window or presses Esc; after that `show` does nothing.
    """

    def __init__(self, title: str = "tilerunner", scale: int = 3) -> None:
        if scale < 1:
            raise ValueError(f"scale must be at least 1, got {scale}")
        self.title = title
        self.scale = int(scale)
        self.closed = False
        self._pg = load_pygame()
        self._pg.display.init()
        self._screen = None
        self._size: tuple[int, int] | None = None
        self._clock = self._pg.time.Clock()

    def show(self, image: np.ndarray, fps: float | None = None) -> None:
        """Show one frame, then wait so that frames come at most `fps` per second (no wait if None or 0)."""
        if self.closed:
            return
        pg = self._pg
        image = _check_image(image)
        size = (image.shape[1] * self.scale, image.shape[0] * self.scale)
        if self._screen is None or size != self._size:
            self._screen = pg.display.set_mode(size)
            pg.display.set_caption(self.title)
            self._size = size
        surface = pg.surfarray.make_surface(image.swapaxes(0, 1))
        pg.transform.scale(surface, size, self._screen)
        pg.display.flip()
        self._pump()
        if fps:
            self._clock.tick(fps)

    def _pump(self) -> None:
        pg = self._pg
        for event in pg.event.get():
            if event.type == pg.QUIT or (event.type == pg.KEYDOWN and event.key == pg.K_ESCAPE):
                self.closed = True
        if self.closed:
            self.close()
            self.closed = True

    def close(self) -> None:
        """Close the window (safe to call twice)."""
        if self._screen is not None or self._pg.display.get_init():
            self._pg.display.quit()
        self._screen = None
        self.closed = True
