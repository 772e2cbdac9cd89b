"""One entity's resolution run: model (found or trained), scored pairs, clusters."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

from e360.config import E360Config
from e360.errors import MatchError
from matching.engine import register, splink_backend
from matching.model import (
    ModelVersion,
    find_model,
    linker_from_model,
    matching_fingerprint,
    save_model,
    train,
)

PAIR_COLUMNS = (
    "record_id_l",
    "record_id_r",
    "source_l",
    "source_r",
    "match_weight",
    "match_probability",
)


@dataclass
class Resolution:
    entity: str
    model: ModelVersion
    trained: bool
    pairs: pa.Table  # PAIR_COLUMNS, pairs scoring at least pairs_min_probability
    clusters: pa.Table  # record_id, cluster_id


def resolve(
    config: E360Config, entity: str, records: pa.Table, *, retrain: bool = False
) -> Resolution:
    """Score and cluster `records` (the standardized table of one entity)."""
    matching = config.entities[entity].matching  # type: ignore[index]
    if records.num_rows < 2:
        raise MatchError(f"{entity}: {records.num_rows} standardized record(s), nothing to match")
    backend = splink_backend(config.deployment.engine)
    input_table = register(backend, records, f"{entity}_records")
    fingerprint = matching_fingerprint(matching)
    model = None if retrain else find_model(config.models_dir, entity, fingerprint)
    try:
        if model is None:
            linker = train(input_table, matching)
            model = save_model(
                linker, config.models_dir, entity, fingerprint, {"records": records.num_rows}
            )
            trained = True
        else:
            linker = linker_from_model(input_table, model)
            trained = False
        predictions = linker.inference.predict(
            threshold_match_probability=matching.pairs_min_probability
        )
        clusters = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=matching.threshold
        )
        pairs = predictions.as_pyarrow_table().select(list(PAIR_COLUMNS))
        cluster_table = clusters.as_pyarrow_table().select(["record_id", "cluster_id"])
    except MatchError:
        raise
    except Exception as exc:  # Splink raises plain exceptions; name the entity and stage.
        raise MatchError(f"{entity}: Splink failed: {type(exc).__name__}: {exc}") from exc
    return Resolution(entity, model, trained, pairs, cluster_table)
