"""Foresight drawn by the viewer (headless, SDL dummy): the foreseen paths over the game, coloured by fate with
the chosen one thicker, in the window and in recordings; its inputs as a block in the network panel; and a
genome without the sense drawing exactly what it drew before."""

from __future__ import annotations

import numpy as np
import pytest

from tilerunner.agent import CompiledNetwork
from tilerunner.envs import foresight as F
from tilerunner.envs import physics as P
from tilerunner.envs import render
from tilerunner.envs.buttons import N_BUTTONS
from tilerunner.envs.level import parse_level
from tilerunner.envs.observe import FEATURES, input_names, n_inputs
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.playback import Foreseen, Playback, foreseen_at
from tilerunner.evolve.runs.genome_json import genome_from_dict
from tilerunner.evolve.runs.replay import NetworkShape, make_replay
from tilerunner.evolve.viewer import foreseen, panels
from tilerunner.evolve.viewer.net_layout import BLOCK_R, MOVE_LABELS, NODE_R, PanelGeometry
from tilerunner.evolve.viewer.recording import record
from tilerunner.evolve.viewer.shows import ReplayShows, shows_of
from tilerunner.evolve.viewer.viewer import GAME_PX, STATUS_H, WIDTH, Viewer

SEES = ("jump", "foresight")
# Flat ground, a gap of three tiles, then a walker coming; 16 rows, as the built-in levels.
LEVEL = parse_level(
    "\n".join(["-" * 40] * 13 + ["-M-------------g----------------------F-"] + ["X" * 10 + "---" + "X" * 27] * 2)
    + "\n",
    "gap-and-walker.txt",
)
EDGE_OF_THE_GAP = 76  # the frame after a decision at the gap's edge (run, wait and back die, jump away, hop stomps)


def _node(key: int, bias: float) -> dict:
    return {
        "key": key,
        "bias": bias,
        "response": 1.0,
        "activation": "sigmoid",
        "aggregation": "sum",
        "time_constant": 1.0,
        "input_gate_bias": 0.0,
        "forget_gate_bias": 0.0,
        "output_gate_bias": 0.0,
        "memory": False,
    }


def _link(i: int, o: int, weight: float, innovation: int) -> dict:
    return {"in": i, "out": o, "innovation": innovation, "weight": weight, "enabled": True, "port": "cell"}


def runner_replay(features: tuple[str, ...] = SEES):
    """A genome holding Right and B, and A when foresight says running on dies (without foresight: never)."""
    names = input_names(6, features)
    src = {name: -(names.index(name) + 1) for name in names}
    nodes = [_node(0, -5.0), _node(1, 5.0), _node(2, -5.0), _node(3, -5.0), _node(4, -5.0), _node(5, 5.0)]
    first = src[names[0]]
    links = [_link(first, 1, 0.0, 1), _link(first, 5, 0.0, 2)]
    if "foresight" in features:
        links.append(_link(src["foresight.run.dies"], 4, 10.0, 3))
    genome = genome_from_dict({"key": 5, "fitness": 1.0, "nodes": nodes, "connections": links})
    shape = NetworkShape(n_inputs(6, features), N_BUTTONS)
    return make_replay(genome, shape, [LEVEL], EpisodeSettings(features=features))


def viewer_at(replay, frame: int) -> Viewer:
    v = Viewer(ReplayShows(shows_of(replay, "runner.json")), report=False)
    v.play_to(frame)
    return v


def game_view(v: Viewer) -> np.ndarray:
    """The viewer's game view as drawn, (height, width, 3)."""
    import pygame

    return pygame.surfarray.array3d(v.draw()).swapaxes(0, 1)[STATUS_H : STATUS_H + GAME_PX, :GAME_PX]


def bare_game(v: Viewer) -> np.ndarray:
    """The game view with nothing over it, as `panels.draw_game` draws it."""
    import pygame

    surface = pygame.Surface((GAME_PX, GAME_PX))
    pb = v.playback
    panels.draw_game(surface, pb.tiles, pb.state, pb.enemies)
    return pygame.surfarray.array3d(surface).swapaxes(0, 1)


