"""mkdocs hooks for tilerunner's docs site: the API reference's import tree and the generated CLI reference.

- `on_config`: the installed package `tilerunner` is built from several top-level folders (`evolve/api` is
  `tilerunner`, `agent/` is `tilerunner.agent`, ...), which mkdocstrings cannot find on disk; a temporary
  folder of links lays them out as the installed package, and mkdocstrings reads the sources from there.
- `on_files`: the pictures under `replays/` (the viewer, the champions' GIFs) are served as `assets/...`, so the
  site shows the very files the README does, with no copies to keep in step.
- `on_page_markdown`: `<!-- cli-reference -->` in a page becomes every command's usage and arguments, made
  from the argparse parser (`tilerunner.evolve.commands.cli_reference`), so the docs cannot drift from --help;
  `<!-- commands-table -->` becomes the table of every command and subcommand with its one-line help.
"""

from __future__ import annotations

import atexit
import pathlib
import shutil
import tempfile

from mkdocs.plugins import event_priority

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLI_MARKER = "<!-- cli-reference -->"
COMMANDS_MARKER = "<!-- commands-table -->"


@event_priority(100)  # before mkdocstrings reads its handler's paths
def on_config(config):
    tree = pathlib.Path(tempfile.mkdtemp(prefix="tilerunner-docs-"))
    atexit.register(shutil.rmtree, tree, ignore_errors=True)
    package = tree / "tilerunner"
    package.mkdir()
    for entry in (ROOT / "evolve" / "api").iterdir():
        if entry.suffix == ".py":
            (package / entry.name).symlink_to(entry)
    for name in ("agent", "envs", "evolve", "replays"):
        (package / name).symlink_to(ROOT / name, target_is_directory=True)
    handler = config.plugins["mkdocstrings"].config.handlers.setdefault("python", {})
    handler["paths"] = [str(tree)]
    return config


def on_files(files, config):
    from mkdocs.structure.files import File

    for picture in sorted((ROOT / "replays").glob("*")):
        if picture.suffix in (".png", ".gif"):
            files.append(File.generated(config, f"assets/{picture.name}", abs_src_path=str(picture)))
    return files


def on_page_markdown(markdown, page, config, files):
    from tilerunner.evolve.commands.cli_reference import cli_reference, commands_table

    if CLI_MARKER in markdown:
        markdown = markdown.replace(CLI_MARKER, cli_reference())
    if COMMANDS_MARKER in markdown:
        markdown = markdown.replace(COMMANDS_MARKER, commands_table())
    return markdown
