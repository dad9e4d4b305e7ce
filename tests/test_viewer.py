"""The live viewer, drawn headless (SDL dummy driver): pixels of known genomes, keys, sources, and the commands."""

from __future__ import annotations

import json
import math
import os
import pathlib
import re
import signal
import subprocess
import time

import numpy as np
import pytest

from tilerunner.envs import render
from tilerunner.envs.buttons import N_BUTTONS, RIGHT, A, mask_from_outputs, pressed
from tilerunner.envs.level import load_level, parse_level
from tilerunner.envs.observe import FEATURES, input_names, n_inputs
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.runs.genome_json import genome_from_dict
from tilerunner.evolve.runs.replay import NetworkShape, load_replay, make_replay
from tilerunner.evolve.viewer import panels
from tilerunner.evolve.viewer.human_play import GRID_CELL, HumanPlay
from tilerunner.evolve.viewer.net_layout import NODE_R, PanelGeometry, input_slices, layout_network
from tilerunner.evolve.viewer.shows import LevelSetShows, ReplayShows, RunFollower, Show, ShowSource, shows_of
from tilerunner.evolve.viewer.viewer import (
    BOTTOM_Y,
    GAME_PX,
    HEIGHT,
    INFO_W,
    MAX_STEPS_PER_DRAW,
    STATUS_H,
    WIDTH,
    Viewer,
    rule_text,
    screenshot_middle,
)

ROOT = pathlib.Path(__file__).resolve().parents[1]
SHIPPED_1_1 = ROOT / "replays" / "1-1-f2475.json"  # the shipped champion of 1-1
NETWORK = NetworkShape(169, N_BUTTONS, memory_cells=True)
BELOW = 7 * 13 + 6  # the input cell just below the player's: solid while standing on the ground


def _node(key, bias=0.0, memory=False):
    return {
        "key": key,
        "bias": bias,
        "response": 1.0,
        "activation": "sigmoid",
        "aggregation": "sum",
        "time_constant": 1.0,
        "input_gate_bias": -3.0 if memory else 0.0,
        "forget_gate_bias": 4.0 if memory else 0.0,
        "output_gate_bias": 0.0,
        "memory": memory,
    }


def _link(i, o, weight, innovation, port="cell", enabled=True):
    return {"in": i, "out": o, "innovation": innovation, "weight": weight, "enabled": enabled, "port": port}


def known_genome(key=7):
    """Right (+4 from the cell below the player) and B (bias +5) are pressed on the ground; Left, Up, Down, A not.

    (An output with no enabled input is never evaluated and stays 0, as in neat-python, so B has a link too.)

    Hidden node 10 is ordinary and fed by a negative weight; node 11 is a memory cell.
    """
    below = -(BELOW + 1)
    nodes = [
        _node(0, -5.0),
        _node(1, -2.0),
        _node(2, -5.0),
        _node(3, -5.0),
        _node(4, -5.0),
        _node(5, 5.0),
        _node(10, 0.0),
        _node(11, 0.0, memory=True),
    ]
    links = [
        _link(below, 1, 4.0, 1),
        _link(below, 10, -3.0, 2),
        _link(10, 0, 1.0, 3),
        _link(below, 11, 2.0, 4),
        _link(11, 4, 1.0, 5),
        _link(-1, 2, 1.0, 6, enabled=False),
        _link(below, 5, 0.5, 7),
    ]
    return genome_from_dict({"key": key, "fitness": 123.0, "nodes": nodes, "connections": links})


@pytest.fixture(scope="module")
def replay():
    return make_replay(known_genome(), NETWORK, [load_level("1-1")], EpisodeSettings(), seed=0, generation=3)


def viewer_for(replay, **kw) -> Viewer:
    return Viewer(ReplayShows(shows_of(replay, "known.json")), **kw)


def pixels(surface) -> np.ndarray:
    import pygame

    return pygame.surfarray.array3d(surface).swapaxes(0, 1)  # (height, width, 3)


def is_colour(image: np.ndarray, colour) -> np.ndarray:
    return np.all(image == np.array(colour, dtype=image.dtype), axis=-1)


def png_pixels(path) -> np.ndarray:
    """The pixels of a PNG file, (height, width, 3)."""
    import pygame

    return pixels(pygame.image.load(str(path)))


def assert_shows_a_game(image: np.ndarray) -> None:
    """A whole viewer picture whose game view shows a level (sky and more) and whose status line has text."""
    assert image.shape == (HEIGHT, WIDTH, 3)
    game = image[STATUS_H : STATUS_H + GAME_PX, :GAME_PX]
    assert 0.2 < is_colour(game, render.SKY).mean() < 0.95  # sky, and things drawn in it
    assert len(np.unique(game.reshape(-1, 3), axis=0)) > 10
    assert (~is_colour(image[:STATUS_H], panels.PANEL)).sum() > 500  # the status line's text


def frames_drawn(out: str) -> int:
    """The count in the viewer's closing line, `viewer: N frames drawn in ...`."""
    match = re.search(r"^viewer: (\d+) frames drawn in [\d.]+ s", out, re.MULTILINE)
    assert match, out
    return int(match.group(1))


@pytest.fixture
def drawn(replay):
    """A viewer 40 frames into the episode (standing on the ground), drawn; and the network panel's pixels."""
    v = viewer_for(replay)
    v.step(40)
    image = pixels(v.draw())
    return v, image, image[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]


# ---------------------------------------------------------------------------------------------
# Pixels


