"""What the viewer plays next: replay files in turn, a genome through a level set, or a run's newest champion.

A `Show` is one genome on one level plus what is known about it. The viewer talks to its
source only through `ShowSource`: it asks for the `current` show, for the one `after` an
episode ends (None: nothing more, close) and for the `next` one when the user presses N,
calls `poll` about twice a second so a source can notice new files, and reads `stats`,
`status`, `waiting` and `warnings` for what it prints and draws. It tells the source how
each episode `ended`, and when the user left one early (`skipped`). A source that plays a
level set also answers `tally` (where the set stands, for the overlay) and `skip` (the
level keys). `ReplayShows`, `LevelSetShows` and `RunFollower` are the sources the commands
use; anything with the same members works (subclassing `ShowSource` gives the optional ones).
"""

from __future__ import annotations

import os
from abc import abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from tilerunner.envs.level import Level
from tilerunner.evolve.core.outcome import Outcome
from tilerunner.evolve.runs.replay import Replay, ReplayError, load_replay
from tilerunner.evolve.runs.run_folder import RunFolder
from tilerunner.evolve.runs.stats import STATS_FILE, StatsError, read_stats


@dataclass(frozen=True)
class Show:
    """One genome on one level, and what is known about it."""

    replay: Replay
    level: Level
    label: str  # where it came from: a file name, or "champion of gen 12"
    recorded: Outcome | None  # what the replay file says happened (None on a level it was not recorded on)


@dataclass(frozen=True)
class Skipped:
    """A level left before its episode ended (a level key, N, or the window closed), at `frame`."""

    frame: int

    def describe(self) -> str:
        return f"skipped at frame {self.frame}"


@dataclass(frozen=True)
class SetTally:
    """Where a genome's pass through a level set stands: the level playing and how the others went."""

    position: int  # the level playing, 1 to `levels`
    levels: int
    level_id: str
    ended: int  # levels played to the end of their episode
    finished: int  # of those, the ones whose exit was reached
    skipped: int
    complete: bool  # every level has been played or skipped

    def heading(self) -> str:
        """`level 3 of 7`."""
        return f"level {self.position} of {self.levels}"

    def text(self) -> str:
        """The running tally: `finished 2 of 3 so far` (`finished 5 of 7` once the set is done)."""
        skipped = f", {self.skipped} skipped" if self.skipped else ""
        if not self.ended:
            return f"no level played to the end yet{skipped}"
        return f"finished {self.finished} of {self.ended}{'' if self.complete else ' so far'}{skipped}"


@runtime_checkable
class ShowSource(Protocol):
    """Everything the viewer asks of what it plays; the one interface between the two.

    `waiting` is the banner shown while `current()` is None; the viewer prints and then removes
    each entry of `warnings` (things the source had to skip, e.g. an unreadable champion file).
    """

    waiting: str
    warnings: list[str]

    @abstractmethod
    def current(self) -> Show | None:
        """The show to play now (None: nothing to play yet)."""

    @abstractmethod
    def after(self) -> Show | None:
        """The show to play when the current episode has ended (None: nothing more, the viewer closes)."""

    @abstractmethod
    def next(self) -> Show | None:
        """The show to play when the user asks for the next genome (N)."""

    @abstractmethod
    def poll(self) -> None:
        """Look at the files again (called about twice a second): new champions, new statistics."""

    @abstractmethod
    def stats(self) -> list[dict[str, Any]]:
        """The stats.jsonl rows of the run being shown, checked (empty when there is none here)."""

    @abstractmethod
    def status(self) -> str:
        """A few words for the end of the status line ("" for none)."""

    # Optional: what a source that keeps a tally needs (the defaults keep none).

    def ended(self, outcome: Outcome) -> None:
        """The current show's episode has ended with `outcome` (told once per episode)."""

    def skipped(self, frame: int) -> None:
        """The user left the current show at `frame`, before its episode ended."""

    def tally(self) -> SetTally | None:
        """Where a level set stands, for the overlay (None: this source plays no level set)."""
        return None

    def skip(self, by: int) -> Show | None:
        """The show `by` levels on (+1 next, -1 previous) for the level keys (None: nothing more, close)."""
        return self.current()


def shows_of(replay: Replay, label: str, levels: list[Level] | None = None) -> list[Show]:
    """A replay's episodes as shows, or the same genome on `levels` instead (nothing recorded there)."""
    if levels:
        return [Show(replay, lv, label, None) for lv in levels]
    return [Show(replay, e.level, label, e.outcome) for e in replay.episodes]


def _run_stats(run: str | os.PathLike | None) -> list[dict[str, Any]]:
    if not run:
        return []
    try:
        return read_stats(run)
    except StatsError:
        return []


class ReplayShows(ShowSource):
    """Replay files played one after another; with `loop`, round and round."""

    def __init__(self, shows: list[Show], loop: bool = False) -> None:
        if not shows:
            raise ValueError("nothing to show")
        self.shows = shows
        self.loop = loop
        self.index = 0
        self.waiting = "nothing to show"  # never shown: there is always a current show
        self.warnings: list[str] = []
        self._stats = _run_stats(shows[0].replay.run)
        self._stats_run = shows[0].replay.run

    def current(self) -> Show | None:
        return self.shows[self.index]

    def after(self) -> Show | None:
        if self.index + 1 < len(self.shows):
            self.index += 1
        elif not self.loop:
            return None
        else:
            self.index = 0
        return self.current()

    def next(self) -> Show | None:
        self.index = (self.index + 1) % len(self.shows)
        return self.current()

    def poll(self) -> None:
        run = self.current().replay.run
        if run != self._stats_run:
            self._stats, self._stats_run = _run_stats(run), run

    def stats(self) -> list[dict[str, Any]]:
        """The statistics of the run the current replay came from, when that folder is here."""
        return self._stats

    def status(self) -> str:
        return f"{self.index + 1}/{len(self.shows)}" if len(self.shows) > 1 else ""


