"""Test helper: a run folder's files as comparable data, for tests that a stopped and resumed run is the same run."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from tilerunner.evolve.runs.run_folder import RunFolder


def folder_contents(folder: Path) -> dict[str, object]:
    """Every file of a run folder as comparable data: what a run promises to reproduce exactly.

    Checkpoints: a stopped run writes one where it stopped, so which ones are kept may differ;
    the newest (the one a later resume starts from) must be the same.
    """
    out: dict[str, object] = {}
    newest = RunFolder(folder).checkpoint_files()[-1]
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        name = str(path.relative_to(folder))
        if name == ".lock" or (name.startswith("checkpoints/") and path != newest):
            continue
        if name.endswith(".json.gz"):
            data = json.loads(gzip.decompress(path.read_bytes()))
            data.pop("timing")
            out[name] = data
        elif name.endswith(".json"):
            data = json.loads(path.read_text())
            if "created" in data:  # replays: when and where they were written differ
                data.pop("created"), data.pop("run")
            out[name] = data
        elif name == "timing.jsonl":
            out[name] = [json.loads(line)["generation"] for line in path.read_text().splitlines()]
        else:
            out[name] = path.read_text()
    return out