def lit_labels(layout, panel) -> list[int]:
    """The outputs whose label is drawn lit in the network panel's pixels."""
    lit = []
    for output in range(N_BUTTONS):
        box = panels.label_rect(layout, output)
        share = is_colour(panel[box.top : box.bottom, box.left : box.right], panels.LIT_LABEL).mean()
        assert share > 0.5 or share == 0.0, f"output {output}'s label is half lit ({share:.2f})"
        if share > 0.5:
            lit.append(output)
    return lit


def test_a_pressed_buttons_label_is_lit_and_the_others_are_not(drawn):
    v, _, panel = drawn
    assert v.playback.outputs[1] > 0.5 and v.playback.outputs[5] > 0.5 and v.playback.outputs[0] < 0.5
    assert lit_labels(v.layout, panel) == [1, 5]
    # The labels show exactly the mask the game is given.
    assert np.flatnonzero(pressed(v.playback.buttons)).tolist() == [1, 5]


def test_labels_light_by_the_shared_button_mask(replay):
    """A label is lit when its bit is set in `mask_from_outputs(outputs, threshold)`, whatever the threshold."""
    v = viewer_for(replay)
    v.step(40)
    outputs, net = v.playback.outputs, v.playback.net
    active = int(net.active[0])
    panel = v.canvas.subsurface((GAME_PX, STATUS_H, WIDTH - GAME_PX, GAME_PX))
    seen = set()
    for threshold in (0.0, 0.5, float(outputs[1]), 0.999):  # outputs[1]: Right sits exactly on it, not above
        panels.draw_network(
            panel,
            v.layout,
            v.playback.observation,
            net.values[active],
            net.values[1 - active],
            net.cells,
            outputs,
            threshold,
            v.fonts,
        )
        expected = np.flatnonzero(pressed(mask_from_outputs(outputs, threshold))).tolist()
        assert lit_labels(v.layout, pixels(panel)) == expected, threshold
        seen.add(tuple(expected))
    assert len(seen) >= 3  # the thresholds really light different sets of labels
    assert len(panels.BUTTON_LABELS) == N_BUTTONS


def _along(layout, src, dst, t):
    (x0, y0), (x1, y1) = layout.positions[src], layout.positions[dst]
    return round(x0 + (x1 - x0) * t), round(y0 + (y1 - y0) * t)


def test_links_carry_the_colour_of_their_weights_sign_at_full_strength(drawn):
    v, _, panel = drawn
    below = -(BELOW + 1)
    # The cell below is solid (1.0): the +4 link to Right and the -3 link to node 10 carry |w x 1| >= 1.
    x, y = _along(v.layout, below, 1, 0.6)
    assert tuple(panel[y, x]) == panels.POSITIVE
    x, y = _along(v.layout, below, 10, 0.5)
    assert tuple(panel[y, x]) == panels.NEGATIVE


def test_a_disabled_link_is_not_drawn(replay):
    v = viewer_for(replay)
    assert all((link.src, link.dst) != (-1, 2) for link in v.layout.links)


def _distance_to_segment(p, a, b) -> float:
    p, a, b = (np.asarray(q, dtype=float) for q in (p, a, b))
    ab = b - a
    t = np.clip(np.dot(p - a, ab) / max(np.dot(ab, ab), 1e-9), 0, 1)
    return float(np.linalg.norm(p - (a + t * ab)))


def test_the_input_grid_shows_the_observation(drawn):
    v, _, panel = drawn
    obs = v.playback.observation
    assert (obs == 1).any() and (obs == 0).any()
    geo = v.layout.geometry
    segments = [(v.layout.positions[link.src], v.layout.positions[link.dst]) for link in v.layout.links]
    checked = 0
    for i in range(13):
        for j in range(13):
            cx, cy = geo.input_xy(i * 13 + j)
            if any(_distance_to_segment((cx, cy), a, b) < 4 for a, b in segments):
                continue  # a link is drawn over this cell's centre
            assert tuple(panel[int(cy), int(cx)]) == panels.cell_colour(obs[i, j]), (i, j)
            checked += 1
    assert checked > 150
    # The player's cell is outlined.
    gx, gy = geo.grid_origin
    edge = panel[gy + 6 * geo.cell, gx + 6 * geo.cell : gx + 7 * geo.cell]
    assert is_colour(edge, panels.PLAYER_MARK).mean() > 0.8


def test_an_enemy_in_view_is_drawn_as_an_enemy_cell():
    shipped = load_replay(SHIPPED_1_1)
    v = viewer_for(shipped)
    while not (v.playback.observation == -1).any():
        assert v.playback.step(), "the 1-1 champion never saw an enemy"
    panel = pixels(v.draw())[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]
    i, j = np.argwhere(v.playback.observation == -1)[0]
    gx, gy = v.layout.geometry.grid_origin
    cell = v.layout.geometry.cell
    x0, y0 = gx + int(j) * cell, gy + int(i) * cell
    assert is_colour(panel[y0 : y0 + cell - 1, x0 : x0 + cell - 1], panels.ENEMY_CELL).mean() > 0.5


def test_memory_cells_are_drawn_differently_from_ordinary_nodes(drawn):
    v, _, panel = drawn
    assert v.layout.memory == {11}

    def outline_near(key):
        x, y = (round(c) for c in v.layout.positions[key])
        return is_colour(panel[y - 10 : y + 11, x - 10 : x + 11], panels.MEMORY_OUTLINE).sum()

    assert outline_near(11) > 20 and outline_near(10) == 0
    # Its cell state is visible: the bar beside it is filled (the cell has stored a positive input).
    assert v.playback.net.cells[v.layout.cells[11]] > 0
    x, y = (round(c) for c in v.layout.positions[11])
    assert is_colour(panel[y - 9 : y + 1, x + 12 : x + 15], panels.POSITIVE).sum() > 3