class LevelSetShows(ReplayShows):
    """Each genome played on every level of a set in turn, keeping how each episode ended.

    `replays` are (label, replay) pairs; each plays `levels` in order with its own episode settings.
    The level keys (`skip`) move through the set; N moves to the next genome's first level. After the
    last level of the last genome there is nothing more (with `loop`: the first again). `results[g][i]`
    is what genome g did on level i: an `Outcome`, `Skipped`, or None (not played yet).
    """

    def __init__(self, replays: list[tuple[str, Replay]], levels: list[Level], loop: bool = False) -> None:
        if not replays or not levels:
            raise ValueError("a level set needs at least one genome and one level")
        self.replays = replays
        self.levels = levels
        shows = []
        for label, replay in replays:
            recorded = {e.level.sha256: e.outcome for e in replay.episodes}  # the same level: known already
            shows += [Show(replay, lv, label, recorded.get(lv.sha256)) for lv in levels]
        super().__init__(shows, loop=loop)
        self.results: list[list[Outcome | Skipped | None]] = [[None] * len(levels) for _ in replays]

    @property
    def genome(self) -> int:
        """Which of `replays` is playing (0-based)."""
        return self.index // len(self.levels)

    @property
    def level(self) -> int:
        """Which of `levels` is playing (0-based)."""
        return self.index % len(self.levels)

    def ended(self, outcome: Outcome) -> None:
        self.results[self.genome][self.level] = outcome

    def skipped(self, frame: int) -> None:
        if self.results[self.genome][self.level] is None:  # an episode already seen to its end stays as it ended
            self.results[self.genome][self.level] = Skipped(frame)

    def skip(self, by: int) -> Show | None:
        at = self.index + by
        if at >= len(self.shows):
            if not self.loop:
                return None
            at = 0
        elif at < 0:
            at = len(self.shows) - 1 if self.loop else 0
        self.index = at
        return self.current()

    def next(self) -> Show | None:
        n = len(self.levels)
        self.index = (self.genome + 1) % len(self.replays) * n
        return self.current()

    def tally(self) -> SetTally | None:
        row = self.results[self.genome]
        done = [r for r in row if isinstance(r, Outcome)]
        return SetTally(
            self.level + 1,
            len(self.levels),
            self.levels[self.level].id,
            len(done),
            sum(o.finished for o in done),
            sum(isinstance(r, Skipped) for r in row),
            all(r is not None for r in row),
        )

    def status(self) -> str:
        return f"genome {self.genome + 1} of {len(self.replays)}" if len(self.replays) > 1 else ""


class RunFollower(ShowSource):
    """A run folder, running or finished: plays its newest champion, switching when a better one lands.

    A new champion takes over when the current episode ends (so every episode is seen whole);
    N steps through the folder's champions, oldest to newest and round again.
    """

    def __init__(self, path: str | os.PathLike) -> None:
        self.folder = RunFolder(path)
        self.files: list[Path] = []
        self.playing: Path | None = None
        self.shows: list[Show] = []
        self.index = 0
        self._stats: list[dict[str, Any]] = []
        self._stats_mtime: int | None = None
        self.warnings: list[str] = []
        self.waiting = f"waiting for the first champion in {self.folder.path}"
        self._bad: set[Path] = set()
        self.poll()  # starts the newest champion, if there is one

    def _start(self, path: Path) -> bool:
        try:
            replay = load_replay(path)
        except ReplayError as exc:
            if path not in self._bad:
                self._bad.add(path)
                self.warnings.append(f"skipping {exc}")
            return False
        self.playing = path
        self.shows = shows_of(
            replay, f"champion of gen {replay.generation}" if replay.generation is not None else path.name
        )
        self.index = 0
        return True

    def _usable(self) -> list[Path]:
        return [f for f in self.files if f not in self._bad]

    @property
    def newest(self) -> Path | None:
        usable = self._usable()
        return usable[-1] if usable else None

    def current(self) -> Show | None:
        return self.shows[self.index] if self.shows else None

    def after(self) -> Show | None:
        if self.index + 1 < len(self.shows):
            self.index += 1
            return self.current()
        newest = self.newest  # (a look at the run folder)
        if newest is None or newest == self.playing or not self._start(newest):
            self.index = 0  # no newer champion: this one again
        return self.current()

    def next(self) -> Show | None:
        good = self._usable()
        if not good:
            return None
        at = good.index(self.playing) if self.playing in good else -1
        for step in range(1, len(good) + 1):
            if self._start(good[(at + step) % len(good)]):
                break
        return self.current()

    def poll(self) -> None:
        self.files = self.folder.champion_files()
        while self.playing is None and self.newest is not None:  # an unreadable newest: the next older one
            self._start(self.newest)
        stats = self.folder.path / STATS_FILE
        try:
            mtime = stats.stat().st_mtime_ns
        except OSError:
            return
        if mtime != self._stats_mtime:
            self._stats_mtime = mtime
            try:
                self._stats = read_stats(stats)
            except StatsError as exc:
                self.warnings.append(str(exc))

    def stats(self) -> list[dict[str, Any]]:
        return self._stats

    def status(self) -> str:
        run_at = f"run at gen {self._stats[-1]['generation']}" if self._stats else "no generation yet"
        newer = self.newest is not None and self.newest != self.playing
        return run_at + (", a newer champion is next" if newer else "")
