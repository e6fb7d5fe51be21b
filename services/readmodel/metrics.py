"""Every metric the read-model projector exports, declared once.

Apart from the API's (``services.api.metrics``): the projector is its own
process and sits below the API in the import order (the API reads what it
writes), so it must not import the API's modules.
"""

from __future__ import annotations

from prometheus_client import Counter

# Projector outcomes per record: health / alert / dunning when the read model
# changed; stale (older than stored), duplicate (alert id seen), ignored (no
# case), invalid (undecodable record).
READMODEL_UPDATES = Counter(
    "healthscore_readmodel_updates_total",
    "Records applied to (or skipped by) the Redis read model.",
    ["kind"],
)
# Records the projector has finished with (applied, skipped or invalid), per
# topic: one record can make several updates, so this is what "caught up" is
# measured against.
READMODEL_RECORDS = Counter(
    "healthscore_readmodel_records_total",
    "Records the read-model projector has processed.",
    ["topic"],
)
