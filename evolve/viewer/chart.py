"""Draw a run's progress: fitness and species per generation, from the run folder's stats.jsonl.

The rows come from `tilerunner.evolve.runs.stats.read_stats`, which checks them. `draw_chart`
paints the chart into part of a pygame Surface (the live viewer redraws it about once a
second, so it stays cheap even for thousands of generations); `chart_image` returns it as
an RGB array for `tilerunner plot --png`.
Two stacked panels: fitness on top (best, mean, best-ever lines; bars for the
genomes that finished every level, on a right-hand axis) and species below.
pygame is imported only when something is drawn.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tilerunner.envs.render import load_pygame

# Colours (RGB).
BACKGROUND = (20, 22, 30)
BEST = (255, 196, 40)  # gold: the generation's best fitness
MEAN = (120, 180, 255)  # light blue: the generation's mean fitness
BEST_EVER = (245, 245, 245)  # white: best fitness so far
FINISHED = (64, 168, 88)  # green bars: genomes that finished every level
SPECIES = (176, 118, 255)  # violet: number of species
GRID = (40, 44, 58)
FRAME = (78, 84, 104)
TEXT = (205, 208, 218)
DIM = (140, 146, 162)

# ---------------------------------------------------------------------------
# Drawing


def chart_image(rows: list[dict[str, Any]], width: int = 1000, height: int = 600) -> np.ndarray:
    """The chart as an RGB uint8 array of shape (height, width, 3), drawn headless (no window needed)."""
    if width < 1 or height < 1:
        raise ValueError(f"chart size must be positive, got {width}x{height}")
    pg = load_pygame()
    pg.font.init()
    surface = pg.Surface((width, height))
    font = pg.font.Font(None, max(12, min(22, round(height / 30), round(width / 48))))
    draw_chart(surface, surface.get_rect(), rows, font)
    return np.ascontiguousarray(pg.surfarray.array3d(surface).swapaxes(0, 1))


def draw_chart(surface, rect, rows: list[dict[str, Any]], font) -> None:
    """Paint the fitness and species chart of `rows` into `rect` of a pygame Surface, with `font` for text."""
    pg = load_pygame()
    rect = pg.Rect(rect)
    old_clip = surface.get_clip()
    surface.set_clip(rect.clip(old_clip))
    try:
        surface.fill(BACKGROUND, rect)
        _Chart(pg, surface, rect, font).draw(rows)
    finally:
        surface.set_clip(old_clip)


class _Chart:
    """One drawing of the chart: the layout and the painting, for one surface, rectangle and font."""

    def __init__(self, pg, surface, rect, font) -> None:
        self.pg, self.surface, self.rect, self.font = pg, surface, rect, font
        self.line_h = font.get_linesize()
        self.pad = max(3, self.line_h // 3)

    def draw(self, rows: list[dict[str, Any]]) -> None:
        r, pad, lh = self.rect, self.pad, self.line_h
        fin = np.array([row["finished"] for row in rows], dtype=np.float64)
        any_finished = bool(fin.size and fin.max() > 0)
        legend = [(BEST, "best"), (MEAN, "mean"), (BEST_EVER, "best ever")] if rows else []
        if any_finished:
            legend.append((FINISHED, "finished all"))
        top = self._header("fitness by generation", legend)
        if not rows:
            self._text("waiting for the first generation", DIM, r.centerx, (top + r.bottom) // 2, "center")
            return
        gen = np.array([row["generation"] for row in rows], dtype=np.float64)
        best = _clip(np.array([row["best_fitness"] for row in rows], dtype=np.float64))
        mean = _clip(np.array([row["mean_fitness"] for row in rows], dtype=np.float64))
        ever = _clip(np.array([row["best_ever"] for row in rows], dtype=np.float64))
        species = np.array([row["species"] for row in rows], dtype=np.float64)

        # Layout: y labels on the left, finished labels on the right, x labels under the bottom panel.
        height = r.bottom - pad - lh - pad - top
        roomy = height >= 12 * lh  # room to name the species panel above it rather than inside it
        gap = lh + 2 if roomy else max(4, lh // 2)
        lower_h = max(1, round((height - gap) / 3))
        upper_h = max(1, height - gap - lower_h)
        y_fit = _Axis(
            *_range(min(best.min(), mean.min(), ever.min()), max(best.max(), mean.max(), ever.max())), upper_h, 2 * lh
        )
        y_species = _Axis(0.0, max(1.0, species.max()) * 1.08, lower_h, 2 * lh, integer=True)
        y_fin = _Axis(0.0, max(1.0, fin.max()) * 1.5, upper_h, 2 * lh, integer=True) if any_finished else None
        left = r.left + pad + max(self._width(y_fit.labels + y_species.labels)) + pad
        right = r.right - pad - (max(self._width(y_fin.labels)) + pad if y_fin else pad)
        plot_w = max(1, right - left)
        upper = self.pg.Rect(left, top, plot_w, upper_h)
        lower = self.pg.Rect(left, upper.bottom + gap, plot_w, lower_h)
        x_axis = _Axis(gen[0] - 0.5, gen[-1] + 0.5, plot_w, self._width([f"{int(gen[-1])}"])[0] + 3 * lh, integer=True)
        xs = upper.left + (gen - x_axis.lo) * (plot_w / (x_axis.hi - x_axis.lo))

        for panel, axis in ((upper, y_fit), (lower, y_species)):
            self._grid(panel, axis, x_axis)
        if y_fin is not None:
            per_gen = plot_w / (x_axis.hi - x_axis.lo)
            width = max(2, int(per_gen) - (1 if per_gen >= 4 else 0))
            self._bars(xs, fin, upper, y_fin, width)
        self._series(xs, ever, upper, y_fit, BEST_EVER, 1)
        self._series(xs, mean, upper, y_fit, MEAN, 2)
        self._series(xs, best, upper, y_fit, BEST, 2)
        self._series(xs, species, lower, y_species, SPECIES, 2)
        for panel in (upper, lower):
            self.pg.draw.rect(self.surface, FRAME, panel.inflate(2, 2), 1)

        self._y_labels(upper, y_fit, upper.left - pad, "right", DIM)
        self._y_labels(lower, y_species, lower.left - pad, "right", DIM)
        if y_fin is not None:
            self._y_labels(upper, y_fin, upper.right + pad, "left", FINISHED)
        if roomy:
            self._text("species", SPECIES, lower.left, lower.top - lh, "left")
        else:
            label = self.font.render("species", True, SPECIES)
            spot = label.get_rect(topleft=(lower.left + pad, lower.top + 1))
            self.surface.fill(BACKGROUND, spot.inflate(4, 0))
            self.surface.blit(label, spot)
        self._x_labels(lower, x_axis)

    # -- layout pieces

    def _header(self, title: str, legend: list[tuple[tuple[int, int, int], str]]) -> int:
        """Draw the title and legend (on one line if they fit, else two); return the y where plots start."""
        r, pad, lh = self.rect, self.pad, self.line_h
        swatch, gap = lh, max(3, pad // 2)
        items = [(colour, label, swatch + gap + self._width([label])[0]) for colour, label in legend]
        legend_w = sum(w for *_, w in items) + 2 * pad * max(0, len(items) - 1)
        title_w = self._width([title])[0]
        y = r.top + pad
        self._text(title, TEXT, r.left + pad, y, "left")
        if title_w + 3 * pad + legend_w + 2 * pad <= r.width:
            x = r.right - pad - legend_w
        else:
            y += lh
            x = r.left + pad
        mid = y + lh // 2
        for colour, label, w in items:
            if colour == FINISHED:
                self.pg.draw.rect(self.surface, colour, (x + 2, mid - lh // 3, swatch - 4, 2 * (lh // 3)))
            else:
                self.pg.draw.line(self.surface, colour, (x, mid), (x + swatch, mid), 1 if colour == BEST_EVER else 2)
            self._text(label, DIM, x + swatch + gap, y, "left")
            x += w + 2 * pad
        return y + lh + pad

    def _grid(self, panel, y_axis: _Axis, x_axis: _Axis) -> None:
        line = self.pg.draw.line
        for value in y_axis.ticks:
            y = round(_to_px(value, y_axis, panel))
            line(self.surface, GRID, (panel.left, y), (panel.right - 1, y))
        for value in x_axis.ticks:
            x = round(panel.left + (value - x_axis.lo) * panel.width / (x_axis.hi - x_axis.lo))
            line(self.surface, GRID, (x, panel.top), (x, panel.bottom - 1))

    def _series(self, xs: np.ndarray, values: np.ndarray, panel, axis: _Axis, colour, width: int) -> None:
        ys = _to_px(values, axis, panel)
        if len(xs) == 1:
            self.pg.draw.circle(self.surface, colour, (round(xs[0]), round(ys[0])), width + 2)
            return
        cols, lo, hi = _columns(xs, ys)
        if len(cols) < len(xs):  # more generations than pixels: each column spans its min..max
            points = np.empty((2 * len(cols), 2))
            points[0::2, 0] = points[1::2, 0] = cols
            points[0::2, 1], points[1::2, 1] = lo, hi
        else:
            points = np.column_stack([xs, ys])
        self.pg.draw.lines(self.surface, colour, False, points.tolist(), width)

    def _bars(self, xs: np.ndarray, counts: np.ndarray, panel, axis: _Axis, width: int) -> None:
        tops = _to_px(counts, axis, panel)
        cols, _, top = _columns(xs, tops)
        if len(cols) < len(xs):
            width = 2
        base = panel.bottom
        for x, y, n in zip(cols.tolist(), top.tolist(), _column_max(xs, counts).tolist()):
            if n > 0:
                y = min(round(y), base - 1)
                self.pg.draw.rect(self.surface, FINISHED, (round(x - width / 2), y, width, base - y))

    def _y_labels(self, panel, axis: _Axis, x: int, align: str, colour) -> None:
        lh, last = self.line_h, None
        for value, label in zip(axis.ticks, axis.labels):  # bottom to top
            y = round(_to_px(value, axis, panel)) - lh // 2
            y = max(panel.top, min(y, panel.bottom - lh))
            if last is not None and y + lh > last:
                continue
            self._text(label, colour, x, y, align)
            last = y

    def _x_labels(self, panel, axis: _Axis) -> None:
        y = panel.bottom + self.pad
        left_edge = self.rect.left + self.pad
        self._text("gen", DIM, left_edge, y, "left")
        last = left_edge + self._width(["gen"])[0] + self.pad
        for value, label in zip(axis.ticks, axis.labels):
            w = self._width([label])[0]
            x = round(panel.left + (value - axis.lo) * panel.width / (axis.hi - axis.lo)) - w // 2
            x = min(x, self.rect.right - self.pad - w)
            if x < last:
                continue
            self._text(label, DIM, x, y, "left")
            last = x + w + self.pad

    # -- text

    def _width(self, labels: list[str]) -> list[int]:
        return [self.font.size(label)[0] for label in labels] or [0]

    def _text(self, text: str, colour, x: int, y: int, align: str) -> None:
        image = self.font.render(text, True, colour)
        if align == "right":
            x -= image.get_width()
        elif align == "center":
            x -= image.get_width() // 2
            y -= image.get_height() // 2
        self.surface.blit(image, (x, y))


class _Axis:
    """A value range and its tick marks: round steps, few enough that labels `spacing` pixels apart fit."""

    def __init__(self, lo: float, hi: float, length: int, spacing: int, integer: bool = False) -> None:
        self.lo, self.hi = lo, (hi if hi > lo else lo + 1.0)
        if length < 3 * spacing:  # a short panel: labels closer together rather than only one
            spacing = min(spacing, spacing // 2 + 2)
        step = _nice_step((self.hi - lo) / max(1, length // max(1, spacing)), integer)
        first, last = math.ceil(lo / step - 1e-9), math.floor(self.hi / step + 1e-9)
        self.ticks = [k * step for k in range(first, last + 1)]
        self.labels = [_format(v, step) for v in self.ticks]


def _nice_step(raw: float, integer: bool) -> float:
    """The smallest of 1, 2, 2.5, 5 times a power of ten that is at least `raw`."""
    if not raw > 0 or not math.isfinite(raw):
        return 1.0
    if integer:
        raw = max(raw, 1.0)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        step = m * magnitude
        if step >= raw * (1 - 1e-9) and (not integer or step == round(step)):
            return step
    return 10 * magnitude


def _format(value: float, step: float) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1e6:
        return f"{value:.3g}"
    if abs(value) >= 10_000 and step >= 1000:
        return f"{value / 1000:g}k"
    decimals = max(0, math.ceil(-math.log10(step) - 1e-9)) if step < 1 else 0
    return f"{value:.{decimals}f}"


def _range(lo: float, hi: float) -> tuple[float, float]:
    """`lo..hi` padded by 5% each side (a flat series gets a range around it).

    A span far below the values' own size (or below 1e-9) counts as flat: drawn to scale it would
    need more than a float's precision per pixel.
    """
    span = hi - lo
    if not span > 1e-9 * max(1.0, abs(lo), abs(hi)):
        span = max(1.0, abs(lo) * 0.2)
        return lo - span / 2, hi + span / 2
    return lo - 0.05 * span, hi + 0.05 * span


def _clip(values: np.ndarray) -> np.ndarray:
    return np.clip(values, -1e15, 1e15)  # finite but absurd values would overflow the pixel maths


def _to_px(values, axis: _Axis, panel):
    return panel.bottom - 1 - (np.asarray(values) - axis.lo) * ((panel.height - 1) / (axis.hi - axis.lo))


def _columns(xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Group points by pixel column: each column's x, lowest and highest y (pixel y grows downwards)."""
    cols = np.floor(xs)
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    if len(starts) == len(xs):
        return xs, ys, ys
    return cols[starts] + 0.5, np.maximum.reduceat(ys, starts), np.minimum.reduceat(ys, starts)


def _column_max(xs: np.ndarray, values: np.ndarray) -> np.ndarray:
    """The largest of `values` in each pixel column, grouped as `_columns` groups them."""
    cols = np.floor(xs)
    starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
    return values if len(starts) == len(xs) else np.maximum.reduceat(values, starts)
