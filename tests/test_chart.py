"""The fitness chart: reading stats.jsonl safely, what the picture shows, and `tilerunner plot`."""

from __future__ import annotations

import argparse
import json
import math
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tilerunner.evolve.commands import plot as plot_cli
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.commands.errors import UserError
from tilerunner.evolve.core.evolution import Generation
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.runs.stats import StatsError, read_stats
from tilerunner.evolve.viewer import chart
from tilerunner.evolve.viewer.chart import chart_image, draw_chart

W, H = 800, 480


def stats_row(
    generation: int,
    best: float,
    mean: float | None = None,
    best_ever: float | None = None,
    species: int = 3,
    finished: int = 0,
) -> dict:
    """One stats.jsonl row exactly as a run writes it (through `Generation.stats`)."""
    outcome = Outcome(
        best, finished > 0, 100.0, 300, 0, 0, "finished" if finished else "dead", "" if finished else "pit"
    )
    return Generation(
        generation=generation,
        best_fitness=best,
        mean_fitness=best / 2 if mean is None else mean,
        best_ever=best if best_ever is None else best_ever,
        species=species,
        finished=finished,
        population=150,
        frames=1234,
        best_key=7,
        best_outcomes=[outcome],
        best_genome=None,
        new_best=False,
        solved=finished > 0,
        table=None,
    ).stats()


def rising(n: int = 60, finished_from: int | None = None) -> list[dict]:
    return [
        stats_row(g, 10.0 * g, species=2 + g % 4, finished=int(finished_from is not None and g >= finished_from))
        for g in range(n)
    ]


def write(tmp_path, rows_or_text, name: str = "stats.jsonl"):
    path = tmp_path / name
    if isinstance(rows_or_text, (str, bytes)):
        data = rows_or_text.encode() if isinstance(rows_or_text, str) else rows_or_text
    else:
        data = "".join(json.dumps(r) + "\n" for r in rows_or_text).encode()
    path.write_bytes(data)
    return path


def mask(image: np.ndarray, colour) -> np.ndarray:
    return np.all(image == np.array(colour, dtype=np.uint8), axis=-1)


# ---------------------------------------------------------------------------
# read_stats


def test_reads_a_run_folder_or_its_file_and_ignores_blank_lines(tmp_path):
    rows = rising(5)
    path = write(tmp_path, "\n" + "".join(json.dumps(r) + "\n\n" for r in rows) + "   \n")
    assert read_stats(tmp_path) == rows
    assert read_stats(path) == rows
    assert read_stats(str(path)) == rows


def test_a_folder_without_stats_says_so(tmp_path):
    with pytest.raises(StatsError, match=r"no stats\.jsonl \(not a run folder, or no generation finished yet\)"):
        read_stats(tmp_path)
    with pytest.raises(StatsError, match="no stats.jsonl"):
        read_stats(tmp_path / "missing")


GOOD = json.dumps(stats_row(0, 5.0))


def _edit(**changes) -> str:
    row = json.loads(GOOD)
    for key, value in changes.items():
        if value is ...:
            del row[key]
        else:
            row[key] = value
    return json.dumps(row)


