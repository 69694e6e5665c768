"""The gold-path check: each failure type on hand-built responses, planted errors in real GSM8K
gold, the failure clusters in report.json/HTML, `score --solution-field` and `failure_mix`."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from reasoneval.cli import main
from reasoneval.layers.failures import HAND_CHECKED, failure_mix
from reasoneval.layers.gold_path import FAILURE_TYPES, parse_gold_path
from reasoneval.layers.gold_path_follow import follow_gold_path
from reasoneval.layers.gold_path_text import (
    canonical_text,
    keys_of,
    last_number_start,
    number_strings,
    read_expression,
    read_numbers,
)
from reasoneval.layers.gold_path_value import value_of
from reasoneval.layers.trace_checks import trace_sample
from reasoneval.layers.traces import traces_for_rows
from reasoneval.records import Problem
from reasoneval.report import layers_json
from reasonkit.answers import parse_gold
from reasonkit.arith import UnsafeExpression, evaluate

QUESTION = "Ava has 3 apples and buys 4 more. Then she doubles them. How many does she have?"
GOLD = "Ava has 3 + 4 = <<3+4=7>>7 apples.\nShe doubles them: 7 * 2 = <<7*2=14>>14.\n#### 14"
# Three steps, the first feeding the second: "6 * 7" skips "6 + 3 = 9".
QUESTION3 = "Ben buys 6 pens and 3 more. Each pen costs 7 dollars. He pays with a 100 dollar bill."
GOLD3 = ("He buys 6 + 3 = <<6+3=9>>9 pens.\nThey cost 9 * 7 = <<9*7=63>>63 dollars.\n"
         "His change is 100 - 63 = <<100-63=37>>37.\n#### 37")


def failure(response: str, extracted: str | None, *, gold: str = GOLD, question: str = QUESTION,
            finish: str = "stop") -> str:
    path = parse_gold_path(gold, parse_gold(gold), question)
    assert path is not None
    return follow_gold_path(response, extracted, finish, path).failure


def test_gold_steps_values_and_dependencies_are_read() -> None:
    path = parse_gold_path(GOLD3, "37", QUESTION3)
    assert path is not None and path.final == 37
    assert [s.value for s in path.steps] == [9, 63, 37]
    assert [s.depends for s in path.steps] == [(), (0,), (1,)]
    assert {6.0, 3.0, 7.0, 100.0} <= path.question
    assert parse_gold_path("He has 7 apples.\n#### 7", "7", "q") is None  # nothing annotated
    assert parse_gold_path(GOLD, None, QUESTION) is None  # no final answer to compare with


@pytest.mark.parametrize(
    ("response", "extracted", "expected"),
    [
        ("3 + 4 = 7\n7 * 2 = 14\nThe answer is 14.", "14", "none"),
        ("(3 + 4) * 2 = 14. The answer is 14.", "14", "none"),  # another grouping, same path
        ("3 + 4 = 7\n7 * 2 = 14\n#### 15", "15", "answer_line"),
        ("3 + 4 = 7\n7 * 2 = 14\n14 * 3 = 42\n#### 42", "42", "extra_step"),
        ("3 + 4 = 7\n#### 7", "7", "missing_step"),  # stopped early
        ("3 + 4 = 8\n8 * 2 = 16\n#### 16", "16", "arithmetic"),
        ("3 + 4 = 7\n7 / 2 = 3.5\n#### 3.5", "3.5", "wrong_operation"),
        ("3 + 4 = 7\n7 * 37 = 259\n#### 259", "259", "foreign_quantity"),
        ("5 + 5 = 10\n#### 10", "10", "unexplained"),
    ],
)
def test_each_failure_type_on_a_hand_built_response(response: str, extracted: str, expected: str) -> None:
    assert failure(response, extracted) == expected


def test_numbers_the_reasoning_derived_are_not_foreign() -> None:
    # 40 from nowhere is foreign; written as a word earlier ("forty"), or as a rewrite right after
    # "=" of a computation the reader cannot parse, it is the reasoning's own.
    assert failure("3 + 4 = 7\n7 * 40 = 280\n#### 280", "280") == "foreign_quantity"
    assert failure("Each box holds forty.\n3 + 4 = 7\n7 * 40 = 280\n#### 280", "280") == "unexplained"
    assert failure("3 + 4 = 7\nSo 7 * (35 + 5) = 7 * 40 = 280\n#### 280", "280") == "unexplained"


def test_a_skipped_step_and_a_truncation() -> None:
    # 6 * 7 uses the 6 that the gold turns into 9 = 6 + 3 first.
    assert failure("6 * 7 = 42\n100 - 42 = 58\n#### 58", "58", gold=GOLD3, question=QUESTION3) == "missing_step"
    assert failure("He buys 6 + 3 = 9 pens and", None, gold=GOLD3, question=QUESTION3, finish="length") == "truncated"


def test_steps_reached_and_the_first_divergent_step() -> None:
    path = parse_gold_path(GOLD3, "37", QUESTION3)
    assert path is not None
    trace = follow_gold_path("6 + 3 = 9 pens. 9 * 7 = 63.\n#### 63", "63", "stop", path)
    assert trace.reached == (1, 2) and trace.first_divergent == 3
    assert trace.failure == "missing_step"  # the answer is gold step 2's value


def test_trace_sample_carries_the_gold_path_and_its_flag() -> None:
    t = trace_sample("3 + 4 = 7\n7 / 2 = 3.5\n</think>\n#### 3.5", "stop", "3.5", GOLD, question=QUESTION)
    assert t.failure == "wrong_operation" and t.off_gold_path and t.flags()["off_gold_path"]
    assert t.gold_steps_reached == (1,) and t.first_divergent_step == 2 and "7 / 2" in t.failure_evidence
    right = trace_sample("3 + 4 = 7\n7 * 2 = 14\n</think>\n#### 14", "stop", "14", GOLD)
    assert right.failure == "none" and not right.off_gold_path
    assert trace_sample("7 * 2 = 14", "stop", "14", "#### 14").failure is None  # no annotated steps


def _outcome(f: object, arg: object) -> object:
    try:
        return f(arg)  # type: ignore[operator]
    except (UnsafeExpression, ZeroDivisionError) as err:
        return type(err)


@pytest.mark.parametrize("lhs", [
    "3 + 4 * 2.5 - 7 / 2", "(60 + 45) * 12", "9 * (3 / 2)", "7 / 5) * 5", "2 * (8 + 2",
    "(200) / (10)", "10 / (5 - 5)", "6 * 2 /", "4 / * 24", "99999999999999 * 99999999999999 * 99",
    "0.001% * 3", "1,000 x 3 times 2", "((1 + 2) * (3 - 4)) / 7", "3 - - 4",
])
def test_left_sides_are_valued_exactly_as_reasonkit_arith_values_them(lhs: str) -> None:
    expression = read_expression(lhs)
    assert expression is not None
    expected = _outcome(lambda e: float(evaluate(e.python)), expression)
    assert _outcome(value_of, expression) == expected


def test_the_last_mention_of_a_number_is_found_from_the_end() -> None:
    text = "It costs 5, then 1,5 and 15 and 2.5 and .5 then 5 and 55 5.5"
    found = number_strings(text)
    starts = [m.start() for m in re.finditer(r"(?<![\d.,])(?:\d+(?:,\d{3})*(?:\.\d+)?|\.\d+)", text)]
    assert len(found) == len(starts) == 8
    for i, number in enumerate(found):
        if number not in found[i + 1 :]:
            assert last_number_start(text, number) == starts[i], number


def test_numbers_read_by_string_methods_are_the_ones_the_regex_reads() -> None:
    # ASCII text goes through bytes.translate and split unless a run is not a whole number
    # ("1,0000", "..5", 16 digits), which the regex reads; the results are the same.
    text = ("It is 7. Then 1,000.50, 1,0000 and 5,6; 3.5. and .5, ..5 or 1.123456789 and "
            "1234567890123456 x 2")
    expected = ["7", "1,000.50", "1", "5", "3.5", ".5", "1.12345678", "123456789012345", "2"]
    assert number_strings(text) == expected
    assert number_strings(text.replace("1,0000", "10000")) == [*expected[:2], "10000", *expected[3:]]
    assert read_numbers(text) == (expected, keys_of(expected))
    assert read_numbers("3 and 15 then 007.") == (["3", "15", "007"], [3.0, 15.0, 7.0])
    assert number_strings(text + " \u0663") == [*expected, "\u0663"]  # a Unicode digit: the regex


def test_latex_forms_are_rewritten_in_order() -> None:
    # "\\," writes nothing: the "\\" before it and the "(" after it make a form rewritten later.
    assert canonical_text(r"\\,(3 \times 4\\)") == " 3  *  4\\ "
    assert canonical_text(r"\text{,}5") == r"\text,5"  # "{,}" goes before "\text{"
    assert canonical_text(r"1\,000 \times 2") == "1000  *  2"
    assert canonical_text(r"\(2 \times 3\) = \frac{12}{2}") == " 2  *  3  = (12)/(2)"


def _rows() -> tuple[list[dict[str, object]], list[Problem]]:
    problems = [Problem(f"p{i}", QUESTION, "14", GOLD) for i in range(4)]
    rows = [
        {"id": "p0", "response": "3 + 4 = 7\n7 * 2 = 14\n#### 14", "extracted": "14", "correct": True},
        {"id": "p1", "response": "3 + 4 = 7\n<script>x</script> 7 / 2 = 3.5\n#### 3.5",
         "extracted": "3.5", "correct": False},
        {"id": "p2", "response": "3 + 4 = 7\n#### 7", "extracted": "7", "correct": False},
        {"id": "p3", "response": "5 + 5 = 10\n#### 10", "extracted": "10", "correct": False},
    ]
    return rows, problems


def test_failure_clusters_in_the_report_json_and_html() -> None:
    rows, problems = _rows()
    result = traces_for_rows(rows, problems, n_boot=50)
    f = result.details["failures"]
    assert (f["applicable"], f["wrong"], f["explained"], f["right"], f["false_alarms"]) == (4, 3, 2, 1, 0)
    assert f["types"]["wrong_operation"] == {"count": 1, "share_of_wrong": 1 / 3}
    assert f["types"]["unexplained"]["count"] == 1
    steps = next(c for c in f["by_feature"] if c["feature"] == "gold_steps")
    assert steps == {"feature": "gold_steps", "bucket": "1-2", "wrong": 3,
                     "types": {"missing_step": 1, "wrong_operation": 1, "unexplained": 1}}
    assert f["examples"]["wrong_operation"][0]["id"] == "p1"
    assert result.metrics["failure_explained"].value == 2 / 3
    assert result.metrics["failure_rate.missing_step"].value == 1 / 4
    json.dumps(layers_json([result]))  # report.json holds it as plain JSON
    # The example response is untrusted text: escaped, never live markup.
    assert "<script>" not in result.html and "&lt;script&gt;x&lt;/script&gt;" in result.html
    assert "Where wrong answers left the gold path" in result.html
    assert "<td>wrong_operation</td><td>1</td><td>0.333</td><td>8 / 12 (67%)</td>" in result.html


def test_the_hand_checked_precision_a_report_shows_is_the_documented_one() -> None:
    """The report's per-type precision is the held-out-2 column of docs/layers.md's table."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "layers.md").read_text(encoding="utf-8")
    table = doc[doc.index("| type | held-out-2"):]
    for failure_type, (hits, n) in HAND_CHECKED.items():
        assert f"| `{failure_type}` | {hits} / {n} ({hits / n:.0%}) |" in table, failure_type
    assert set(HAND_CHECKED) == set(FAILURE_TYPES) - {"truncated"}  # none of the sets was cut off


