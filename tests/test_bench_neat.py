"""The NEAT paper's tasks (`tilerunner bench neat`): two-pole physics against a plain reference, XOR, the command."""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
from neat.innovation import InnovationTracker

from tilerunner.agent import TileGenome, compile_population
from tilerunner.evolve.bench import poles, xor
from tilerunner.evolve.bench.neat_paper import paper_config
from tilerunner.evolve.commands.cli import main


def reference_derivatives(force, s):
    """Wieland's two-pole equations, written out plainly (as in NEAT C++'s CartPole::step)."""
    x, dx, t1, dt1, t2, dt2 = s
    g, mup = -9.8, 0.000002
    out = [dx, 0.0, dt1, 0.0, dt2, 0.0]
    ml1, ml2 = 0.5 * 0.1, 0.05 * 0.01
    tmp1, tmp2 = mup * dt1 / ml1, mup * dt2 / ml2
    f1 = ml1 * dt1**2 * math.sin(t1) + 0.75 * 0.1 * math.cos(t1) * (tmp1 + g * math.sin(t1))
    f2 = ml2 * dt2**2 * math.sin(t2) + 0.75 * 0.01 * math.cos(t2) * (tmp2 + g * math.sin(t2))
    m1 = 0.1 * (1 - 0.75 * math.cos(t1) ** 2)
    m2 = 0.01 * (1 - 0.75 * math.cos(t2) ** 2)
    out[1] = (force + f1 + f2) / (m1 + m2 + 1.0)
    out[3] = -0.75 * (out[1] * math.cos(t1) + g * math.sin(t1) + tmp1) / 0.5
    out[5] = -0.75 * (out[1] * math.cos(t2) + g * math.sin(t2) + tmp2) / 0.05
    return out


def reference_rk4(s, force, h):
    s = list(s)
    k1 = reference_derivatives(force, s)
    k2 = reference_derivatives(force, [a + h / 2 * b for a, b in zip(s, k1)])
    k3 = reference_derivatives(force, [a + h / 2 * b for a, b in zip(s, k2)])
    k4 = reference_derivatives(force, [a + h * b for a, b in zip(s, k3)])
    return [a + h / 6 * (p + 2 * q + 2 * r + w) for a, p, q, r, w in zip(s, k1, k2, k3, k4)]


def test_cart_physics_matches_a_plain_runge_kutta_on_random_states():
    rng = np.random.default_rng(0)
    for _ in range(50):
        state = rng.uniform([-2, -2, -0.5, -2, -0.5, -2], [2, 2, 0.5, 2, 0.5, 2])
        output = rng.uniform(0, 1)
        ours = state.copy()
        poles.act(ours, output)
        ref = reference_rk4(reference_rk4(state, (output - 0.5) * 20, 0.01), (output - 0.5) * 20, 0.01)
        assert np.allclose(ours, ref, rtol=1e-12, atol=1e-12)


def test_with_no_push_the_tilted_poles_fall_past_36_degrees():
    state = poles.start_state()
    t = 0
    while not poles.failed(state) and t < 1000:
        poles.act(state, 0.5)
        t += 1
    assert 10 < t < 100 and max(abs(state[2]), abs(state[4])) > poles.FAIL_ANGLE  # within 2 s
    assert state[2] > poles.START_ANGLE and state[4] > 0  # both lean further the way the long pole started
    assert abs(state[0]) < poles.TRACK  # a pole fell, the cart did not leave the track


def test_generalization_starts_are_the_625_of_the_paper():
    starts = poles.generalization_starts()
    assert starts.shape == (625, 6) and not starts[:, 4:].any()
    assert np.allclose(starts.min(axis=0)[:4], [-1.944, -1.215, -0.0565483, -0.1350878], atol=1e-6)
    assert len({tuple(s) for s in starts}) == 625


