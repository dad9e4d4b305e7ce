"""The viewer's panels drawn with pygame: the agent's input grid, the live network, the status line, help,
the level-set overlay.

Each function draws into a pygame Surface and holds no state, so the window, the
screenshot option and the tests all draw the same pixels. Colours are module
constants: positive weights green and negative red, as MarI/O and neat-python drew them; foresight's
fates in `FATE_COLOURS`, the one table the network panel and the paths over the game share.
"""

from __future__ import annotations

import math

import numpy as np

from tilerunner.envs import foresight as F
from tilerunner.envs import render
from tilerunner.envs.buttons import N_BUTTONS, mask_from_outputs, pressed
from tilerunner.envs.render import load_pygame
from tilerunner.evolve.viewer.net_layout import (
    BLOCK_R,
    MOVE_LABELS,
    NODE_R,
    PART_LETTERS,
    TITLE_H,
    NetworkLayout,
    PanelGeometry,
)

BACKGROUND = (20, 22, 30)
PANEL = (28, 31, 42)
TEXT = (225, 228, 236)
DIM_TEXT = (130, 136, 152)
POSITIVE = (60, 220, 90)
NEGATIVE = (235, 60, 60)
EMPTY_CELL = (44, 48, 62)
SOLID_CELL = (200, 200, 208)
ENEMY_CELL = (255, 150, 20)
PLAYER_MARK = (80, 160, 255)
NODE_OUTLINE = (150, 156, 176)
MEMORY_OUTLINE = (70, 210, 230)
LIT_LABEL = (250, 210, 60)
FAINT = 0.18  # how strongly a connection shows when it carries nothing this frame
# Foresight's fates (`tilerunner.envs.foresight`): a move's path over the game and its row in the network panel.
FATE_COLOURS = {
    F.LANDS: (70, 230, 90),  # green: lands where it can go on
    F.DIES: (240, 50, 50),  # red: dies (or lands in a trap)
    F.AWAY: (255, 180, 30),  # amber: leaves the view, or runs out of time, before anything is settled
    F.STOMPS: (40, 120, 255),  # blue: stomps an enemy
}

# The buttons as the panels name them, in `tilerunner.envs.buttons`' order (Left = bit 0).
BUTTON_LABELS = ("Left", "Right", "Up", "Down", "A jump", "B run")
if len(BUTTON_LABELS) != N_BUTTONS:
    raise RuntimeError(f"panels names {len(BUTTON_LABELS)} buttons, tilerunner.envs.buttons has {N_BUTTONS}")


class Fonts:
    """The three text sizes the viewer uses (pygame's own default font, so nothing to ship)."""

    def __init__(self) -> None:
        pg = load_pygame()
        pg.font.init()
        self.small = pg.font.Font(None, 16)
        self.normal = pg.font.Font(None, 20)
        self.big = pg.font.Font(None, 30)
        self._small_texts: dict[tuple[str, tuple[int, int, int]], object] = {}

    def small_text(self, text: str, colour: tuple[int, int, int]):
        """`text` rendered in the small font, kept: the same labels are drawn every frame."""
        key = (text, colour)
        if key not in self._small_texts:
            self._small_texts[key] = self.small.render(text, True, colour)
        return self._small_texts[key]


def mix(a: tuple[int, int, int], b: tuple[int, int, int], t: float) -> tuple[int, int, int]:
    """The colour a fraction `t` (clipped to 0..1) of the way from `a` to `b`."""
    t = min(1.0, max(0.0, t))
    return (round(a[0] + (b[0] - a[0]) * t), round(a[1] + (b[1] - a[1]) * t), round(a[2] + (b[2] - a[2]) * t))


def node_fill(value: float) -> tuple[int, int, int]:
    """A node's fill for its value: dark at 0, white at +1, red at -1 (memory outputs can be negative)."""
    if value >= 0:
        return mix(EMPTY_CELL, (255, 255, 255), value)
    return mix(EMPTY_CELL, NEGATIVE, -value)


def cell_colour(value: float) -> tuple[int, int, int]:
    """An input cell's colour: solid (1), enemy (-1; with enemy-kinds a spiky one), a stompable enemy with
    enemy-kinds (-0.5, a paler red) or empty (0)."""
    if value > 0.5:
        return SOLID_CELL
    if value < -0.75:
        return ENEMY_CELL
    if value < -0.25:
        return mix(EMPTY_CELL, ENEMY_CELL, 0.6)
    return EMPTY_CELL