def test_node_fill_follows_its_value(drawn):
    v, _, panel = drawn
    x, y = (round(c) for c in v.layout.positions[5])  # B: bias +5, value ~1
    assert tuple(panel[y, x]) == panels.node_fill(v.playback.outputs[5]) == (255, 255, 255)
    x, y = (round(c) for c in v.layout.positions[0])  # Left: ~0
    assert tuple(panel[y, x]) == panels.node_fill(v.playback.outputs[0])
    assert sum(panel[y, x]) < 200


def test_the_status_line_names_what_is_playing(drawn):
    v, image, _ = drawn
    text = v.status_text()
    for part in ("level 1-1", "gen 3", "species -", "genome 7", "fitness ", "best 123.0", "frame 40", "speed 1x"):
        assert part in text
    assert (image[:STATUS_H] != panels.PANEL).any(axis=-1).sum() > 500  # the text is there


# ---------------------------------------------------------------------------------------------
# Layout


def test_layout_places_inputs_on_the_grid_and_hidden_nodes_apart_between(replay):
    geo = PanelGeometry(WIDTH - GAME_PX, GAME_PX)
    layout = layout_network(replay.genome, replay.network, geo)
    assert layout.positions[-1] == geo.input_xy(0) and layout.positions[-(BELOW + 1)] == geo.input_xy(BELOW)
    x0, y0, x1, y1 = geo.hidden_box
    for key in layout.hidden:
        x, y = layout.positions[key]
        assert x0 <= x <= x1 and y0 <= y <= y1
    (ax, ay), (bx, by) = layout.positions[10], layout.positions[11]
    assert math.hypot(ax - bx, ay - by) >= geo.spacing * 0.95
    assert layout_network(replay.genome, replay.network, geo).positions == layout.positions  # deterministic


def test_a_crowded_layout_keeps_nodes_apart_and_a_new_champion_keeps_shared_nodes_still(replay):
    data = json.loads(json.dumps(replay.as_dict()["genome"]))
    for k in range(20, 32):  # twelve more hidden nodes, each between an input and an output
        data["nodes"].append(_node(k))
        data["connections"].append(_link(-(k * 7 % 169 + 1), k, 1.0, 100 + k))
        data["connections"].append(_link(k, k % N_BUTTONS, 1.0, 200 + k))
    crowded = genome_from_dict(data)
    geo = PanelGeometry(WIDTH - GAME_PX, GAME_PX)
    first = layout_network(crowded, NETWORK, geo)
    pts = np.array([first.positions[k] for k in first.hidden])
    gaps = np.sqrt(((pts[:, None] - pts[None]) ** 2).sum(-1)) + np.eye(len(pts)) * 1e9
    assert gaps.min() >= geo.spacing * 0.9
    data["nodes"].append(_node(40))
    data["connections"].append(_link(-5, 40, 1.0, 400))
    data["connections"].append(_link(40, 2, 1.0, 401))
    second = layout_network(genome_from_dict(data), NETWORK, geo, previous=first)
    moved = [math.dist(first.positions[k], second.positions[k]) for k in first.hidden]
    assert np.median(moved) < 10  # one new node: the rest of the drawing barely moves


# ---------------------------------------------------------------------------------------------
# Observation features: the enemies' grid, labelled inputs, the jump rule

ALL = tuple(f for f in FEATURES if f != "no-grid")  # every sense on top of the grid (no-grid takes it away)
# A walker (g) two tiles right of the start and a spiky (y) four tiles right, on flat ground.
ENEMIES = parse_level("-------------------\n-M-g-y------------F\nXXXXXXXXXXXXXXXXXXX\n", "enemies.txt")


def featured_genome(features, radius=6):
    """Right fed by the enemy-grid cell of the walker (or the grid's), A by `may jump`, B by `vx`, Down by `lift`."""
    names = input_names(radius, features)
    walker = f"[{radius + 1},{radius + 2}]"  # where the walker is seen at the second decision (frame 5)
    src = {name: -(names.index(name) + 1) for name in names}
    nodes = [_node(0, -5.0), _node(1, 0.0), _node(2, -5.0), _node(3, -5.0), _node(4, 0.0), _node(5, 5.0)]
    enemy_cell = f"enemy-grid{walker}" if "enemy-grid" in features else f"grid{walker}"
    links = [
        _link(src[enemy_cell], 1, -4.0, 1),
        _link(src["jump.may_jump"], 4, 2.0, 2),
        _link(src["speed.vx"], 5, 1.0, 3),
        _link(src["jump.can_jump_higher"], 3, 1.0, 4),
        _link(src["probes.gap_distance"], 2, 1.0, 5),
    ]
    return genome_from_dict({"key": 9, "fitness": 1.0, "nodes": nodes, "connections": links})


@pytest.fixture(scope="module")
def featured():
    """A viewer of a genome that sees every feature, under the press rule, with the enemies awake and in view."""
    settings = EpisodeSettings(features=ALL, jump_rule="press")
    shape = NetworkShape(n_inputs(6, ALL), N_BUTTONS)
    v = Viewer(
        ReplayShows(shows_of(make_replay(featured_genome(ALL), shape, [ENEMIES], settings), "all.json")), report=False
    )
    v.step(6)  # the enemies woke on the first frame; the second decision (frame 5) saw them
    image = pixels(v.draw())
    return v, image, image[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]


