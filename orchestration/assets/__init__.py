"""Every asset of the pipeline, built from the configuration, grouped by domain."""

from __future__ import annotations

import dagster as dg

from e360.config import E360Config
from orchestration.assets.ingestion import raw_assets
from orchestration.assets.matching import events_asset, master_assets
from orchestration.assets.publishing import dbt_enterprise_assets, publish_gate, warehouse_load
from orchestration.assets.standardization import standardized_assets


def pipeline_assets(config: E360Config) -> list[dg.AssetsDefinition]:
    return [
        *raw_assets(config),
        *standardized_assets(config),
        *master_assets(config),
        events_asset(config),
        publish_gate(config),
        warehouse_load(),
        dbt_enterprise_assets(config),
    ]
