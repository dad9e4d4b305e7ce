"""The fused rollouts as one CUDA kernel: every (network, level) episode of a generation on the GPU.

Each GPU thread plays episodes `p = t, t + T, t + 2T, ...` of the generation's (network, level) pairs
(network `p % N`, level `p // N`, so the threads of a warp play one level with different networks)
with `tilerunner.evolve.core.rollout.play_episode`, the very function the CPU threads run, compiled for
the device. Nothing is allocated on the device while it runs: each thread owns a row of scratch
arrays (world, network state, observation) allocated once by `DeviceScratch` and reused. Physics is
integer; the network's float math is made the same as the CPU's by compiling with fused multiply-add
contraction off (`no_fma`) and by the project's own exp/tanh/log/sin (`tilerunner.agent.exact_math`).

Importing this module imports `numba.cuda` (`pip install 'tilerunner[cuda]'`); only
`tilerunner.evolve.core.cuda_backend` does, and only when the backend is chosen. Under Numba's CUDA
simulator (`NUMBA_ENABLE_CUDASIM=1`) the kernel runs in Python threads and `play_episode` runs compiled
for the CPU, which is how the tests check the kernel's bookkeeping where there is no GPU.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numba
import numpy as np
from numba import cuda, njit

from tilerunner.agent.kernels import NetArrays, NetState
from tilerunner.envs.foresight import Sight
from tilerunner.evolve.core.cuda_backend import simulated
from tilerunner.evolve.core.rollout import EpisodeBuffers, KernelSettings, LevelPack, play_episode

SIMULATED = simulated()
BLOCK = 128  # threads a block


if SIMULATED:

    def _host(a):  # the simulator hands kernels wrapped NumPy arrays; CPU-compiled code needs the arrays
        return a._item._ary if hasattr(a, "_item") else a
else:

    @njit(inline="always")
    def _host(a):  # on the device an array is already what the device functions take
        return a


@cuda.jit(cache=True)
def rollout_kernel(
    n_inputs,
    n_outputs,
    max_in,
    net_node_off,
    net_slot_off,
    node_slot,
    node_act,
    node_agg,
    node_bias,
    node_response,
    node_memory,
    node_gate_bias,
    node_link_off,
    link_src,
    link_weight,
    link_port,
    tiles,
    tile_off,
    rows,
    cols,
    enemies,
    enemy_off,
    start_col,
    start_row,
    exit_col,
    play_levels,
    s_int,
    s_float,
    tiles_s,
    state_s,
    enemies_s,
    values_s,
    cells_s,
    active_s,
    obs_s,
    out_s,
    agg_s,
    sight_tiles_s,
    sight_ints_s,
    no_buttons,
    no_xy,
    results,
):
    """Play network `p % N` on level `play_levels[p // N]` for every pair p this thread is given."""
    net = NetArrays(
        n_inputs,
        n_outputs,
        _host(net_node_off),
        _host(net_slot_off),
        _host(node_slot),
        _host(node_act),
        _host(node_agg),
        _host(node_bias),
        _host(node_response),
        _host(node_memory),
        _host(node_gate_bias),
        _host(node_link_off),
        _host(link_src),
        _host(link_weight),
        _host(link_port),
        max_in,
    )
    levels = LevelPack(
        _host(tiles),
        _host(tile_off),
        _host(rows),
        _host(cols),
        _host(enemies),
        _host(enemy_off),
        _host(start_col),
        _host(start_row),
        _host(exit_col),
    )
    si = _host(s_int)
    sf = _host(s_float)
    s = KernelSettings(si[0], si[1], si[2], si[3], sf[0], sf[1], sf[2], sf[3], sf[4], sf[5], sf[6], si[4], si[5])
    chosen = _host(play_levels)
    out_rows = _host(results)
    t = cuda.grid(1)
    stride = cuda.gridsize(1)
    n_nets = net_node_off.size - 1
    n_pairs = n_nets * chosen.size
    if t >= n_pairs:
        return
    values = _host(values_s)[t]
    cells = _host(cells_s)[t]
    active = _host(active_s)[t]
    buffers = EpisodeBuffers(
        _host(tiles_s)[t],
        _host(state_s)[t],
        _host(enemies_s)[t],
        _host(obs_s)[t],
        _host(out_s)[t],
        _host(agg_s)[t],
        Sight(_host(sight_tiles_s)[t], _host(sight_ints_s)[t], s.frame_skip),
    )
    skip_buttons = _host(no_buttons)
    skip_xy = _host(no_xy)
    p = t
    while p < n_pairs:
        k = p % n_nets
        j = p // n_nets
        net_state = NetState(values, 0, cells, net.net_node_off[k], active, 0)
        play_episode(net, k, net_state, levels, chosen[j], s, out_rows[k, j], buffers, skip_buttons, skip_xy)
        p += stride


@contextlib.contextmanager
def no_fma() -> Iterator[None]:
    """Compile CUDA code inside this block with fused multiply-add contraction off.

    NVVM contracts `a * b + c` into one rounding by default; the CPU rounds twice, so without this the
    networks' outputs (and every fitness) would differ in the last bits between the two.
    """
    if SIMULATED:
        yield
        return
    from numba.cuda.cudadrv import nvvm

    original = nvvm.compile_ir

    def compile_ir(llvmir, **options):
        options["fma"] = False
        return original(llvmir, **options)

    nvvm.compile_ir = compile_ir
    try:
        yield
    finally:
        nvvm.compile_ir = original


def compile_kernel(args: tuple) -> None:
    """Compile the kernel for these arguments' types now (FMA contraction off), not at its first launch."""
    if SIMULATED:
        return
    with no_fma():
        rollout_kernel.compile(tuple(numba.typeof(a) for a in args))


def settings_arrays(s: KernelSettings) -> tuple[np.ndarray, np.ndarray]:
    """`KernelSettings` as the CUDA kernel takes them: its integers and its floats, in the kernel's order."""
    ints = np.array([s.frame_skip, s.view_radius, s.max_frames, s.stall_frames, s.features, s.jump_rule], np.int64)
    floats = np.array(
        [s.threshold, s.time_penalty, s.finish_bonus, s.death_penalty, s.coin_bonus, s.kill_bonus, s.jump_penalty],
        np.float64,
    )
    return ints, floats