def test_the_enemy_grid_is_drawn_as_a_second_grid_with_its_inputs_on_its_cells(featured):
    v, _, panel = featured
    geo, size = v.layout.geometry, 13
    part = input_slices(6, ALL)["enemy-grid"]
    enemies = v.playback.inputs[part].reshape(size, size)
    assert (enemies == -0.5).sum() == 1 and (enemies == -1).sum() == 1  # the walker and the spiky
    assert (v.playback.observation >= 0).all()  # the first grid then shows tiles only
    (gx, gy), (ex, ey) = geo.grid_origins
    assert ex == gx and ey >= gy + size * geo.cell  # under the first grid
    for i in range(size):
        for j in range(size):
            x, y = geo.input_xy(part.start + i * size + j)
            assert (x, y) == (ex + (j + 0.5) * geo.cell, ey + (i + 0.5) * geo.cell)
            # Each cell in its colour (sampled off-centre, clear of links leaving the centre), as the first grid's.
            assert tuple(panel[ey + i * geo.cell + 1, ex + j * geo.cell + 1]) == panels.cell_colour(enemies[i, j])
    ((i0, j0),) = np.argwhere(enemies == -1)
    assert tuple(panel[ey + i0 * geo.cell + 1, ex + j0 * geo.cell + 1]) == panels.ENEMY_CELL
    assert not is_colour(panel[gy : gy + size * geo.cell, gx : gx + size * geo.cell], panels.ENEMY_CELL).any()
    # The link from the walker's enemy cell starts there and is drawn at full strength (-4 x -0.5 carried).
    ((i1, j1),) = np.argwhere(enemies == -0.5)
    src = -(part.start + i1 * size + j1 + 1)
    assert any(link.src == src for link in v.layout.links)
    assert v.layout.positions[src] == (ex + (j1 + 0.5) * geo.cell, ey + (i1 + 0.5) * geo.cell)
    x0, _, x1, _ = geo.hidden_box
    (ax, ay), (bx, by) = v.layout.positions[src], v.layout.positions[1]
    t = ((x0 + x1) / 2 - ax) / (bx - ax)  # in the band between the inputs and the outputs
    assert tuple(panel[round(ay + (by - ay) * t), round(ax + (bx - ax) * t)]) == panels.NEGATIVE


def test_every_labelled_input_is_a_node_filled_by_its_value(featured):
    v, _, panel = featured
    geo = v.layout.geometry
    rows = geo.labelled_rows
    assert [name for name, _, _ in rows] == ["speed", "jump", "position", "probes"]
    labels = [label for _, _, inputs in rows for _, label, _ in inputs]
    assert labels == [
        "vx",
        "vy",
        "ground",
        "ground",
        "may jump",
        "lift",
        "x",
        "y",
        "gap",
        "gap w",
        "wall",
        "wall h",
        "enemy dx",
        "enemy dy",
        "kind",
    ]
    names = input_names(6, ALL)
    fills = set()
    for _, _, inputs in rows:
        for index, _, _ in inputs:
            assert names[index].split(".")[0] in ALL  # a feature's input, not a grid cell
            x, y = (round(c) for c in geo.input_xy(index))
            assert (x, y) == tuple(round(c) for c in v.layout.positions[-(index + 1)])
            fill = panels.node_fill(float(v.playback.inputs[index]))
            assert tuple(panel[y, x]) == fill, names[index]
            assert is_colour(panel[y - 8 : y + 9, x - 8 : x + 9], panels.NODE_OUTLINE).sum() > 10
            fills.add(fill)
    assert len(fills) >= 3  # on the ground, nothing in the way: white, dark and between
    # Each label's text is drawn in its box, and nothing but the panel colour and text is in it.
    for text, colour, box in panels.input_label_boxes(geo, v.fonts):
        inside = panel[box.top : box.bottom, box.left : box.right]
        assert is_colour(inside, colour).sum() >= 2 * len(text.replace(" ", "")), text
        # Only blends of the text's colour over the panel's (anti-aliasing): no link crosses it.
        bg, fg = np.array(panels.PANEL, float), np.array(colour, float)
        t = np.clip((inside - bg) @ (fg - bg) / ((fg - bg) @ (fg - bg)), 0, 1)
        assert np.abs(inside - bg - t[..., None] * (fg - bg)).max() < 6, text


@pytest.mark.parametrize("radius", [6, 10, 20])
def test_all_features_fit_the_panel_without_overlaps(radius):
    import pygame

    fonts = panels.Fonts()
    geo = PanelGeometry(WIDTH - GAME_PX, GAME_PX, radius, N_BUTTONS, ALL)
    size = 2 * radius + 1
    grid = size * geo.cell
    (gx, gy), (ex, ey) = geo.grid_origins
    caption_top = geo.height - 16
    assert gy - panels_title_room() >= 0 and ey + grid <= caption_top and ey - gy >= grid + 8
    boxes = [box for _, _, box in panels.input_label_boxes(geo, fonts)]
    nodes = [
        pygame.Rect(geo.node_x - NODE_R, round(y) - NODE_R, 2 * NODE_R + 1, 2 * NODE_R + 1)
        for _, _, inputs in geo.labelled_rows
        for _, _, y in inputs
    ]
    things = boxes + nodes
    for k, a in enumerate(things):
        assert a.left > gx + grid and a.top >= 0 and a.bottom <= caption_top, a  # right of the grids, inside
        assert not any(a.colliderect(b) for b in things[k + 1 :]), a
    x0, y0, x1, y1 = geo.hidden_box
    assert x0 > max(r.right for r in things) and x1 - x0 > 120  # room left for the hidden nodes
    positions = [geo.input_xy(i) for i in range(n_inputs(radius, ALL))]
    assert len(set(positions)) == len(positions)  # no two inputs in one place


