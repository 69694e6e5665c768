"""The layer registry: ``--layers`` names -> layer objects, each module imported only when chosen.

Each layer class declares the metrics it writes (``metrics``, reasoneval.layers.base.MetricName);
``--gate`` is checked against them (reasoneval.gates.check_gates_up_front).
"""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

from reasoneval.layers.base import Layer, MetricName
from reasonkit.errors import InputError
from reasonkit.prompting import FewShotExample

if TYPE_CHECKING:
    from reasoneval.layers.sensitivity import SensitivityConfig
    from reasoneval.layers.trace_checks import TracesConfig

# name -> (module, class). accuracy comes first: traces reads the samples it asks for.
LAYERS: dict[str, tuple[str, str]] = {
    "accuracy": ("reasoneval.layers.accuracy", "AccuracyLayer"),
    "traces": ("reasoneval.layers.traces", "TracesLayer"),
    "sensitivity": ("reasoneval.layers.sensitivity", "SensitivityLayer"),
}


@dataclass(frozen=True, slots=True)
class LayerOptions:
    """Run-wide settings a layer may take as constructor arguments of the same name.

    A field left at None is not passed, so the layer keeps its own default.
    """

    few_shot: tuple[FewShotExample, ...] = ()
    sensitivity_config: SensitivityConfig | None = None
    traces_config: TracesConfig | None = None


def parse_layers(text: str) -> tuple[str, ...]:
    """``"accuracy,traces"`` -> validated names in registry order; accuracy is always included."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in LAYERS]
    if unknown:
        raise InputError(
            f"unknown layer(s) {', '.join(map(repr, unknown))}; choose from {', '.join(LAYERS)}"
        )
    if not names:
        raise InputError(f"--layers is empty; choose from {', '.join(LAYERS)}")
    chosen = {"accuracy", *names}
    return tuple(n for n in LAYERS if n in chosen)


def layer_class(name: str) -> type[Layer]:
    """The class behind a ``--layers`` name, its module imported now."""
    module_name, class_name = LAYERS[name]
    try:
        cls: type[Layer] = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise InputError(f"layer {name!r} is not available ({exc})") from None
    return cls


def layer_metrics(name: str) -> tuple[MetricName, ...]:
    """The metric names layer ``name`` declares it writes into report.json."""
    return layer_class(name).metrics


def build_layers(names: Sequence[str], options: LayerOptions) -> list[Layer]:
    layers: list[Layer] = []
    for name in names:
        cls = layer_class(name)
        accepted = inspect.signature(cls).parameters
        kwargs = {
            f.name: getattr(options, f.name)
            for f in fields(options)
            if f.name in accepted and getattr(options, f.name) is not None
        }
        layers.append(cls(**kwargs))
    return layers


__all__ = ["LAYERS", "LayerOptions", "build_layers", "layer_class", "layer_metrics", "parse_layers"]
