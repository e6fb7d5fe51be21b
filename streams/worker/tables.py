"""The worker's state: one record per account (scoring + dunning).

Keys are the raw account_id bytes, exactly the input topics' keys, and
``use_partitioner=True`` sends each changelog record through the same murmur2
partitioner: an account's state lands on the changelog partition with the
same number as its input partitions, so recovery gives a worker precisely the
accounts it owns. (It is also what lets the batch agent and the tick timer
write outside per-event stream iteration.)
"""

from __future__ import annotations

from streams.worker.app import app

accounts = app.Table(
    "accounts",
    default=None,
    key_type=bytes,  # -> raw key serializer; values are JSON
    use_partitioner=True,
)
