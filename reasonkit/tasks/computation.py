"""A synthetic problem's numbers and operations, apart from its words: the unit held-out splits
are cut by (``reasonkit.tasks.split``) and the one thing that fixes a gold solution's text."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

Op = Literal["+", "-", "*", "/"]


class Steps(Protocol):
    """What ``Computation.of`` reads of a template (``arithmetic.Template``): its operations."""

    @property
    def steps(self) -> tuple[tuple[Op, int], ...]: ...


@dataclass(frozen=True, slots=True, order=True)
class Computation:
    """A problem's numbers and operations: what a model could memorise from its solution."""

    start: int
    steps: tuple[tuple[Op, int], ...]

    @classmethod
    def of(cls, template: Steps, numbers: Sequence[int]) -> Computation:
        ops = tuple(op for op, _ in template.steps)
        return cls(numbers[0], tuple(zip(ops, numbers[1:], strict=True)))

    @property
    def values(self) -> tuple[int, ...]:
        """The start and every intermediate result; the last is the answer."""
        out = [self.start]
        for op, operand in self.steps:
            out.append(apply_op(op, out[-1], operand))
        return tuple(out)

    def commuted(self) -> Computation:
        """The first step's operands swapped when its operation commutes ("4 + 1" for "1 + 4");
        later steps start from the running value, so only the first can swap."""
        if self.steps and self.steps[0][0] in "+*":
            (op, operand), rest = self.steps[0], self.steps[1:]
            return Computation(operand, ((op, self.start), *rest))
        return self

    def canonical(self) -> Computation:
        """One representative of the computation and its commuted twin: "1 + 4" and "4 + 1" are
        the same operation on the same numbers, and a held-out split keeps both out."""
        return min(self, self.commuted())

    def suffixes(self) -> Iterator[Computation]:
        """The computations this one ends with: its last k steps from the value they start at.
        A solution ending with a suffix's steps holds that suffix's whole solution text."""
        values = self.values
        for k in range(1, len(self.steps)):
            yield Computation(values[k], self.steps[k:])

    def solution(self) -> str:
        """The gold answer in GSM8K layout. It is a function of the computation alone."""
        values = self.values
        lines = [
            # Short lines that show the work, as GSM8K's own: "48/2 = <<48/2=24>>24".
            f"{a} {op} {operand} = <<{a}{op}{operand}={b}>>{b}"
            for a, (op, operand), b in zip(values[:-1], self.steps, values[1:], strict=True)
        ]
        return "\n".join([*lines, f"#### {values[-1]}"])


def apply_op(op: Op, a: int, b: int) -> int:
    return {"+": a + b, "-": a - b, "*": a * b, "/": a // b}[op]