def is_colour(image: np.ndarray, colour) -> np.ndarray:
    return np.all(image == np.array(colour, dtype=image.dtype), axis=-1)


def screen_points(v: Viewer, path: np.ndarray) -> list[tuple[int, int]]:
    """Where the viewer draws the player's centre for top-left positions `path` (level sub-pixels)."""
    pb = v.playback
    return foreseen.to_screen(path, render.camera_x(pb.tiles, pb.state), (2.0, 2.0))


def key_mask(v: Viewer) -> np.ndarray:
    """True over the key's box in the game view."""
    import pygame

    box = foreseen.fate_key_rect(pygame.Surface((GAME_PX, GAME_PX)), v.fonts.small)
    mask = np.zeros((GAME_PX, GAME_PX), bool)
    mask[box.top : box.bottom, box.left : box.right] = True
    return mask


@pytest.fixture(scope="module")
def at_the_gap():
    """A viewer of the runner just after its decision at the gap's edge, and its game view."""
    v = viewer_at(runner_replay(), EDGE_OF_THE_GAP)
    return v, game_view(v)


def test_the_playback_keeps_what_foresight_foresaw_without_changing_the_episode():
    replay = runner_replay()
    net = CompiledNetwork.create(replay.genome, replay.network)
    plain, seeing = Playback(net, LEVEL, replay.settings), Playback(net, LEVEL, replay.settings, foresee=True)
    plain.run()
    seeing.run()
    assert plain.decisions == seeing.decisions and plain.outcome() == seeing.outcome()
    assert plain.foreseen is None
    seeing.reset()
    for _ in range(EDGE_OF_THE_GAP):
        seeing.step()
    got = seeing.foreseen
    assert isinstance(got, Foreseen) and got.chosen == F.JUMP  # A pressed on the ground: the jump
    assert [move for move, _, _ in got.paths] == list(range(F.N_GROUND))  # on the ground: the ground moves
    fates = {move: fate for move, fate, _ in got.paths}
    assert fates[F.RUN] == F.DIES and len(set(fates.values())) >= 3  # at the edge: varied fates, as drawn below
    # The paths are foresight's own, from the world of the decision (frame 75), not of the frame shown.
    again = Playback(net, LEVEL, replay.settings)
    for _ in range(EDGE_OF_THE_GAP - 1):
        again.step()
    expected = F.foreseen_paths(again.tiles, again.state, again.enemies, 6, replay.settings.frame_skip)
    assert all(np.array_equal(a[2], b[2]) for a, b in zip(got.paths, expected, strict=True))
    assert got.origin == (int(again.state[P.S_X]), int(again.state[P.S_Y]))
    blind = runner_replay(("jump",))
    blind_playback = Playback(CompiledNetwork.create(blind.genome, blind.network), LEVEL, blind.settings, foresee=True)
    blind_playback.step()
    assert blind_playback.foreseen is None  # no sense, nothing foreseen to draw


def test_a_held_in_the_air_marks_the_move_without_a_once_the_lift_is_spent():
    tiles, state, enemies = P.new_world(LEVEL)
    state[P.S_GROUND] = 0
    state[P.S_Y] -= 3 * P.TILE
    state[P.S_VY] = 2 * P.SUB  # falling: no lift to keep
    held = foreseen_at(tiles, state, enemies, 6, 5, P.RIGHT | P.A | P.B)
    assert held.chosen == F.LET_GO and F.LET_GO in [m for m, _, _ in held.paths]
    assert F.KEEP_A not in [m for m, _, _ in held.paths]


