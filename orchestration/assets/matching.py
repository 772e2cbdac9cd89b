"""Matching: masters per entity (xref, golden, review queue) and the conformed events.

Checks sit beside the assets they judge and block everything downstream when they fail: a
master id used twice, a record without a master, or id churn beyond the configured limit
must never reach the warehouse.
"""

from contextlib import closing

import dagster as dg
from dagster import AssetExecutionContext

from e360.config import E360Config
from e360.entities import MasteredEntity
from e360.evaluation import evaluate_against_truth
from e360.lake import Lake
from e360.zones import CONFORMED_EVENTS, MasterTable, master_table_name, standardized_table_name
from matching.mastering.events import build_conformed_events
from matching.mastering.zone import match_entity, record_masters
from orchestration.assets.ingestion import raw_key
from orchestration.assets.standardization import standardized_key
from stewardship.store import DecisionStore


def master_key(entity: str, table: MasterTable) -> dg.AssetKey:
    return dg.AssetKey(["master", master_table_name(entity, table)])


EVENTS_KEY = dg.AssetKey(["conformed", CONFORMED_EVENTS])
# The master tables each entity's masters asset materialises, in the order it yields them.
MASTER_ASSET_TABLES: tuple[MasterTable, ...] = ("xref", "golden", "review_queue")


def master_assets(config: E360Config) -> list[dg.AssetsDefinition]:
    return [_master_asset(entity) for entity in config.entities]


def _master_asset(entity: MasteredEntity) -> dg.AssetsDefinition:
    xref, golden, queue = (master_key(entity, t) for t in MASTER_ASSET_TABLES)
    check = dg.AssetCheckSpec

    @dg.multi_asset(
        name=f"{entity}_masters",
        group_name="matching",
        specs=[
            dg.AssetSpec(
                xref,
                description=f"master.{entity}_xref: source record -> master id",
                deps=[standardized_key(entity)],
                kinds={"iceberg", "splink"},
                tags={"entity": entity},
            ),
            dg.AssetSpec(
                golden,
                description=f"master.{entity}_golden: one golden record per "
                "master, with provenance",
                deps=[standardized_key(entity)],
                kinds={"iceberg"},
                tags={"entity": entity},
            ),
            dg.AssetSpec(
                queue,
                description=f"master.{entity}_review_queue: pairs a data steward must decide",
                deps=[standardized_key(entity)],
                kinds={"iceberg"},
                tags={"entity": entity},
            ),
        ],
        check_specs=[
            check(
                "masters_unique",
                asset=golden,
                blocking=True,
                description="Every golden record has its own master id and members",
            ),
            check(
                "every_record_mastered",
                asset=xref,
                blocking=True,
                description="Every standardized record has exactly one master id",
            ),
            check(
                "id_churn",
                asset=xref,
                blocking=True,
                description="Share of carried-over records whose master id changed",
            ),
        ],
        required_resource_keys={"e360", "progress"},
    )
    def _masters(context: AssetExecutionContext):
        e360 = context.resources.e360
        config, lake = e360.config, e360.lake
        with (
            e360.step(context, "match", entity),
            closing(DecisionStore.from_config(config)) as decisions,
        ):
            summary = match_entity(
                config,
                lake,
                entity,
                e360.run_id(context),
                decisions=decisions,
                retrain=e360.retrain,
                full=e360.full,
            )
        e360.record(context, "entities", entity, summary.as_dict())
        evaluation = evaluate_against_truth(config.truth_file(entity), summary.record_masters)
        if evaluation is not None:
            e360.record(context, "evaluation", entity, evaluation)
        common = {"model_version": summary.model_version or "none", "run_id": e360.run_id(context)}
        yield dg.MaterializeResult(
            asset_key=xref,
            metadata={
                **common,
                "records": summary.records,
                "id_churn": summary.id_churn,
                "written": summary.written,
                "snapshot_id": str(summary.snapshots.get(master_table_name(entity, "xref"))),
            },
        )
        yield dg.MaterializeResult(
            asset_key=golden,
            metadata={
                **common,
                "masters": summary.masters,
                "snapshot_id": str(summary.snapshots.get(master_table_name(entity, "golden"))),
            },
        )
        yield dg.MaterializeResult(
            asset_key=queue, metadata={**common, "pairs_to_review": summary.review_queue}
        )
        yield from _master_checks(
            lake, entity, golden, xref, summary.id_churn, config.quality.max_id_churn
        )

    return _masters


