"""`--engine ray` equals the local engine, and a killed job resumes at its first unfinished stage."""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from datacheck.dedup.clusters import DedupConfig, near_duplicate_clusters
from datacheck.dedup.command import dedup_file
from datacheck.dedup.ray_engine import STAGES, RayDedupOutput, ray_dedup
from datacheck.dedup.ray_stages import StageStore

REPO_ROOT = Path(__file__).resolve().parents[2]
WORDS = [f"{w}{k}" for k in range(40) for w in ("apples", "paid", "miles", "each", "twice")]


def planted_corpus(n: int, seed: int) -> tuple[list[str], list[tuple[int, int]]]:
    """Random short word problems; ~10% are one-word edits of an earlier doc (planted pairs),
    plus a bucket of 70 exact copies (more than lsh.MAX_BUCKET_NEIGHBOURS), empty and 1-word docs."""
    rng = random.Random(seed)
    docs: list[str] = []
    planted: list[tuple[int, int]] = []
    for i in range(n):
        if i > 10 and rng.random() < 0.1:
            source = rng.randrange(i)
            tokens = docs[source].split()
            tokens[rng.randrange(len(tokens))] = rng.choice(WORDS)
            docs.append(" ".join(tokens))
            planted.append((source, i))
        else:
            docs.append(" ".join(rng.choices(WORDS, k=rng.randint(30, 50))))
    docs += [docs[3]] * 70 + ["", "Seven.", "?!"]
    return docs, planted


def gsm8k_questions() -> list[str]:
    path = Path(os.environ.get("GSM8K_DIR") or REPO_ROOT.parent / "shared" / "data" / "gsm8k")
    train = path / "train.jsonl"
    if not train.is_file():
        return []  # the synthetic part alone still plants every case
    return [json.loads(line)["question"] for line in train.read_text("utf-8").splitlines()]


@pytest.fixture(scope="module")
def ray_cluster() -> Iterator[None]:
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, logging_level=logging.WARNING)
    import ray.data

    ray.data.DataContext.get_current().enable_progress_bars = False
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[tuple[int, int]]]:
    real = gsm8k_questions()
    synthetic, planted = planted_corpus(1500, seed=0)
    offset = len(real)
    return real + synthetic, [(a + offset, b + offset) for a, b in planted]


@pytest.fixture(scope="module")
def first_run(
    ray_cluster: None,
    corpus: tuple[list[str], list[tuple[int, int]]],
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, RayDedupOutput]:
    workdir = tmp_path_factory.mktemp("ray") / "stages"
    return workdir, ray_dedup(corpus[0], DedupConfig(), workdir)


def _log(workdir: Path) -> list[tuple[str, str]]:
    lines = (workdir / "stages.jsonl").read_text().splitlines()
    return [(e["stage"], e["status"]) for e in map(json.loads, lines)]


@pytest.mark.slow
def test_same_clusters_edges_and_kept_rows_as_the_local_engine(
    first_run: tuple[Path, RayDedupOutput],
    corpus: tuple[list[str], list[tuple[int, int]]],
    tmp_path: Path,
) -> None:
    docs, planted = corpus
    _, out = first_run
    local = near_duplicate_clusters(docs, DedupConfig())
    assert out.result.clusters == local.clusters
    assert out.result.edges == local.edges  # same pairs, same exact Jaccard
    assert out.result.n_candidates == local.n_candidates
    assert (out.result.bands, out.result.rows) == (local.bands, local.rows)
    # Not vacuous: the planted pairs and the 70 copies are found.
    cluster_of = {i: k for k, members in enumerate(out.result.clusters) for i in members}
    found = sum(cluster_of.get(a, -1) == cluster_of.get(b, -2) for a, b in planted)
    assert found >= 0.9 * len(planted) > 50
    copies = len(docs) - 73  # first of the 70 exact copies
    assert {copies, copies + 69} <= set(out.result.clusters[cluster_of[copies]])
    # The kept rows equal what `datacheck dedup` (local engine) writes for the same file.
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps({"text": d}) + "\n" for d in docs))
    summary = dedup_file(source, "text", tmp_path / "local", DedupConfig())
    local_kept = [json.loads(x)["text"] for x in (tmp_path / "local" / "kept.jsonl").open()]
    assert [docs[i] for i in out.kept] == local_kept
    assert summary["duplicates"] == len(docs) - len(out.kept) > 0


