"""Opt-in observation features: what the network sees, the same on every path, kept in replays and runs."""

from __future__ import annotations

import json

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

import tilerunner.envs  # noqa: F401  (registers the env)
from tilerunner.agent import CompiledNetwork, compile, compile_population
from tilerunner.envs import physics as P
from tilerunner.envs.buttons import mask_from_outputs, pressed
from tilerunner.envs.foresight import sight_buffers
from tilerunner.envs.level import parse_level
from tilerunner.envs.observe import FEATURES, n_inputs, observe_inputs
from tilerunner.evolve.commands.cli import main as cli
from tilerunner.evolve.core.evolution import Evolution
from tilerunner.evolve.core.fitness import EpisodeSettings
from tilerunner.evolve.core.neat_config import load_config
from tilerunner.evolve.core.outcome import R_FRAMES
from tilerunner.evolve.core.playback import Playback
from tilerunner.evolve.core.rollout import pack_levels, play_recorded
from tilerunner.evolve.runs.replay import NetworkShape, load_replay, make_replay, verify
from tilerunner.evolve.viewer import panels

# A walker (g) two tiles right of the start and a spiky (y) four tiles right, on flat ground.
ENEMIES = parse_level("-------------------\n-M-g-y------------F\nXXXXXXXXXXXXXXXXXXX\n", "enemies.txt")
BOTH = ("speed", "enemy-kinds")


def inputs(level, features, buttons=0, frames=0, radius=6):
    """The input vector after holding `buttons` for `frames` frames from the start."""
    settings = EpisodeSettings(view_radius=radius, features=features)
    tiles, state, enemies = P.new_world(level)
    P.advance(tiles, state, enemies, buttons, frames, 0, 0) if frames else None
    out = np.zeros(settings.n_inputs)
    observe_inputs(tiles, state, enemies, radius, settings.kernel_settings().features, out, sight_buffers(radius, 5))
    return out, state


def test_default_is_marios_grid_and_enemy_kinds_tells_stompable_from_spiky():
    size = 13
    plain, _ = inputs(ENEMIES, (), frames=1)  # enemies wake on the first frame
    kinds, _ = inputs(ENEMIES, ("enemy-kinds",), frames=1)
    assert plain.size == kinds.size == size * size  # enemy-kinds adds no inputs
    row = 6  # the player's row: the enemies stand beside it
    assert plain.reshape(size, size)[row, 6 + 2] == -1.0 and plain.reshape(size, size)[row, 6 + 4] == -1.0
    assert kinds.reshape(size, size)[row, 6 + 2] == -0.5  # the walker can be stomped
    assert kinds.reshape(size, size)[row, 6 + 4] == -1.0  # the spiky cannot
    assert np.array_equal(np.sign(plain), np.sign(kinds))  # otherwise the same grid


def test_speed_inputs_follow_the_player():
    flat = parse_level("-" * 40 + "\n" + "---M" + "-" * 35 + "F\n" + "X" * 40 + "\n", "flat.txt")
    standing, _ = inputs(flat, ("speed",))
    assert standing.size == 13 * 13 + 3
    assert list(standing[-3:]) == [0.0, 0.0, 1.0]  # still, on the ground
    running, state = inputs(flat, ("speed",), P.RIGHT | P.B, 120)
    assert running[-3] == pytest.approx(state[P.S_VX] / P.RUN_MAX) and running[-3] > 0.9  # full running speed
    assert running[-1] == 1.0
    jumping, state = inputs(flat, ("speed",), P.A, 4)
    assert jumping[-2] < 0 and jumping[-1] == 0.0  # rising (up is negative), in the air
    left, _ = inputs(flat, ("speed",), P.LEFT, 30)
    assert -1.0 <= left[-3] < 0
    assert np.all(np.abs(running) <= 1.0)


def test_features_are_spelled_one_way_and_unknown_ones_refused():
    assert EpisodeSettings(features=["enemy-kinds", "speed", "speed"]).features == ("speed", "enemy-kinds")
    assert EpisodeSettings(features=list(reversed(FEATURES))).features == FEATURES
    assert EpisodeSettings(features=("speed",)).n_inputs == n_inputs(6, ("speed",)) == 172
    for bad in (["sped"], "speed", [3]):
        with pytest.raises(ValueError):
            EpisodeSettings(features=bad)


