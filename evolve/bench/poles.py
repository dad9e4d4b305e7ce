"""Double pole balancing (a cart with two poles) as Numba kernels, to rerun the NEAT paper's pole experiments.

The physics, the inputs, the fitness and the tests follow Stanley's NEAT C++ release
(`experiments.cpp`: `CartPole::step`, `rk4`, `performAction`, `evalNet`, `pole2_epoch`;
physics by Faustino Gomez from Wieland's equations), which is what Stanley and
Miikkulainen (2002, "Evolving Neural Networks through Augmenting Topologies",
section 4.2) ran:

- cart 1 kg on a track of +-2.4 m; poles of 1.0 m and 0.1 m (half-lengths 0.5 and 0.05)
  weighing 0.1 and 0.01 kg, hinge friction 2e-6, gravity 9.8 (written -9.8, as in the
  C++ equations); force (output - 0.5) * 20 N, so +-10 N for outputs in [0, 1];
- fourth-order Runge-Kutta with a 0.01 s step, two steps per network decision (0.02 s);
- a failure when the cart leaves the track or either pole leans past 36 degrees;
- start: everything 0 except the long pole at 0.07 rad (about 4 degrees);
- inputs x/4.8, x'/2, theta1/0.52, theta1'/2, theta2/0.52, theta2'/2 with velocities, and
  x/4.8, theta1/0.52, theta2/0.52 without (the C++ release adds a constant 0.5 input; our
  nodes have their own biases, so it is left out);
- with velocities the fitness is the number of steps balanced, and a network that balances
  100,000 steps solves the task;
- without velocities (Gruau et al. 1996's "damping" fitness, as in the C++ release): at
  most 1,000 steps, fitness 0.1 * t/1000 + 0.9 * 0.75 / J when t > 100 steps were
  balanced (else 0.1 * t/1000), where J sums |x| + |x'| + |theta1| + |theta1'| over the
  last 100 balanced steps: so a network that balances without jiggling scores high. A
  generation's champion must then balance 100,000 steps from the standard start, and
  balance 1,000 steps from at least 200 of 625 starts (x, x', theta1, theta1' each at
  0.05, 0.25, 0.5, 0.75, 0.95 of +-2.16 m, +-1.35 m/s, +-3.6 degrees, +-8.6 degrees/s;
  the short pole upright and still): the generalisation test.

Differences, on purpose: the networks are this project's (neat-python's recurrent
semantics: one synchronous step per decision, so a hidden node answers one decision later,
where NEAT C++ propagates each input through the whole network), and a test run passes
when it balances every one of its steps (the C++ release lets the last step fail).
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

from tilerunner.agent.kernels import NetArrays, population_state, reset_network, step_network

GRAVITY = -9.8
MASS_CART = 1.0
MASS_POLE_1 = 0.1
HALF_LENGTH_1 = 0.5
MASS_POLE_2 = 0.01
HALF_LENGTH_2 = 0.05
HINGE_FRICTION = 0.000002
FORCE_MAG = 10.0
TAU = 0.01  # seconds per Runge-Kutta step; a decision is two of them
TRACK = 2.4
FAIL_ANGLE = 0.628329  # 36 degrees
START_ANGLE = 0.07  # the long pole's starting angle (radians)

STEPS_TO_SOLVE = 100_000  # with velocities, and the long test without
GRUAU_STEPS = 1_000  # an evaluation without velocities, and each generalisation start
GENERALIZATION_LEVELS = np.array([0.05, 0.25, 0.5, 0.75, 0.95])
GENERALIZATION_STARTS = 625
GENERALIZATION_TO_PASS = 200

INPUTS_WITH_VELOCITIES = 6
INPUTS_WITHOUT_VELOCITIES = 3


def start_state() -> np.ndarray:
    """The standard start: cart centred and still, long pole at 0.07 rad, short pole upright."""
    state = np.zeros(6)
    state[2] = START_ANGLE
    return state


def generalization_starts() -> np.ndarray:
    """The 625 starts of the generalisation test, (625, 6), in the C++ release's order."""
    v = GENERALIZATION_LEVELS
    starts = np.zeros((GENERALIZATION_STARTS, 6))
    row = 0
    for a in v:
        for b in v:
            for c in v:
                for d in v:
                    starts[row, :4] = (
                        a * 4.32 - 2.16,
                        b * 2.70 - 1.35,
                        c * 0.12566304 - 0.06283152,
                        d * 0.30019504 - 0.15009752,
                    )
                    row += 1
    return starts


@njit(cache=True)
def derivatives(force: float, st: np.ndarray, d: np.ndarray) -> None:
    """d/dt of the state (x, x', theta1, theta1', theta2, theta2') under `force` (Wieland's equations)."""
    cos1 = math.cos(st[2])
    sin1 = math.sin(st[2])
    gsin1 = GRAVITY * sin1
    cos2 = math.cos(st[4])
    sin2 = math.sin(st[4])
    gsin2 = GRAVITY * sin2
    ml1 = HALF_LENGTH_1 * MASS_POLE_1
    ml2 = HALF_LENGTH_2 * MASS_POLE_2
    temp1 = HINGE_FRICTION * st[3] / ml1
    temp2 = HINGE_FRICTION * st[5] / ml2
    f1 = ml1 * st[3] * st[3] * sin1 + 0.75 * MASS_POLE_1 * cos1 * (temp1 + gsin1)
    f2 = ml2 * st[5] * st[5] * sin2 + 0.75 * MASS_POLE_2 * cos2 * (temp2 + gsin2)
    m1 = MASS_POLE_1 * (1.0 - 0.75 * cos1 * cos1)
    m2 = MASS_POLE_2 * (1.0 - 0.75 * cos2 * cos2)
    d[0] = st[1]
    d[1] = (force + f1 + f2) / (m1 + m2 + MASS_CART)
    d[2] = st[3]
    d[3] = -0.75 * (d[1] * cos1 + gsin1 + temp1) / HALF_LENGTH_1
    d[4] = st[5]
    d[5] = -0.75 * (d[1] * cos2 + gsin2 + temp2) / HALF_LENGTH_2


