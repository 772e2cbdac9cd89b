"""Vectorised UDFs of event conformance: the parsing SQL leaves to the standardisers' Python.

Each is called on the distinct values SQL could not parse itself (`event_sql` sends plain
decimals and plain ISO timestamps through SQL casts), so Python runs once per distinct odd
value, not once per event. They live in a package module: Spark's workers import them.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import pyarrow as pa

from e360.dataflow import VectorisedUdf
from matching.standardize import currency, price, timestamp

_INT64 = (-(2**63), 2**63 - 1)


def event_quantity(value: Any) -> int | None:
    """A quantity as Python reads a number: `int(float(value))`; null when it is none."""
    try:
        quantity = int(float(value)) if value not in (None, "") else None
    except (TypeError, ValueError, OverflowError):  # "1e400", "inf": not a quantity
        return None
    if quantity is not None and not _INT64[0] <= quantity <= _INT64[1]:
        return None  # "1e20": no count of anything
    return quantity


def event_amount(value: Any) -> float | None:
    """Signed: refunds and cancellations carry negative amounts."""
    try:
        amount = float(value)
    except (TypeError, ValueError):
        return price(value)  # "£12.99" and other formatted prices
    return amount if math.isfinite(amount) else None


def _over_values(
    parse: Callable[[Any], Any], returns: pa.DataType
) -> Callable[[pa.Array], pa.Array]:
    def parse_all(values: pa.Array) -> pa.Array:
        return pa.array([parse(v) for v in values.to_pylist()], returns)

    return parse_all


TIMESTAMP_UDF = VectorisedUdf(
    "e360_event_timestamp",
    _over_values(timestamp, pa.timestamp("us")),
    (pa.string(),),
    pa.timestamp("us"),
)
QUANTITY_UDF = VectorisedUdf(
    "e360_event_quantity", _over_values(event_quantity, pa.int64()), (pa.string(),), pa.int64()
)
AMOUNT_UDF = VectorisedUdf(
    "e360_event_amount", _over_values(event_amount, pa.float64()), (pa.string(),), pa.float64()
)
CURRENCY_UDF = VectorisedUdf(
    "e360_event_currency", _over_values(currency, pa.string()), (pa.string(),), pa.string()
)
EVENT_UDFS = (TIMESTAMP_UDF, QUANTITY_UDF, AMOUNT_UDF, CURRENCY_UDF)
