"""Where each node of an evolved network is drawn: inputs as the agent's grid, outputs in a column, hidden between.

The layout is worked out once per genome (so it is still from frame to frame) and
deterministically (the same genome always looks the same). Input nodes sit exactly
where their cells are in the 13x13 view (an `enemy-grid` network's enemy inputs in a
second grid under it); the inputs of the other observation features stand in a labelled
column beside the grid (`INPUT_LABELS`), foresight's as a small block under them (a row per move, a
column per part: `ForesightBlock`); outputs stand in a column on the right.
Hidden nodes start at the mean of their neighbours (or where they stood in the
previous champion's drawing, so a new champion's shared ancestry stays put), then a
few hundred small moves pull each towards its neighbours and push apart any two
closer than `spacing`, inside the band between the grid and the outputs.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from tilerunner.agent.compiler import node_slots
from tilerunner.envs.buttons import N_BUTTONS
from tilerunner.envs.foresight import MOVES, N_PARTS, PARTS
from tilerunner.envs.observe import DEFAULT_RADIUS, FEATURES, extra_inputs, input_slices

ITERATIONS = 200
SETTLE = 60  # then rounds of spreading alone, so the spacing holds
CENTRE_PULL = 1.0  # the band's centre counts as this many neighbours

# Short labels of the inputs drawn as labelled nodes, per feature, in input order (what each one is and its
# range: `tilerunner.envs.observe`'s docstring). `enemy-grid` is drawn as a second grid; `enemy-kinds` adds none;
# `foresight`'s 45 are a block (`ForesightBlock`), as tall as nine labelled nodes.
INPUT_LABELS = {
    "speed": ("vx", "vy", "ground"),
    "jump": ("ground", "may jump", "lift"),
    "position": ("x", "y"),
    "probes": ("gap", "gap w", "wall", "wall h", "enemy dx", "enemy dy", "kind"),
    "no-grid": (),
}
_GRIDS = ("enemy-grid", "no-grid")  # drawn as a grid, or taking the grid away
for _name in FEATURES:
    _n = extra_inputs(_name, DEFAULT_RADIUS)
    if _name not in _GRIDS and _name != "foresight" and len(INPUT_LABELS.get(_name, ())) != _n:
        raise RuntimeError(
            f"net_layout labels {len(INPUT_LABELS.get(_name, ()))} inputs of {_name!r},"
            f" tilerunner.envs.observe gives it {_n}"
        )

MARGIN = 12  # the grids' left edge
TITLE_H = 14  # room for a grid's title above it (only when there are two grids)
GRID_GAP = 8  # between the two grids
LABEL_W = 56  # room for the widest input label in the small font ("enemy dx")
NODE_R = 6  # a labelled input node's radius
LABEL_COLUMN = 10 + LABEL_W + 8 + 2 * NODE_R  # from the grids' right edge to the labelled nodes' right edge
ROW_H = 16  # one labelled input
HEAD_H = 18  # one feature's heading over its inputs (the text in its lower part: a little space between groups)

# Foresight's block: a row per move (labelled on the left), a column per part (a letter over it).
MOVE_LABELS = ("run", "jump", "hop", "wait", "back", "keep A", "let go", "drift", "steer")  # MOVES, short
PART_LETTERS = tuple(part[0] for part in PARTS)  # p d s a f: progress, dies, stomps, away, frames
if len(MOVE_LABELS) != len(MOVES):
    raise RuntimeError(
        f"net_layout labels {len(MOVE_LABELS)} foresight moves, tilerunner.envs.foresight has {len(MOVES)}"
    )
BLOCK_R = 4  # a block node's radius
BLOCK_PITCH = 12  # between block nodes' centres, across and down (a line of the small font)
LETTERS_H = 12  # the parts' letters over the block
MOVE_LABEL_W = 36  # room for the widest move label in the small font ("keep A")
BLOCK_COLUMN = 10 + MOVE_LABEL_W + 5 + (N_PARTS - 1) * BLOCK_PITCH + 2 * BLOCK_R + NODE_R - BLOCK_R


# (feature, heading's centre y, ((input index, label, centre y), ...)) for each labelled feature.
LabelledRows = tuple[tuple[str, float, tuple[tuple[int, str, float], ...]], ...]


@dataclass(frozen=True)
class ForesightBlock:
    """Where foresight's inputs are drawn: a row of nodes per move, a column per part, the last column at `right`."""

    first: int  # the input index of the first move's first part
    right: float  # centre x of the last column
    head: float  # centre y of the feature's heading
    letters: float  # centre y of the parts' letters
    top: float  # centre y of the first row
    pitch: float  # between nodes' centres, across and down

    def column_x(self, part: int) -> float:
        """Centre x of part `part`'s column."""
        return self.right - (N_PARTS - 1 - part) * self.pitch

    def row_y(self, move: int) -> float:
        """Centre y of move `move`'s row."""
        return self.top + move * self.pitch

    @property
    def label_right(self) -> float:
        """Where the moves' labels end: a little left of the first column's nodes."""
        return self.column_x(0) - BLOCK_R - 5

    def inputs(self) -> dict[int, tuple[float, float]]:
        """Each input's node centre, by input index."""
        return {
            self.first + m * N_PARTS + k: (self.column_x(k), self.row_y(m))
            for m in range(len(MOVES))
            for k in range(N_PARTS)
        }


