from __future__ import annotations

import numpy as np
from datasketch import MinHash

from datacheck.minhash import (
    SEPARATOR,
    Shingler,
    Signer,
    band_keys,
    normalize_text,
    normalized_words,
    shingle_hash32,
    word_hashes,
)

DOCS = [
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May.",
    "Weng earns $12 an hour for babysitting. Yesterday, she just did 50 minutes of babysitting.",
    "Two words",
    "",
]


def test_normalisation_folds_case_punctuation_annotations_keeps_digits() -> None:
    assert normalize_text("Sold 48/2 = <<48/2=24>>24 Clips!") == ["sold", "48", "2", "24", "clips"]
    assert normalize_text("\uff21\uff22\uff23 12") == ["abc", "12"]  # NFKC folds full-width forms
    assert normalize_text("Tom has 12 apples, 3 pears", mask_numbers=True) == [
        "tom",
        "has",
        "0",
        "apples",
        "0",
        "pears",
    ]


def test_signatures_equal_datasketch_for_the_same_shingle_hashes() -> None:
    batch = Shingler(3).shingle([normalize_text(d) for d in DOCS])
    ours = Signer(128, seed=1).sign(batch)
    for i in range(len(DOCS)):
        reference = MinHash(num_perm=128, seed=1, hashfunc=lambda b: int.from_bytes(b, "little"))
        for value in shingle_hash32(batch.of(i)).tolist():
            reference.update(int(value).to_bytes(4, "little"))
        assert np.array_equal(ours[i], reference.hashvalues), DOCS[i]


def test_shingles_are_sets_and_short_docs_get_one() -> None:
    batch = Shingler(3).shingle([["a", "b", "c", "a", "b", "c"], ["x", "y"], []])
    assert batch.of(0).size == 3  # abc, bca, cab: the repeated "abc" counted once
    assert batch.of(1).size == 1
    assert batch.of(2).size == 0


def test_band_keys_collide_exactly_when_bands_are_equal() -> None:
    sig = np.arange(24, dtype=np.uint32).reshape(2, 12)
    sig[1, :6] = sig[0, :6]  # first band equal, second different
    keys = band_keys(sig, bands=2, rows=6)
    assert keys[0, 0] == keys[1, 0] and keys[0, 1] != keys[1, 1]


TRICKY = [
    *DOCS,
    "Sold 48/2 = <<48/2=24>>24 Clips!",
    "an annotation opened << here",
    "and closed here >> in the next document",
    "a NUL\x00inside",
    "Caf\u00e9 costs \u00bd of $12",
    "!!! ...",
    "Tom has 12 apples, 3 pears",
]


def test_batched_normalisation_equals_normalize_text_per_document() -> None:
    for mask in (False, True):
        expected: list[str] = []
        for text in TRICKY:
            expected += [*normalize_text(text, mask_numbers=mask), SEPARATOR]
        assert normalized_words(TRICKY, mask_numbers=mask) == expected


def test_shingles_of_texts_equal_shingles_of_words_and_a_bag_signs_like_its_set() -> None:
    words = Shingler(3).shingle([normalize_text(d) for d in TRICKY])
    texts = Shingler(3).shingle_texts(TRICKY)
    assert np.array_equal(words.hashes, texts.hashes)
    assert np.array_equal(words.offsets, texts.offsets)
    bag = Shingler(3).shingle_texts(["a b c a b c a b c", *TRICKY], distinct=False)
    assert bag.of(0).size == 7  # repeats kept
    signer = Signer(128, seed=1)
    assert np.array_equal(signer.sign(bag)[1:], signer.sign(words))


def test_word_hashes_depend_on_the_word_alone() -> None:
    hashes, lengths = word_hashes(
        f"ab cd\tab {SEPARATOR} \u00e9t\u00e9 cd {SEPARATOR} {SEPARATOR} "
    )
    assert lengths.tolist() == [3, 2, 0]
    ab, cd, ab_again, ete, cd_again = hashes.tolist()
    assert ab == ab_again and cd == cd_again  # position and separator do not matter
    assert len({ab, cd, ete}) == 3
    other, _ = word_hashes(f"ba a b abab {SEPARATOR} ")
    assert ab not in other.tolist()  # not a bag of bytes: order and length count