def test_the_paths_are_drawn_in_their_fates_colours_in_front_of_the_player(at_the_gap):
    v, game = at_the_gap
    key = key_mask(v)
    changed = np.any(game != bare_game(v), axis=-1) & ~key
    pb = v.playback
    player_x = screen_points(v, np.array([[pb.state[P.S_X], pb.state[P.S_Y]]]))[0][0]
    fates = {fate for _, fate, _ in pb.foreseen.paths}
    assert len(fates) >= 3
    for fate in range(len(F.FATE_NAMES)):  # each fate foreseen in its colour, and no other fate's colour
        mine = (is_colour(game, panels.FATE_COLOURS[fate]) & changed).sum()
        assert mine > 40 if fate in fates else mine == 0, F.FATE_NAMES[fate]
    _, xs = np.nonzero(changed)
    assert (xs > player_x).mean() > 0.75  # at the gap's edge the moves go on (or fall) to the right
    # Only the paths are drawn over the game (besides the key): every changed pixel is near a path.
    near = np.zeros_like(changed)
    for _, _, path in pb.foreseen.paths:
        for x, y in screen_points(v, np.concatenate([np.array([pb.foreseen.origin]), path])):
            near[max(0, y - 9) : y + 10, max(0, x - 9) : x + 10] = True
    assert changed.sum() > 300 and not (changed & ~near).any()


def test_the_chosen_path_is_drawn_over_the_others_in_its_colour_all_along(at_the_gap):
    v, game = at_the_gap
    chosen = v.playback.foreseen.chosen
    ((fate, path),) = [(f, p) for m, f, p in v.playback.foreseen.paths if m == chosen]
    colour = panels.FATE_COLOURS[fate]
    key = key_mask(v)
    points = screen_points(v, path)
    inside = [(x, y) for x, y in points if 2 <= x < GAME_PX - 2 and 2 <= y < GAME_PX - 2 and not key[y, x]]
    assert len(inside) > 20
    for x, y in inside:  # thick: the pixels beside each point are its colour too
        plus = [game[y, x], game[y - 1, x], game[y + 1, x], game[y, x - 1], game[y, x + 1]]
        assert all(tuple(c) == colour for c in plus), (x, y)


def test_the_chosen_path_is_drawn_more_than_twice_as_thick():
    import pygame

    path = np.array([[x * P.SUB, 100 * P.SUB] for x in range(20, 120)], np.int64)
    state = np.zeros(P.STATE_SIZE, np.int64)  # the camera at the level's left edge
    counts = []
    for chosen in (F.RUN, F.WAIT):
        surface = pygame.Surface((GAME_PX, GAME_PX))
        surface.fill(render.SKY)
        drawn = Foreseen((20 * P.SUB, 100 * P.SUB), [(F.RUN, F.LANDS, path)], chosen)
        foreseen.draw_foreseen(surface, drawn, LEVEL.tiles, state)
        image = pygame.surfarray.array3d(surface).swapaxes(0, 1)
        green = is_colour(image, panels.FATE_COLOURS[F.LANDS])
        column = green[:, 2 * 60 + 6]  # across the line, half way along
        counts.append((green.sum(), column.sum()))
        assert is_colour(image, foreseen.EDGE)[:, 2 * 60 + 6].sum() >= 2  # a dark edge either side
    (thick, thick_across), (thin, thin_across) = counts
    assert thin_across == 2 and thick_across == 5  # at the viewer's 2x: a game pixel, and twice that and 1
    assert thick > 2 * thin


def test_a_death_ends_in_a_cross_and_a_landing_in_a_dot():
    import pygame

    images = {}
    path = np.array([[x * P.SUB, 50 * P.SUB] for x in range(10, 60)], np.int64)
    state = np.zeros(P.STATE_SIZE, np.int64)  # the camera at the level's left edge
    for fate in (F.LANDS, F.DIES):
        surface = pygame.Surface((GAME_PX, GAME_PX))
        surface.fill(render.SKY)
        drawn = Foreseen((10 * P.SUB, 50 * P.SUB), [(F.RUN, fate, path)], F.WAIT)
        foreseen.draw_foreseen(surface, drawn, LEVEL.tiles, state)
        images[fate] = is_colour(pygame.surfarray.array3d(surface).swapaxes(0, 1), panels.FATE_COLOURS[fate])
    ((x, y),) = foreseen.to_screen(path[-1:], 0, (2.0, 2.0))  # the player's centre at the path's end
    dot, cross = images[F.LANDS], images[F.DIES]
    assert dot[y, x] and cross[y, x]
    assert cross[y - 3, x - 3] and cross[y + 3, x + 3] and cross[y - 3, x + 3] and cross[y + 3, x - 3]
    assert not dot[y - 3, x - 3] and not dot[y + 3, x + 3]