@pytest.fixture(scope="module")
def evolved():
    """A few generations on the enemies level with both features: networks wired to the extra inputs."""
    settings = EpisodeSettings(features=BOTH)
    config = load_config(
        neat_overrides={"pop_size": 40},
        genome_overrides={"num_inputs": settings.n_inputs, "initial_connection": "full_direct"},
    )
    evolution = Evolution(config, [ENEMIES], settings, seed=5)
    for _ in range(3):
        summary = evolution.play_generation()
        evolution.reproduce(summary)
    summary = evolution.play_generation()
    genomes = list(evolution.population.population.values())
    extra = range(13 * 13, settings.n_inputs)
    wired = [g for g in genomes if any(cg.enabled and -cg.key[0] - 1 in extra for cg in g.connections.values())]
    assert wired  # some networks do read the speed inputs
    return evolution, summary, wired


def test_kernel_playback_and_gymnasium_agree_with_features(evolved):
    evolution, summary, wired = evolved
    s = evolution.settings
    for genome in wired[:6]:
        nets = compile_population([genome], evolution.config)
        buttons = np.zeros(s.max_frames // s.frame_skip + 2, np.int64)
        xy = np.zeros((s.max_frames + s.frame_skip, 2), np.int64)
        row, _ = play_recorded(nets, pack_levels([ENEMIES]), 0, s.kernel_settings(), buttons, xy)
        frames = int(row[R_FRAMES])
        # The viewer's path, a frame at a time.
        playback = Playback(CompiledNetwork.create(genome, evolution.config), ENEMIES, s)
        seen = []
        while playback.step():
            seen.append((playback.state[P.S_X], playback.state[P.S_Y]))
        seen.append((playback.state[P.S_X], playback.state[P.S_Y]))
        assert playback.outcome().frames == frames
        assert np.array_equal(np.array(seen[:frames]), xy[:frames])
        # Gymnasium's path: the Dict observation flattened in the documented order is the network's input.
        env = gym.make(
            "tilerunner/TileRunner-v0",
            level=ENEMIES,
            frame_skip=s.frame_skip,
            max_frames=s.max_frames,
            stall_frames=s.stall_frames,
            features=BOTH,
        )
        net = compile(genome, evolution.config)
        obs, _ = env.reset()
        while True:
            flat = np.concatenate([obs["grid"].ravel(), obs["speed"]])
            obs, _, terminated, truncated, info = env.step(pressed(mask_from_outputs(net.activate(flat), s.threshold)))
            if terminated or truncated:
                break
        assert info["frames"] == frames


def test_gymnasium_env_with_features_passes_the_checker():
    env = gym.make("tilerunner/TileRunner-v0", level=ENEMIES, features=BOTH).unwrapped
    check_env(env, skip_render_check=True)
    obs, _ = env.reset()
    assert set(obs) == {"grid", "speed"} and obs["grid"].shape == (13, 13) and obs["speed"].shape == (3,)
    grid_only = gym.make("tilerunner/TileRunner-v0", level=ENEMIES, features=("enemy-kinds",))
    assert grid_only.observation_space.shape == (13, 13)
    with pytest.raises(ValueError):
        gym.make("tilerunner/TileRunner-v0", features=("x-ray",))


def test_replays_keep_their_features_and_verify(evolved, tmp_path):
    evolution, summary, wired = evolved
    replay = make_replay(
        wired[0], NetworkShape.from_genome_config(evolution.config.genome_config), [ENEMIES], evolution.settings
    )
    path = tmp_path / "r.json"
    replay.save(path)
    loaded = load_replay(path)
    assert loaded.settings.features == BOTH
    checks = verify(loaded)
    assert checks and all(c.identical for c in checks)
    # Without the features the same genome does not even fit: the replay says so in one line.
    data = json.loads(path.read_text())
    data["settings"]["features"] = []
    path.write_text(json.dumps(data))
    with pytest.raises(ValueError, match="inputs"):
        load_replay(path)


def test_evolve_cli_observe_and_view_radius(tmp_path, capsys):
    out = tmp_path / "run"
    level = tmp_path / "enemies.txt"
    level.write_text(ENEMIES.text)
    assert (
        cli(
            [
                "evolve",
                "--level",
                str(level),
                "--observe",
                "speed,enemy-kinds",
                "--view-radius",
                "4",
                "--pop",
                "20",
                "--generations",
                "2",
                "--out",
                str(out),
                "--quiet",
            ]
        )
        == 0
    )
    args = json.loads((out / "args.json").read_text())
    assert args["settings"]["features"] == list(BOTH) and args["settings"]["view_radius"] == 4
    champion = load_replay(sorted((out / "champions").glob("gen-*.json"))[-1])
    assert champion.network.num_inputs == 9 * 9 + 3 and champion.settings.features == BOTH
    assert cli(["evolve", "--resume", str(out), "--observe", "speed"]) == 2
    assert "--observe cannot be changed" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        cli(["evolve", "--observe", "x-ray", "--out", str(tmp_path / "bad")])
    assert exit_.value.code == 2 and "unknown feature 'x-ray'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()


def test_the_viewer_draws_the_extra_inputs_and_stompable_enemies(evolved):
    import pygame

    from tilerunner.evolve.viewer.shows import ReplayShows, shows_of
    from tilerunner.evolve.viewer.viewer import GAME_PX, STATUS_H, WIDTH, Viewer

    evolution, summary, wired = evolved
    replay = make_replay(
        wired[0], NetworkShape.from_genome_config(evolution.config.genome_config), [ENEMIES], evolution.settings
    )
    v = Viewer(ReplayShows(shows_of(replay, "features.json")))
    v.step(1)  # the enemies are awake
    panel = pygame.surfarray.array3d(v.draw()).swapaxes(0, 1)[STATUS_H : STATUS_H + GAME_PX, GAME_PX:WIDTH]
    geo = v.layout.geometry
    extra = v.playback.inputs[13 * 13 :]
    assert extra.size == 3
    for k, value in enumerate(extra):  # a node per extra input, filled by its value, beside the grid
        x, y = geo.input_xy(13 * 13 + k)
        assert x > geo.grid_origin[0] + 13 * geo.cell  # right of the grid
        assert tuple(panel[round(y), round(x)]) == panels.node_fill(float(value))
    assert [label for _, label, _ in geo.labelled_rows[0][2]] == ["vx", "vy", "ground"]
    # The walker (-0.5) and the spiky (-1) are drawn in different reds, neither like an empty cell.
    grid = np.zeros((13, 13))
    grid[6, 8], grid[6, 10] = -0.5, -1.0
    surface = pygame.Surface((13 * 10, 13 * 10))
    panels.draw_input_grid(surface, (0, 0), 10, grid)
    image = pygame.surfarray.array3d(surface).swapaxes(0, 1)
    walker, spiky, empty = (tuple(image[6 * 10 + 4, j * 10 + 4]) for j in (8, 10, 9))
    assert walker == panels.cell_colour(-0.5) and spiky == panels.cell_colour(-1.0)
    assert len({walker, spiky, empty}) == 3


# The Mario AI senses ---------------------------------------------------------------------------------

# The player in column 1; a 3-wide gap in columns 6-8; a one-tile wall in column 18.
GAP = parse_level(
    "\n".join(["-" * 30] * 2 + ["-M" + "-" * 16 + "#" + "-" * 11] + ["X" * 6 + "---" + "X" * 21] * 2) + "\n", "gap.txt"
)


def sensed(level, features, buttons_list, rule="hold", radius=6):
    """The input vector after each frame of `buttons_list`, under `rule`."""
    settings = EpisodeSettings(view_radius=radius, features=features, jump_rule=rule)
    tiles, state, enemies = P.new_world(level, settings.kernel_settings().jump_rule)
    rows = []
    for b in buttons_list:
        P.step(tiles, state, enemies, b)
        out = np.zeros(settings.n_inputs)
        observe_inputs(
            tiles, state, enemies, radius, settings.kernel_settings().features, out, sight_buffers(radius, 5)
        )
        rows.append(out)
    return np.array(rows)


def test_the_jump_sense_says_when_a_press_would_jump_and_how_much_lift_is_left():
    flat = parse_level("-" * 40 + "\n" + "---M" + "-" * 35 + "F\n" + "X" * 40 + "\n", "flat.txt")
    held = sensed(flat, ("jump",), [P.A] * 60 + [0] * 40, rule="press")[:, -3:]
    on_ground, may_jump, higher = held.T
    assert on_ground[0] == 0 and higher[0] > 0.5  # in the air at once, with most of the lift to come
    assert np.all(np.diff(higher[:20]) <= 0)  # the lift runs out while A stays held
    landed = int(np.argmax(on_ground))
    assert landed > 0 and may_jump[landed:60].max() == 0  # A still held on the ground: no jump may start
    assert may_jump[61] == 1  # ... until A is let go there
    released = sensed(flat, ("jump",), [P.A] * 4 + [0] * 10, rule="press")[:, -1]
    assert released[3] > 0 and np.all(released[4:] == 0)  # letting A go ends the lift
    hold = sensed(flat, ("jump",), [0] * 3 + [P.A] * 60, rule="hold")[:, -3:]
    assert np.array_equal(hold[:, 0], hold[:, 1])  # under hold, on the ground is may jump


def test_the_enemy_grid_holds_the_enemies_and_the_grid_then_only_tiles():
    size = 13
    both = sensed(ENEMIES, ("enemy-kinds", "enemy-grid"), [0])[0]
    terrain, enemy = both[: size * size].reshape(size, size), both[size * size :].reshape(size, size)
    assert both.size == 2 * size * size and terrain.min() == 0.0
    assert enemy[6, 8] == -0.5 and enemy[6, 10] == -1.0 and np.count_nonzero(enemy) == 2
    assert np.array_equal(terrain, np.maximum(sensed(ENEMIES, (), [0])[0].reshape(size, size), 0))


def test_position_is_where_the_centre_is_within_its_tile():
    flat = parse_level("-" * 40 + "\n" + "---M" + "-" * 35 + "F\n" + "X" * 40 + "\n", "flat.txt")
    rows = sensed(flat, ("position",), [P.RIGHT] * 60)
    x = rows[:, -2]
    assert np.all((0 <= rows[:, -2:]) & (rows[:, -2:] < 1))
    assert np.any(np.diff(x) < 0) and np.any(np.diff(x) > 0)  # it wraps as the player crosses tiles


def test_probes_find_the_gap_the_wall_and_the_enemy_ahead():
    gap_dist, gap_width, wall_dist, wall_height, enemy_dx, enemy_dy, kind = sensed(GAP, ("probes",), [0])[0][-7:]
    assert gap_dist == pytest.approx(5 / 6) and gap_width == pytest.approx(3 / 6)
    assert wall_dist == 1.0 and wall_height == 0.0  # the wall is beyond the view
    assert enemy_dx == 1.0 and enemy_dy == 0.0 and kind == 0.0  # no enemy
    near = sensed(GAP, ("probes",), [0], radius=20)[0][-7:]
    assert near[2] == pytest.approx(17 / 20) and near[3] == pytest.approx(1 / 20)
    walker = sensed(ENEMIES, ("probes",), [0])[0][-3:]
    assert walker[0] == pytest.approx(2 / 6, abs=0.05) and walker[1] == pytest.approx(0, abs=0.05) and walker[2] == 1


@pytest.mark.parametrize("feature", FEATURES)
def test_every_feature_is_the_same_on_the_gymnasium_path(feature):
    features = ("jump", "no-grid") if feature == "no-grid" else (feature,)  # no-grid alone leaves no inputs
    settings = EpisodeSettings(features=features)
    env = gym.make("tilerunner/TileRunner-v0", level=ENEMIES, features=features).unwrapped
    check_env(env, skip_render_check=True)
    obs, _ = env.reset()
    for _ in range(8):
        obs, *_ = env.step(np.array([0, 1, 0, 0, 1, 1], dtype=np.int8))
    flat = np.concatenate([np.asarray(v).ravel() for v in obs.values()]) if isinstance(obs, dict) else obs.ravel()
    tiles, state, enemies = P.new_world(ENEMIES)
    P.advance(tiles, state, enemies, P.RIGHT | P.A | P.B, 8 * settings.frame_skip, 0, 0)
    out = np.zeros(settings.n_inputs)
    observe_inputs(tiles, state, enemies, 6, settings.kernel_settings().features, out, sight_buffers(6, 5))
    assert flat.size == n_inputs(6, features) and np.allclose(flat, out.astype(np.float32))