@dataclass(frozen=True)
class PanelGeometry:
    """Pixel geometry of the network panel for a given size, view radius and observation features.

    The grid (and with `enemy-grid` the enemies' grid under it) stands on the left; the inputs of
    `speed`, `jump`, `position` and `probes` stand in a labelled column beside it, grouped under
    their feature's name, and `foresight`'s in a block under them; outputs in a column on the right;
    hidden nodes in the band between.
    """

    width: int
    height: int
    view_radius: int = 6
    n_outputs: int = N_BUTTONS
    features: tuple[str, ...] = ()

    @property
    def grid_size(self) -> int:
        return 2 * self.view_radius + 1

    @property
    def n_grids(self) -> int:
        """1, or 2 with `enemy-grid` (tiles above, enemies below)."""
        return 2 if "enemy-grid" in self.features else 1

    @cached_property
    def slices(self) -> dict[str, slice]:
        """Where the grid and each feature's inputs sit in the network's input vector (`input_slices`)."""
        return input_slices(self.view_radius, self.features)

    @cached_property
    def labelled(self) -> tuple[str, ...]:
        """The features whose inputs are drawn as labelled nodes, in input order."""
        return tuple(name for name in FEATURES if name in self.features and INPUT_LABELS.get(name))

    @property
    def has_column(self) -> bool:
        """Whether anything stands beside the grid: labelled nodes or foresight's block."""
        return bool(self.labelled) or "foresight" in self.features

    @property
    def label_column(self) -> int:
        """From the grids' right edge to the labelled nodes' right edge (wider for foresight's block)."""
        return BLOCK_COLUMN if "foresight" in self.features else LABEL_COLUMN

    @cached_property
    def cell(self) -> int:
        """Pixels per input cell: the grid takes about 40% of the panel's width (45% with the labelled column; the
        wider column of foresight's block takes its extra room from the hidden nodes' band, not the grid)."""
        wide = int(self.width * 0.45) - MARGIN - LABEL_COLUMN if self.has_column else int(self.width * 0.4)
        titles = 2 * TITLE_H + GRID_GAP if self.n_grids == 2 else 0
        tall = (self.height - 40 - titles) // self.n_grids
        return max(3, min(wide, tall) // self.grid_size)

    @cached_property
    def grid_origins(self) -> tuple[tuple[int, int], ...]:
        """Top-left pixel of each input grid: the grid, then the enemies' grid under it."""
        g = self.cell * self.grid_size
        if self.n_grids == 1:
            return ((MARGIN, (self.height - g) // 2),)
        top = (self.height - 2 * (TITLE_H + g) - GRID_GAP) // 2 + TITLE_H
        return (MARGIN, top), (MARGIN, top + g + GRID_GAP + TITLE_H)

    @property
    def grid_origin(self) -> tuple[int, int]:
        """Top-left pixel of the input grid."""
        return self.grid_origins[0]

    @cached_property
    def node_x(self) -> int:
        """Centre x of the labelled input nodes (their labels end to the left of it)."""
        return MARGIN + self.cell * self.grid_size + self.label_column - NODE_R

    @cached_property
    def _column(self) -> tuple[LabelledRows, ForesightBlock | None]:
        """The labelled rows and foresight's block under them, centred on the panel's height; all shrink if the
        column would not fit."""
        slices = self.slices
        n_rows = sum(len(INPUT_LABELS[name]) for name in self.labelled)
        full = len(self.labelled) * HEAD_H + n_rows * ROW_H
        sees = "foresight" in self.features
        if sees:
            full += HEAD_H + LETTERS_H + len(MOVES) * BLOCK_PITCH
        scale = min(1.0, (self.height - 40) / full) if full else 1.0
        y = (self.height - full * scale) / 2
        rows = []
        for name in self.labelled:
            head = y + (HEAD_H - ROW_H / 2) * scale
            y += HEAD_H * scale
            inputs = []
            for k, label in enumerate(INPUT_LABELS[name]):
                inputs.append((slices[name].start + k, label, y + ROW_H * scale / 2))
                y += ROW_H * scale
            rows.append((name, head, tuple(inputs)))
        if not sees:
            return tuple(rows), None
        head = y + (HEAD_H - ROW_H / 2) * scale
        letters = y + (HEAD_H + LETTERS_H / 2) * scale
        top = y + (HEAD_H + LETTERS_H + BLOCK_PITCH / 2) * scale
        pitch = BLOCK_PITCH * scale
        return tuple(rows), ForesightBlock(slices["foresight"].start, float(self.node_x), head, letters, top, pitch)

    @property
    def labelled_rows(self) -> LabelledRows:
        """(feature, heading's centre y, ((input index, label, centre y), ...)) for each labelled feature."""
        return self._column[0]

    @property
    def foresight_block(self) -> ForesightBlock | None:
        """Where foresight's inputs are drawn (None without the sense)."""
        return self._column[1]

    @cached_property
    def _labelled_xy(self) -> dict[int, tuple[float, float]]:
        xy = {i: (float(self.node_x), y) for _, _, inputs in self.labelled_rows for i, _, y in inputs}
        return xy | (self.foresight_block.inputs() if self.foresight_block else {})

    @property
    def output_x(self) -> int:
        return self.width - 104

    @property
    def output_spacing(self) -> int:
        return min(40, (self.height - 40) // max(self.n_outputs, 1))

    @property
    def hidden_box(self) -> tuple[float, float, float, float]:
        """(x0, y0, x1, y1): where hidden nodes may go."""
        gx, _ = self.grid_origin
        left = self.node_x + NODE_R if self.has_column else gx + self.cell * self.grid_size
        return (left + 28.0, 18.0, self.output_x - 34.0, self.height - 18.0)

    @property
    def spacing(self) -> float:
        """The closest two hidden nodes may be."""
        return 34.0

    def input_xy(self, index: int) -> tuple[float, float]:
        """Centre of input `index`'s node: its cell in the grid (row-major, as the observation is flattened), in
        the enemies' grid, in the labelled column, or in foresight's block."""
        grid = 0
        if "grid" not in self.slices or index >= self.slices["grid"].stop:  # (with no-grid no input is in the grid)
            enemies = self.slices.get("enemy-grid")
            if enemies is not None and enemies.start <= index < enemies.stop:
                grid, index = 1, index - enemies.start
            elif index in self._labelled_xy:
                return self._labelled_xy[index]
            # else an input the features do not account for: rows under the grid, as the grid goes on.
        gx, gy = self.grid_origins[grid]
        row, col = divmod(index, self.grid_size)
        return gx + (col + 0.5) * self.cell, gy + (row + 0.5) * self.cell

    def output_xy(self, index: int) -> tuple[float, float]:
        top = self.height / 2 - self.output_spacing * (self.n_outputs - 1) / 2
        return float(self.output_x), top + index * self.output_spacing


@dataclass
class Link:
    """An enabled connection as drawn: its ends, weight, and the source's value slot."""

    src: int
    dst: int
    weight: float
    src_slot: int  # -1 when the source is not evaluated (its value is always 0)


@dataclass
class NetworkLayout:
    """Positions (pixels in the panel) of every node of one genome, and the links between them."""

    geometry: PanelGeometry
    positions: dict[int, tuple[float, float]]
    hidden: list[int]  # hidden node keys, sorted
    memory: set[int]  # which hidden nodes are memory cells
    links: list[Link]
    slots: dict[int, int]  # node key -> value slot in the compiled network
    cells: dict[int, int]  # memory node key -> index into the compiled network's cell states


def _jitter(key: int) -> tuple[float, float]:
    """A small deterministic offset from a node's key (the golden-ratio sequence), in [-0.5, 0.5)."""
    a = (key * 0.6180339887498949) % 1.0
    b = (key * 0.7548776662466927) % 1.0
    return a - 0.5, b - 0.5


def layout_network(
    genome, genome_config, geometry: PanelGeometry, previous: NetworkLayout | None = None
) -> NetworkLayout:
    """Lay out `genome` in a panel of `geometry`; hidden nodes it shares with `previous` start where they were."""
    n_in, n_out = genome_config.num_inputs, genome_config.num_outputs
    fixed = {-i - 1: geometry.input_xy(i) for i in range(n_in)}
    fixed |= {o: geometry.output_xy(o) for o in range(n_out)}
    hidden = sorted(k for k in genome.nodes if k >= n_out)
    memory = {k for k in hidden if getattr(genome.nodes[k], "memory", False)}
    slots, cells = node_slots(genome, genome_config)
    enabled = [cg for cg in genome.connections.values() if cg.enabled]
    links = [
        Link(cg.key[0], cg.key[1], float(cg.weight), slots.get(cg.key[0], -1))
        for cg in enabled
        if cg.key[0] in fixed or cg.key[0] in genome.nodes
    ]

    positions = dict(fixed)
    if hidden:
        positions |= _place_hidden(hidden, links, fixed, geometry, previous)
    return NetworkLayout(geometry, positions, hidden, memory, links, slots, cells)


def _place_hidden(
    hidden: list[int],
    links: list[Link],
    fixed: dict[int, tuple[float, float]],
    geometry: PanelGeometry,
    previous: NetworkLayout | None,
) -> dict[int, tuple[float, float]]:
    x0, y0, x1, y1 = geometry.hidden_box
    lo, hi = np.array([x0, y0]), np.array([max(x0, x1), max(y0, y1)])
    index = {k: i for i, k in enumerate(hidden)}
    n = len(hidden)
    neighbours: list[list[int]] = [[] for _ in hidden]
    for link in links:
        if link.src == link.dst:
            continue
        for a, b in ((link.src, link.dst), (link.dst, link.src)):
            if a in index and (b in index or b in fixed):
                neighbours[index[a]].append(b)
    fixed_xy = np.array(list(fixed.values())) if fixed else np.zeros((0, 2))
    fixed_row = {k: i for i, k in enumerate(fixed)}
    centre = (lo + hi) / 2
    span = hi - lo

    pos = np.empty((n, 2))
    same_panel = previous is not None and previous.geometry == geometry
    for i, k in enumerate(hidden):
        if same_panel and k in previous.positions and k in previous.hidden:
            pos[i] = previous.positions[k]
            continue
        known = [fixed_xy[fixed_row[b]] for b in neighbours[i] if b in fixed_row]
        start = np.mean(known, axis=0) if known else centre
        pos[i] = start + np.array(_jitter(k)) * span * 0.3
    pos = np.clip(pos, lo, hi)

    for it in range(ITERATIONS + SETTLE):
        if it < ITERATIONS:
            # Towards the mean of the neighbours, with the band's centre as one more (weak) neighbour,
            # so that a node linked only to an output does not sit on top of the output column.
            target = pos.copy()
            for i, nb in enumerate(neighbours):
                pts = [pos[index[b]] if b in index else fixed_xy[fixed_row[b]] for b in nb]
                target[i] = (np.sum(pts, axis=0) + CENTRE_PULL * centre) / (len(pts) + CENTRE_PULL) if pts else centre
            pos += 0.05 * (target - pos)
        pos = np.clip(_spread(pos, geometry.spacing), lo, hi)  # the last SETTLE rounds only spread
    return {k: (float(pos[i, 0]), float(pos[i, 1])) for i, k in enumerate(hidden)}


def _spread(pos: np.ndarray, spacing: float) -> np.ndarray:
    """Push apart every pair of points closer than `spacing`, each half the shortfall (coincident: by order)."""
    d = pos[:, None, :] - pos[None, :, :]
    dist = np.sqrt((d**2).sum(axis=2))
    np.fill_diagonal(dist, 1e9)
    close = dist < spacing
    if not close.any():
        return pos
    same = dist < 1e-9
    if same.any():
        ii, jj = np.nonzero(np.triu(same))
        d[ii, jj] = (0.0, 1.0)
        d[jj, ii] = (0.0, -1.0)
        dist[ii, jj] = dist[jj, ii] = 1.0
    push = np.where(close, (spacing - dist) / 2 / np.maximum(dist, 1e-9), 0.0)
    return pos + (d * push[:, :, None]).sum(axis=1) * 0.5