def test_a_genome_without_foresight_draws_the_game_alone():
    v = viewer_at(runner_replay(("jump",)), EDGE_OF_THE_GAP)
    assert v.playback.foreseen is None
    assert np.array_equal(game_view(v), bare_game(v))


def test_the_key_names_every_fate_in_its_colour_at_the_top_right(at_the_gap):
    v, game = at_the_gap
    import pygame

    box = foreseen.fate_key_rect(pygame.Surface((GAME_PX, GAME_PX)), v.fonts.small)
    assert box.right < GAME_PX and box.top < 20 and box.left > GAME_PX // 2
    inside = game[box.top : box.bottom, box.left : box.right]
    for fate in range(len(F.FATE_NAMES)):
        assert is_colour(inside, panels.FATE_COLOURS[fate]).sum() >= 3 * foreseen.KEY_SAMPLE


def test_recordings_draw_the_paths_and_a_genome_without_foresight_records_the_game_alone(tmp_path):
    from PIL import Image

    for features, scale in ((SEES, 1), (SEES, 3), (("jump",), 2)):
        replay = runner_replay(features)
        folder = tmp_path / f"{len(features)}-{scale}"
        done = record(replay, [LEVEL], png_folder=folder, frame_step=EDGE_OF_THE_GAP, scale=scale)
        image = np.asarray(Image.open(done.png_files[1]).convert("RGB"))  # frame 76: at the gap
        net = CompiledNetwork.create(replay.genome, replay.network)
        playback = Playback(net, LEVEL, replay.settings, foresee=True)
        for _ in range(EDGE_OF_THE_GAP):
            playback.step()
        bare = render.frame(playback.tiles, playback.state, playback.enemies)
        bare = np.repeat(np.repeat(bare, scale, axis=0), scale, axis=1)
        assert image.shape == bare.shape
        if "foresight" not in features:
            assert np.array_equal(image, bare)
            continue
        changed = np.any(image != bare, axis=-1)
        for _, fate, _ in playback.foreseen.paths:
            assert (is_colour(image, panels.FATE_COLOURS[fate]) & changed).sum() > 10 * scale, (scale, fate)


# ---------------------------------------------------------------------------------------------
# The network panel: foresight's inputs as a block


def test_foresights_inputs_are_a_block_of_nodes_filled_by_their_values(at_the_gap):
    import pygame

    v, _ = at_the_gap
    geo = v.layout.geometry
    panel = pygame.surfarray.array3d(v.draw()).swapaxes(0, 1)[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]
    block = geo.foresight_block
    names = input_names(6, SEES)
    part = geo.slices["foresight"]
    assert block is not None and [name for name, _, _ in geo.labelled_rows] == ["jump"]
    xy = {index: geo.input_xy(index) for index in range(part.start, part.stop)}
    assert len(set(xy.values())) == F.N_INPUTS
    for index, (x, y) in xy.items():
        move, k = divmod(index - part.start, F.N_PARTS)
        assert names[index] == f"foresight.{F.MOVES[move]}.{F.PARTS[k]}"
        assert (x, y) == (block.column_x(k), block.row_y(move)) == v.layout.positions[-(index + 1)]
        assert tuple(panel[round(y), round(x)]) == panels.node_fill(float(v.playback.inputs[index]))
    # Rows are moves and columns parts, a pitch apart; the block is as tall as about nine labelled nodes.
    xs, ys = sorted({x for x, _ in xy.values()}), sorted({y for _, y in xy.values()})
    assert len(xs) == F.N_PARTS and len(ys) == len(F.MOVES)
    assert np.allclose(np.diff(xs), block.pitch) and np.allclose(np.diff(ys), block.pitch)
    assert block.pitch >= 2 * BLOCK_R + 2 and ys[-1] - ys[0] < 9 * 16