def panels_title_room() -> int:
    from tilerunner.evolve.viewer.net_layout import TITLE_H

    return TITLE_H


def test_features_without_extra_nodes_keep_the_plain_layout(replay):
    plain = PanelGeometry(WIDTH - GAME_PX, GAME_PX)
    kinds = PanelGeometry(WIDTH - GAME_PX, GAME_PX, features=("enemy-kinds",))
    assert plain.cell == kinds.cell == 18 and plain.grid_origin == kinds.grid_origin
    assert not kinds.labelled_rows and kinds.hidden_box == plain.hidden_box
    assert [kinds.input_xy(i) for i in range(169)] == [plain.input_xy(i) for i in range(169)]


def test_the_info_panel_shows_the_jump_rule_and_the_senses(featured, drawn):
    import pygame

    for (v, image, _), rule in ((featured, "press"), (drawn, "hold")):
        assert v.playback.settings.jump_rule == rule
        lines = [rule_text(rule)]
        assert lines[0].startswith(f"jump rule: {rule} (")
        if v.playback.settings.features:
            lines += ["senses: speed, enemy-kinds, jump, enemy-grid, position, probes"]
        info = image[BOTTOM_Y:, :INFO_W]
        font = v.fonts.normal
        # draw_text_lines: from (10, 8), a line every font height + 2; the rule comes after the six first lines.
        y = 8 + 6 * (font.get_height() + 2)
        expected = pygame.Surface((INFO_W, font.get_height()))
        expected.fill(panels.PANEL)
        expected.blit(font.render(lines[0], True, panels.TEXT), (10, 0))
        assert np.array_equal(info[y : y + font.get_height()], pixels(expected))
        below = info[y + font.get_height() + 2 :]
        assert (~is_colour(below, panels.PANEL)).sum() > (200 if len(lines) > 1 else -1)  # the senses line(s)
        if len(lines) == 1:
            assert is_colour(below, panels.PANEL).all()  # nothing more without features


# ---------------------------------------------------------------------------------------------
# Keys, screenshots, the window loop


def test_keys_pause_step_speed_help_screenshot_and_quit(replay, tmp_path):
    import pygame

    v = viewer_for(replay, screenshot_dir=tmp_path)
    v.step(10)
    assert v.handle_key(pygame.K_SPACE) and v.paused
    before = v.playback.frame
    v.handle_key(pygame.K_RIGHT)
    assert v.playback.frame == before + 1
    v.handle_key(pygame.K_PLUS)
    assert v.speed == 2.0
    v.handle_key(pygame.K_MINUS)
    v.handle_key(pygame.K_MINUS)
    assert v.speed == 0.5
    plain = pixels(v.draw()).copy()
    v.handle_key(pygame.K_h)
    assert v.help and (pixels(v.draw()) != plain).any()
    v.handle_key(pygame.K_s)
    shots = list(tmp_path.glob("*.png"))
    assert len(shots) == 1
    shot = png_pixels(shots[0])
    assert np.array_equal(shot, pixels(v.canvas))  # the picture is what the window shows, help and all
    assert_shows_a_game(shot)
    assert v.handle_key(pygame.K_ESCAPE) is False


def test_n_moves_to_the_next_genome(replay):
    import pygame

    other = make_replay(known_genome(key=8), NETWORK, [load_level("1-2")], EpisodeSettings(), generation=4)
    v = Viewer(ReplayShows(shows_of(replay, "a.json") + shows_of(other, "b.json")))
    v.step(30)
    v.handle_key(pygame.K_n)
    assert v.show.label == "b.json" and v.show.level.id == "1-2" and v.playback.frame == 0
    v.handle_key(pygame.K_n)
    assert v.show.label == "a.json"


def test_the_window_plays_to_the_end_closes_and_says_how_it_went(replay, capsys):
    v = viewer_for(replay, speed=32.0)
    shown = v.run()  # not looping: it closes after the one episode
    assert v.playback.done
    outcome = replay.episodes[0].outcome
    # Each drawn frame advances the game by at most MAX_STEPS_PER_DRAW frames, however slow the machine.
    assert shown["frames_drawn"] >= math.ceil(outcome.frames / MAX_STEPS_PER_DRAW) > 1
    assert capsys.readouterr().out == f"1-1: {outcome.describe()}, fitness {outcome.fitness:.1f}\n"
    viewer_for(replay, speed=32.0, report=False).run()
    assert capsys.readouterr().out == ""


def test_a_viewer_closes_by_itself_when_its_parent_is_gone(replay):
    # This process is not its own parent: to the viewer, the process that started it is gone.
    orphan = viewer_for(replay, speed=0.125, parent_pid=os.getpid())
    shown = orphan.run()  # no duration, and the episode would take two minutes at this speed
    assert shown["frames_drawn"] > 0 and not orphan.playback.done
    # With its parent alive it plays on (here until its duration).
    child = viewer_for(replay, speed=0.125, parent_pid=os.getppid(), duration=1.2)
    assert child.run()["seconds"] >= 1.2 and not child.playback.done


