from __future__ import annotations

from pathlib import Path

from reasoneval.backends.base import SamplingConfig
from reasoneval.cache import GenerationCache, cache_key, directory_fingerprint
from reasoneval.records import Completion


def _comp(text: str) -> Completion:
    return Completion(text, "stop", 5, len(text))


def test_key_changes_with_model_prompt_and_every_sampling_field() -> None:
    base = cache_key("m1", "p", SamplingConfig())
    assert cache_key("m1", "p", SamplingConfig()) == base
    assert cache_key("m2", "p", SamplingConfig()) != base
    assert cache_key("m1", "p ", SamplingConfig()) != base
    for change in (
        {"n": 2},
        {"temperature": 0.7},
        {"top_p": 0.9},
        {"max_new_tokens": 7},
        {"seed": 1},
        {"stop": ("x",)},
    ):
        assert cache_key("m1", "p", SamplingConfig(**change)) != base, change


def test_entries_survive_reopen(tmp_path: Path) -> None:
    path = tmp_path / "c" / "gen.jsonl"
    cache = GenerationCache(path)
    cache.put_many({"k1": [_comp("a"), _comp("b")]})
    cache.put_many({"k2": [_comp("ü <script>")]})
    again = GenerationCache(path)
    assert len(again) == 2
    assert again.get("k1") == [_comp("a"), _comp("b")]
    assert again.get("k2") == [_comp("ü <script>")]
    assert again.get("missing") is None


def test_a_line_cut_short_by_a_kill_is_dropped_and_appends_still_parse(tmp_path: Path) -> None:
    path = tmp_path / "gen.jsonl"
    GenerationCache(path).put_many({"k1": [_comp("a")]})
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"key": "k2", "completions": [{"te')  # killed mid-write
    cache = GenerationCache(path)
    assert len(cache) == 1 and "k2" not in cache
    cache.put_many({"k3": [_comp("c")]})
    reopened = GenerationCache(path)
    assert sorted(reopened._entries) == ["k1", "k3"]


def test_fingerprint_follows_file_content(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "w.bin").write_bytes(b"\x00" * 10)
    first = directory_fingerprint(tmp_path)
    assert directory_fingerprint(tmp_path) == first
    (tmp_path / "sub" / "w.bin").write_bytes(b"\x00" * 9 + b"\x01")
    assert directory_fingerprint(tmp_path) != first