def test_the_moves_labels_take_their_fates_colours(at_the_gap):
    import pygame

    v, _ = at_the_gap
    geo = v.layout.geometry
    panel = pygame.surfarray.array3d(v.draw()).swapaxes(0, 1)[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]
    values = v.playback.inputs[geo.slices["foresight"]].reshape(len(F.MOVES), F.N_PARTS)
    texts = panels.foresight_block_texts(geo, values, v.fonts)
    colours = {text: colour for text, colour, _ in texts}
    paths = v.playback.foreseen.paths
    assert [colours[MOVE_LABELS[m]] for m, _, _ in paths] == [panels.FATE_COLOURS[f] for _, f, _ in paths]
    assert len({colours[MOVE_LABELS[m]] for m, _, _ in paths}) >= 3  # as many colours as fates
    assert colours["keep A"] == colours["let go"] == colours["drift"] == colours["steer"] == panels.DIM_TEXT
    assert [t for t, _, _ in texts[1:6]] == ["p", "d", "s", "a", "f"]
    for text, colour, box in texts:
        inside = panel[box.top : box.bottom, box.left : box.right]
        assert is_colour(inside, colour).sum() >= 2 * len(text.replace(" ", "")), text


@pytest.mark.parametrize(
    "features", [SEES, ("foresight",), tuple(f for f in FEATURES if f != "no-grid")], ids=["jump", "alone", "all"]
)
@pytest.mark.parametrize("radius", [6, 10])
def test_the_block_fits_the_viewers_panel_beside_the_grid_without_overlaps(features, radius):
    import pygame

    fonts = panels.Fonts()
    geo = PanelGeometry(WIDTH - GAME_PX, GAME_PX, radius, N_BUTTONS, features)
    block = geo.foresight_block
    grid_right = geo.grid_origin[0] + geo.cell * geo.grid_size
    values = np.zeros((len(F.MOVES), F.N_PARTS))
    texts = [box for _, _, box in panels.foresight_block_texts(geo, values, fonts)]
    texts += [box for _, _, box in panels.input_label_boxes(geo, fonts)]
    nodes = [
        pygame.Rect(round(x) - BLOCK_R, round(y) - BLOCK_R, 2 * BLOCK_R + 1, 2 * BLOCK_R + 1)
        for x, y in block.inputs().values()
    ]
    nodes += [
        pygame.Rect(geo.node_x - NODE_R, round(y) - NODE_R, 2 * NODE_R + 1, 2 * NODE_R + 1)
        for _, _, inputs in geo.labelled_rows
        for _, _, y in inputs
    ]
    things = texts + nodes
    for k, a in enumerate(things):
        assert a.left > grid_right and a.top >= 0 and a.bottom <= geo.height - 16, a  # above the caption
        assert not any(a.colliderect(b) for b in things[k + 1 :]), a
    x0, _, x1, _ = geo.hidden_box
    assert x0 > max(r.right for r in things) and x1 - x0 > 120  # room left for the hidden nodes
    # The grid is as large as beside an ordinary labelled column: the block's extra width comes from the band.
    without = tuple(f for f in features if f != "foresight") or ("jump",)
    assert geo.cell == PanelGeometry(geo.width, geo.height, radius, N_BUTTONS, without).cell
    positions = [geo.input_xy(i) for i in range(n_inputs(radius, features))]
    assert len(set(positions)) == len(positions)


def test_without_foresight_the_panel_is_laid_out_as_before():
    for features in ((), ("jump",), ("speed", "jump", "position", "probes")):
        geo = PanelGeometry(WIDTH - GAME_PX, GAME_PX, 6, N_BUTTONS, features)
        assert geo.foresight_block is None
        assert geo.cell == (18 if not features else 13)