def _closing_on_sigterm(viewer: Viewer, handler) -> dict:
    """Run `viewer` while its source's every poll ends in a finalizer that sends this process SIGTERM."""

    class SendsSigtermWhenCollected:
        def __del__(self):
            os.kill(os.getpid(), signal.SIGTERM)
            sum(range(10_000))  # the handler runs here, inside the finalizer

    poll = viewer.source.poll

    def poll_then_finalize():
        poll()
        SendsSigtermWhenCollected()  # made and collected at once

    viewer.source.poll = poll_then_finalize
    previous = signal.signal(signal.SIGTERM, handler)
    try:
        return viewer.run()
    finally:
        signal.signal(signal.SIGTERM, previous)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")  # the old way's lost exception
def test_sigterm_closes_the_viewer_even_when_it_lands_in_a_finalizer(replay):
    # How `tilerunner watch` and `bench watch` close a viewer: SIGTERM sets `close_requested`. An exception
    # raised by the handler instead is lost when the signal lands in a finalizer (Numba runs many while it
    # compiles): such a viewer played on, and `bench watch` waited for it forever.
    viewer = viewer_for(replay, speed=0.125, duration=8.0, report=False)
    shown = _closing_on_sigterm(viewer, lambda signum, frame: viewer.close_requested.set())
    assert shown["seconds"] < 4.0 and not viewer.playback.done

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    lost = viewer_for(replay, speed=0.125, duration=2.0, report=False)
    assert _closing_on_sigterm(lost, raise_interrupt)["seconds"] >= 2.0  # the old way: the request was lost


def test_screenshot_is_taken_from_the_middle_of_the_episode(replay, tmp_path):
    v = viewer_for(replay)
    length = replay.episodes[0].outcome.frames
    path = screenshot_middle(v, tmp_path / "shot.png")
    assert v.playback.frame == length // 2
    shot = png_pixels(path)
    assert np.array_equal(shot, pixels(v.draw()))  # the viewer at that frame
    assert_shows_a_game(shot)
    assert not np.array_equal(shot, pixels(viewer_for(replay).draw()))  # not the first frame


# ---------------------------------------------------------------------------------------------
# Following a run folder


def _champion(folder: pathlib.Path, generation: int, replay) -> pathlib.Path:
    folder.joinpath("champions").mkdir(parents=True, exist_ok=True)
    path = folder / "champions" / f"gen-{generation:04d}.json"
    replay.save(path)
    return path


def test_following_a_run_switches_to_a_newer_champion_after_the_episode(replay, tmp_path):
    run = tmp_path / "run"
    follower = RunFollower(run)
    assert follower.current() is None and "waiting" in follower.waiting
    _champion(run, 0, replay)
    follower.poll()
    assert follower.current().replay.genome.key == 7
    newer = make_replay(known_genome(key=9), NETWORK, [load_level("1-1")], EpisodeSettings(), generation=5)
    _champion(run, 5, newer)
    follower.poll()
    assert follower.current().replay.genome.key == 7 and "newer champion" in follower.status()
    assert follower.after().replay.genome.key == 9
    assert follower.next().replay.genome.key == 7  # N: round the champions, oldest next after the newest
    (run / "champions" / "gen-0009.json").write_text("{not json")
    follower.poll()
    follower.after()
    assert follower.current().replay.genome.key == 7 and follower.warnings  # the broken file is skipped, said once


def test_both_sources_declare_the_whole_interface(replay, tmp_path):
    replays = ReplayShows(shows_of(replay, "known.json"))
    follower = RunFollower(tmp_path / "run")
    level_set = LevelSetShows([("known.json", replay)], [load_level("1-1"), load_level("1-2")])
    for source in (replays, follower, level_set):
        assert isinstance(source, ShowSource)
        assert isinstance(source.waiting, str) and source.waiting
        assert source.warnings == []
        assert isinstance(source.status(), str) and source.stats() == []
    assert ShowSource.__abstractmethods__ == {"current", "after", "next", "poll", "stats", "status"}
    # The tally members are optional: only a level set keeps one.
    assert replays.tally() is None and follower.tally() is None and level_set.tally().heading() == "level 1 of 2"

    class Incomplete(ShowSource):
        def current(self) -> Show | None:
            return None

    with pytest.raises(TypeError):
        Incomplete()  # a source must say what comes after, next, and so on


class OneShow(ShowSource):
    """A source of our own: nothing at first, then one show after the first poll; with a warning."""

    def __init__(self, show: Show) -> None:
        self.show, self.ready = show, False
        self.waiting = "waiting for something of our own"
        self.warnings = ["something was skipped"]

    def current(self) -> Show | None:
        return self.show if self.ready else None

    def after(self) -> Show | None:
        return None

    def next(self) -> Show | None:
        return self.current()

    def poll(self) -> None:
        self.ready = True

    def stats(self) -> list[dict]:
        return []

    def status(self) -> str:
        return "our own source"


def test_the_viewer_uses_only_the_declared_interface(replay, capsys):
    import pygame

    source = OneShow(shows_of(replay, "own.json")[0])
    v = Viewer(source)
    assert v.show is None and v.waiting_text() == "waiting for something of our own"
    before = pixels(v.draw()).copy()
    v.print_warnings()
    assert capsys.readouterr().err == "tilerunner: warning: something was skipped\n" and source.warnings == []
    v.print_warnings()
    assert capsys.readouterr().err == ""  # said once
    source.poll()
    v.handle_key(pygame.K_n)
    assert v.show is source.show and "our own source" in v.status_text()
    assert (pixels(v.draw()) != before).any()


