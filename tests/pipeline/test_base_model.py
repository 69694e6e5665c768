"""The committed pretrained base: made by scripts/build_base.py's recipe, intact, and in its own style."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from pathlib import Path

import pytest

from scripts.build_base import BASE_FILE, BaseRecipe, corpus_rows, file_hashes

BASE = Path(__file__).resolve().parents[2] / "models" / "tiny-base"


@pytest.fixture(scope="module")
def provenance() -> dict[str, object]:
    return dict(json.loads((BASE / BASE_FILE).read_text(encoding="utf-8")))


def test_provenance_matches_the_recipe_and_the_files(provenance: dict[str, object]) -> None:
    assert provenance["recipe"] == dataclasses.asdict(BaseRecipe())
    assert provenance["sha256"] == file_hashes(BASE)
    texts = [p + c for p, c in corpus_rows(BaseRecipe())]
    assert provenance["corpus_sha256"] == hashlib.sha256("\x00".join(texts).encode()).hexdigest()
    assert sum((BASE / f).stat().st_size for f in ("model.safetensors", "tokenizer.json")) < 20e6


def test_the_corpus_is_wider_and_in_another_style_than_the_target() -> None:
    rows = corpus_rows(dataclasses.replace(BaseRecipe(), n_problems=2000))
    completions = [c for _, c in rows]
    # "#### Step k" headings (the markdown layout) train the heading pieces; the answer itself is
    # never a "#### <number>" line, and no calculator annotation appears.
    assert all("answer is" in c and not re.search(r"#### ?\d", c) and "<<" not in c for c in completions)
    assert any("#### Step 1" in c for c in completions)
    assert any(" / " in c for c in completions)  # division: the target task has none
    assert any(len(max(c.split(), key=len)) >= 4 and c.count("=") >= 3 for c in completions)


def test_every_token_of_the_task_has_its_own_output_embedding(provenance: dict[str, object]) -> None:
    """No token the task's prompts or answers use sits in a cluster of near-identical embedding
    rows (issue 23: the first base had 567 of 768 rows in one, ``##`` among them). Recomputed
    from the committed weights, not read from base.json."""
    from scripts.base_health import check_directory

    health = check_directory(BASE)
    assert health.healthy, health.clustered_task_tokens
    assert health.task_tokens >= 100
    assert provenance["embedding_health"] == health.to_dict()


def test_the_health_check_finds_a_collapsed_cluster() -> None:
    """The check can fail: rows pushed to one direction (as never-target rows are) are caught."""
    torch = pytest.importorskip("torch")
    from scripts.base_health import near_identical_groups

    weight = torch.randn(50, 16)
    weight[10:30] = torch.randn(16) * 3 + 0.01 * torch.randn(20, 16)
    groups = near_identical_groups(weight)
    assert [sorted(g) for g in groups] == [list(range(10, 30))]


def test_the_base_loads_as_safetensors_and_answers_in_prose() -> None:
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from reasonkit.prompting import build_prompt

    tokenizer = AutoTokenizer.from_pretrained(BASE)
    model = AutoModelForCausalLM.from_pretrained(BASE, use_safetensors=True).eval()
    prompt = build_prompt("Ava has 7 apples. Ava buys 5 more. How many apples does Ava have now?")
    ids = tokenizer(prompt, return_tensors="pt", add_special_tokens=False)
    with torch.no_grad():
        out = model.generate(**ids, max_new_tokens=60, do_sample=False)
    text = tokenizer.decode(out[0, ids["input_ids"].shape[1]:], skip_special_tokens=True)
    assert "answer is" in text and "####" not in text, text


@pytest.mark.parametrize("argv", [["--steps", "0"], ["--n-problems", "-1"], ["--snapshot-every", "-2"]])
def test_build_base_refuses_bad_settings_with_one_line_and_exit_2(
    tmp_path: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    from scripts.build_base import cli

    assert cli(["--out", str(tmp_path / "base"), *argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("build_base: error: must be positive")
    assert not (tmp_path / "base").exists()  # refused before anything was built
