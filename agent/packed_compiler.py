"""Genomes still in packed gene arrays -> compiled networks, in Numba, equal to `compile_arrays`'s.

Batch breeding (`tilerunner.agent.batch_breeding`) leaves its children's genes in packed arrays
(`GeneArrays`) and makes gene objects only when something asks for them. Evaluation needs
every child compiled; `compile_packed` compiles them straight from the arrays, by the same rules
as `tilerunner.agent.compiler.compile_arrays` (enabled links only, only nodes that reach an
output, value slots in order of first appearance, each node's links in gene order), so the
networks are the same arrays, element for element (tests/test_batch_breeding.py).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from tilerunner.agent import kernels as K
from tilerunner.agent.distance import CODES, KEY_SHIFT, GeneArrays
from tilerunner.agent.functions import ACTIVATION_ID, AGGREGATION_ID
from tilerunner.agent.genome import PORT_ID


@njit(cache=True, inline="always")
def _local(keys: np.ndarray, sorted_pos: np.ndarray, lo: int, hi: int, key: int) -> int:
    """Index (from 0) among a genome's nodes [lo, hi) of the node with `key`, or -1."""
    a, b = lo, hi
    while a < b:
        mid = (a + b) // 2
        if keys[sorted_pos[mid]] < key:
            a = mid + 1
        else:
            b = mid
    if a < hi and keys[sorted_pos[a]] == key:
        return sorted_pos[a] - lo
    return -1


@njit(cache=True)
def _compile(
    g: GeneArrays, which: np.ndarray, n_in: int, n_out: int, act_id: np.ndarray, agg_id: np.ndarray, port_id: np.ndarray
):
    n_nodes = 0
    n_links = 0
    for a in which:
        n_nodes += g.node_off[a + 1] - g.node_off[a]
        n_links += g.conn_off[a + 1] - g.conn_off[a]
    net_node_off = np.zeros(which.size + 1, np.int64)
    net_link_off = np.zeros(which.size + 1, np.int64)
    n_slots = np.zeros(which.size, np.int64)
    max_in = np.zeros(which.size, np.int64)
    node_slot = np.empty(n_nodes, np.int64)
    node_gene = np.empty(n_nodes, np.int64)  # the gene (position in g) of each evaluated node
    node_link_end = np.empty(n_nodes, np.int64)
    link_src = np.empty(n_links, np.int64)
    link_gene = np.empty(n_links, np.int64)
    mask = KEY_SHIFT - 1
    out_node = 0
    out_link = 0
    for w in range(which.size):
        a = which[w]
        lo, hi = g.node_off[a], g.node_off[a + 1]
        m = hi - lo
        # enabled links grouped by target (in gene order within each target): a counting sort
        into = np.full(g.conn_off[a + 1] - g.conn_off[a], -1, np.int64)  # target's local index, per link
        src = np.empty(into.size, np.int64)  # source's local index (>= 0) or input key (< 0)
        counts = np.zeros(m + 1, np.int64)
        for k in range(into.size):
            p = g.conn_off[a] + k
            if not g.conn_enabled[p]:
                continue
            o = g.conn_key[p] & mask
            i = g.conn_key[p] >> 32
            t = _local(g.node_key, g.node_sorted, lo, hi, o)
            if t < 0:
                continue  # a link into a node the genome lacks feeds nothing
            into[k] = t
            s = _local(g.node_key, g.node_sorted, lo, hi, i) if i >= 0 else i
            if s == -1 and i >= 0:
                into[k] = -1  # from a node the genome lacks (breeding never makes one): it feeds nothing
                continue
            src[k] = s
            counts[t + 1] += 1
        for t in range(m):
            counts[t + 1] += counts[t]
        order = np.empty(counts[m], np.int64)
        fill = counts[:m].copy()
        for k in range(into.size):
            t = into[k]
            if t >= 0:
                order[fill[t]] = k
                fill[t] += 1
        # nodes that reach an output along enabled links (outputs included)
        required = np.zeros(m, np.bool_)
        stack = np.empty(m, np.int64)
        top = 0
        for o in range(n_out):
            t = _local(g.node_key, g.node_sorted, lo, hi, o)
            if t >= 0:
                required[t] = True
                stack[top] = t
                top += 1
        while top > 0:
            top -= 1
            t = stack[top]
            for q in range(counts[t], counts[t + 1]):
                s = src[order[q]]
                if s >= 0 and not required[s]:
                    required[s] = True
                    stack[top] = s
                    top += 1
        # value slots: inputs, outputs, then nodes as they first appear in the links evaluated
        slot = np.full(m, -1, np.int64)
        for t in range(m):
            key = g.node_key[lo + t]
            if 0 <= key < n_out:
                slot[t] = n_in + key
        next_slot = n_in + n_out
        evaluated = np.zeros(m, np.bool_)
        first = out_node
        for k in range(into.size):
            t = into[k]
            if t < 0 or not required[t]:
                continue
            s = src[k]
            if s >= 0 and slot[s] < 0:
                slot[s] = next_slot
                next_slot += 1
            if slot[t] < 0:
                slot[t] = next_slot
                next_slot += 1
            if not evaluated[t]:
                evaluated[t] = True
                node_gene[out_node] = lo + t
                out_node += 1
        biggest = 0
        for j in range(first, out_node):
            t = node_gene[j] - lo
            node_slot[j] = slot[t]
            for q in range(counts[t], counts[t + 1]):
                k = order[q]
                s = src[k]
                link_src[out_link] = slot[s] if s >= 0 else -s - 1
                link_gene[out_link] = g.conn_off[a] + k
                out_link += 1
            node_link_end[j] = out_link
            biggest = max(biggest, counts[t + 1] - counts[t])
        net_node_off[w + 1] = out_node
        net_link_off[w + 1] = out_link
        n_slots[w] = next_slot
        max_in[w] = biggest
    node_gene = node_gene[:out_node]
    link_gene = link_gene[:out_link]
    return (
        net_node_off,
        net_link_off,
        n_slots,
        max_in,
        node_slot[:out_node],
        act_id[g.node_act[node_gene]],
        agg_id[g.node_agg[node_gene]],
        g.node_float[node_gene],
        g.node_memory[node_gene],
        node_link_end[:out_node],
        link_src[:out_link],
        g.conn_weight[link_gene],
        port_id[g.conn_port[link_gene]],
    )