def test_watch_follows_a_folder_written_elsewhere(replay, tmp_path, capsys):
    run = tmp_path / "copied-run"
    _champion(run, 2, replay)
    assert main(["watch", str(run), "--duration", "1.5"]) == 0
    assert frames_drawn(capsys.readouterr().out) > 0
    assert main(["watch", str(run), "--screenshot", str(tmp_path / "w.png")]) == 0
    shot = png_pixels(tmp_path / "w.png")
    assert_shows_a_game(shot)
    # It is the run's champion in mid-episode, as a viewer following the folder draws it.
    here = Viewer(RunFollower(run))
    screenshot_middle(here, tmp_path / "here.png")
    assert here.show.replay.genome.key == 7 and np.array_equal(shot, pixels(here.draw()))


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["watch", "/no/such/run"], "no such run folder"),
        (["watch", str(ROOT / "tests")], "not a run folder"),
        (["watch", str(ROOT / "tests"), "--speed", "0"], "--speed"),
        (["play", "no-such-level"], "no-such-level"),
        (["play", "1-1", "--view-radius", "99"], "--view-radius"),
        (["play", "1-1", "--duration", "0"], "--duration"),
    ],
)
def test_bad_viewer_input_is_one_line_exit_2(argv, needle, capsys):
    try:
        code = main(argv)
    except SystemExit as exc:  # a flag argparse refuses by itself
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert needle in err and len(err.splitlines()) == 1


def test_watching_an_empty_run_for_a_screenshot_says_there_is_nothing_yet(tmp_path, capsys):
    (tmp_path / "champions").mkdir()
    assert main(["watch", str(tmp_path), "--screenshot", str(tmp_path / "x.png")]) == 2
    assert "waiting for the first champion" in capsys.readouterr().err