def _genome(config, links, hidden=(), bias=None):
    """A hand-wired genome: `links` as ((from, to), weight); nodes get bias 0 unless `bias` says."""
    gc = config.genome_config
    gc.innovation_tracker = InnovationTracker()
    g = TileGenome(1)
    g.configure_new(gc)
    g.connections.clear()
    for key in hidden:
        g.nodes[key] = g.create_node(gc, key)
    for node in g.nodes.values():
        node.bias, node.response, node.activation, node.aggregation = 0.0, 1.0, "sigmoid", "sum"
    for key, b in (bias or {}).items():
        g.nodes[key].bias = b
    for (i, o), w in links:
        g.add_connection(gc, i, o, w, True)
    return g


@pytest.mark.slow
def test_a_hand_made_xor_network_is_solved_and_a_plain_one_is_not():
    config = paper_config("xor", False)
    # h1 = OR, h2 = AND, out = h1 and not h2 (steep sigmoids; neat-python's sigmoid is 1/(1+exp(-5z)))
    good = _genome(
        config,
        [((-1, 1), 4), ((-2, 1), 4), ((-1, 2), 4), ((-2, 2), 4), ((1, 0), 4), ((2, 0), -4)],
        hidden=(1, 2),
        bias={1: -2, 2: -6, 0: -2},
    )
    direct = _genome(config, [((-1, 0), 1.0), ((-2, 0), 1.0)])
    fitness, solved = xor.evaluate(compile_population([good, direct], config), xor.PATTERNS, xor.TARGETS)
    assert list(solved) == [True, False]
    assert 15 < fitness[0] <= xor.MAX_FITNESS and fitness[1] < 9


@pytest.mark.slow
def test_a_simple_controller_balances_longer_than_doing_nothing():
    config = paper_config("dpv", False)
    # push toward the way the long pole leans (input 2: theta1 / 0.52 -> output 0)
    push = _genome(config, [((-3, 0), 4.0), ((-4, 0), 1.0)])
    idle = _genome(config, [])
    steps = poles.evaluate_with_velocities(compile_population([push, idle], config), poles.start_state(), 10_000)
    assert steps[0] > steps[1] > 0


def test_gruau_fitness_rewards_balancing_and_calm():
    assert poles.gruau_fitness(50, 0.0) == pytest.approx(0.005)
    assert poles.gruau_fitness(1000, 10.0) > poles.gruau_fitness(1000, 100.0) > poles.gruau_fitness(500, 100.0)


@pytest.mark.slow
def test_bench_neat_prints_the_papers_figures_beside_ours(capsys):
    assert (
        main(
            [
                "bench",
                "neat",
                "--experiment",
                "xor",
                "--experiment",
                "dpnv",
                "--xor-runs",
                "2",
                "--dpnv-runs",
                "1",
                "--generations",
                "2",
                "--pop",
                "60",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "XOR: 2 runs, population 60" in out and "without velocities (DPNV): 1 run," in out
    assert "velocities (DPV)" not in out
    assert re.search(r"^  paper \(NEAT\) +32 +4,755 +2\.35 +0/100", out, re.M)
    assert re.search(r"^  paper \(NEAT\) +33 +33,184 .* 286", out, re.M)
    rows = [ln for ln in out.splitlines() if ln.startswith("  ours")]
    assert [r.split(",")[1].split()[0] for r in rows] == ["plain", "plain", "memory"]
    assert all(re.search(r" \d/[12] ", r) for r in rows)


@pytest.mark.parametrize(
    "argv", [["--experiment", "cartpole"], ["--xor-runs", "0"], ["--generations", "x"], ["--pop", "1"]]
)
def test_bench_neat_rejects_bad_flags_in_one_line(capsys, argv):
    with pytest.raises(SystemExit) as exited:
        main(["bench", "neat", *argv])
    assert exited.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("tilerunner bench neat: error: argument")


@pytest.mark.slow
def test_bench_neat_breeds_in_batches_when_asked(capsys):
    assert (
        main(
            [
                "bench",
                "neat",
                "--experiment",
                "xor",
                "--xor-runs",
                "2",
                "--generations",
                "3",
                "--pop",
                "60",
                "--batch-breeding",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "breeding: batch" in out
    assert re.search(r"^  ours, plain nodes .* \d/2 ", out, re.M)
