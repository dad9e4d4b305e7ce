"""Replay files: they prove what a genome did, refuse damage in one line, and play, check and record."""

from __future__ import annotations

import json
import pathlib
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from neatcfg import json_slots

import tilerunner
from tilerunner.agent import compile_population
from tilerunner.evolve.commands.cli import main
from tilerunner.evolve.core.rollout import pack_levels, play_recorded
from tilerunner.evolve.runs.replay import ReplayError, load_replay, replay_from_dict, shipped_replays, verify

ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def champion(tmp_path_factory):
    """A replay of a run's champion on a built-in level and a generated one (which travels as text)."""
    result = tilerunner.evolve_agents(["1-2", "gen:11:4"], generations=3, pop=50, seed=2, keep_going=True)
    path = tmp_path_factory.mktemp("replays") / "champ.json"
    result.replay().save(path)
    return path


def test_a_champion_replays_identically(champion):
    replay = load_replay(champion)
    checks = verify(replay)
    assert len(checks) == 2 and all(c.identical for c in checks)
    data = json.loads(champion.read_text())
    assert data["schema"] == "tilerunner-replay" and data["version"] == 1
    assert "text" not in data["episodes"][0]["level"] and "text" in data["episodes"][1]["level"]
    assert data["network"]["num_inputs"] == 169 and data["settings"]["frame_skip"] == 5


def test_round_trip_is_exact(champion, tmp_path):
    replay = load_replay(champion)
    again = tmp_path / "again.json"
    replay.save(again)
    assert json.loads(again.read_text()) == json.loads(champion.read_text())


def test_playback_follows_the_kernel_frame_by_frame(champion):
    from tilerunner.agent import CompiledNetwork
    from tilerunner.envs import physics as P
    from tilerunner.evolve.core.playback import Playback

    replay = load_replay(champion)
    level = replay.episodes[0].level
    playback = Playback(CompiledNetwork.create(replay.genome, replay.network), level, replay.settings)
    xy_python = []
    while playback.step():
        xy_python.append((playback.state[P.S_X], playback.state[P.S_Y]))
    xy_python.append((playback.state[P.S_X], playback.state[P.S_Y]))
    frames = playback.frame
    xy = np.zeros((frames + 10, 2), np.int64)
    row, _ = play_recorded(
        compile_population([replay.genome], replay.network),
        pack_levels([level]),
        0,
        replay.settings.kernel_settings(),
        np.zeros(frames, np.int64),
        xy,
    )
    assert np.array_equal(np.array(xy_python), xy[:frames])
    assert playback.outcome() == replay.episodes[0].outcome


def edit(path: pathlib.Path, tmp_path: pathlib.Path, change) -> pathlib.Path:
    data = json.loads(path.read_text())
    change(data)
    out = tmp_path / "edited.json"
    out.write_text(json.dumps(data))
    return out


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: d.update(schema="something-else"), "not a tilerunner replay"),
        (lambda d: d.update(version=99), "replay version 99 is not supported"),
        (lambda d: d["network"].update(num_inputs=25), "network has 25 inputs but the view radius"),
        (
            lambda d: d["episodes"][1]["level"].update(text=d["episodes"][1]["level"]["text"].replace("-", "o", 1)),
            "the level text does not match its sha256",
        ),
        (lambda d: d["episodes"][0]["level"].update(sha256="0" * 64), "built-in level 1-2 has changed"),
        (lambda d: d["genome"]["nodes"].pop(0), ".out: no node 0"),
        (lambda d: d.pop("genome"), "replay: missing 'genome'"),
        (
            lambda d: d["episodes"][0]["outcome"].update(frames="many"),
            'episodes[0].outcome.frames: expected a whole number, got "many"',
        ),
        (
            lambda d: d["genome"]["connections"][0].update(weight=float("nan")),
            "genome.connections[0].weight: expected a finite number, got nan",
        ),
        (lambda d: d["settings"].update(frame_skip=0), "settings: frame_skip must be from 1 to 600, got 0"),
    ],
)
def test_damaged_replays_are_refused_in_one_line(champion, tmp_path, change, message):
    path = edit(champion, tmp_path, change)
    with pytest.raises(ReplayError) as info:
        load_replay(path)
    assert str(info.value).startswith(f"{path}: ") and message in str(info.value)
    assert "\n" not in str(info.value)