def test_replay_screenshot_from_a_shipped_champion(tmp_path, capsys):
    shipped = SHIPPED_1_1
    assert main(["replay", str(shipped), "--screenshot", str(tmp_path / "r.png")]) == 0
    frames = load_replay(shipped).episodes[0].outcome.frames
    assert f"frame {frames // 2}" in capsys.readouterr().out
    shot = png_pixels(tmp_path / "r.png")
    assert_shows_a_game(shot)
    # The game view and the network panel are the champion's, halfway through its run on 1-1.
    here = viewer_for(load_replay(shipped))
    here.play_to(frames // 2)
    drawn = pixels(here.draw())
    assert np.array_equal(shot[STATUS_H : STATUS_H + GAME_PX], drawn[STATUS_H : STATUS_H + GAME_PX])


@pytest.mark.slow
def test_evolve_watch_runs_the_viewer_beside_evolution_and_exits_cleanly(tmp_path, tilerunner_process):
    done = tilerunner_process(
        "evolve",
        *("--level", "2-3", "--generations", "40", "--watch"),
        *("--out", tmp_path / "run", "--replays", tmp_path / "replays", "--quiet"),
        env={"SDL_VIDEODRIVER": "dummy"},
        timeout=600,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    assert "done: 40 generations" in done.stdout
    assert frames_drawn(done.stdout) > 0  # the viewer ran and drew, then closed when evolution ended
    assert not any(line.startswith("2-3:") for line in done.stdout.splitlines())  # quietly: no episode lines
    assert {p.name for p in tmp_path.iterdir()} <= {"run", "replays"}  # nothing written but what was asked for


def viewer_children(pid: int) -> list[int]:
    """The ids of the `tilerunner watch` processes whose parent is `pid` (from /proc)."""
    found = []
    for entry in pathlib.Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:  # it ended while we looked
            continue
        if int(fields[1]) == pid and b"watch" in cmdline:
            found.append(int(entry.name))
    return found


def is_running(pid: int) -> bool:
    """Whether process `pid` exists and has not ended (a zombie waiting for its parent to reap it has ended)."""
    try:
        state = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not pathlib.Path("/proc/self/stat").exists(), reason="finds the viewer's process in /proc")
def test_the_viewer_of_evolve_watch_closes_when_evolution_is_killed(tmp_path, tilerunner_started):
    # Play a champion here first, so that the viewer's kernels are in Numba's cache (shared with the viewer):
    # on a cold cache the viewer would otherwise spend many seconds compiling them, blind to its parent.
    warm = viewer_for(load_replay(SHIPPED_1_1))
    warm.step(60)
    warm.draw()
    argv = ["evolve", "--level", "2-4", "--generations", "100000", "--keep-going", "--pop", "50", "--watch"]
    argv += ["--out", tmp_path / "run", "--quiet"]
    with open(tmp_path / "out.txt", "w") as out:
        evolution = tilerunner_started(
            *argv, stdout=out, stderr=subprocess.STDOUT, env={"SDL_VIDEODRIVER": "dummy"}, cwd=tmp_path
        )
    viewers: list[int] = []
    try:
        deadline = time.monotonic() + 120
        while not viewers:  # the viewer starts once the run folder is made
            assert evolution.poll() is None and time.monotonic() < deadline, (tmp_path / "out.txt").read_text()
            viewers = viewer_children(evolution.pid)
            time.sleep(0.05)
        (viewer,) = viewers
        while not list((tmp_path / "run" / "champions").glob("*.json")):  # evolving, and the viewer has a show
            assert evolution.poll() is None and time.monotonic() < deadline, (tmp_path / "out.txt").read_text()
            time.sleep(0.05)
        time.sleep(1.0)  # the viewer is playing it
        assert is_running(viewer)
        evolution.send_signal(signal.SIGKILL)  # no chance to close its viewer
        evolution.wait(timeout=10)
        gone_by = time.monotonic() + 30  # a bounded wait: it goes within a second on an idle machine
        while is_running(viewer) and time.monotonic() < gone_by:
            time.sleep(0.05)
        assert not is_running(viewer), "the viewer outlived the evolution that started it"
    finally:  # whatever happened, leave no process behind
        evolution.kill()
        evolution.wait()
        for pid in viewers:
            if is_running(pid):
                os.kill(pid, signal.SIGKILL)
    text = (tmp_path / "out.txt").read_text()
    assert "Traceback" not in text and frames_drawn(text) > 0  # it closed as it closes at the end of a run
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.txt", "run"]


# ---------------------------------------------------------------------------------------------
# A person playing


def test_play_shows_the_agents_grid_and_the_buttons_held():
    game = HumanPlay(load_level("1-1"))
    for _ in range(30):
        game.step(RIGHT)
    image = pixels(game.draw())
    side = image[STATUS_H:, GAME_PX:]
    assert game.state[0] > 0 and game.buttons == RIGHT
    assert is_colour(side, panels.SOLID_CELL).sum() >= 13 * (GRID_CELL - 1) ** 2  # a floor's worth of solid cells
    assert is_colour(side, panels.LIT_LABEL).sum() > 100  # "Right" is lit
    assert is_colour(side, panels.PLAYER_MARK).sum() > 4 * GRID_CELL


def test_play_runs_in_a_window_and_closes(capsys, monkeypatch):
    import pygame

    shown = []
    real_flip = pygame.display.flip

    def flip():  # keep what the window shows
        shown.append(pixels(pygame.display.get_surface()).copy())
        real_flip()

    warm = HumanPlay(load_level("1-1"))  # compile what a frame needs first, so that the second below is all play
    warm.step(RIGHT)
    warm.draw()
    monkeypatch.setattr(pygame.display, "flip", flip)
    monkeypatch.setattr(pygame.key, "get_pressed", lambda: FakeKeys([pygame.K_RIGHT]))  # Right held throughout
    assert main(["play", "1-1", "--duration", "1"]) == 0
    assert not pygame.display.get_init()  # the window closed
    out = capsys.readouterr().out
    match = re.fullmatch(
        r"1-1: running at (\d+) px after (\d+) frames, fitness [\d.-]+, as the agent would score"
        r" it\n",
        out,
    )
    # A frame shown per step; how many fit in the second depends on how busy the machine is (a loaded CI
    # machine showed 6), so only that it played on is asked.
    assert match and int(match.group(1)) > 0 and int(match.group(2)) == len(shown) > 2
    # The window showed the game with the agent's grid beside it, and the player walked right on screen.
    first, last = shown[0], shown[-1]
    assert first.shape == (HEIGHT, WIDTH, 3)
    assert is_colour(last[STATUS_H:, GAME_PX:], panels.SOLID_CELL).sum() >= 13 * (GRID_CELL - 1) ** 2
    assert is_colour(last[STATUS_H:, GAME_PX:], panels.LIT_LABEL).sum() > 100  # "Right" is lit
    assert not np.array_equal(
        first[STATUS_H : STATUS_H + GAME_PX, :GAME_PX], last[STATUS_H : STATUS_H + GAME_PX, :GAME_PX]
    )


class FakeKeys:
    """What `pygame.key.get_pressed()` returns, with only `down` held."""

    def __init__(self, down) -> None:
        self.down = set(down)

    def __getitem__(self, key) -> bool:
        return key in self.down


def test_held_keys_become_the_button_mask(monkeypatch):
    import pygame

    game = HumanPlay(load_level("1-1"))
    monkeypatch.setattr(pygame.key, "get_pressed", lambda: FakeKeys([pygame.K_RIGHT, pygame.K_z]))
    assert game.held() == RIGHT | A
    monkeypatch.setattr(
        pygame.key,
        "get_pressed",
        lambda: FakeKeys([pygame.K_LEFT, pygame.K_RIGHT, pygame.K_UP, pygame.K_DOWN, pygame.K_z, pygame.K_x]),
    )
    assert game.held() == (1 << N_BUTTONS) - 1  # every button (Left and Right cancel in the physics, not here)
    monkeypatch.setattr(pygame.key, "get_pressed", lambda: FakeKeys([pygame.K_SPACE]))
    assert game.held() == 0


def test_play_screenshot_saves_the_window(tmp_path):
    import pygame

    game = HumanPlay(load_level("1-1"))
    for _ in range(20):
        game.step(RIGHT)
    path = game.save_screenshot(tmp_path / "play.png")
    assert pygame.image.load(str(path)).get_size() == (WIDTH, HEIGHT)
    shot = png_pixels(path)
    assert np.array_equal(shot, pixels(game.draw()))
    assert_shows_a_game(shot)


def test_replay_plays_a_folder_of_replays_in_turn(replay, tmp_path, capsys):
    replay.save(tmp_path / "a.json")
    make_replay(known_genome(key=8), NETWORK, [load_level("1-2")], EpisodeSettings()).save(tmp_path / "b.json")
    (tmp_path / "broken.json").write_text("{")
    assert main(["replay", str(tmp_path), "--speed", "32"]) == 0  # not looping: closes after the last
    captured = capsys.readouterr()
    assert [line.split(":")[0] for line in captured.out.splitlines()[:2]] == ["1-1", "1-2"]
    assert "skipping" in captured.err and "broken.json" in captured.err
    assert main(["replay", str(tmp_path), "--headless"]) == 2
    assert "is a folder" in capsys.readouterr().err
