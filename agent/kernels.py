"""Numba kernels that run compiled networks: one step, many steps, or a whole population at once.

Networks arrive packed in a `NetArrays` (see `tilerunner.agent.compiler`): one set of flat
arrays for any number of networks, with offsets. Each network's activation state (a `NetState`)
is two value buffers (the previous step's values and this step's), the memory cells'
states, and which buffer is current, so a step reads only the previous step's
values: the synchronous update of `neat.nn.RecurrentNetwork`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numba import njit, prange

from tilerunner.agent import exact_math as xm
from tilerunner.agent.functions import SIGMOID, SUM, activate, aggregate

# Pre-activation terms feeding a memory cell are kept finite and its gate inputs
# clamped as neat-python clamps sigmoid's, so a cell never yields NaN or inf.
_TERM_LIMIT = 1e12
_GATE_LIMIT = 60.0


class NetArrays(NamedTuple):
    """One or more compiled networks as flat arrays (everything a kernel needs, nothing else)."""

    n_inputs: int
    n_outputs: int
    net_node_off: np.ndarray  # int64 (N+1): network k evaluates nodes [off[k], off[k+1])
    net_slot_off: np.ndarray  # int64 (N+1): network k's values live in slots [off[k], off[k+1])
    node_slot: np.ndarray  # int64 (M): where the node's value lives, relative to its network
    node_act: np.ndarray  # int64 (M): activation id
    node_agg: np.ndarray  # int64 (M): aggregation id
    node_bias: np.ndarray  # float64 (M)
    node_response: np.ndarray  # float64 (M)
    node_memory: np.ndarray  # bool (M): an LSTM memory cell
    node_gate_bias: np.ndarray  # float64 (M, 3): input, forget, output gate biases
    node_link_off: np.ndarray  # int64 (M+1): node j's incoming links are [off[j], off[j+1])
    link_src: np.ndarray  # int64 (L): source slot, relative to the network
    link_weight: np.ndarray  # float64 (L)
    link_port: np.ndarray  # int64 (L): memory-cell port (0 cell, 1 input, 2 forget, 3 output gate)
    max_in: int  # the largest number of links into one node (scratch size)


class NetState(NamedTuple):
    """Where network k's activation state lives: the population's buffers (`population_state`) or a GPU thread's own.

    Kept apart from the read-only `NetArrays` and `k` (which network runs): one thread's buffers serve network after
    network. Numba's parallel passes drop a write into a named tuple's array that nothing reads afterwards
    (numba/numba#7135), so code inlined into a `prange` loop that writes through one reads back what it wrote.
    """

    values: np.ndarray  # float64 (2, slots): both value buffers; the network's slots start at column base_slot
    base_slot: int
    cells: np.ndarray  # float64: node j's memory-cell state is cells[j - base_node]
    base_node: int
    active: np.ndarray  # int64: active[active_at] is the current value buffer, 0 or 1
    active_at: int


_u = np.uint64  # unsigned array index (see step_network)


@njit(cache=True, inline="always")
def _finite_term(t: float) -> float:
    if t != t:
        return 0.0
    return max(-_TERM_LIMIT, min(_TERM_LIMIT, t))


@njit(cache=True, inline="always")
def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + xm.exp(-max(-_GATE_LIMIT, min(_GATE_LIMIT, z))))


@njit(cache=True, inline="always")
def population_state(net: NetArrays, k: int, values: np.ndarray, cells: np.ndarray, active: np.ndarray) -> NetState:
    """Network k's state in the population's buffers (`compiler.new_state`): `values` columns from
    `net_slot_off[k]`, `cells` indexed by node, `active[k]`."""
    return NetState(values, net.net_slot_off[k], cells, 0, active, k)


@njit(cache=True, inline="always")
def step_network(
    net: NetArrays,
    k: int,
    state: NetState,
    inputs: np.ndarray,
    row: int,
    out: np.ndarray,
    out_row: int,
    scratch: np.ndarray,
) -> None:
    """Advance network `k`, its state where `state` says, one step on inputs[row], its outputs into out[out_row].

    Arrays are indexed in place, never sliced (in Numba a slice is a reference-counted
    view), and with unsigned indices, which spares Numba's negative-index fix-up on
    every access: together about half the time of a MarI/O-sized network.
    """
    values, cells, active, active_at = state.values, state.cells, state.active, state.active_at
    base = _u(state.base_slot)
    cell0 = _u(state.base_node)
    n_in = net.n_inputs
    a = _u(active[active_at])
    b = _u(1) - a
    r = _u(row)
    # This step's inputs go into the buffer every node reads from (neat-python writes them into
    # both buffers; nothing reads the other one's input slots, so one copy gives the same numbers).
    for i in range(n_in):
        values[a, base + _u(i)] = inputs[r, _u(i)]
    for jj in range(net.net_node_off[k], net.net_node_off[k + 1]):
        j = _u(jj)
        l0 = net.node_link_off[j]
        l1 = net.node_link_off[j + _u(1)]
        slot = base + _u(net.node_slot[j])
        if net.node_memory[j]:
            s0 = 0.0
            s1 = 0.0
            s2 = 0.0
            s3 = 0.0
            for li in range(l0, l1):
                u = _u(li)
                t = _finite_term(values[a, base + _u(net.link_src[u])] * net.link_weight[u])
                port = net.link_port[u]
                if port == 0:
                    s0 += t
                elif port == 1:
                    s1 += t
                elif port == 2:
                    s2 += t
                else:
                    s3 += t
            gi = _sigmoid(net.node_gate_bias[j, _u(0)] + s1)
            gf = _sigmoid(net.node_gate_bias[j, _u(1)] + s2)
            go = _sigmoid(net.node_gate_bias[j, _u(2)] + s3)
            g = xm.tanh(max(-_GATE_LIMIT, min(_GATE_LIMIT, net.node_bias[j] + net.node_response[j] * s0)))
            c = gf * cells[j - cell0] + gi * g
            cells[j - cell0] = c
            values[b, slot] = go * xm.tanh(c)
        else:
            agg = net.node_agg[j]
            if agg == SUM:  # the common case, without the scratch buffer
                s = 0.0
                for li in range(l0, l1):
                    u = _u(li)
                    s += values[a, base + _u(net.link_src[u])] * net.link_weight[u]
            else:
                n = 0
                for li in range(l0, l1):
                    u = _u(li)
                    scratch[n] = values[a, base + _u(net.link_src[u])] * net.link_weight[u]
                    n += 1
                s = aggregate(agg, scratch, n)
            z = net.node_bias[j] + net.node_response[j] * s
            if net.node_act[j] == SIGMOID:  # the common case, inline
                values[b, slot] = 1.0 / (1.0 + xm.exp_inline(-max(-60.0, min(60.0, 5.0 * z))))
            else:
                values[b, slot] = activate(net.node_act[j], z)
    active[active_at] = b
    b = _u(active[active_at])  # read back, or a prange loop would lose the write (see NetState)
    o_row = _u(out_row)
    for o in range(net.n_outputs):
        out[o_row, _u(o)] = values[b, base + _u(n_in + o)]


@njit(cache=True)
def reset_network(net: NetArrays, k: int, state: NetState) -> None:
    """Zero network `k`'s values and cell states, as if it had never run."""
    for i in range(net.net_slot_off[k + 1] - net.net_slot_off[k]):
        state.values[0, state.base_slot + i] = 0.0
        state.values[1, state.base_slot + i] = 0.0
    for j in range(net.net_node_off[k], net.net_node_off[k + 1]):
        state.cells[j - state.base_node] = 0.0
    state.active[state.active_at] = 0


@njit(cache=True)
def activate_step(
    net: NetArrays,
    values: np.ndarray,
    cells: np.ndarray,
    active: np.ndarray,
    inputs: np.ndarray,
    out: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """One step of network 0 on inputs[0] into out[0] (the entry behind `CompiledNetwork.activate`)."""
    step_network(net, 0, population_state(net, 0, values, cells, active), inputs, 0, out, 0, scratch)


@njit(cache=True)
def activate_steps(
    net: NetArrays, values: np.ndarray, cells: np.ndarray, active: np.ndarray, inputs: np.ndarray, out: np.ndarray
) -> None:
    """Run network 0 for len(inputs) steps: inputs (T, n_inputs) -> out (T, n_outputs)."""
    state = population_state(net, 0, values, cells, active)
    scratch = np.empty(max(net.max_in, 1))
    for t in range(inputs.shape[0]):
        step_network(net, 0, state, inputs, t, out, t, scratch)


@njit(cache=True, parallel=True)
def activate_population(
    net: NetArrays, values: np.ndarray, cells: np.ndarray, active: np.ndarray, inputs: np.ndarray, out: np.ndarray
) -> None:
    """Run every packed network on its own inputs, in parallel: inputs (N, T, n_in) -> out (N, T, n_out)."""
    n_steps = inputs.shape[1]
    for k in prange(inputs.shape[0]):
        state = population_state(net, k, values, cells, active)
        scratch = np.empty(max(net.max_in, 1))
        flat_in = inputs[k]
        flat_out = out[k]
        for t in range(n_steps):
            step_network(net, k, state, flat_in, t, flat_out, t, scratch)
