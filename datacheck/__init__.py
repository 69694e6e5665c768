"""datacheck: the data-quality stage. Every input row ends up kept, or rejected with a reason."""

from datacheck.records import SCHEMA_VERSION, Annotation, Problem, Rejection

__all__ = ["SCHEMA_VERSION", "Annotation", "Problem", "Rejection"]