@pytest.mark.parametrize(
    "line, where, problem",
    [
        ("{not json", ", column 2", "not valid JSON (Expecting property name enclosed in double quotes)"),
        ("[1, 2]", "", "the line: expected an object, got a list"),
        ("42", "", "the line: expected an object, got 42"),
        (_edit(best_fitness=...), "", "missing 'best_fitness'"),
        (_edit(species=2.5), "", "species: expected a whole number >= 0, got 2.5"),
        (_edit(species=-1), "", "species: expected a whole number >= 0, got -1"),
        (_edit(generation=True), "", "generation: expected a whole number >= 0, got true"),
        (_edit(mean_fitness="12"), "", 'mean_fitness: expected a finite number, got "12"'),
        (GOOD.replace('"best_ever": 5.0', '"best_ever": NaN'), "", "best_ever: expected a finite number, got nan"),
        (
            GOOD.replace('"best_fitness": 5.0', '"best_fitness": -Infinity'),
            "",
            "best_fitness: expected a finite number, got -inf",
        ),
        (_edit(finished=151), "", "finished (151) is more than population (150)"),
        (_edit(best={"fitness": 1}), "", "best: expected a list, got an object"),
        (_edit(best=[{"fitness": 1.0}]), "", "best[0]: missing 'finished'"),
        (
            _edit(best=[dict(json.loads(GOOD)["best"][0], finished="yes")]),
            "",
            'best[0].finished: expected true or false, got "yes"',
        ),
        (_edit(generation=0), "", "generation 0 after generation 0 (generations must increase)"),
    ],
)
def test_garbage_is_named_by_file_and_line(tmp_path, line, where, problem):
    path = write(tmp_path, GOOD + "\n" + line + "\n")
    with pytest.raises(StatsError) as info:
        read_stats(tmp_path)
    assert str(info.value) == f"{path}:2{where}: {problem}"  # one line: file:line, the field, what is wrong


def test_bytes_that_are_not_utf8_are_rejected_with_their_line(tmp_path):
    path = write(tmp_path, GOOD.encode() + b"\n\n\xff\xfe\n")
    with pytest.raises(StatsError) as info:
        read_stats(path)
    assert str(info.value) == f"{path}:3: not a text file (byte 0 is not UTF-8)"


def _mutations():
    valid = [json.dumps(stats_row(g, 3.0 * g, finished=g % 2)) for g in range(3)]
    json_values = st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    )
    keys = st.sampled_from(sorted(json.loads(valid[0])))

    def replace_value(line: str, key: str, value) -> str:
        row = json.loads(line)
        row[key] = value
        return json.dumps(row)

    def drop_key(line: str, key: str) -> str:
        row = json.loads(line)
        row.pop(key)
        return json.dumps(row)

    def byte_edit(line: str, at: int, cut: int, insert: bytes) -> bytes:
        raw = line.encode()
        at %= len(raw) + 1
        return raw[:at] + insert + raw[at + cut :]

    def variants(line: str):  # the line as it was (twice as likely, so that whole files pass), dropped, or changed
        return st.one_of(
            st.just(line),
            st.just(line),
            st.just(""),
            st.builds(replace_value, st.just(line), keys, json_values),
            st.builds(drop_key, st.just(line), keys),
            st.builds(byte_edit, st.just(line), st.integers(0, 400), st.integers(0, 4), st.binary(max_size=4)),
        ).map(lambda x: x.encode() if isinstance(x, str) else x)

    files = st.tuples(*(variants(line) for line in valid)).map(lambda lines: b"\n".join(lines))
    return st.one_of(files, st.binary(max_size=200))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=_mutations())
def test_read_stats_returns_rows_or_raises_stats_error_never_anything_else(tmp_path, data):
    path = write(tmp_path, data)
    try:
        rows = read_stats(path)
    except StatsError as exc:
        assert str(exc).startswith(str(path)) and "\n" not in str(exc)
        return
    assert all(isinstance(r, dict) for r in rows)
    assert [r["generation"] for r in rows] == sorted({r["generation"] for r in rows})
    for r in rows:
        assert all(math.isfinite(r[k]) for k in ("best_fitness", "mean_fitness", "best_ever"))
    if rows:
        chart_image(rows, 300, 160)  # whatever got through can be drawn


finite = st.floats(allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    values=st.lists(
        st.tuples(st.integers(1, 10**6), finite, finite, finite, st.integers(0, 10**9), st.integers(0, 150)),
        min_size=1,
        max_size=40,
    )
)
def test_any_valid_stats_can_be_read_back_and_drawn(tmp_path, values):
    generation, rows = -1, []
    for step, best, mean, ever, species, finished in values:
        generation += step
        rows.append(stats_row(generation, best, mean, ever, species, finished))
    write(tmp_path, rows)
    assert read_stats(tmp_path) == rows
    assert chart_image(rows, 300, 160).shape == (160, 300, 3)