def test_truncated_binary_and_missing_files(champion, tmp_path):
    cut = tmp_path / "cut.json"
    cut.write_bytes(champion.read_bytes()[: len(champion.read_bytes()) // 2])
    with pytest.raises(ReplayError, match=r"cut\.json:\d+:\d+: not valid JSON"):
        load_replay(cut)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00junk")
    with pytest.raises(ReplayError, match="not a text file"):
        load_replay(binary)
    with pytest.raises(ReplayError, match="nope.json: no such replay file"):
        load_replay(tmp_path / "nope.json")


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_mutated_replays_load_or_raise_replay_error(champion, data):
    doc = json.loads(champion.read_text())
    slots = json_slots(doc)
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(-3, 10**6),
        st.floats(allow_nan=True),
        st.text(max_size=8),
        st.just([]),
        st.just({}),
    )
    for _ in range(data.draw(st.integers(1, 3))):
        container, key = slots[data.draw(st.integers(0, len(slots) - 1))]
        if data.draw(st.booleans()) and isinstance(container, dict):
            container.pop(key, None)
        else:
            container[key] = data.draw(leaf)
    try:
        replay_from_dict(doc, "fuzz.json")
    except ReplayError as exc:
        assert "\n" not in str(exc)


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_headless_verdict_and_exit_codes(champion, tmp_path, capsys):
    code, out, _ = run_cli(capsys, "replay", str(champion), "--headless")
    assert code == 0 and out.startswith("identical: 1-2 ") and len(out.splitlines()) == 1
    lie = edit(champion, tmp_path, lambda d: d["episodes"][0]["outcome"].update(frames=1))
    code, out, _ = run_cli(capsys, "replay", str(lie), "--headless")
    assert code == 1 and out.startswith("DIFFERENT: 1-2: recorded") and len(out.splitlines()) == 1
    other = edit(champion, tmp_path, lambda d: d["episodes"][0].update(buttons_sha256="a" * 64))
    code, out, _ = run_cli(capsys, "replay", str(other), "--headless")
    assert code == 1 and "different buttons" in out


def test_another_level_gives_an_outcome_but_no_verdict(champion, capsys):
    code, out, _ = run_cli(capsys, "replay", str(champion), "--headless", "--level", "2-4")
    (outcome,) = tilerunner.evaluate(load_replay(champion), ["2-4"])
    assert code == 0 and "identical" not in out
    assert out.splitlines() == [
        f"champ.json (genome {load_replay(champion).genome.key}) on 1 level:",
        f"  1/1  2-4  {outcome.describe(fitness=True)}",
        f"  total: finished {int(outcome.finished)} of 1 level"
        + ("" if outcome.finished else f"; 1 {outcome.status}" + (f" ({outcome.cause})" if outcome.cause else "")),
    ]


def test_gif_and_png_frames(champion, tmp_path, capsys):
    from PIL import Image

    gif = tmp_path / "run.gif"
    code, out, _ = run_cli(
        capsys,
        "replay",
        str(champion),
        "--gif",
        str(gif),
        "--frame-step",
        "4",
        "--png-frames",
        str(tmp_path / "frames"),
    )
    assert code == 0 and gif.exists() and "wrote" in out
    frames = load_replay(champion).episodes[0].outcome.frames
    expected = frames // 4 + 1 + (frames % 4 != 0)  # the start, every 4th frame, and the last
    pngs = sorted((tmp_path / "frames").iterdir())
    assert len(pngs) == expected
    with Image.open(gif) as im:  # Pillow merges identical neighbouring frames, so a few may be fewer
        assert 0.9 * expected <= im.n_frames <= expected and im.size == (256, 256)
        assert im.info["duration"] == 70  # 4 frames at 60 frames/s, in GIF's 10 ms steps
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp files left


def test_the_window_plays_each_episode_to_the_outcome_it_recorded(champion, capsys):
    code, out, err = run_cli(capsys, "replay", str(champion), "--speed", "1000")
    recorded = load_replay(champion).episodes
    assert code == 0 and err == ""
    *episodes, drawn = out.splitlines()
    assert episodes == [f"{e.level.id}: {e.outcome.describe(fitness=True)}" for e in recorded]  # in order, as recorded
    assert re.fullmatch(r"viewer: [1-9]\d* frames drawn in .*", drawn)  # it drew them, then closed at the end


def test_list_shows_a_table(champion, tmp_path, capsys):
    (champion.parent / "broken.json").write_text("{")
    code, out, _ = run_cli(capsys, "replay", "--list", str(champion.parent))
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["file", "level", "fitness", "finished", "frames", "date"]
    assert any(ln.startswith("champ.json") and "1-2 and 1 more" in ln for ln in lines)
    assert any(ln.startswith("broken.json") and "unreadable" in ln for ln in lines)


@pytest.mark.parametrize(
    "argv, needle",
    [
        (["replay", "missing.json"], "missing.json: no such replay file"),
        (["replay"], "replay needs a FILE"),
        (["replay", "--list", "no-such-dir"], "no-such-dir: no such folder"),
    ],
)
def test_bad_replay_input_is_one_line_exit_2(capsys, argv, needle):
    code, _, err = run_cli(capsys, *argv)
    assert code == 2 and needle in err and len(err.strip().splitlines()) == 1


# The champions the project ships, one per built-in level, named as the README names them.
SHIPPED = {
    "1-1": "1-1-f2475.json",
    "1-2": "1-2-f2355.json",
    "1-3": "1-3-f2584.json",
    "1-4": "1-4-f3012.json",
    "2-1": "2-1-f3131.json",
    "2-2": "2-2-f3134.json",
    "2-3": "2-3-f3311.json",
    "2-4": "2-4-f3549.json",
}
GENERALIST = "generalist.json"  # the best of `tilerunner bench generalize`, picked on validation levels
FORESIGHT = "foresight.json"  # the same, seeing foresight (issue 30)


@pytest.mark.parametrize("level, name", SHIPPED.items())
def test_every_shipped_replay_finishes_its_level_identically(level, name):
    replay = load_replay(ROOT / "replays" / name)
    assert [e.level.id for e in replay.episodes] == [level] and replay.episodes[0].outcome.finished
    assert all(check.identical for check in verify(replay))


def test_the_shipped_generalist_plays_held_out_levels_identically():
    # Trained on public training levels only; its episodes are on generated levels no run trains on.
    replay = load_replay(ROOT / "replays" / GENERALIST)
    ids = [e.level.id for e in replay.episodes]
    assert ids == [f"gen:{seed}:3" for seed in range(500000, 500010)]
    assert any(e.outcome.finished for e in replay.episodes)
    assert all(check.identical for check in verify(replay))


def test_the_shipped_foresight_generalist_sees_foresight_and_plays_held_out_levels_identically():
    replay = load_replay(ROOT / "replays" / FORESIGHT)
    assert "foresight" in replay.settings.features and "no-grid" in replay.settings.features
    assert [e.level.id for e in replay.episodes] == [f"gen:{seed}:3" for seed in range(500000, 500010)]
    assert sum(e.outcome.finished for e in replay.episodes) == 8  # the grid-only generalist finishes 4 of them
    assert all(check.identical for check in verify(replay))


def test_the_installed_package_holds_the_shipped_replays():
    assert sorted(p.name for p in shipped_replays().glob("*.json")) == sorted(
        [*SHIPPED.values(), GENERALIST, FORESIGHT]
    )


def test_shipped_replays_are_listed_and_played_by_name(capsys):
    code, out, _ = run_cli(capsys, "replay", "--list")
    assert code == 0 and all(any(ln.startswith(name) for ln in out.splitlines()) for name in SHIPPED.values())
    row = next(ln for ln in out.splitlines() if ln.startswith(GENERALIST))  # several levels: counted, not listed
    assert "gen:500000:3 and 9 more" in row and " 4 of 10 " in row
    assert "play one: tilerunner replay" in out
    code, out, _ = run_cli(capsys, "replay", "2-3-f3311", "--headless")
    assert code == 0 and out.startswith("identical: 2-3 finished")


def test_the_library_records_a_replay_as_a_gif_and_frames(tmp_path):
    from PIL import Image

    replay = tilerunner.load_replay("1-1-f2475")
    done = tilerunner.record(
        replay, [replay.episodes[0].level], gif=tmp_path / "r.gif", png_folder=tmp_path / "f", frame_step=30
    )
    assert done.outcomes[0].finished and done.frames == len(done.png_files) > 10
    with Image.open(tmp_path / "r.gif") as gif:
        assert gif.n_frames == done.frames and gif.size == (done.width, done.height)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f", "r.gif"]  # no temporary file left


def test_list_of_a_file_says_it_is_a_file_not_a_folder(champion, capsys):
    code, _, err = run_cli(capsys, "replay", "--list", str(champion))
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert f"{champion}: is a file, not a folder" in err and "no such folder" not in err


def test_saving_into_a_missing_folder_names_the_path_and_makes_nothing(champion, tmp_path):
    replay = load_replay(champion)
    target = tmp_path / "missing" / "r.json"
    with pytest.raises(FileNotFoundError) as caught:
        replay.save(target)
    assert caught.value.filename == str(target) and "no such folder" in str(caught.value)
    assert ".tmp" not in str(caught.value) and list(tmp_path.iterdir()) == []
    replay.save(tmp_path / "r.json")  # a Path, into a folder that is there
    assert load_replay(tmp_path / "r.json").genome.key == replay.genome.key
