"""The layers' metric declarations against what a real run writes, and --gate checked by them."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from reasoneval import backends
from reasoneval.backends.base import SamplingConfig
from reasoneval.cli import main
from reasoneval.datasets import DatasetSpec, load_problems
from reasoneval.gates import check_gates_up_front, parse_gate
from reasoneval.layers import LAYERS, layer_metrics
from reasoneval.layers.base import MetricName
from reasoneval.records import Completion, Problem
from reasonkit.errors import InputError

N_ITEMS = 12
# Written before this registry, refused by --gate up front: each now passes on a real run.
ONCE_REFUSED = ("accuracy.format_rate>=0", "accuracy.strict_accuracy>=0", "traces.explained>=0",
                "traces.auroc.flag.missing_answer>=0", "traces.failure_rate.answer_line<=1",
                "traces.failure_explained>=0", "traces.failure_false_alarms<=1")


class ItemBackend:
    """Right on the even items' prompts that hold their question verbatim, wrong elsewhere."""

    name = "hf"

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)

    def _respond(self, prompt: str, sample: int) -> str:
        for i, p in enumerate(self.problems):
            if p.question in prompt and (i % 2 == 0 or sample == 1):
                return f"{p.solution}\n</think>\n#### {p.gold}"
        return "I add them: 2 + 2 = 5\n</think>\n#### 5"

    def generate(self, prompts: Sequence[str], sampling: SamplingConfig) -> list[list[Completion]]:
        return [[Completion(self._respond(prompt, s), "stop", len(prompt) // 4, 12)
                 for s in range(sampling.n)] for prompt in prompts]

    def close(self) -> None:
        pass


@pytest.fixture(scope="module")
def report(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """report.json of one run of every layer: two samples, and a GSM-Plus file for the
    external family, so every metric a layer can write is written."""
    tmp = tmp_path_factory.mktemp("registry")
    problems = load_problems(DatasetSpec("synthetic", limit=N_ITEMS))
    plus = tmp / "plus.jsonl"
    plus.write_text("".join(
        json.dumps({"question": f"{p.question} Answer carefully.", "answer": p.gold,
                    "perturbation_type": "critical thinking", "seed_question": p.question}) + "\n"
        for p in problems), encoding="utf-8")
    gates = [arg for gate in ONCE_REFUSED for arg in ("--gate", gate)]
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(backends, "load_backend", lambda *a, **k: ItemBackend(problems))
        code = main(["run", str(tiny_model_dir), "--dataset", "synthetic", "--limit", str(N_ITEMS),
                     "--backend", "hf", "--layers", ",".join(LAYERS), "--samples", "2",
                     "--temperature", "0.7", "--variants-file", str(plus), "--out", str(tmp / "o"),
                     *gates])
    assert code == 0
    yield json.loads((tmp / "o" / "report.json").read_text(encoding="utf-8"))


def test_every_written_metric_is_declared_and_every_declared_one_written(
    report: dict[str, Any],
) -> None:
    assert list(report["layers"]) == list(LAYERS)
    for layer, body in report["layers"].items():
        written = set(body["metrics"])
        declared = layer_metrics(layer)
        assert {n for n in written if not any(m.matches(n) for m in declared)} == set(), layer
        for m in declared:
            missing = set(m.names) - written  # every key known in advance is written
            assert missing == set(), (layer, m.template)
            assert any(m.matches(n) for n in written), (layer, m.template)


def test_the_external_family_reports_under_its_perturbation(report: dict[str, Any]) -> None:
    metrics = report["layers"]["sensitivity"]["metrics"]
    assert {"pdr.gsmplus_critical_thinking", "accuracy.gsmplus_critical_thinking-g0"} <= set(metrics)


def test_gates_on_once_refused_metrics_ran_and_passed(report: dict[str, Any]) -> None:
    outcomes = report["gates"]
    assert len(outcomes) == len(ONCE_REFUSED) and all(g["passed"] for g in outcomes)


def test_a_gate_on_any_written_metric_passes_the_up_front_check(report: dict[str, Any]) -> None:
    layers = tuple(report["layers"])
    for layer, body in report["layers"].items():
        gates = [parse_gate(f"{layer}.{name}>=0") for name in body["metrics"]]
        check_gates_up_front(gates, layers, has_baseline=False)


@pytest.mark.parametrize(
    ("gate", "layers", "message"),
    [
        ("traces.error_rate.typo<=1", ("accuracy", "traces"), "unknown gate metric"),
        ("sensitivity.pdr.nofamily<=1", ("accuracy", "sensitivity"), "unknown gate metric"),
        ("pass@k>=0", ("accuracy",), "unknown gate metric"),
        ("traces.clean_rate>=0.5", ("accuracy",), "not in --layers"),
        ("explained>=0", ("accuracy",), "unknown gate metric"),
    ],
)
def test_undeclared_metrics_fail_up_front(gate: str, layers: tuple[str, ...], message: str) -> None:
    with pytest.raises(InputError, match=message):
        check_gates_up_front([parse_gate(gate)], layers, has_baseline=False)


def test_bare_names_resolve_through_the_chosen_layers() -> None:
    check_gates_up_front([parse_gate("explained>=0"), parse_gate("maj@4>=0"),
                          parse_gate("pdr.format<=1")], ("accuracy", "traces", "sensitivity"),
                         has_baseline=False)


def test_metric_names_with_known_keys_and_with_a_pattern() -> None:
    rates = MetricName("error_rate.{}", ("tags", "looping"))
    assert rates.names == ("error_rate.tags", "error_rate.looping")
    assert rates.matches("error_rate.tags") and not rates.matches("error_rate.other")
    passes = MetricName("pass@{}", key_pattern=r"\d+")
    assert passes.names == () and passes.matches("pass@16") and not passes.matches("pass@k")
    assert MetricName("pss").matches("pss") and not MetricName("pss").matches("pss2")
    with pytest.raises(ValueError, match="needs"):
        MetricName("error_rate.{}")
    with pytest.raises(ValueError, match="needs"):
        MetricName("pss", ("a",))