def test_without_annotated_gold_the_check_is_not_applicable() -> None:
    rows, _ = _rows()
    bare = [Problem(f"p{i}", QUESTION, "14", None) for i in range(4)]
    result = traces_for_rows(rows, bare, n_boot=50)
    assert result.details["failures"] is None and "off_gold_path" in result.details["not_applicable"]
    assert "failure_explained" not in result.metrics


def test_failure_mix_reads_an_evaluation_directory(tmp_path: Path) -> None:
    rows, problems = _rows()
    (tmp_path / "report.json").write_text(json.dumps(
        {"layers": layers_json([traces_for_rows(rows, problems, n_boot=50)])}))
    mix = failure_mix(tmp_path)
    assert mix is not None and mix["explained"] == 2 / 3 and mix["missing_step"] == 1 / 3
    (tmp_path / "report.json").write_text(json.dumps({"layers": {}}))
    assert failure_mix(tmp_path) is None


def test_score_reads_the_gold_solution_from_its_own_field(tmp_path: Path, capsys) -> None:
    src = tmp_path / "gens.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "a", "resp": "3 + 4 = 7\n7 / 2 = 3.5\nA: 3.5", "gold": "14", "sol": GOLD, "q": QUESTION},
        {"id": "b", "resp": "3 + 4 = 7\n7 * 2 = 14\nA: 14", "gold": "14", "sol": GOLD, "q": QUESTION},
    ]))
    out = tmp_path / "out.jsonl"
    argv = ["score", str(src), "--response-field", "resp", "--gold-field", "gold", "--id-field",
            "id", "--question-field", "q", "--layers", "accuracy,traces", "--out", str(out)]
    assert main([*argv, "--solution-field", "sol", "--json"]) == 0
    scored = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["trace"]["failure"] for r in scored] == ["wrong_operation", "none"]
    summary = json.loads(capsys.readouterr().out)["traces"]
    assert summary["failure_explained"]["value"] == 1.0
    assert main([*argv, "--solution-field", "sol"]) == 0
    assert "gold path: 100.0% of 1 wrong answers get a failure type; 0.0% of 1 right" in capsys.readouterr().out
    # Without it the bare gold "14" carries no steps: the check says it cannot judge.
    assert main([*argv, "--json"]) == 0
    assert "off_gold_path" in json.loads(capsys.readouterr().out)["traces"]["not_applicable"]
    assert main([*argv, "--solution-field", "nope"]) == 2
    assert "missing field 'nope' (--solution-field)" in capsys.readouterr().err


