"""The offsets ledger: where each topic-partition has been landed, kept inside the table.

Every commit of a stream's raw table carries, in its snapshot summary, the next offset to read
for *every* partition landed so far (not only its own), so the current snapshot alone says
where to resume, whatever the number of writers and however many old snapshots have expired.
The quarantine table keeps the same ledger for the messages it holds.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from ingestion.stream.records import TopicPartition

OFFSETS_PROPERTY = "e360.kafka.offsets"
COMMIT_PROPERTY = "e360.kafka.commit"  # a unique id per micro-batch: was an unclear commit made?
LANDED_PROPERTY = "e360.kafka.landed"
QUARANTINED_PROPERTY = "e360.kafka.quarantined"


def offsets_of(table: Table | None) -> dict[TopicPartition, int]:
    """The next offset to read per topic-partition, from the table's current snapshot."""
    if table is None:
        return {}
    snapshot = table.current_snapshot()
    if snapshot is None or snapshot.summary is None:
        return {}
    return decode(snapshot.summary.additional_properties.get(OFFSETS_PROPERTY))


def decode(text: str | None) -> dict[TopicPartition, int]:
    if not text:
        return {}
    document = json.loads(text)
    return {
        (topic, int(partition)): int(offset)
        for topic, partitions in document.items()
        for partition, offset in partitions.items()
    }


def encode(offsets: Mapping[TopicPartition, int]) -> str:
    document: dict[str, dict[str, int]] = {}
    for (topic, partition), offset in sorted(offsets.items()):
        document.setdefault(topic, {})[str(partition)] = offset
    return json.dumps(document, separators=(",", ":"), sort_keys=True)


def has_commit(table: Table | None, commit_id: str, lookback: int = 64) -> bool:
    """Whether one of the table's recent snapshots is the commit `commit_id`.

    A commit whose response was lost (a network error after the catalog applied it) must
    not be made a second time.
    """
    if table is None:
        return False
    for snapshot in table.snapshots()[-lookback:]:
        if snapshot.summary is not None and (
            snapshot.summary.additional_properties.get(COMMIT_PROPERTY) == commit_id
        ):
            return True
    return False
