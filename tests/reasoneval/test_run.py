"""`reasoneval run`: scoring and gating logic with a scripted backend, then real HF and vLLM runs."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.records import Completion
from reasoneval.report import VOLATILE_KEYS
from reasoneval.stats import wilson_interval

QUESTIONS = [f"Tom has {i} apples and buys {i + 1} more. How many apples now?" for i in range(20)]
GOLD = [str(2 * i + 1) for i in range(20)]


class ScriptedBackend:
    """Answers each question with a scripted response per sample index; records what it was asked."""

    name = "hf"

    def __init__(self, respond: Callable[[int, int], str]) -> None:
        self.respond = respond
        self.prompts_seen: list[str] = []

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        out = []
        for prompt in prompts:
            self.prompts_seen.append(prompt)
            item = next(i for i, q in enumerate(QUESTIONS) if q in prompt)
            out.append(
                [
                    Completion(self.respond(item, s), "stop", len(prompt) // 4, 12)
                    for s in range(sampling.n)
                ]
            )
        return out

    def close(self) -> None:
        pass


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text(
        "".join(
            json.dumps({"question": q, "answer": f"{q} so {g}.\n#### {g}"}) + "\n"
            for q, g in zip(QUESTIONS, GOLD, strict=True)
        )
    )
    return path


def use_backend(monkeypatch: pytest.MonkeyPatch, backend: ScriptedBackend) -> None:
    monkeypatch.setattr(backends, "load_backend", lambda *a, **k: backend)


def run_cli(*args: object) -> int:
    return main(["run", *map(str, args)])


def read_rows(out: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def right_unless(wrong: set[int]) -> Callable[[int, int], str]:
    return lambda item, s: (
        f"{item} + {item + 1}\n</think>\n#### {'0' if item in wrong else GOLD[item]}"
    )


def test_scripted_run_scores_every_sample_and_writes_the_report(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def respond(item: int, s: int) -> str:
        if item == 3:
            return "<script>alert('x')</script> no idea"
        return f"</think>\n#### {GOLD[item] if item % 4 else '-1'}"

    backend = ScriptedBackend(respond)
    use_backend(monkeypatch, backend)
    out = tmp_path / "out"
    assert (
        run_cli(
            tiny_model_dir,
            "--dataset",
            dataset,
            "--limit",
            8,
            "--backend",
            "hf",
            "--layers",
            "traces",
            "--out",
            out,
        )
        == 0
    )
    rows = read_rows(out)
    assert all(r["trace"]["error_type"] for r in rows)  # traces' per-sample object, merged
    assert [r["id"] for r in rows] == [f"problems/test/{i}" for i in range(8)]
    assert {
        "prompt",
        "prompt_hash",
        "response",
        "finish_reason",
        "prompt_tokens",
        "completion_tokens",
        "extracted",
        "strategy",
        "correct",
    } <= set(rows[0])
    # items 0 and 4 answer -1, item 3 answers nothing: 5 of 8 correct
    assert [r["correct"] for r in rows] == [False, True, True, False, False, True, True, True]
    assert rows[3]["extracted"] is None and rows[0]["extracted"] == "-1"
    assert all(r["prompt"] == p for r, p in zip(rows, backend.prompts_seen, strict=True))
    report = json.loads((out / "report.json").read_text())
    acc = report["layers"]["accuracy"]["metrics"]["accuracy"]
    assert acc["value"] == 5 / 8 and (acc["lo"], acc["hi"]) == pytest.approx(wilson_interval(5, 8))
    assert report["layers"]["accuracy"]["metrics"]["missing_answer_rate"]["value"] == 1 / 8
    assert report["backend"] == "hf" and report["seed"] == 0
    assert list(report["layers"]) == ["accuracy", "traces"]  # accuracy always runs
    assert len(report["dataset"]["sha256"]) == 64 and report["dataset"]["n_problems"] == 8
    assert report["packages"]["transformers"] and report["sampling"]["max_new_tokens"] == 512
    page = (out / "report.html").read_text()
    assert "<script>" not in page and "&lt;script&gt;alert(&#x27;x&#x27;)" in page


def test_k_samples_give_pass_at_k_and_majority_vote(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # item 0: right, wrong, wrong (maj wrong); item 1: all right; item 2: wrong, right, right
    script = {0: ["r", "w", "w"], 1: ["r", "r", "r"], 2: ["w", "r", "r"]}
    use_backend(
        monkeypatch,
        ScriptedBackend(
            # the prompt opened <think>: an answer counts only after </think>
            lambda item, s: f"</think>\n#### {GOLD[item] if script[item][s] == 'r' else '999'}"
        ),
    )
    out = tmp_path / "out"
    assert (
        run_cli(
            tiny_model_dir,
            "--dataset",
            dataset,
            "--limit",
            3,
            "--samples",
            3,
            "--temperature",
            0.8,
            "--backend",
            "hf",
            "--out",
            out,
        )
        == 0
    )
    assert len(read_rows(out)) == 9
    m = json.loads((out / "report.json").read_text())["layers"]["accuracy"]["metrics"]
    assert m["accuracy"]["value"] == pytest.approx(2 / 3)  # first samples: r, r, w
    assert m["pass@1"]["value"] == pytest.approx((1 / 3 + 1 + 2 / 3) / 3)
    assert m["pass@3"]["value"] == 1.0
    assert m["maj@3"]["value"] == pytest.approx(2 / 3)
    assert m["pass@1"]["lo"] <= m["pass@1"]["value"] <= m["pass@1"]["hi"]


def test_rerun_takes_everything_from_the_cache(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = ScriptedBackend(right_unless(set()))
    use_backend(monkeypatch, backend)
    out = tmp_path / "out"
    args = (tiny_model_dir, "--dataset", dataset, "--limit", 5, "--backend", "hf", "--out", out)
    assert run_cli(*args) == 0
    first = json.loads((out / "report.json").read_text())
    assert len(backend.prompts_seen) == 5 and first["generation"]["generated_this_run"] == 5
    assert run_cli(*args, "--limit", 7) == 0  # two new items, five cached
    second = json.loads((out / "report.json").read_text())
    assert len(backend.prompts_seen) == 7
    assert (second["generation"]["from_cache"], second["generation"]["generated_this_run"]) == (
        5,
        2,
    )


def test_baseline_gate_fails_on_a_real_regression_and_passes_when_equal(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = (tiny_model_dir, "--dataset", dataset, "--backend", "hf")
    use_backend(monkeypatch, ScriptedBackend(right_unless(set())))
    assert run_cli(*common, "--out", tmp_path / "base") == 0
    assert run_cli(*common, "--out", tmp_path / "same", "--baseline", tmp_path / "base") == 0
    use_backend(monkeypatch, ScriptedBackend(right_unless(set(range(8)))))  # 8 of 20 items lost
    worse = tmp_path / "worse"
    assert run_cli(*common, "--out", worse, "--baseline", tmp_path / "base", "--margin", 2) == 1
    report = json.loads((worse / "report.json").read_text())
    assert report["gates"][0]["passed"] is False
    assert report["layers"]["accuracy"]["metrics"]["accuracy"]["value"] == pytest.approx(12 / 20)


def test_metric_gates_against_values_and_the_baseline(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    common = (tiny_model_dir, "--dataset", dataset, "--backend", "hf", "--limit", 10)
    use_backend(monkeypatch, ScriptedBackend(right_unless({0, 1})))  # accuracy 0.8
    assert (
        run_cli(
            *common,
            "--out",
            tmp_path / "a",
            "--gate",
            "accuracy>=0.75",
            "--gate",
            "accuracy.missing_answer_rate<=0",
        )
        == 0
    )
    assert run_cli(*common, "--out", tmp_path / "b", "--gate", "accuracy>=0.85") == 1
    use_backend(monkeypatch, ScriptedBackend(right_unless({0, 1, 2})))  # accuracy 0.7
    assert (
        run_cli(
            *common,
            "--out",
            tmp_path / "c",
            "--baseline",
            tmp_path / "a",
            "--margin",
            100,
            "--gate",
            "accuracy>=baseline-0.05",
        )
        == 1
    )
    assert (
        run_cli(
            *common,
            "--out",
            tmp_path / "d",
            "--baseline",
            tmp_path / "a",
            "--margin",
            100,
            "--gate",
            "accuracy>=baseline-0.15",
        )
        == 0
    )


@pytest.mark.parametrize(
    "bad",
    [
        ("--layers", "accuracy,vibes"),
        ("--gate", "accuracy ~ 0.5"),
        ("--samples", "0"),
        ("--samples", "4"),  # greedy: vLLM would refuse it only after starting
        ("--baseline", "/nonexistent/run"),
    ],
)
def test_bad_input_exits_2_before_any_generation(
    tiny_model_dir: Path,
    dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    bad: tuple[str, str],
) -> None:
    backend = ScriptedBackend(right_unless(set()))
    use_backend(monkeypatch, backend)
    assert run_cli(tiny_model_dir, "--dataset", dataset, "--out", tmp_path / "o", *bad) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("reasoneval run: error:") and backend.prompts_seen == []


def test_unknown_gate_metric_exits_2(
    tiny_model_dir: Path, dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use_backend(monkeypatch, ScriptedBackend(right_unless(set())))
    assert (
        run_cli(
            tiny_model_dir,
            "--dataset",
            dataset,
            "--limit",
            2,
            "--backend",
            "hf",
            "--out",
            tmp_path / "o",
            "--gate",
            "accuracy.nope>=1",
        )
        == 2
    )


# --- real backends -------------------------------------------------------------------------


def _comparable(report: dict[str, Any]) -> dict[str, Any]:
    # the command names each run's own --out; wall clock and cache counts differ by design
    config = {k: v for k, v in report["config"].items() if k != "out"}
    kept = {k: v for k, v in report.items() if k not in (*VOLATILE_KEYS, "command", "config")}
    return {**kept, "config": config}


def _cli(*args: object) -> list[str]:
    return [sys.executable, "-m", "reasoneval", "run", *map(str, args)]


@pytest.mark.slow
def test_hf_run_end_to_end_on_gsm8k(tiny_model_dir: Path, gsm8k_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = subprocess.run(
        _cli(
            tiny_model_dir,
            "--dataset",
            "gsm8k",
            "--data-dir",
            gsm8k_dir,
            "--limit",
            4,
            "--backend",
            "hf",
            "--max-new-tokens",
            16,
            "--few-shot",
            1,
            "--out",
            out,
            "--layers",
            "accuracy,traces,sensitivity",
            "--sensitivity-families",
            "format,shots",
            "--sensitivity-max-variants",
            3,
        ),
        capture_output=True,
        text=True,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "generating" in proc.stderr  # the progress bar
    rows = read_rows(out)
    originals = [r for r in rows if r["variant"] == "original"]
    assert [r["id"] for r in originals] == [f"gsm8k/test/{i}" for i in range(4)]
    assert len(rows) == 4 * 4 and len({(r["id"], r["variant"]) for r in rows}) == len(rows)
    assert all(0 < r["completion_tokens"] <= 16 and r["prompt_tokens"] > 0 for r in rows)
    assert all(
        r["prompt"].endswith("<think>\n") and r["prompt"].count("<|im_start|>user") == 2
        for r in originals
    )  # one few-shot turn, then the question
    assert all("trace" in r for r in originals)
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == "hf" and report["model"]["fingerprint"]
    assert set(report["layers"]) == {"accuracy", "traces", "sensitivity"}
    assert report["layer_options"]["sensitivity"]["families"] == ["format", "shots"]
    assert report["generation"]["generated_this_run"] <= 16  # a shared prompt generates once
    assert (
        report["tokenizer"]["chat_template_sha256"] and report["sampling"]["max_new_tokens"] == 16
    )
    assert report["git_revision"] is None or len(report["git_revision"]) == 40
    assert "<svg" in (out / "report.html").read_text()


@pytest.mark.slow
def test_a_killed_run_resumes_from_its_cache_and_matches_an_uninterrupted_run(
    tiny_model_dir: Path, gsm8k_dir: Path, tmp_path: Path
) -> None:
    n = 16
    args = (
        tiny_model_dir,
        "--dataset",
        "gsm8k",
        "--data-dir",
        gsm8k_dir,
        "--limit",
        n,
        "--backend",
        "hf",
        "--max-new-tokens",
        32,
        "--chunk-size",
        1,
    )
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    killed = tmp_path / "killed"
    cache = killed / "cache" / "generations.jsonl"
    proc = subprocess.Popen(
        _cli(*args, "--out", killed), env=env, stderr=subprocess.DEVNULL, start_new_session=True
    )
    deadline = time.monotonic() + 240
    while (not cache.exists() or cache.read_text().count("\n") < 2) and proc.poll() is None:
        assert time.monotonic() < deadline, "the run never cached a generation"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not (killed / "report.json").exists()
    cached = cache.read_text().count("\n")
    assert 2 <= cached < n

    # the resumed and the uninterrupted run side by side: each uses one thread
    runs = [
        subprocess.Popen(_cli(*args, "--out", out), env=env, stderr=subprocess.PIPE)
        for out in (killed, tmp_path / "fresh")
    ]
    errors = [p.communicate(timeout=300)[1] for p in runs]
    assert [p.returncode for p in runs] == [0, 0], errors
    r1 = json.loads((killed / "report.json").read_text())
    r2 = json.loads((tmp_path / "fresh" / "report.json").read_text())
    assert r1["generation"]["from_cache"] == cached
    assert r1["generation"]["generated_this_run"] == n - cached
    assert r2["generation"]["generated_this_run"] == n
    assert _comparable(r1) == _comparable(r2)
    assert read_rows(killed) == read_rows(tmp_path / "fresh")


class _Shared:
    """The session's real vLLM engine, lent to a run: the runner closes its backend, this keeps it."""

    name = "vllm"

    def __init__(self, engine: Any) -> None:
        self.engine, self.calls = engine, 0

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        self.calls += 1
        result: list[list[Completion]] = self.engine.generate(prompts, sampling)
        return result

    def close(self) -> None:
        pass