def draw_game(surface, tiles: np.ndarray, state: np.ndarray, enemies: np.ndarray) -> None:
    """The game view (the camera following the player) scaled to fill `surface`."""
    pg = load_pygame()
    image = render.frame(tiles, state, enemies)
    pg.transform.scale(pg.surfarray.make_surface(image.swapaxes(0, 1)), surface.get_size(), surface)


def draw_input_grid(surface, origin: tuple[int, int], cell: int, observation: np.ndarray) -> None:
    """The cells the agent sees (solid, enemy, empty), with the player's cell outlined."""
    pg = load_pygame()
    gx, gy = origin
    size = observation.shape[0]
    gap = 1 if cell >= 6 else 0
    for i in range(size):
        for j in range(observation.shape[1]):
            pg.draw.rect(
                surface, cell_colour(float(observation[i, j])), (gx + j * cell, gy + i * cell, cell - gap, cell - gap)
            )
    r = size // 2
    pg.draw.rect(surface, PLAYER_MARK, (gx + r * cell - 1, gy + r * cell - 1, cell + 1, cell + 1), 2)


def draw_network(
    surface,
    layout: NetworkLayout,
    observation: np.ndarray,
    values: np.ndarray,
    previous: np.ndarray,
    cells: np.ndarray,
    outputs: np.ndarray,
    threshold: float,
    fonts: Fonts,
    extra: np.ndarray | None = None,
) -> None:
    """The network as it thinks this frame, drawn into `surface` (the panel, sized as `layout.geometry`).

    `values` are the node values this step produced and `previous` the values the step read
    (so a link's strength is |weight x the value it carried|); `cells` the memory-cell states;
    `extra` the inputs after the grid (opt-in observation features, as `layout.geometry.features`
    says): the enemies' grid under the grid, the others as labelled nodes in a column beside it.
    """
    pg = load_pygame()
    geo = layout.geometry
    surface.fill(PANEL)
    extra = np.zeros(0) if extra is None else np.asarray(extra)
    draw_input_grid(surface, geo.grid_origin, geo.cell, observation)
    if geo.n_grids == 2:
        draw_enemy_grid(surface, geo, extra, fonts)

    # Links, weakest first so that the ones carrying the most are on top.
    drawn = []
    for link in layout.links:
        if link.src not in layout.positions or link.dst not in layout.positions:
            continue
        carried = previous[link.src_slot] if link.src_slot >= 0 else 0.0
        strength = min(1.0, abs(link.weight * carried))
        drawn.append((strength, link))
    drawn.sort(key=lambda t: t[0])
    for strength, link in drawn:
        colour = mix(PANEL, POSITIVE if link.weight >= 0 else NEGATIVE, FAINT + (1 - FAINT) * strength)
        width = 1 + round(2 * strength)
        a, b = layout.positions[link.src], layout.positions[link.dst]
        if link.src == link.dst:  # a self-loop: a small ring above the node
            pg.draw.circle(surface, colour, (round(a[0]), round(a[1]) - 10), 7, width)
        else:
            pg.draw.line(surface, colour, (round(a[0]), round(a[1])), (round(b[0]), round(b[1])), width)

    draw_input_labels(surface, geo, fonts)  # over the links from the grid, which pass behind them
    draw_labelled_inputs(surface, geo, extra)  # over the links that leave them
    draw_foresight_block(surface, geo, extra, fonts)

    # Hidden nodes: circles; memory cells: squares in a cyan outline with a bar for the cell state.
    for key in layout.hidden:
        x, y = (round(v) for v in layout.positions[key])
        slot = layout.slots.get(key, -1)
        value = float(values[slot]) if slot >= 0 else 0.0
        if key in layout.memory:
            rect = pg.Rect(x - 8, y - 8, 17, 17)
            pg.draw.rect(surface, node_fill(value), rect, border_radius=3)
            pg.draw.rect(surface, MEMORY_OUTLINE, rect, 2, border_radius=3)
            j = layout.cells.get(key, -1)
            state = math.tanh(float(cells[j])) if j >= 0 else 0.0
            bar = round(8 * abs(state))
            colour = POSITIVE if state >= 0 else NEGATIVE
            pg.draw.rect(surface, (10, 10, 14), (x + 11, y - 9, 5, 19))
            if bar:
                pg.draw.rect(surface, colour, (x + 12, y - bar if state >= 0 else y, 3, bar))
        elif slot >= 0:
            _draw_node(surface, (x, y), 7, value)
        else:  # no path to an output: never evaluated, drawn as a dim dot
            pg.draw.circle(surface, EMPTY_CELL, (x, y), 4)

    # Outputs: a node per button, and its label lit while the button is pressed (the mask the game gets).
    held = pressed(mask_from_outputs(np.asarray(outputs, dtype=np.float64), threshold))
    for o, label in enumerate(BUTTON_LABELS[: len(outputs)]):
        x, y = (round(v) for v in layout.positions[o])
        value = float(outputs[o])
        lit = bool(held[o])
        pg.draw.circle(surface, node_fill(value), (x, y), 9)
        pg.draw.circle(surface, LIT_LABEL if lit else NODE_OUTLINE, (x, y), 9, 2)
        text = fonts.normal.render(label, True, (20, 20, 20) if lit else DIM_TEXT)
        box = label_rect(layout, o)
        if lit:
            pg.draw.rect(surface, LIT_LABEL, box, border_radius=4)
        surface.blit(text, (box.x + 6, box.y + (box.h - text.get_height()) // 2 + 1))

    caption = f"{len(layout.hidden)} hidden ({len(layout.memory)} memory), {len(layout.links)} links"
    surface.blit(fonts.small.render(caption, True, DIM_TEXT), (geo.grid_origin[0], geo.height - 16))


def _extra_values(geo: PanelGeometry, extra: np.ndarray, name: str) -> np.ndarray:
    """Feature `name`'s inputs out of `extra` (the inputs after the grid); zeros where `extra` is short."""
    part = geo.slices[name]
    first = geo.slices["grid"].stop if "grid" in geo.slices else 0
    values = np.zeros(part.stop - part.start)
    got = extra[part.start - first : part.stop - first]
    values[: len(got)] = got
    return values


def draw_enemy_grid(surface, geo: PanelGeometry, extra: np.ndarray, fonts: Fonts) -> None:
    """The `enemy-grid` feature's inputs as a second grid under the first, each grid titled."""
    size = geo.grid_size
    enemies = _extra_values(geo, extra, "enemy-grid").reshape(size, size)
    for (x, y), title in zip(geo.grid_origins, ("tiles", "enemies")):
        surface.blit(fonts.small_text(title, DIM_TEXT), (x, y - TITLE_H + 1))
    draw_input_grid(surface, geo.grid_origins[1], geo.cell, enemies)


def input_label_boxes(geo: PanelGeometry, fonts: Fonts) -> list[tuple[str, tuple[int, int, int], object]]:
    """The labelled column's texts as (text, colour, pygame.Rect in panel pixels): each feature's name over
    its nodes, and each input's short label ending left of its node."""
    boxes = []
    for name, head, inputs in geo.labelled_rows:
        at = fonts.small_text(name, DIM_TEXT).get_rect(right=geo.node_x + NODE_R, centery=round(head))
        boxes.append((name, DIM_TEXT, at))
        for _, label, y in inputs:
            at = fonts.small_text(label, TEXT).get_rect(right=geo.node_x - NODE_R - 5, centery=round(y + 1))
            boxes.append((label, TEXT, at))
    return boxes


def draw_input_labels(surface, geo: PanelGeometry, fonts: Fonts) -> None:
    """The labelled column's text (`input_label_boxes`), over the links (`_draw_texts`)."""
    _draw_texts(surface, input_label_boxes(geo, fonts), fonts)


def _draw_texts(surface, texts: list[tuple[str, tuple, object]], fonts: Fonts) -> None:
    """(text, colour, pygame.Rect) in the small font, each with the panel's colour behind it, so that links
    passing behind do not cross it out."""
    pg = load_pygame()
    for text, colour, at in texts:
        pg.draw.rect(surface, PANEL, at.inflate(4, 0))
        surface.blit(fonts.small_text(text, colour), at)


def _draw_node(surface, centre: tuple[int, int], radius: int, value: float) -> None:
    """An input or hidden node: a disc filled by its value (`node_fill`) in a thin outline."""
    pg = load_pygame()
    pg.draw.circle(surface, node_fill(value), centre, radius)
    pg.draw.circle(surface, NODE_OUTLINE, centre, radius, 1)


def draw_labelled_inputs(surface, geo: PanelGeometry, extra: np.ndarray) -> None:
    """A node per labelled input where `geo.input_xy` puts it, filled by its value (`node_fill`)."""
    for name, _, inputs in geo.labelled_rows:
        values = _extra_values(geo, extra, name)
        for (index, _, _), value in zip(inputs, values):
            _draw_node(surface, tuple(round(v) for v in geo.input_xy(index)), NODE_R, float(value))


def fate_of_inputs(parts: np.ndarray) -> int | None:
    """A move's fate from its five foresight inputs (progress, dies, stomps, away, frames); None when the move
    does not apply now (it reads dies 1 after no frames)."""
    _, dies, stomps, away, frames = (float(v) for v in parts)
    if dies > 0.5:
        return F.DIES if frames > 0 else None
    return F.STOMPS if stomps > 0.5 else (F.AWAY if away > 0.5 else F.LANDS)


def foresight_block_texts(geo: PanelGeometry, values: np.ndarray, fonts: Fonts) -> list[tuple[str, tuple, object]]:
    """Foresight's block's texts as (text, colour, pygame.Rect in panel pixels): the feature's name, a letter over
    each part's column, and each move's label left of its row, in its fate's colour (dim if it does not apply)."""
    block = geo.foresight_block
    texts = [("foresight", DIM_TEXT, fonts.small_text("foresight", DIM_TEXT).get_rect(right=geo.node_x + NODE_R))]
    texts[0][2].centery = round(block.head)
    for k, letter in enumerate(PART_LETTERS):
        at = fonts.small_text(letter, DIM_TEXT).get_rect(centerx=round(block.column_x(k)), centery=round(block.letters))
        texts.append((letter, DIM_TEXT, at))
    for m, label in enumerate(MOVE_LABELS):
        fate = fate_of_inputs(values[m])
        colour = DIM_TEXT if fate is None else FATE_COLOURS[fate]
        at = fonts.small_text(label, colour).get_rect(right=round(block.label_right), centery=round(block.row_y(m) + 1))
        texts.append((label, colour, at))
    return texts


def draw_foresight_block(surface, geo: PanelGeometry, extra: np.ndarray, fonts: Fonts) -> None:
    """Foresight's inputs as a block (`net_layout.ForesightBlock`): a node per input filled by its value, under
    a letter per part, beside each move's label in the colour of what it leads to; nothing without the sense."""
    block = geo.foresight_block
    if block is None:
        return
    values = _extra_values(geo, extra, "foresight").reshape(len(MOVE_LABELS), len(PART_LETTERS))
    _draw_texts(surface, foresight_block_texts(geo, values, fonts), fonts)
    for index, (x, y) in block.inputs().items():
        _draw_node(surface, (round(x), round(y)), BLOCK_R, float(values.flat[index - block.first]))


def label_rect(layout: NetworkLayout, output: int):
    """Where an output's label is drawn in the network panel (for tests and for anyone overlaying it)."""
    pg = load_pygame()
    x, y = (round(v) for v in layout.positions[output])
    return pg.Rect(x + 16, y - 10, 78, 20)


def draw_text_lines(surface, rect, lines: list[str], font, colour=TEXT, spacing: int = 2) -> None:
    """Plain lines of text from the top-left of `rect`, clipped to it."""
    y = rect.y
    for line in lines:
        if y + font.get_height() > rect.bottom:
            break
        surface.blit(font.render(line, True, colour), (rect.x, y))
        y += font.get_height() + spacing


def draw_help(surface, keys: list[tuple[str, str]], fonts: Fonts) -> None:
    """A box in the middle of `surface` listing the keys and what they do."""
    pg = load_pygame()
    w = 420
    h = 56 + 24 * len(keys)
    box = pg.Rect((surface.get_width() - w) // 2, (surface.get_height() - h) // 2, w, h)
    shade = pg.Surface(box.size, pg.SRCALPHA)
    shade.fill((8, 9, 14, 232))
    surface.blit(shade, box.topleft)
    pg.draw.rect(surface, NODE_OUTLINE, box, 1, border_radius=6)
    surface.blit(fonts.big.render("keys", True, TEXT), (box.x + 18, box.y + 14))
    y = box.y + 48
    for key, what in keys:
        surface.blit(fonts.normal.render(key, True, LIT_LABEL), (box.x + 22, y))
        surface.blit(fonts.normal.render(what, True, TEXT), (box.x + 140, y))
        y += 24


def draw_banner(surface, text: str, fonts: Fonts, colour=TEXT) -> None:
    """A one-line message across the middle of `surface` (episode over, waiting for a champion)."""
    pg = load_pygame()
    rendered = fonts.big.render(text, True, colour)
    box = rendered.get_rect(center=(surface.get_width() // 2, surface.get_height() // 2)).inflate(28, 16)
    shade = pg.Surface(box.size, pg.SRCALPHA)
    shade.fill((8, 9, 14, 210))
    surface.blit(shade, box.topleft)
    surface.blit(rendered, rendered.get_rect(center=box.center))


OVERLAY_MARGIN = 8  # the level-set overlay's distance from the game view's top-left corner
OVERLAY_PAD = 8  # and from its own edge to its text
OVERLAY_FILL = (8, 9, 14)  # opaque, so the text reads the same over sky, bricks or enemies


def overlay_lines(
    heading: str, name: str, tally: str, fonts: Fonts, width: int, complete: bool = False
) -> list[tuple[str, object, tuple[int, int, int]]]:
    """The level-set overlay's text as (text, font, colour) runs: heading, level name beside it, tally below.

    A level name too wide for a game view `width` px wide keeps its end (`...levels/notch-lvl-201.txt`);
    the tally turns green once the set is `complete`.
    """
    room = width - 2 * (OVERLAY_MARGIN + OVERLAY_PAD) - fonts.big.size(heading + "  ")[0]
    shown = name
    while len(shown) > 4 and fonts.normal.size(shown)[0] > room:
        shown = "..." + shown.removeprefix("...")[1:]
    return [
        (heading, fonts.big, LIT_LABEL),
        (shown, fonts.normal, TEXT),
        (tally, fonts.normal, POSITIVE if complete else TEXT),
    ]


def draw_set_overlay(surface, heading: str, name: str, tally: str, fonts: Fonts, complete: bool = False):
    """Where a level set stands, in a box at the top left of the game view `surface`; returns the box.

    `level 3 of 7` large with the level's name beside it, and the running tally below. The box is
    opaque, so the text reads the same over sky, bricks or enemies; `overlay_layout` says where each
    run of text is.
    """
    pg = load_pygame()
    runs = overlay_lines(heading, name, tally, fonts, surface.get_width(), complete)
    positions, box = overlay_layout(runs)
    pg.draw.rect(surface, OVERLAY_FILL, box)
    pg.draw.rect(surface, NODE_OUTLINE, box, 1)
    for (text, font, colour), at in zip(runs, positions):
        surface.blit(font.render(text, True, colour), at)
    return box


def overlay_layout(runs: list[tuple[str, object, tuple[int, int, int]]]) -> tuple[list[tuple[int, int]], object]:
    """Top-left pixel of each run of `overlay_lines` and the box around them, in game-view coordinates."""
    pg = load_pygame()
    (heading, big, _), (name, normal, _), (tally, _, _) = runs
    x = y = OVERLAY_MARGIN + OVERLAY_PAD
    head_w, head_h = big.size(heading)
    name_w = normal.size(name)[0]
    name_x = x + head_w + big.size("  ")[0]
    name_y = y + big.get_ascent() - normal.get_ascent()  # on the heading's baseline
    tally_y = y + head_h + 4
    tally_w, tally_h = normal.size(tally)
    right = max(name_x + name_w, x + tally_w) + OVERLAY_PAD
    bottom = tally_y + tally_h + OVERLAY_PAD - 2
    box = pg.Rect(OVERLAY_MARGIN, OVERLAY_MARGIN, right - OVERLAY_MARGIN, bottom - OVERLAY_MARGIN)
    return [(x, y), (name_x, name_y), (x, tally_y)], box


def draw_buttons(surface, origin: tuple[int, int], held: int, fonts: Fonts) -> None:
    """Every button in a row, each label lit while its bit is set in the mask `held` (Left = bit 0)."""
    pg = load_pygame()
    x, y = origin
    for label, lit in zip(BUTTON_LABELS, pressed(held)):
        text = fonts.normal.render(label, True, (20, 20, 20) if lit else DIM_TEXT)
        box = pg.Rect(x, y, text.get_width() + 14, 22)
        if lit:
            pg.draw.rect(surface, LIT_LABEL, box, border_radius=4)
        else:
            pg.draw.rect(surface, NODE_OUTLINE, box, 1, border_radius=4)
        surface.blit(text, (box.x + 7, box.y + (box.h - text.get_height()) // 2 + 1))
        x = box.right + 8
