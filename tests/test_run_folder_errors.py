"""What a run folder says when it cannot be used for a reason outside it: no checkpoint to resume from (naming
`out`, or `--out` on the command line), or a system without the POSIX calls it is locked with."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tilerunner.evolve.runs.run_folder import NoCheckpointError, RunFolder, RunFolderError


def test_a_folder_with_no_checkpoint_names_where_a_new_run_would_go(tmp_path):
    with pytest.raises(NoCheckpointError) as caught:
        RunFolder(tmp_path).latest_checkpoint()
    error = caught.value
    assert isinstance(error, RunFolderError)
    assert str(error) == (
        f"{tmp_path}: no checkpoint to resume from, so no run started here: start a new one there (out {tmp_path})"
    )
    assert error.as_flags().endswith(f"start a new one there (--out {tmp_path})")


def test_the_command_names_the_flag(tmp_path, capsys):
    from tilerunner.evolve.commands.cli import main

    assert main(["evolve", "--resume", str(tmp_path)]) == 2
    assert capsys.readouterr().err == (
        f"tilerunner: error: {tmp_path}: no checkpoint to resume from, so no run started here: start a new one"
        f" there (--out {tmp_path})\n"
    )


# As on Windows: Python has no fcntl module (blocked in `sys.modules`, so that importing it fails).
WITHOUT_FCNTL = "import sys; sys.modules['fcntl'] = None\n"


def python(code: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_FCNTL + textwrap.dedent(code), *args],
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_without_fcntl_tilerunner_imports_and_a_run_folder_is_refused_in_one_line_naming_what_is_missing(tmp_path):
    out = tmp_path / "run"
    done = python(
        """
        import tilerunner
        from tilerunner import Run
        from tilerunner.evolve.runs.run_folder import RunFolderError
        try:
            Run.create(["1-1"], generations=1, pop=10, out=sys.argv[1])
        except RunFolderError as exc:
            print(exc)
        else:
            raise SystemExit("a run folder was made without fcntl")
        """,
        str(out),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == (
        f"{out}: a run folder needs Linux or macOS (a POSIX system): this Python has no fcntl module to lock it with\n"
    )
    assert not out.exists()


def test_without_fcntl_the_command_says_so_in_one_line_and_exit_code_2(tmp_path):
    out = tmp_path / "run"
    done = python(
        """
        from tilerunner.evolve.commands.cli import main
        sys.exit(main(["evolve", "--generations", "1", "--pop", "10", "--out", sys.argv[1]]))
        """,
        str(out),
    )
    assert done.returncode == 2 and not done.stdout
    assert done.stderr == (
        f"tilerunner: error: {out}: a run folder needs Linux or macOS (a POSIX system): this Python has no fcntl"
        " module to lock it with\n"
    )
    assert not out.exists()
