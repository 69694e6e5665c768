from __future__ import annotations

from typing import Any

import pytest

from reasoneval.gates import Gate, check_gate, parse_gate
from reasonkit.errors import InputError


def _report(**metrics: float) -> dict[str, Any]:
    layers: dict[str, Any] = {}
    for key, value in metrics.items():
        layer, name = key.split("__")
        layers.setdefault(layer, {"metrics": {}})["metrics"][name.replace("_dot_", ".")] = {
            "value": value
        }
    return {"layers": layers}


@pytest.mark.parametrize(
    ("text", "gate"),
    [
        ("accuracy>=0.5", Gate("accuracy", ">=", 0.5)),
        (
            " traces.arithmetic_error_rate <= baseline ",
            Gate("traces.arithmetic_error_rate", "<=", None),
        ),
        ("sensitivity.pdr.format<=0.1", Gate("sensitivity.pdr.format", "<=", 0.1)),
        ("accuracy>=baseline-0.02", Gate("accuracy", ">=", None, -0.02)),
        ("pass@4>=1e-1", Gate("pass@4", ">=", 0.1)),
    ],
)
def test_the_four_gate_shapes_parse(text: str, gate: Gate) -> None:
    assert parse_gate(text) == gate


@pytest.mark.parametrize(
    "text",
    [
        "accuracy>0.5",
        "accuracy>=",
        "accuracy>=baseline*2",
        "accuracy>=0.5 and x",
        "__import__('os')>=1",
        ">=0.3",
    ],
)
def test_anything_else_is_rejected(text: str) -> None:
    with pytest.raises(InputError, match="bad --gate"):
        parse_gate(text)


def test_gates_compare_values_and_baselines() -> None:
    run = _report(accuracy__accuracy=0.6, traces__arithmetic_error_rate=0.2)
    base = _report(accuracy__accuracy=0.7, traces__arithmetic_error_rate=0.25)
    assert check_gate(parse_gate("accuracy>=0.6"), run, None).passed
    assert not check_gate(parse_gate("accuracy>=0.61"), run, None).passed
    assert not check_gate(parse_gate("accuracy>=baseline-0.05"), run, base).passed
    assert check_gate(parse_gate("accuracy>=baseline-0.1"), run, base).passed
    assert check_gate(parse_gate("traces.arithmetic_error_rate<=baseline"), run, base).passed
    outcome = check_gate(parse_gate("arithmetic_error_rate<=0.1"), run, None)
    assert not outcome.passed and "traces.arithmetic_error_rate = 0.2000" in outcome.description


def test_unknown_ambiguous_and_baseline_less_gates_are_input_errors() -> None:
    run = _report(a__rate=0.1, b__rate=0.2)
    with pytest.raises(InputError, match="unknown gate metric 'nope'"):
        check_gate(parse_gate("nope<=1"), run, None)
    with pytest.raises(InputError, match="ambiguous"):
        check_gate(parse_gate("rate<=1"), run, None)
    with pytest.raises(InputError, match="pass --baseline"):
        check_gate(parse_gate("a.rate<=baseline"), run, None)
