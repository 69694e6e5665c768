"""The README's commands run as written after its two set-up commands (issue 26, item 1).

A newcomer ran `make demo`, then the README's `datacheck clean gsm8k ...`: "datacheck: command
not found" (exit 127). The README now says how to reach `.venv`; this runs its commands' programs
the two ways it gives, from a shell whose PATH has no virtual environment on it.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text(encoding="utf-8")
BARE_PATH = "/usr/local/bin:/usr/bin:/bin"  # a fresh shell's, before any activation


def _bash_blocks() -> list[str]:
    return re.findall(r"```bash\n(.*?)```", README, re.S)


def _programs() -> set[str]:
    """The first word of every command line in the README's bash blocks."""
    # "SMOL=$(python -c ...)": the program is the one the assignment runs
    words = {re.sub(r"^\w+=(\$\()?", "", line.split()[0]) for block in _bash_blocks()
             for line in block.splitlines() if line.strip() and not line.lstrip().startswith(("#", "-"))}  # fmt: skip
    return words - {"make"}  # make is the set-up itself


def test_the_set_up_is_exactly_the_two_make_commands() -> None:
    setup = README.split("## Set-up", 1)[1]
    first = re.search(r"```bash\n(.*?)```", setup, re.S)
    assert first is not None
    commands = [line.split("#")[0].strip() for line in first[1].splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_readme_programs_run_the_ways_the_readme_gives(tmp_path: Path) -> None:
    if not (REPO / ".venv" / "bin" / "activate").is_file():
        pytest.skip("no .venv here: `make demo` or `make test` creates it")
    activate = re.search(r"`(source \.venv/bin/activate)`", README)
    assert activate, "the README does not say how to activate .venv"
    assert "`.venv/bin/`" in README  # the other way: prefix each command
    programs = _programs()
    assert {"datacheck", "reasoneval", "python"} <= programs
    env = {"PATH": BARE_PATH, "HOME": str(tmp_path)}
    for program in sorted(programs):
        # what the README's modules need from python: the project's packages
        probe = "python -c 'import datacheck, reasoneval, train'" if program == "python" \
            else f"{program} --help"  # fmt: skip
        for how in (f"{activate[1]} && {probe}", f".venv/bin/{probe}"):
            done = subprocess.run(["bash", "-c", how], cwd=REPO, env=env, capture_output=True,
                                  text=True, timeout=120)  # fmt: skip
            assert done.returncode == 0, (how, done.stderr[-500:])
    # and without either, as the newcomer found
    bare = subprocess.run(["bash", "-c", "datacheck --help"], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=60)  # fmt: skip
    assert bare.returncode == 127
