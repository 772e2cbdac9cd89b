"""Ingestion: one raw asset per source, its quarantine rate checked as it lands."""

from datetime import timedelta

import dagster as dg
from dagster import AssetExecutionContext

from e360.config import E360Config, SourceConfig
from e360.zones import raw_table_name
from ingestion.batch import ingest_source, latest_delivery
from ingestion.stream import ingest_stream

# Landing areas and (in production) S3 and the Glue catalog are across a network.
NETWORK_RETRY = dg.RetryPolicy(max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL)


def raw_key(source: str) -> dg.AssetKey:
    return dg.AssetKey(["raw", source])


def raw_assets(config: E360Config) -> list[dg.AssetsDefinition]:
    # Batch sources land daily: a day and a half without new data warns, three days fail.
    hours = config.quality.freshness_hours
    freshness = dg.FreshnessPolicy.time_window(
        fail_window=timedelta(hours=2 * hours), warn_window=timedelta(hours=hours)
    )
    return [_raw_asset(name, source, freshness) for name, source in config.sources.items()]


def _origin(source: SourceConfig) -> str:
    if source.stream is not None:
        return f"Kafka topics {', '.join(source.stream.topics)}"
    if source.s3 is not None:
        return (
            f"{source.format} files under s3://{source.s3.bucket}/{source.s3.prefix}{source.path}"
        )
    return f"{source.format} files under {source.path}"


def _raw_asset(
    name: str, source: SourceConfig, freshness: dg.FreshnessPolicy
) -> dg.AssetsDefinition:
    key = raw_key(name)

    @dg.asset(
        key=key,
        group_name="ingestion",
        description=f"raw.{name}__{source.entity}: {_origin(source)}, "
        f"as received; bad rows to quarantine.{name}",
        kinds={"iceberg", source.format},
        tags={"entity": source.entity},
        retry_policy=NETWORK_RETRY,
        freshness_policy=freshness,
        check_specs=[
            dg.AssetCheckSpec(
                "quarantine_rate",
                asset=key,
                blocking=True,
                description="Share of this ingest's rows that went to quarantine",
            )
        ],
        required_resource_keys={"e360", "progress"},
    )
    def _raw(context: AssetExecutionContext) -> dg.MaterializeResult:
        e360 = context.resources.e360
        config = e360.config
        with e360.step(context, "ingest", f"raw/{name}") as progress:
            advance = progress.task(f"{name} files", None)
            if source.format == "kafka":
                # A pipeline run lands what the stream holds now; `e360 ingest --stream
                # --follow` is the long-running consumer.
                result = ingest_stream(
                    config, name, lake=e360.lake, batch_id=e360.run_id(context)
                ).as_source_ingest()
            else:
                result = ingest_source(
                    e360.lake,
                    name,
                    source,
                    config.landing_dir,
                    e360.run_id(context),
                    on_file=lambda _file, _rows: advance(1),
                )
        e360.record(context, "ingest", name, result.as_dict())
        rows_in, quarantined = (
            (result.rows_in, result.quarantined)
            if result.rows_in
            else latest_delivery(e360.lake, name, source)
        )
        rate = quarantined / rows_in if rows_in else 0.0
        limit = config.quality.max_quarantine_rate
        return dg.MaterializeResult(
            metadata={
                "files_ingested": result.files_ingested,
                "files_skipped": result.files_skipped,
                "rows_in": result.rows_in,
                "landed": result.landed,
                "quarantined": result.quarantined,
                "snapshot_id": str(
                    e360.lake.current_snapshot_id("raw", raw_table_name(name, source))
                ),
            },
            check_results=[
                dg.AssetCheckResult(
                    check_name="quarantine_rate",
                    passed=rate <= limit,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={"rate": round(rate, 6), "limit": limit, "quarantined": quarantined},
                    description=f"{quarantined} of {rows_in} rows of the latest delivery "
                    "quarantined",
                )
            ],
        )

    return _raw
