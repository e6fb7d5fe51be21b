"""How the worker persists an account's record: through Faust's table, or
straight into its store with the changelog record handed to the batching sink.

The pipeline only knows the ``StateWriter`` shape; these two know Faust's
table and store, so they live with the Faust shell.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping
from typing import Any

import orjson

from streams.processing.pipeline import StateWriter
from streams.processing.sink import Record


def table_writer(table: MutableMapping[bytes, Any]) -> StateWriter:
    """Faust's own path: ``table[key] = value`` (one changelog send each)."""

    def write(key: bytes, partition: int, record: dict[str, Any]) -> Iterable[Record]:
        table[key] = record
        return ()

    return write


def changelog_writer(store: Any, changelog_topic: str) -> StateWriter:
    """The fast path: set the local store and return the changelog record for
    the batching sink - the same key bytes and JSON value a ``table[key] =``
    would send, on the same partition (murmur2 of the key), so Faust's recovery
    reads it back unchanged.

    Faust's RocksDB store picks the partition database from the *current
    stream event*, which a batch write does not have; we know the partition,
    so the value goes straight into that partition's database."""
    per_partition_db = getattr(store, "_db_for_partition", None)

    def write(key: bytes, partition: int, record: dict[str, Any]) -> Iterable[Record]:
        if per_partition_db is None:
            store[key] = record
        else:
            encoded = store._encode_key(key)
            per_partition_db(partition).put(encoded, store._encode_value(record))
            store._key_index[encoded] = partition
        return ((changelog_topic, key, orjson.dumps(record)),)

    return write