def _master_checks(
    lake: Lake, entity: str, golden: dg.AssetKey, xref: dg.AssetKey, churn: float, limit: float
):
    """Judge what was written, read back from the lake."""
    golden_ids = lake.read("master", master_table_name(entity, "golden"), columns=("master_id",))
    xref_rows = lake.read(
        "master", master_table_name(entity, "xref"), columns=("record_id", "master_id")
    )
    records = lake.read("standardized", standardized_table_name(entity), columns=("record_id",))
    # The match step has just written the master tables from the standardized one.
    assert golden_ids is not None and xref_rows is not None and records is not None
    ids = golden_ids.column("master_id").to_pylist()
    members = set(xref_rows.column("master_id").to_pylist())
    duplicated = len(ids) - len(set(ids))
    empty = len(set(ids) - members)
    orphaned = len(members - set(ids))
    yield dg.AssetCheckResult(
        check_name="masters_unique",
        asset_key=golden,
        passed=duplicated == 0 and empty == 0 and orphaned == 0,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "duplicated_ids": duplicated,
            "masters_without_members": empty,
            "xref_ids_without_golden": orphaned,
        },
    )
    mastered = xref_rows.column("record_id").to_pylist()
    expected = records.column("record_id").to_pylist()
    yield dg.AssetCheckResult(
        check_name="every_record_mastered",
        asset_key=xref,
        passed=len(mastered) == len(set(mastered)) and set(mastered) == set(expected),
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "records": len(expected),
            "xref_rows": len(mastered),
            "distinct_xref_records": len(set(mastered)),
        },
    )
    yield dg.AssetCheckResult(
        check_name="id_churn",
        asset_key=xref,
        passed=churn <= limit,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"churn": churn, "limit": limit},
    )


def events_asset(config: E360Config) -> dg.AssetsDefinition:
    masters = [master_key(entity, "xref") for entity in config.entities]

    @dg.asset(
        key=EVENTS_KEY,
        group_name="matching",
        description="conformed.events: source events with conformed types and master ids",
        kinds={"iceberg"},
        deps=[*masters, *(raw_key(name) for name in config.sources_of("event"))],
        check_specs=[
            dg.AssetCheckSpec(
                "event_reject_rate",
                asset=EVENTS_KEY,
                blocking=True,
                description="Share of each event source's events that could not be conformed",
            )
        ],
        required_resource_keys={"e360", "progress"},
    )
    def _events(context: AssetExecutionContext) -> dg.MaterializeResult:
        e360 = context.resources.e360
        with e360.step(context, "match", "events"):
            counts = build_conformed_events(
                e360.config,
                e360.lake,
                record_masters(e360.lake, "customer"),
                record_masters(e360.lake, "product"),
                e360.run_id(context),
            )
        for c in counts:
            e360.record(context, "events", c.source, c.__dict__)
        limit = e360.config.quality.max_event_reject_rate
        over = {c.source: c.rejected / c.records for c in counts if c.rejected > limit * c.records}
        return dg.MaterializeResult(
            check_results=[
                dg.AssetCheckResult(
                    check_name="event_reject_rate",
                    passed=not over,
                    severity=dg.AssetCheckSeverity.ERROR,
                    metadata={
                        "limit": limit,
                        **{f"{s}_rate": round(r, 6) for s, r in over.items()},
                    },
                    description=(
                        "over the limit: "
                        + ", ".join(f"{s} rejected {r:.1%}" for s, r in sorted(over.items()))
                        + " (conformed.event_rejects names each event's reason)"
                        if over
                        else f"every event source rejected at most {limit:.1%}"
                    ),
                )
            ],
            metadata={
                "conformed": sum(c.conformed for c in counts),
                "rejected": sum(c.rejected for c in counts),
                "with_customer_master": sum(c.with_customer_master for c in counts),
                "unresolved_customer": sum(c.unresolved_customer for c in counts),
                "unresolved_product": sum(c.unresolved_product for c in counts),
            },
        )

    return _events