@njit(cache=True)
def rk4_step(state: np.ndarray, force: float, dt: float) -> None:
    """Advance `state` in place by `dt` seconds with classical fourth-order Runge-Kutta."""
    k1 = np.empty(6)
    k2 = np.empty(6)
    k3 = np.empty(6)
    k4 = np.empty(6)
    y = np.empty(6)
    derivatives(force, state, k1)
    for i in range(6):
        y[i] = state[i] + 0.5 * dt * k1[i]
    derivatives(force, y, k2)
    for i in range(6):
        y[i] = state[i] + 0.5 * dt * k2[i]
    derivatives(force, y, k3)
    for i in range(6):
        y[i] = state[i] + dt * k3[i]
    derivatives(force, y, k4)
    for i in range(6):
        state[i] += dt / 6.0 * (k1[i] + 2.0 * k2[i] + 2.0 * k3[i] + k4[i])


@njit(cache=True)
def act(state: np.ndarray, output: float) -> None:
    """One decision: push with (output - 0.5) * 20 N for two Runge-Kutta steps of 0.01 s."""
    force = (output - 0.5) * FORCE_MAG * 2.0
    rk4_step(state, force, TAU)
    rk4_step(state, force, TAU)


@njit(cache=True)
def failed(state: np.ndarray) -> bool:
    """The cart left the track or a pole leans past 36 degrees."""
    return abs(state[0]) > TRACK or abs(state[2]) > FAIL_ANGLE or abs(state[4]) > FAIL_ANGLE or state[0] != state[0]


@njit(cache=True)
def _observe(state: np.ndarray, velocities: bool, inputs: np.ndarray) -> None:
    if velocities:
        inputs[0, 0] = state[0] / 4.8
        inputs[0, 1] = state[1] / 2.0
        inputs[0, 2] = state[2] / 0.52
        inputs[0, 3] = state[3] / 2.0
        inputs[0, 4] = state[4] / 0.52
        inputs[0, 5] = state[5] / 2.0
    else:
        inputs[0, 0] = state[0] / 4.8
        inputs[0, 1] = state[2] / 0.52
        inputs[0, 2] = state[4] / 0.52


@njit(cache=True)
def balance(net: NetArrays, k: int, start: np.ndarray, velocities: bool, max_steps: int, jiggle: np.ndarray) -> int:
    """Steps network `k` (reset first) balances from `start`, up to `max_steps`.

    jiggle[t % len(jiggle)] gets |x| + |x'| + |theta1| + |theta1'| after balanced step t (for Gruau's fitness).
    """
    values = np.zeros((2, net.net_slot_off[k + 1]))
    cells = np.zeros(net.net_node_off[k + 1])
    net_state = population_state(net, k, values, cells, np.zeros(k + 1, dtype=np.int64))
    reset_network(net, k, net_state)
    scratch = np.empty(max(net.max_in, 1))
    inputs = np.zeros((1, net.n_inputs))
    out = np.zeros((1, net.n_outputs))
    state = start.copy()
    n_jiggle = jiggle.size
    for t in range(max_steps):
        _observe(state, velocities, inputs)
        step_network(net, k, net_state, inputs, 0, out, 0, scratch)
        y = out[0, 0]
        act(state, y if y == y else 0.5)
        if failed(state):
            return t
        if n_jiggle:
            jiggle[t % n_jiggle] = abs(state[0]) + abs(state[1]) + abs(state[2]) + abs(state[3])
    return max_steps


@njit(cache=True)
def gruau_fitness(balanced: int, jiggle_sum: float) -> float:
    """Gruau et al.'s damping fitness of a 1,000-step run that balanced `balanced` steps."""
    f = 0.1 * balanced / GRUAU_STEPS
    if balanced > 100:
        f += 0.9 * 0.75 / max(jiggle_sum, 1e-12)
    return f


@njit(cache=True, parallel=True)
def evaluate_with_velocities(net: NetArrays, start: np.ndarray, max_steps: int) -> np.ndarray:
    """Steps each packed network balances from `start` with velocity inputs (the fitness)."""
    n_nets = net.net_node_off.size - 1
    steps = np.zeros(n_nets, dtype=np.int64)
    for k in prange(n_nets):
        steps[k] = balance(net, k, start, True, max_steps, np.zeros(0))
    return steps


@njit(cache=True, parallel=True)
def evaluate_without_velocities(net: NetArrays, start: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Gruau fitness, steps balanced) of each packed network over 1,000 steps without velocity inputs."""
    n_nets = net.net_node_off.size - 1
    fitness = np.zeros(n_nets)
    steps = np.zeros(n_nets, dtype=np.int64)
    for k in prange(n_nets):
        jiggle = np.zeros(100)
        t = balance(net, k, start, False, GRUAU_STEPS, jiggle)
        steps[k] = t
        fitness[k] = gruau_fitness(t, jiggle.sum())
    return fitness, steps


@njit(cache=True, parallel=True)
def generalization(net: NetArrays, k: int, starts: np.ndarray, velocities: bool, max_steps: int) -> int:
    """From how many of `starts` network `k` (reset each time) balances all `max_steps` steps."""
    n = starts.shape[0]
    passed = np.zeros(n, dtype=np.int64)
    for s in prange(n):
        if balance(net, k, starts[s], velocities, max_steps, np.zeros(0)) == max_steps:
            passed[s] = 1
    return int(passed.sum())
