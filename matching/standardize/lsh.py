"""Blocking keys of a product's free text: banded MinHash over its words, and its model codes.

Each record gets `BANDS` bucket keys; two records share a bucket with probability
1 - (1 - J^ROWS)^BANDS for (weighted) token Jaccard J: with 12 bands of 2 rows, titles
sharing half their weight meet 97% of the time, a quarter 54%, a tenth 11%. Buckets are
exploded by Splink's blocking (`block_on("title_lsh", arrays_to_explode=["title_lsh"])`),
which works on DuckDB and Spark alike. Hash functions are fixed (seeded), not learned, so
a record's keys depend on its own text only.

MinHash keys need most of the words shared; an offer that names its model only in the
description or the URL slug ("... headphones, model K712") shares few title words with the
catalogue's "AKG K712 Pro". Each model code of title and description (a token mixing letters
and digits, `text_features.code_tokens`) is therefore a key of its own ("code:k712"), in the
same exploded column, so the one rule meets both ways.

A bucket holding many records is a stop-bucket, as "the" is a stop-word: titles meet there
because they share their commonest words ("usb cable"), and its K records would add K(K-1)/2
pairs, nearly all non-matches. `drop_stop_buckets` removes the keys of buckets over a cap
(`matching.max_bucket_size`, by default the cap of every blocking key) from every record
before blocking, so each record gets at most BANDS * (cap - 1) candidates from its title and
the rule's pairs grow linearly with the records instead of quadratically.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

BANDS = 12
ROWS = 2
# Array columns of the standardized zone that blocking rules explode rather than compare.
EXPLODED_COLUMNS = frozenset({"title_lsh"})
CODE_PREFIX = "code:"

_PRIME = (1 << 61) - 1
_rng = np.random.default_rng(20240601)
_A = _rng.integers(1, _PRIME, size=BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=BANDS * ROWS, dtype=np.uint64)


def _token_hash(token: str) -> int:
    return int.from_bytes(hashlib.blake2b(token.encode(), digest_size=7).digest(), "big")


def minhash_signature(tokens: Iterable[str]) -> np.ndarray | None:
    """BANDS * ROWS minimum hash values of the token set (None for no tokens)."""
    hashes = np.array(sorted({_token_hash(t) for t in tokens}), dtype=np.uint64)
    if hashes.size == 0:
        return None
    # (a * x + b) mod p on 64-bit lanes: Python ints avoid overflow; the sizes are small
    # (a title has tens of tokens), so object arithmetic costs little.
    x = hashes.astype(object)[:, None]
    values = (_A.astype(object)[None, :] * x + _B.astype(object)[None, :]) % _PRIME
    return values.min(axis=0).astype(np.uint64)


def lsh_buckets(tokens: Iterable[str]) -> list[str] | None:
    """The record's bucket keys, one per band ("3:9f2c..."), None when it has no tokens."""
    signature = minhash_signature(tokens)
    if signature is None:
        return None
    keys = []
    for band in range(BANDS):
        rows = signature[band * ROWS : (band + 1) * ROWS].tobytes()
        keys.append(f"{band}:{hashlib.blake2b(rows, digest_size=6).hexdigest()}")
    return keys


def blocking_keys(words: str | None, codes: str | None) -> list[str] | None:
    """The record's exploded keys: the bands of the (space-joined) words, then one key per
    code ("code:k712"); None when there is neither."""
    keys = lsh_buckets((words or "").split()) or []
    keys.extend(f"{CODE_PREFIX}{code}" for code in dict.fromkeys((codes or "").split()))
    return keys or None


def bucket_probability(jaccard: float) -> float:
    """Probability two token sets of this Jaccard similarity share a bucket."""
    return 1 - (1 - jaccard**ROWS) ** BANDS


def drop_stop_buckets(table: pa.Table, column: str, cap: int) -> pa.Table:
    """`table` with the keys of buckets shared by more than `cap` of its records removed from
    the list column `column` (a record left without keys gets an empty list; null stays null).

    Order-free and deterministic: a key is kept or dropped by its record count alone."""
    index = table.column_names.index(column)
    lists = table.column(column).combine_chunks()
    keys = pc.list_flatten(lists)
    if len(keys) == 0:
        return table
    counts = pc.value_counts(keys)
    sizes = pc.take(counts.field("counts"), pc.index_in(keys, value_set=counts.field("values")))
    keep = pc.fill_null(pc.less_equal(sizes, cap), False)
    if pc.all(keep).as_py():
        return table
    parents = pc.list_parent_indices(lists).to_numpy()
    lengths = np.bincount(parents[keep.to_numpy(zero_copy_only=False)], minlength=len(lists))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(
        np.int64 if pa.types.is_large_list(lists.type) else np.int32
    )
    kept = type(lists).from_arrays(
        pa.array(offsets), keys.filter(keep), type=lists.type, mask=lists.is_null()
    )
    return table.set_column(index, table.field(index), kept)
