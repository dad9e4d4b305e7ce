"""The art: every display id has a picture of its own (the invisible tiles show sky), every creature state a
sprite, and drawing it all into arrays needs numpy alone (pygame is loaded only to show or save a picture)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from tilerunner.envs import sprites as S
from tilerunner.envs import tiles as T

# Tiles that show the same picture as another on purpose: a coin brick is a secret, the exit marker is a
# piece of the flagpole; pipes and cannons always show a variant, and their own pictures are the plain ones.
LOOK_ALIKE = {T.BRICK_COIN: T.BRICK, T.EXIT: S.POLE, T.PIPE: S.PIPE_BODY_1, T.CANNON: S.CANNON_BASE}


def test_every_display_id_has_its_own_picture_and_invisible_tiles_show_sky():
    patches = S.tile_patches()
    assert patches.shape == (S.N_DISPLAY, 16, 16, 3) and patches.dtype == np.uint8
    assert not patches.flags.writeable  # shared by every frame: nobody may paint on it
    sky = np.all(patches == np.array(S.SKY, np.uint8), axis=-1)
    for i in range(S.N_DISPLAY):
        assert sky[i].all() == (i in (T.EMPTY, T.HIDDEN)), i
    for i, twin in LOOK_ALIKE.items():
        assert np.array_equal(patches[i], patches[twin])
    shown = [i for i in range(S.N_DISPLAY) if i not in LOOK_ALIKE and i != T.HIDDEN]
    assert len({patches[i].tobytes() for i in shown}) == len(shown)


def test_every_creature_state_has_a_sprite_that_the_state_changes():
    sprites = S.creature_sprites()
    assert not np.array_equal(sprites["player", True, False][0], sprites["player", False, False][0])
    assert not np.array_equal(sprites["player", True, False][1], sprites["player", True, True][1])  # upside down
    for kind in (T.WALKER, T.LEDGE_TURNER, T.SPIKY):
        plain = sprites[kind, False, True, False, False]
        squashed = sprites[kind, False, True, True, False]
        assert squashed[1].sum() < plain[1].sum()  # flattened
        winged = sprites[kind, True, True, False, True]
        assert winged[2:] == (-S.WING_PX, -S.WING_UP_PX)  # drawn out from the body's top-left
        assert winged[1].shape[1] == plain[1].shape[1] + 2 * S.WING_PX
        assert not np.array_equal(winged[1], sprites[kind, True, True, False, False][1])  # wings up, wings down


def test_drawing_into_arrays_does_not_load_pygame():
    code = (
        "import sys\n"
        "from tilerunner.envs import physics as P, render\n"
        "from tilerunner.envs.level import load_level\n"
        "level = load_level('1-1')\n"
        "assert render.level_image(level).shape[0] > 0\n"
        "assert render.frame(*P.new_world(level)).shape == (level.tiles.shape[0] * 16, 256, 3)\n"
        "assert 'pygame' not in sys.modules, 'pygame was imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, timeout=120)