def test_fitness_differences_below_float_precision_draw_as_a_flat_line():
    # Found by the property test above: a range of 1e-307 made the pixel scale infinite.
    rows = [stats_row(0, 0.0, 0.0, 1.0575241823258696e-307), stats_row(1, 1e12, 1e12, 1e12 + 1e-3)]
    for some in (rows[:1], rows[1:]):
        image = chart_image(some, 300, 160)
        assert image.shape == (160, 300, 3) and (image == chart.BEST).all(axis=-1).any()  # the best line is drawn


# ---------------------------------------------------------------------------
# the picture


def top_panel(image: np.ndarray) -> np.ndarray:
    """The fitness panel, without the title line (whose legend has a swatch of every colour)."""
    return image[int(0.08 * image.shape[0]) : int(0.62 * image.shape[0])]


def test_image_has_the_requested_size_and_dark_background():
    image = chart_image(rising(), 640, 360)
    assert image.shape == (360, 640, 3) and image.dtype == np.uint8
    assert mask(image, chart.BACKGROUND).mean() > 0.5


def test_best_fitness_is_gold_and_rising_fitness_climbs_to_the_right():
    image = chart_image(rising(), W, H)
    gold = mask(top_panel(image), chart.BEST)
    ys, xs = np.nonzero(gold)
    assert len(ys) > W // 2, "the best line should run across the panel"
    left, right = ys[xs < W // 3], ys[xs > 2 * W // 3]
    assert len(left) and len(right)
    assert np.median(right) < np.median(left) - H // 10  # higher on screen = smaller y


def test_falling_fitness_descends_to_the_right():
    rows = [stats_row(g, 500.0 - 10 * g, best_ever=500.0) for g in range(50)]
    ys, xs = np.nonzero(mask(top_panel(chart_image(rows, W, H)), chart.BEST))
    assert np.median(ys[xs > 2 * W // 3]) > np.median(ys[xs < W // 3]) + H // 10


def test_mean_and_best_ever_lines_are_drawn():
    rows = [stats_row(g, 100.0 + 50 * math.sin(g), mean=10.0 * g, best_ever=200.0) for g in range(40)]
    top = top_panel(chart_image(rows, W, H))
    assert mask(top, chart.MEAN).sum() > W // 2
    assert mask(top, chart.BEST_EVER).sum() > W // 2


def test_finished_bars_appear_only_when_some_generation_finished():
    assert not mask(chart_image(rising(60), W, H), chart.FINISHED).any()
    image = chart_image(rising(60, finished_from=40), W, H)
    bars = mask(top_panel(image), chart.FINISHED)
    assert bars.sum() > 200
    xs = np.nonzero(bars)[1]
    assert xs.min() > W // 2, "bars only where generations finished (the last third)"


def test_species_line_is_in_the_bottom_panel():
    image = chart_image(rising(), W, H)
    violet = mask(image, chart.SPECIES)
    assert violet[int(0.66 * H) :].sum() > W // 2
    assert violet[int(0.08 * H) : int(0.6 * H)].sum() == 0


def test_no_rows_draws_a_waiting_chart_without_data_colours():
    image = chart_image([], W, H)
    for colour in (chart.BEST, chart.MEAN, chart.FINISHED, chart.SPECIES):
        assert not mask(image, colour).any()
    assert not mask(image, chart.BACKGROUND).all(), "some text says what is going on"


@pytest.mark.parametrize(
    "rows",
    [
        [stats_row(7, 12.0)],
        [stats_row(g, -40.0 - g, mean=-90.0) for g in range(30)],
        [stats_row(g, 3.0, mean=3.0, species=1) for g in range(30)],
        [stats_row(0, 1.0), stats_row(1000, 2.0)],
        [stats_row(g, 1e12 * g, mean=-1e12) for g in range(5)],
    ],
    ids=["one", "negative", "flat", "sparse", "huge"],
)
@pytest.mark.parametrize("size", [(400, 150), (1200, 700)])
def test_awkward_data_still_shows_the_best_line(rows, size):
    image = chart_image(rows, *size)
    assert image.shape == (size[1], size[0], 3)
    assert mask(image[:, : int(0.6 * size[0])], chart.BEST).any()  # the legend's swatch is further right


def test_draw_chart_paints_only_inside_its_rectangle():
    from tilerunner.envs.render import load_pygame

    pg = load_pygame()
    pg.font.init()
    surface = pg.Surface((500, 400))
    surface.fill((255, 0, 255))
    rect = pg.Rect(50, 60, 400, 300)
    draw_chart(surface, rect, rising(), pg.font.Font(None, 16))
    image = pg.surfarray.array3d(surface).swapaxes(0, 1)
    outside = np.ones((400, 500), bool)
    outside[rect.top : rect.bottom, rect.left : rect.right] = False
    assert mask(image, (255, 0, 255))[outside].all()
    assert mask(image[rect.top : rect.bottom, rect.left : rect.right], chart.BEST).any()


def test_thousands_of_generations_are_drawn_to_the_last_one():
    rows = [stats_row(g, g + 100 * math.sin(g / 3), species=1 + g % 9, finished=g % 3) for g in range(2000)]
    image = chart_image(rows, 1200, 700)
    gold = mask(image, chart.BEST)
    columns = np.nonzero(gold.any(axis=0))[0]
    assert columns.size > 900  # a continuous line across the panel, not a few points
    assert columns.max() > 0.85 * image.shape[1]  # it reaches the last generations at the right


# ---------------------------------------------------------------------------
# tilerunner plot


def plot(run_dir, png=None, size="1000x600"):
    return plot_cli.run(argparse.Namespace(run_dir=str(run_dir), png=None if png is None else str(png), size=size))


def test_plot_writes_a_png_of_the_requested_size(tmp_path, capsys):
    from tilerunner.envs.render import load_pygame

    rows = [stats_row(g, b) for g, b in enumerate([5.0, 40.0, 25.0, 40.0, 12.5])]
    write(tmp_path, rows)
    out = tmp_path / "chart.png"
    assert plot(tmp_path, out, "640x360") == 0
    assert load_pygame().image.load(str(out)).get_size() == (640, 360)
    assert capsys.readouterr().out == f"wrote {out}: 5 generations, best fitness 40.0 (gen 1)\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == [], "no temporary files left"


def test_tilerunner_plot_uses_the_default_size_and_bad_input_exits_2(tmp_path, capsys):
    from tilerunner.envs.render import load_pygame

    write(tmp_path, rising(3))
    assert main(["plot", str(tmp_path), "--png", str(tmp_path / "c.png")]) == 0
    assert load_pygame().image.load(str(tmp_path / "c.png")).get_size() == plot_cli.DEFAULT_SIZE
    capsys.readouterr()
    assert main(["plot", str(tmp_path / "nope"), "--png", str(tmp_path / "d.png")]) == 2
    err = capsys.readouterr().err
    assert "no such folder" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    "setup, kwargs, problem",
    [
        (None, {"run_dir": "missing"}, "no such folder"),
        (None, {}, "no stats.jsonl"),
        ("{oops\n", {}, "stats.jsonl:1, column 2: not valid JSON"),
        ("\n\n", {}, "no generation finished yet"),
        (GOOD + "\n", {"png": None}, "give --png PATH"),
        (GOOD + "\n", {"png": "c.svg"}, "c.svg: the chart is written as PNG, so the name must end in .png"),
        (GOOD + "\n", {"size": "big"}, "--size must look like 1000x600"),
        (GOOD + "\n", {"size": "10x10"}, "out of range"),
        (GOOD + "\n", {"png": "no-such-dir/c.png"}, "no-such-dir/c.png: no such folder"),
    ],
)
def test_plot_turns_bad_input_into_one_line_user_errors(tmp_path, setup, kwargs, problem):
    if setup is not None:
        write(tmp_path, setup)
    run_dir = tmp_path / kwargs.get("run_dir", "")
    png = kwargs.get("png", "c.png")
    with pytest.raises(UserError) as info:
        plot(run_dir, None if png is None else tmp_path / png, kwargs.get("size", "400x300"))
    assert problem in str(info.value) and "\n" not in str(info.value)
    assert sorted(p.name for p in tmp_path.iterdir()) == (["stats.jsonl"] if setup is not None else [])


@pytest.mark.parametrize("name", ["chart.svg", "chart.png.svg", "chart", "chart.jpg"])
def test_plot_refuses_a_png_path_not_ending_in_png_before_writing_anything(tmp_path, capsys, name):
    write(tmp_path, rising(3))
    assert main(["plot", str(tmp_path), "--png", str(tmp_path / name)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and name in err and "must end in .png" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.jsonl"]


def test_plot_accepts_png_in_any_case(tmp_path, capsys):
    from tilerunner.envs.render import load_pygame

    write(tmp_path, rising(3))
    assert main(["plot", str(tmp_path), "--png", str(tmp_path / "CHART.PNG"), "--size", "300x200"]) == 0
    assert load_pygame().image.load(str(tmp_path / "CHART.PNG")).get_size() == (300, 200)


def test_plot_help_shows_png_as_required_and_argparse_demands_it(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["plot", "--help"])
    assert info.value.code == 0
    out = capsys.readouterr().out
    usage = " ".join(out.split("\n\n")[0].split())
    assert " --png PATH " in usage and "[--png PATH]" not in usage  # required in the usage line
    assert re.search(r"^required:\n\s+--png PATH", out, re.MULTILINE), out  # and listed under "required"
    write(tmp_path, rising(3))
    with pytest.raises(SystemExit) as info:
        main(["plot", str(tmp_path)])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "required: --png" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["stats.jsonl"]


def size_texts():
    """`--size` values: well-formed ones in and out of range (with their numbers), and arbitrary text (None)."""
    number = st.one_of(st.integers(200, 10_000), st.integers(0, 199), st.integers(10_001, 10**30))
    well_formed = st.builds(
        lambda w, x, h, pad: (f"{pad}{w}{x}{h}{pad}", (w, h)),
        number,
        st.sampled_from("xX"),
        number,
        st.sampled_from(["", " ", "\t"]),
    )
    in_range = st.builds(lambda w, h: (f"{w}x{h}", (w, h)), st.integers(200, 10_000), st.integers(120, 10_000))
    return st.one_of(in_range, well_formed, st.text(max_size=30).map(lambda t: (t, None)))


def test_any_size_text_is_a_size_or_a_one_line_user_error():
    outcomes = {"accepted": 0, "refused": 0}

    @settings(max_examples=300, deadline=None, database=None)
    @given(size_texts())
    def check(case):
        text, numbers = case
        fits = numbers is not None and 200 <= numbers[0] <= 10_000 and 120 <= numbers[1] <= 10_000
        try:
            width, height = plot_cli.parse_size(text)
        except UserError as exc:
            assert "\n" not in str(exc) and "--size" in str(exc)
            assert not fits, text  # a well-formed size in range is never refused
            outcomes["refused"] += 1
        else:
            assert 200 <= width <= 10_000 and 120 <= height <= 10_000
            assert numbers is None or (width, height) == numbers  # and it is the size that was asked for
            outcomes["accepted"] += 1

    check()
    assert outcomes["accepted"] >= 30 and outcomes["refused"] >= 30  # both branches ran, many times
