from __future__ import annotations

import numpy as np
from datasketch import MinHash
from hypothesis import example, given, settings
from hypothesis import strategies as st

from datacheck.dedup.minhash import (
    SEPARATOR,
    Shingler,
    Signer,
    band_keys,
    normalize_text,
    shingle_hash32,
    text_word_hashes,
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


def _hashed_words(texts: list[str], mask: bool) -> tuple[list[int], list[int]]:
    """What normalize_text makes of each text, hashed word by word (NUL doubled, as it is for
    hashing: a word of one NUL marks a document's end)."""
    joined = "".join(
        " ".join(normalize_text(t, mask_numbers=mask)).replace(SEPARATOR, SEPARATOR * 2)
        + f" {SEPARATOR} "
        for t in texts
    )
    hashes, lengths = word_hashes(joined)
    return hashes.tolist(), lengths.tolist()


def test_compiled_normalisation_hashes_normalize_text_words() -> None:
    for mask in (False, True):
        hashes, lengths = text_word_hashes(TRICKY, mask_numbers=mask)
        assert (hashes.tolist(), lengths.tolist()) == _hashed_words(TRICKY, mask)
        assert lengths.tolist() == [len(normalize_text(t, mask_numbers=mask)) for t in TRICKY]


# The characters where the compiled ASCII rules and normalize_text could part: annotation
# brackets, digits, punctuation, case, ASCII controls, Unicode spaces, a NUL, non-ASCII letters.
PIECES = [
    *"abcXYZ 019<>.,_!\t\n\x01\x1f\x7f",
    *["<<", ">>", "<<1+2=3>>", "12", "Caf\u00e9", "\u00bd", "\x00", "\u2028", "\u216b"],
    *["\u0661\u0662", "\x85", "\u3000", "\xa0", "\u200b", "\u2019", "\uff21", "\u00df", "y" * 70],
]


@settings(max_examples=300, deadline=None)
@example(["<<a<b>>", "<<<b>>", "<<x> y>>", "a<<b>>c", "<<c>>>", "1<<2>>3"])
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=14).map("".join), max_size=6))
def test_compiled_normalisation_equals_normalize_text_on_any_mix(texts: list[str]) -> None:
    for mask in (False, True):
        hashes, lengths = text_word_hashes(texts, mask_numbers=mask)
        assert (hashes.tolist(), lengths.tolist()) == _hashed_words(texts, mask)


def test_a_text_holding_a_lone_nul_word_does_not_shift_later_documents() -> None:
    # normalize_text keeps NUL in ASCII text; as a word of its own it once read as a document's
    # end, so the batch had one document too many and `datacheck dedup` failed.
    batch = Shingler(3).shingle_texts(["a \x00 b", "\x00", "one two three four"])
    assert len(batch.offsets) == 4
    assert batch.of(2).size == 2 and batch.of(1).size == 1


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