@pytest.mark.slow
@pytest.mark.vllm
def test_vllm_run_end_to_end(
    vllm_tiny_backend: Any,
    tiny_model_dir: Path,
    dataset: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shared = _Shared(vllm_tiny_backend)
    monkeypatch.setattr(backends, "load_backend", lambda name, *a, **k: shared)
    out = tmp_path / "out"
    args = (
        tiny_model_dir,
        "--dataset",
        dataset,
        "--limit",
        6,
        "--backend",
        "vllm",
        "--max-new-tokens",
        16,
        "--samples",
        2,
        "--temperature",
        0.7,
        "--out",
        out,
    )
    assert run_cli(*args) == 0
    rows = read_rows(out)
    assert len(rows) == 12 and [r["sample_index"] for r in rows[:2]] == [0, 1]
    assert all(0 < r["completion_tokens"] <= 16 and r["prompt_tokens"] > 0 for r in rows)
    report = json.loads((out / "report.json").read_text())
    assert report["backend"] == "vllm" and report["sampling"]["n"] == 2
    assert {"accuracy", "pass@1", "pass@2", "maj@2"} <= set(report["layers"]["accuracy"]["metrics"])
    calls = shared.calls
    assert run_cli(*args) == 0  # a rerun is served from the cache
    assert shared.calls == calls and read_rows(out) == rows
