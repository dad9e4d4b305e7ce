"""Recording a replay's play as an animated GIF and/or a numbered run of PNG frames, headless.

`record(replay, levels, gif=..., png_folder=...)` plays the genome on each level one frame at a time (the
same playback the viewer shows), keeps every `frame_step`-th frame (and each level's first and last),
scales them (a genome that sees foresight with its foreseen paths over them, as the viewer draws them:
`foreseen.game_picture`), and writes them: the GIF atomically (a temporary name, then renamed), the PNG
frames one by one, all removed again if the recording fails (a full disk, Ctrl-C). A GIF holds every frame in memory
while it is encoded, so it is limited to `MAX_GIF_PIXELS` over all its frames, checked before anything is
drawn (`RecordingError`, one line).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from tilerunner.envs.arguments import finite_number, instance, whole_number

if TYPE_CHECKING:
    import numpy as np

    from tilerunner.envs.level import Level
    from tilerunner.evolve.core.outcome import Outcome
    from tilerunner.evolve.runs.replay import Replay

MAX_GIF_PIXELS = 2**28  # 256 MiB of frames in all
# The ranges of record's numbers (`tilerunner replay --scale` and `--frame-step` take them too).
SCALE_RANGE = (1, 16)  # pixels per game pixel
FRAME_STEP_RANGE = (1, 600)  # keep every Nth frame: a GIF frame time stays within GIF's 655 s
HOLD_LAST_RANGE = (0.0, 600.0)  # seconds a level's last frame stays up: with a frame's 10 s, still within 655 s


class RecordingError(ValueError):
    """A recording that cannot be made as asked: `kind` is "heights" (levels of different heights in one GIF:
    record PNG frames instead) or "pixels" (more than a GIF may hold: keep fewer frames or scale less)."""

    def __init__(self, message: str, kind: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass
class Recording:
    """What `record` wrote."""

    frames: int  # frames written (into the GIF, and/or as PNG files)
    width: int  # pixels, after scaling
    height: int
    outcomes: list[Outcome]  # how each level's episode ended
    gif: Path | None = None
    png_files: list[Path] = field(default_factory=list)


def record(
    replay: Replay,
    levels: Sequence[Level | str | os.PathLike],
    *,
    gif: str | os.PathLike | None = None,
    png_folder: str | os.PathLike | None = None,
    frame_step: int = 3,
    scale: int = 1,
    hold_last: float = 0.0,
) -> Recording:
    """Play `replay`'s genome on `levels` in turn and write the frames to `gif` and/or `png_folder`.

    `frame_step`: keep every Nth frame (3 is 20 frames a second of game time); `scale`: pixels per game
    pixel; `hold_last`: seconds each level's last frame stays up in the GIF (the viewer's pause between
    levels); their ranges are `FRAME_STEP_RANGE`, `SCALE_RANGE` and `HOLD_LAST_RANGE`. `levels`: `Level` objects
    or ids, as `evaluate` takes them. A wrong argument is a `TypeError` or `ValueError` naming it; a recording
    that cannot be made a `RecordingError`, both before anything is drawn; `OSError` (with nothing half-written
    left) if writing fails.
    """

    from tilerunner.agent import CompiledNetwork
    from tilerunner.envs import render
    from tilerunner.envs.atomic import atomic_path
    from tilerunner.envs.physics import FPS
    from tilerunner.evolve.core.playback import Playback
    from tilerunner.evolve.runs.evaluation import replay_results
    from tilerunner.evolve.runs.replay import Replay, as_level_list
    from tilerunner.evolve.viewer.foreseen import game_picture

    replay = instance("replay", replay, Replay, "a Replay (tilerunner.load_replay reads one)")
    levels = as_level_list(levels)
    frame_step = whole_number("frame_step", frame_step, *FRAME_STEP_RANGE)
    scale = whole_number("scale", scale, *SCALE_RANGE)
    hold_last = finite_number("hold_last", hold_last, *HOLD_LAST_RANGE)
    if gif is None and png_folder is None:
        raise ValueError("nothing to record into: give a GIF path or a folder for PNG frames")
    outcomes = [r.outcome for r in replay_results([replay], levels)[0]]  # the kernel: milliseconds a level
    counts = [o.frames // frame_step + 1 + (o.frames % frame_step != 0) for o in outcomes]  # start, steps, last
    heights = sorted({lv.height for lv in levels})
    if gif is not None and len(heights) > 1:
        raise RecordingError(
            f"the levels are not all one height ({heights[0]} and {heights[-1]} rows) and a GIF's frames are one size",
            "heights",
        )
    height, width = heights[-1] * render.TILE_PX * scale, 16 * render.TILE_PX * scale
    render.check_image_size(height, width)  # ValueError, one line
    total = sum(counts)
    if gif is not None and total * height * width > MAX_GIF_PIXELS:
        raise RecordingError(
            f"{total:,} frames of {width}x{height} px is more than a GIF may hold ({MAX_GIF_PIXELS:,} px in all)",
            "pixels",
        )
    network = CompiledNetwork.create(replay.genome, replay.network)
    folder = Path(png_folder) if png_folder is not None else None
    done = Recording(
        frames=0, width=width, height=height, outcomes=outcomes, gif=Path(gif) if gif is not None else None
    )

    def drawn() -> Iterator[np.ndarray]:
        for level in levels:
            playback = Playback(network, level, replay.settings, foresee=True)
            yield game_picture(playback, scale)
            while not playback.done:
                playback.step()
                if playback.frame % frame_step == 0 or playback.done:
                    yield game_picture(playback, scale)

    def frames_out() -> Iterator[np.ndarray]:
        for image in drawn():
            if folder is not None:
                file = folder / f"frame-{done.frames:05d}.png"
                with _naming(file):
                    render.save_png(image, file)
                done.png_files.append(file)
            done.frames += 1
            yield image

    each = 10 * round(100 * frame_step / FPS)  # GIF times are in 10 ms units
    hold = 10 * round(100 * hold_last)
    duration: int | list[int] = (
        each if not hold else [each + hold * (i == count - 1) for count in counts for i in range(count)]
    )
    made: list[Path] = []  # the folders made for the PNG frames, removed if the recording fails
    try:
        if folder is not None:
            made = [p for p in (folder, *folder.parents) if not os.path.lexists(p)]
            folder.mkdir(parents=True, exist_ok=True)
        if gif is not None:
            from PIL import Image

            images = (Image.fromarray(f) for f in frames_out())
            first = next(images)
            with _naming(gif), atomic_path(gif) as tmp:
                first.save(
                    tmp, format="GIF", save_all=True, append_images=images, duration=duration, loop=0, optimize=True
                )
        else:
            for _ in frames_out():
                pass
    except BaseException:  # a full disk or Ctrl-C: no half recording is left behind (the GIF is atomic)
        for file in done.png_files:
            with contextlib.suppress(OSError):
                file.unlink()
        for made_folder in made:  # deepest first; only if empty
            with contextlib.suppress(OSError):
                made_folder.rmdir()
        raise
    return done


@contextlib.contextmanager
def _naming(path: str | os.PathLike) -> Iterator[None]:
    """An `OSError` inside names `path` (a failed write says which output it was), unless it names a file inside
    it already."""
    try:
        yield
    except OSError as exc:
        if exc.filename is None and exc.errno is not None:
            raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from exc
        raise