@pytest.mark.slow
def test_keep_policy_prefers_rows_that_passed_and_reuses_stages_1_to_4(
    first_run: tuple[Path, RayDedupOutput],
    corpus: tuple[list[str], list[tuple[int, int]]],
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "stages"
    shutil.copytree(first_run[0], workdir)
    clusters = first_run[1].result.clusters
    failed = {members[0] for members in clusters}  # the lowest index failed an earlier check
    prefer_drop = [i in failed for i in range(len(corpus[0]))]
    out = ray_dedup(corpus[0], DedupConfig(), workdir, prefer_drop=prefer_drop)
    survivors = set(out.kept)
    for members in clusters:
        assert members[0] not in survivors and members[1] in survivors
    assert [(s.stage, s.status) for s in out.stages] == [
        *((stage, "reused") for stage in STAGES[:4]),
        (STAGES[4], "ran"),
    ]


@pytest.mark.slow
def test_killed_job_resumes_without_recomputing_finished_stages(
    first_run: tuple[Path, RayDedupOutput],
    corpus: tuple[list[str], list[tuple[int, int]]],
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "stages"
    shutil.copytree(first_run[0], workdir)
    # Killed during stage 4: stages 4-5 have no output, stage 4 left a half-written temp dir.
    shutil.rmtree(workdir / STAGES[3])
    shutil.rmtree(workdir / STAGES[4])
    (workdir / f".{STAGES[3]}.tmp").mkdir()
    (workdir / f".{STAGES[3]}.tmp" / "clusters.jsonl").write_text("[0, 1")
    finished = {p: p.stat().st_mtime_ns for s in STAGES[:3] for p in (workdir / s).rglob("*")}
    out = ray_dedup(corpus[0], DedupConfig(), workdir)
    assert [(s.stage, s.status) for s in out.stages] == [
        *((stage, "reused") for stage in STAGES[:3]),
        (STAGES[3], "ran"),
        (STAGES[4], "ran"),
    ]
    assert {p: p.stat().st_mtime_ns for p in finished} == finished  # untouched
    assert out.result.clusters == first_run[1].result.clusters
    assert out.kept == first_run[1].kept
    assert _log(workdir)[-5:] == [(s.stage, s.status) for s in out.stages]


@pytest.mark.slow
def test_a_changed_threshold_recomputes_from_the_edges_stage(
    first_run: tuple[Path, RayDedupOutput],
    corpus: tuple[list[str], list[tuple[int, int]]],
    tmp_path: Path,
) -> None:
    workdir = tmp_path / "stages"
    shutil.copytree(first_run[0], workdir)
    # Same bands and rows (pinned), stricter verification: signatures and band keys still hold.
    config = DedupConfig(threshold=0.85, bands_rows=DedupConfig().banding())
    out = ray_dedup(corpus[0], config, workdir)
    assert [s.status for s in out.stages] == ["reused", "reused", "ran", "ran", "ran"]
    local = near_duplicate_clusters(corpus[0], config)
    assert out.result.clusters == local.clusters
    assert len(out.result.edges) < len(first_run[1].result.edges)


def test_stage_store_reruns_a_stage_only_when_its_input_hash_changes(tmp_path: Path) -> None:
    store = StageStore(tmp_path)
    calls: list[str] = []

    def build(out: Path) -> dict[str, int]:
        calls.append(out.name)
        (out / "value.txt").write_text("x")
        return {"rows": 3}

    assert store.run("1_x", "h1", build) == {"stage": "1_x", "input_hash": "h1", "rows": 3}
    store.run("1_x", "h1", build)
    store.run("1_x", "h2", build)
    assert len(calls) == 2
    assert [(r.stage, r.status) for r in store.runs] == [
        ("1_x", "ran"),
        ("1_x", "reused"),
        ("1_x", "ran"),
    ]
    assert not (tmp_path / ".1_x.tmp").exists()


def test_a_stage_that_raises_leaves_no_marker(tmp_path: Path) -> None:
    store = StageStore(tmp_path)

    def crash(out: Path) -> dict[str, int]:
        (out / "partial").write_text("half")
        raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        store.run("1_x", "h1", crash)
    assert not (tmp_path / "1_x").exists()
    calls: list[int] = []
    store.run("1_x", "h1", lambda out: calls.append(1) or {})
    assert calls == [1]


@pytest.mark.slow
def test_dedup_command_engine_ray_writes_what_the_local_engine_writes(
    ray_cluster: None, tmp_path: Path
) -> None:
    from datacheck.cli import main

    docs, _ = planted_corpus(400, seed=1)
    source = tmp_path / "corpus.jsonl"
    source.write_text("".join(json.dumps({"text": d, "n": i}) + "\n" for i, d in enumerate(docs)))
    base = ["dedup", str(source), "--field", "text"]
    assert main([*base, "--out", str(tmp_path / "local")]) == 0
    assert main([*base, "--out", str(tmp_path / "ray"), "--engine", "ray"]) == 0
    for name in ("kept.jsonl", "duplicates.jsonl", "clusters.jsonl"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text()
    assert len((tmp_path / "local" / "duplicates.jsonl").read_text().splitlines()) > 69
    (log,) = (tmp_path / "ray" / "ray_stages").glob("corpus-*/stages.jsonl")
    assert [e["stage"] for e in map(json.loads, log.read_text().splitlines())] == list(STAGES)


@pytest.mark.slow
def test_clean_engine_ray_keeps_and_clusters_what_the_local_engine_does(
    ray_cluster: None, tmp_path: Path
) -> None:
    from datacheck.cli import main

    assert main(["clean", "synthetic", "--out", str(tmp_path / "local")]) == 0
    assert main(["clean", "synthetic", "--out", str(tmp_path / "ray"), "--engine", "ray"]) == 0
    splits = ("train", "val", "test", "test-ood")
    for name in (*(f"kept/{s}.jsonl" for s in splits), "clusters.jsonl", "rejected.jsonl"):
        assert (tmp_path / "ray" / name).read_text() == (tmp_path / "local" / name).read_text()
    assert (tmp_path / "local" / "clusters.jsonl").read_text().count("\n") > 10
    # One stage directory per split's corpus.
    assert len(list((tmp_path / "ray" / "ray_stages").glob("corpus-*/5_kept/_stage.json"))) == len(splits)