def _gsm8k(gsm8k_dir: Path) -> list[dict[str, str]]:
    lines = (gsm8k_dir / "test.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(x) for x in lines if x]


@pytest.mark.gsm8k
def test_gold_solutions_followed_as_responses_raise_no_failure(gsm8k_dir: Path) -> None:
    typed = judged = 0
    for row in _gsm8k(gsm8k_dir):
        path = parse_gold_path(row["answer"], parse_gold(row["answer"]), row["question"])
        if path is None:
            continue
        judged += 1
        bare = re.sub(r"<<[^<>]*>>", "", row["answer"])  # as a model writes: no annotations
        typed += follow_gold_path(bare, parse_gold(row["answer"]), "stop", path).failure != "none"
    assert judged > 1290 and typed == 0  # measured: 1,303 judged, 0 typed


@pytest.mark.gsm8k
def test_planted_errors_in_gsm8k_gold_get_the_planted_type(gsm8k_dir: Path) -> None:
    """Take a real gold solution (annotations cut), plant one error, and ask for its type."""
    counts = {"missing_step": [0, 0], "extra_step": [0, 0], "arithmetic": [0, 0]}
    for row in _gsm8k(gsm8k_dir):
        final = parse_gold(row["answer"])
        path = parse_gold_path(row["answer"], final, row["question"])
        lines = re.sub(r"<<[^<>]*>>", "", row["answer"].rpartition("####")[0]).strip().splitlines()
        if path is None or len(path.steps) < 2 or final is None or len(lines) < 2:
            continue
        previous = path.steps[-2].value
        last = re.search(r"=\s*\$?(\d+)\s*\S*\s*$", lines[-1]) or re.search(r"=\s*\$?(\d+)", lines[-1])
        cases = {
            # stop one step short: the answer is the second-to-last gold value
            "missing_step": ("\n".join(lines[:-1]) + f"\n#### {previous:g}", f"{previous:g}"),
            # one step too many after the final value
            "extra_step": ("\n".join(lines) + f"\nThen {final} * 3 = {float(final) * 3:g}\n"
                           f"#### {float(final) * 3:g}", f"{float(final) * 3:g}"),
        }
        if last and float(last.group(1)) == float(final):
            slipped = int(last.group(1)) + 1
            bad = lines[-1][: last.start(1)] + str(slipped) + lines[-1][last.end(1):]
            cases["arithmetic"] = ("\n".join([*lines[:-1], bad]) + f"\n#### {slipped}", str(slipped))
        for planted, (response, answer) in cases.items():
            counts[planted][1] += 1
            counts[planted][0] += follow_gold_path(response, answer, "stop", path).failure == planted
    rates = {t: hit / n for t, (hit, n) in counts.items()}
    # Measured on the test split: missing_step 0.93, extra_step 0.90, arithmetic 0.75 (the
    # misses: a gold value that equals a question number, prose the reader skips).
    assert all(n > 500 for _, n in counts.values()), counts
    assert rates["missing_step"] >= 0.88 and rates["extra_step"] >= 0.85, rates
    assert rates["arithmetic"] >= 0.7, rates
