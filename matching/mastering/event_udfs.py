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

from e360.dataflow import RowWise, VectorisedUdf
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


def _over_values(name: str, parse: Callable[[Any], Any], returns: pa.DataType) -> VectorisedUdf:
    return VectorisedUdf(name, RowWise(parse, returns), (pa.string(),), returns, offload=True)


TIMESTAMP_UDF = _over_values("e360_event_timestamp", timestamp, pa.timestamp("us"))
QUANTITY_UDF = _over_values("e360_event_quantity", event_quantity, pa.int64())
AMOUNT_UDF = _over_values("e360_event_amount", event_amount, pa.float64())
CURRENCY_UDF = _over_values("e360_event_currency", currency, pa.string())
EVENT_UDFS = (TIMESTAMP_UDF, QUANTITY_UDF, AMOUNT_UDF, CURRENCY_UDF)
