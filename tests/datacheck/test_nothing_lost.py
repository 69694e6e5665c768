"""Property: every input line lands in exactly one of kept or rejected, malformed lines included."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datacheck.clean import clean
from datacheck.config import CleanConfig
from datacheck.loading import SourceSpec, load_source
from datacheck.outputs import write_outputs
from datacheck.report import build_report
from reasonkit.errors import InputError
from reasonkit.jsonl import BadLine, parse_line

text = st.text(st.characters(codec="utf-8", exclude_characters="\n"), max_size=60)
number = st.integers(-5, 500).map(str)
well_formed = st.builds(
    lambda q, a, b, label: {
        "question": q,
        "answer": f"{a}+{b} = <<{a}+{b}={int(a) + int(b)}>>{int(a) + int(b)}\n#### {label}",
    },
    text,
    number,
    number,
    number,
)
malformed = st.one_of(
    st.builds(lambda q: {"question": q}, text),  # missing field
    st.builds(lambda n: {"question": n, "answer": "1\n#### 1"}, st.integers()),  # wrong type
    st.builds(lambda q, a: {"question": q, "answer": a}, text, text),  # free text answer
    text.map(lambda s: s.replace("\r", "")),  # raw text: mostly invalid JSON
    st.binary(max_size=20).filter(lambda b: b"\n" not in b),  # arbitrary bytes, often not UTF-8
    st.just(b'\xff\xfe{"question": 1}'),
    st.just(""),  # blank line
    st.just("[1, 2]"),  # JSON, not an object
)
line = st.one_of(well_formed, malformed)


def _encode(item: object) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    return json.dumps(item).encode("utf-8")


def _object(item: object) -> dict[str, object] | None:
    """The line as the loader sees it, when that is a JSON object."""
    try:
        value = parse_line(_encode(item))
    except BadLine:
        return None
    return value if isinstance(value, dict) else None


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, min_size=1, max_size=25))
def test_every_line_is_kept_or_rejected_exactly_once(lines: list[object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "rows.jsonl"
        path.write_bytes(b"\n".join(_encode(x) for x in lines) + b"\n")
        try:
            source = load_source(SourceSpec(str(path)))
        except InputError as err:  # only an empty file, or a field no row has, fails as a whole
            assert "\n" not in str(err)
            if "is in none of the" in str(err):  # a mistyped field is exit 2 (issue 16)
                name = "question" if "--question-field" in str(err) else "answer"
                objects = [x for x in map(_object, lines) if x is not None]
                assert objects and not any(name in x for x in objects)
                return
            assert "is empty" in str(err)
            assert all(not _encode(x).strip() for x in lines)
            return
        result = clean(source, CleanConfig())
        out = Path(tmp) / "out"
        write_outputs(
            out,
            result,
            build_report(result, CleanConfig(), dataset="x", input_hashes={}, seconds=0),
        )
        kept = [
            json.loads(x)["id"]
            for x in (out / "kept" / "train.jsonl").read_text("utf-8").split("\n")[:-1]
        ]
        rejected = [
            json.loads(x) for x in (out / "rejected.jsonl").read_text("utf-8").split("\n")[:-1]
        ]
        # split on "\n" only: str.splitlines would also break at U+2028 inside a JSON string
        ids = kept + [r["id"] for r in rejected]
        assert sorted(ids) == sorted(f"rows/train/{i}" for i in range(len(lines)))
        assert all(r["reason"] and r["check"] for r in rejected)


pieces = st.sampled_from(
    ["<<", ">>", "=", "####", "\n", "1e999999", "inf", "nan", "**", "9" * 30, "$", ",", ".", " "]
)
hostile = st.lists(st.one_of(pieces, number, text), max_size=15).map("".join)


@settings(max_examples=200, deadline=None)
@given(hostile, hostile)
def test_checks_never_raise_on_hostile_text(question: str, answer: str) -> None:
    from datacheck.checks import CalculatorCheck, FormatCheck, LabelConsistencyCheck, RoundTripCheck
    from datacheck.parsing import parse_problem

    p = parse_problem(
        id="x/train/0", split="train", index=0, question=question, answer=answer, source={}
    )
    for check in (FormatCheck(), CalculatorCheck(), LabelConsistencyCheck(), RoundTripCheck()):
        verdict = check(p)
        assert verdict is None or (verdict.check == check.name and verdict.reason)
