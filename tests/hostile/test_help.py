"""Each CLI's --help points to the one statement of the exit-code contract."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from datacheck.cli import main as datacheck_main
from reasoneval.cli import main as reasoneval_main
from train import grpo, sft

HELPS: list[tuple[Callable[[list[str]], int], list[str]]] = [
    (datacheck_main, ["--help"]),
    (datacheck_main, ["clean", "--help"]),
    (datacheck_main, ["dedup", "--help"]),
    (reasoneval_main, ["--help"]),
    *[(reasoneval_main, [name, "--help"]) for name in ("score", "compare", "run", "tiny-model")],
    (sft.cli, ["--help"]),
    (grpo.cli, ["--help"]),
]


@pytest.mark.parametrize(("main", "argv"), HELPS)
def test_help_points_to_the_exit_code_contract(
    main: Callable[[list[str]], int], argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 0
    assert "docs/exit-codes.md" in " ".join(capsys.readouterr().out.split())
