"""The record ``compare_groups`` returns, and the text report `reasoneval compare` prints from it."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

__all__ = ["TESTS", "GroupComparison", "Test"]

Test = Literal["non-inferiority", "superiority"]
TESTS: tuple[Test, ...] = ("non-inferiority", "superiority")


@dataclass(frozen=True, slots=True)
class GroupComparison:
    """Accuracies, delta, CI, SEs and MDE are fractions in [0, 1]; the text report shows points.

    baseline_only / candidate_only count items by their first sample in each run: an item counts
    for the baseline when the share of baseline runs whose first sample is correct is higher than
    the share of candidate runs (with one run per side: the classic McNemar discordant pairs).
    mcnemar_p is the exact test on those counts; it sees item noise only, never seed noise.
    """

    n_items: int
    n_baseline_runs: int
    n_candidate_runs: int
    baseline_accuracy: float  # mean over the side's runs
    candidate_accuracy: float
    delta: float  # candidate - baseline
    ci_low: float  # 95% CI of delta
    ci_high: float
    ci_method: str
    df: float | None  # t degrees of freedom of the CI; None for the bootstrap
    se: float  # standard error of delta, items and seeds together
    item_se: float  # SE from items alone: what a paired test treating the runs as fixed reports
    baseline_seed_sd: float | None  # SD of the side's run accuracies; None with one run
    candidate_seed_sd: float | None
    seed_variance_share: float | None  # share of Var(delta) from seed-to-seed shifts
    mde: float  # minimum detectable |delta| of this design at alpha 0.05, power 0.8
    mcnemar_p: float
    baseline_only: int
    candidate_only: int
    test: Test
    margin: float  # non-inferiority margin, a fraction
    min_effect: float  # superiority threshold, a fraction
    seed: int
    n_boot: int
    passed: bool
    baseline_runs: tuple[float, ...]  # accuracy of each run, in argument order
    candidate_runs: tuple[float, ...]
    baseline_samples: tuple[int, int]  # (fewest, most) samples per item over the side's runs
    candidate_samples: tuple[int, int]

    @property
    def threshold(self) -> float:
        return -self.margin if self.test == "non-inferiority" else self.min_effect

    def verdict(self) -> str:
        pts = f"lower bound {100 * self.ci_low:+.2f} vs {100 * self.threshold:+.2f} points"
        if self.test == "non-inferiority":
            word = "non-inferior within" if self.passed else "regression beyond"
            return f"{'PASS' if self.passed else 'FAIL'}: {word} the margin ({pts})"
        word = "superior" if self.passed else "not shown superior"
        return f"{'PASS' if self.passed else 'FAIL'}: {word} ({pts})"

    def underpowered(self) -> bool:
        """The MDE warning applies: non-inferiority failed, the interval holds -margin, and the
        margin is below the MDE, so a larger design could reach the other verdict.

        An interval wholly above -margin has shown non-inferiority whatever the power, and one
        wholly below it has shown a regression; a warning there (the base -> SFT comparison, +65
        points clear of the margin, was warned about) would say nothing (issue 26).
        """
        holds_margin = self.ci_low < -self.margin <= self.ci_high
        return (self.test == "non-inferiority" and not self.passed and holds_margin
                and self.mde > self.margin)  # fmt: skip

    def text(self) -> str:
        def k(r: tuple[int, int]) -> str:
            return str(r[0]) if r[0] == r[1] else f"{r[0]}-{r[1]} (uneven)"

        def side(name: str, acc: float, runs: tuple[float, ...], sd: float | None) -> str:
            if len(runs) == 1:
                return f"{name} accuracy {100 * acc:.2f}%"
            each = ", ".join(f"{100 * a:.2f}" for a in runs)
            return f"{name} accuracy {100 * acc:.2f}% (runs {each}; seed SD {100 * (sd or 0):.2f} points)"

        share = (
            "seeds not measured (one run per side)"
            if self.seed_variance_share is None
            else f"seeds {100 * self.seed_variance_share:.0f}% of the variance"
        )
        lines = [
            f"runs: baseline {self.n_baseline_runs}, candidate {self.n_candidate_runs}; items "
            f"{self.n_items}; samples per item: baseline {k(self.baseline_samples)}, "
            f"candidate {k(self.candidate_samples)}",
            side("baseline ", self.baseline_accuracy, self.baseline_runs, self.baseline_seed_sd),
            side("candidate", self.candidate_accuracy, self.candidate_runs, self.candidate_seed_sd),
            f"delta {100 * self.delta:+.2f} points, 95% CI [{100 * self.ci_low:+.2f}, "
            f"{100 * self.ci_high:+.2f}] ({self.ci_method})",
            f"standard error {100 * self.se:.2f} points: items alone {100 * self.item_se:.2f}; "
            + share,
            f"McNemar exact p = {self.mcnemar_p:.4g} (baseline-only correct {self.baseline_only}, "
            f"candidate-only correct {self.candidate_only}; item noise only)",
            f"minimum detectable effect of this design: {100 * self.mde:.2f} points "
            "(alpha 0.05, power 0.8)",
        ]
        if self.underpowered():
            lines.append(
                f"warning: the margin ({100 * self.margin:.2f} points) is below the minimum "
                "detectable effect, and the interval holds it: more items or runs could turn this "
                "verdict; as it stands, non-inferiority cannot be shown reliably"
            )
        seed_df = max(self.n_baseline_runs - 1, 0) + max(self.n_candidate_runs - 1, 0)
        if 0 < seed_df < 4:
            lines.append(
                f"warning: the seed variance has only {seed_df} df, and the "
                "interval runs narrow (2 a side: 6.8% false alarms at alpha 0.05 in simulation, "
                "docs/statistics.md); use 3 or more runs a side"
            )
        lines.append(f"verdict: {self.verdict()}")
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
