"""Checks: small named units that keep a Problem or reject it with a reason."""

from datacheck.checks.base import Check, FittedCheck, Verdict
from datacheck.checks.calculator import CalculatorCheck
from datacheck.checks.format import FormatCheck
from datacheck.checks.label import LabelConsistencyCheck
from datacheck.checks.learnability import LearnabilityCheck
from datacheck.checks.roundtrip import RoundTripCheck

__all__ = [
    "CalculatorCheck",
    "Check",
    "FittedCheck",
    "FormatCheck",
    "LabelConsistencyCheck",
    "LearnabilityCheck",
    "RoundTripCheck",
    "Verdict",
]
