"""e360.yaml files for service tests: the demo configuration plus the sources a test adds."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import yaml

from e360.config import E360Config

REPO = Path(__file__).resolve().parents[2]
DEMO = REPO / "examples" / "demo" / "e360.yaml"
CONTRACTS = REPO / "examples" / "stream" / "contracts"

ORDER_EVENT = {
    "type_column": "status",
    "type_map": {"PLACED": "purchase", "CANCELLED": "order_cancelled"},
    "channel": "web",
    "customer_source": "ecommerce",
}


def stream_source(bootstrap: str, topic: str, **stream: Any) -> dict[str, Any]:
    """A web-orders stream source on a test broker (JSON values, the example contract)."""
    return {
        "entity": "event",
        "format": "kafka",
        "key": "order_id",
        "contract": str(CONTRACTS / "web_orders.schema.json"),
        "stream": {
            "topics": [topic],
            "bootstrap_servers": bootstrap,
            # A group per source definition, as separate deployments would have: tansu does
            # not always expire members killed with -9, and a later test joining the same
            # group could then wait for them for good.
            "group_id": f"e360.orders.{uuid.uuid4().hex[:8]}",
            "batch_size": 200,
            "max_latency_seconds": 0.5,
            "client": {"session.timeout.ms": 6000, "max.poll.interval.ms": 10000},
            **stream,
        },
        "mapping": {"occurred_at": "ordered_at", "customer_ref": "account_id"},
        "event": ORDER_EVENT,
    }


def write_config(
    folder: Path, sources: dict[str, Any], deployment: dict[str, Any] | None = None
) -> Path:
    document = yaml.safe_load(DEMO.read_text())
    document["project"]["root"] = str(folder)
    document["sources"].update(sources)
    if deployment:
        document["deployment"].update(deployment)
    path = folder / "e360.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


# The smallest matching section that validates: one exact e-mail comparison.
EMAIL_MATCHING = {
    "blocking_rules": [["email"]],
    "comparisons": [{"type": "exact", "column": "email"}],
    "training": {"deterministic_rules": [["email"]], "em_blocking_rules": [["email"]]},
}


def crm_only_config(mapping: dict[str, str]) -> E360Config:
    """A configuration of one CSV customer source `crm` (`crm/*.csv`, key `id`) mapped as
    given, both entities matching on e-mail alone: for tests of the zones, not of matching."""
    crm = {"entity": "customer", "format": "csv", "path": "crm/*.csv", "key": "id"}
    return E360Config.model_validate(
        {
            "sources": {"crm": {**crm, "mapping": mapping}},
            "entities": {
                "customer": {"matching": EMAIL_MATCHING},
                "product": {"matching": EMAIL_MATCHING},
            },
        }
    )
