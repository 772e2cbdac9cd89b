"""Standardization: one standardized asset per mastered entity, fed by its sources."""

import dagster as dg
from dagster import AssetExecutionContext

from e360.config import E360Config
from e360.dataflow import DuckDBDataflow
from e360.zones import standardized_table_name
from matching.resolution.engine import dataflow_for
from matching.standardize.zone import build_standardized
from orchestration.assets.ingestion import raw_key


def standardized_key(entity: str) -> dg.AssetKey:
    return dg.AssetKey(["standardized", standardized_table_name(entity)])


def standardized_assets(config: E360Config) -> list[dg.AssetsDefinition]:
    return [_standardized_asset(config, entity) for entity in config.entities]


def _standardized_asset(config: E360Config, entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=standardized_key(entity),
        group_name="standardization",
        description=f"standardized.{entity}: one row per source record, canonical attributes",
        kinds={"iceberg"},
        tags={"entity": entity},
        deps=[raw_key(name) for name in config.sources_of(entity)],
        required_resource_keys={"e360", "progress"},
    )
    def _standardized(context: AssetExecutionContext) -> dg.MaterializeResult:
        e360 = context.resources.e360
        # On the configured engine: Spark in production, embedded DuckDB by default.
        flow = dataflow_for(e360.config.deployment.engine, e360.config.root)
        try:
            with e360.step(context, "standardize", entity) as progress:
                advance = progress.task(f"{entity} records", None)
                table = build_standardized(
                    e360.config, e360.lake, entity, on_progress=advance, flow=flow
                )
        finally:
            if isinstance(flow, DuckDBDataflow):
                flow.close()
        e360.record(context, "standardized", entity, table.num_rows)
        return dg.MaterializeResult(metadata={"records": table.num_rows})

    return _standardized
