"""Prompt variants: deterministic, gold-preserving, and readable by the one answer parser."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from reasoneval.records import Problem
from reasoneval.variant_labels import describe_family
from reasoneval.variant_texts import ANSWER_FORMATS, PARAPHRASES, insert_distractor
from reasoneval.variants import (
    FAMILIES,
    QUESTION_FAMILIES,
    REGISTRY,
    ExternalVariant,
    VariantConfig,
    family_of,
    load_gsm_plus,
    make_variants,
    parse_families,
)
from reasonkit.answers import extract_answer
from reasonkit.errors import InputError
from reasonkit.prompting import FewShotExample

NUMBER = re.compile(r"\d+(?:\.\d+)?")
PROBLEM = Problem("gsm8k/test/7", "Ann has 12 pens. She buys 30 more. How many pens now?", "42")

sentences = st.lists(
    st.builds(
        lambda w, n: f"{w} {n}.",
        st.sampled_from(["Ann has", "Bo buys", "It costs"]),
        st.integers(0, 10_000),
    ),
    min_size=1,
    max_size=4,
).map(" ".join)


@settings(max_examples=40, deadline=None)
@given(question=sentences, gold=st.integers(-50, 5000).map(str), seed=st.integers(0, 99))
def test_variants_keep_gold_and_numbers_of_a_non_programmatic_problem(
    question: str, gold: str, seed: int
) -> None:
    p = Problem("gsm8k/test/1", question, gold)
    variants = make_variants(p, VariantConfig(seed=seed, max_per_item=100))
    assert variants and all(v.gold == gold for v in variants)
    for v in variants:  # no family here may drop or change the problem's numbers
        assert is_subsequence(NUMBER.findall(question), NUMBER.findall(v.question)), v.name


def is_subsequence(short: list[str], long: list[str]) -> bool:
    it = iter(long)
    return all(any(x == y for y in it) for x in short)


def test_deterministic_given_seed_and_names_carry_the_family() -> None:
    a = make_variants(PROBLEM, VariantConfig(seed=3))
    assert a == make_variants(PROBLEM, VariantConfig(seed=3))
    assert {v.name for v in a} != {v.name for v in make_variants(PROBLEM, VariantConfig(seed=4))}
    assert len({v.name for v in a}) == len(a)
    assert all(family_of(v.name) == v.family for v in a)
    assert {v.family for v in a} == {
        "paraphrase",
        "format",
        "shots",
        "template",
        "spacing",
        "distractor",
    }  # numeric: gsm8k is not programmatic


def test_at_least_eight_distinct_paraphrases_keep_both_demands() -> None:
    assert len(set(PARAPHRASES)) >= 8
    assert all("<think>" in p and "####" in p for p in PARAPHRASES)


@pytest.mark.parametrize(
    "label,completion",
    [
        ("hash", "#### 42"),
        ("answer_is", "The answer is 42."),
        ("boxed", "\\boxed{42}"),
        ("final_answer", "**Final Answer:** 42"),
    ],
)
def test_each_answer_format_is_read_by_the_parser(label: str, completion: str) -> None:
    v = next(
        v
        for v in make_variants(PROBLEM, VariantConfig(families=("format",)))
        if v.name == f"format-{label}"
    )
    assert ANSWER_FORMATS[label] in v.question
    extraction = extract_answer(f"30 + 12 = 42\n</think>\n{completion}", flexible=False)
    assert extraction is not None and extraction.value == "42"


def test_shots_toggle_and_raw_template() -> None:
    zero = make_variants(PROBLEM, VariantConfig(families=("shots", "template")))
    assert [v.name for v in zero] == ["shots-few", "template-raw"]
    assert zero[0].few_shot and "<|im_start|>" not in zero[1].prompt(None)
    shot = FewShotExample("q", "r", "1")
    few = make_variants(PROBLEM, VariantConfig(families=("shots", "paraphrase"), few_shot=(shot,)))
    assert few[0].name == "shots-zero" and few[0].few_shot == ()
    assert all(v.few_shot == (shot,) for v in few[1:])  # other families hold the shots fixed


def test_distractor_goes_before_the_question_sentence() -> None:
    assert insert_distractor("A has 2. B has 3. How many?", "C is 9.") == (
        "A has 2. B has 3. C is 9. How many?"
    )


def test_numeric_family_only_for_programmatic_problems() -> None:
    def provider(p: Problem, n: int, seed: int) -> list[tuple[str, str]]:
        return [(f"Ann has {k}. How many?", str(k)) for k in range(n)]

    cfg = VariantConfig(families=("numeric",), max_per_family=2, numeric_variants=provider)
    assert make_variants(PROBLEM, cfg) == []
    synth = Problem("synthetic/test/0", "Ann has 5. How many?", "5")
    assert [(v.name, v.gold) for v in make_variants(synth, cfg)] == [
        ("numeric-n0", "0"),
        ("numeric-n1", "1"),
    ]


def test_numeric_family_with_the_real_synthetic_set_stays_held_out() -> None:
    from reasonkit.tasks.arithmetic import computation_of
    from reasonkit.tasks.split import HeldOut, load_split

    held_out = HeldOut()
    for split in ("test", "test-ood"):
        row = load_split(split, n=1)[0]
        p = Problem(row["id"], row["question"], row["answer"].rpartition("#### ")[2])
        variants = make_variants(p, VariantConfig(families=("numeric",), max_per_family=3))
        assert variants and all(v.question != p.question for v in variants)
        # A variant of a held-out item is a held-out computation too, never a trained one.
        assert all(held_out.bucket(computation_of(v.question)) == "test" for v in variants)


def test_per_item_cap_keeps_families_interleaved() -> None:
    v = make_variants(PROBLEM, VariantConfig(max_per_item=6))
    assert len(v) == 6 and len({x.family for x in v}) == 6


def test_parse_families() -> None:
    assert parse_families("format, paraphrase") == ("format", "paraphrase")
    assert set(FAMILIES) >= {"paraphrase", "format", "numeric", "external"}
    with pytest.raises(InputError):
        parse_families("format,typo")


def test_gsm_plus_rows_match_by_seed_question_and_skips_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "plus.jsonl"
    path.write_text(
        "\n".join(
            [
                '{"question": "Ann has 13 pens. She buys 30 more. How many?", "answer": "43", '
                '"perturbation_type": "numerical substitution", "seed_question": "Ann has 12 pens.  '
                'She buys 30 more. How many pens now?"}',
                '{"question": "Q?", "answer": "None", "perturbation_type": "critical thinking", '
                f'"seed_question": "{PROBLEM.question}"}}',
                '{"question": "Q?", "answer": "3", "perturbation_type": "x", "seed_question": "other"}',
            ]
        ),
        encoding="utf-8",
    )
    found, skipped = load_gsm_plus(path, [PROBLEM])
    assert [(e.gold, e.perturbation_type) for e in found[PROBLEM.id]] == [
        ("43", "numerical substitution")
    ]
    assert len(skipped) == 2 and "not a number" in skipped[0] and "matches no" in skipped[1]
    cfg = VariantConfig(families=("external",), external=found)
    assert [(v.name, v.family, v.gold) for v in make_variants(PROBLEM, cfg)] == [
        ("gsmplus_numerical_substitution-g0", "gsmplus_numerical_substitution", "43")
    ]
    path.write_text('{"question": "only"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"plus\.jsonl:1"):
        load_gsm_plus(path, [PROBLEM])


# sha256 of every variant of 5 synthetic problems and one GSM8K-like problem (two GSM-Plus rows),
# seeds 0 and 3, with and without a shot, as the code before the family registry made them.
VARIANTS_DIGEST = "d2448101af16751c67ac9afb1ff12921684d3a4d1b29f7c15c1956489cc9668d"


def test_variant_texts_are_those_made_before_the_registry() -> None:
    from reasoneval.datasets import DatasetSpec, load_problems

    problems = [*load_problems(DatasetSpec("synthetic", limit=5)), PROBLEM]
    external = {PROBLEM.id: [ExternalVariant("Critical Thinking", "Ann has 12 pens?", "12"),
                             ExternalVariant("critical thinking", "Ann had 12 pens?", "13")]}
    shot = (FewShotExample("1+1?", "1 + 1 = 2", "2"),)
    digest = hashlib.sha256()
    for seed in (0, 3):
        for few in ((), shot):
            cfg = VariantConfig(seed=seed, few_shot=few, max_per_item=100, external=external)
            for p in problems:
                for v in make_variants(p, cfg):
                    digest.update(json.dumps([
                        v.name, v.family, v.question, v.gold, v.system,
                        [[s.question, s.reasoning, s.answer] for s in v.few_shot],
                        v.chat_template, v.prompt(None)]).encode())
    assert digest.hexdigest() == VARIANTS_DIGEST


def test_one_registry_entry_per_family_drives_choices_labels_and_styles() -> None:
    assert FAMILIES == tuple(REGISTRY) == ("paraphrase", "format", "shots", "template", "spacing",
                                          "distractor", "numeric", "external")
    assert all(describe_family(name) == f.description != "" for name, f in REGISTRY.items())
    assert QUESTION_FAMILIES == ("spacing", "distractor", "numeric", "external")
    with pytest.raises(InputError, match=", ".join(FAMILIES)):
        parse_families("typo")
    for name in FAMILIES:  # each builder makes its own family's variants
        cfg = VariantConfig(families=(name,), external={PROBLEM.id: [
            ExternalVariant("distraction", "Ann has 12 pens?", "12")]})
        made = make_variants(PROBLEM, cfg)
        assert all(v.family == name or name == "external" for v in made), name