def _ids(table: dict[str, int]) -> np.ndarray:
    """Kernel ids of the names behind every code handed out (-1 for a name the kernels lack)."""
    return np.array([table.get(name, -1) for name in CODES.names] or [-1], np.int64)


def compile_packed(g: GeneArrays, which: list[int], genome_config) -> list[K.NetArrays]:
    """The packed genomes `which` compiled, one `NetArrays` each, as `compile_arrays` compiles their genes."""
    n_in, n_out = genome_config.num_inputs, genome_config.num_outputs
    (
        node_off,
        link_off,
        n_slots,
        max_in,
        node_slot,
        node_act,
        node_agg,
        node_float,
        node_memory,
        link_end,
        link_src,
        link_weight,
        link_port,
    ) = _compile(g, np.asarray(which, np.int64), n_in, n_out, _ids(ACTIVATION_ID), _ids(AGGREGATION_ID), _ids(PORT_ID))
    if (node_act < 0).any() or (node_agg < 0).any():
        raise ValueError("a genome uses an activation or aggregation function the kernels do not have")
    bias, response = node_float[:, 0].copy(), node_float[:, 1].copy()
    gates = np.ascontiguousarray(node_float[:, 3:6])
    nets = []
    for w in range(len(which)):
        lo, hi = int(node_off[w]), int(node_off[w + 1])
        base = int(link_off[w])
        link_hi = int(link_off[w + 1])
        nets.append(
            K.NetArrays(
                n_inputs=n_in,
                n_outputs=n_out,
                net_node_off=np.array([0, hi - lo], np.int64),
                net_slot_off=np.array([0, n_slots[w]], np.int64),
                node_slot=node_slot[lo:hi],
                node_act=node_act[lo:hi],
                node_agg=node_agg[lo:hi],
                node_bias=bias[lo:hi],
                node_response=response[lo:hi],
                node_memory=node_memory[lo:hi],
                node_gate_bias=gates[lo:hi],
                node_link_off=np.concatenate((np.array([base], np.int64), link_end[lo:hi])) - base,
                link_src=link_src[base:link_hi],
                link_weight=link_weight[base:link_hi],
                link_port=link_port[base:link_hi],
                max_in=int(max_in[w]),
            )
        )
    return nets
