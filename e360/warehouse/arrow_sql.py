"""Arrow tables on their way into a SQL warehouse: column types per target, and the values a
text (CSV) or Parquet load can carry.

The master zone may grow columns (union by name) and some may be nested; nested values are
loaded as JSON text so a new column never breaks a load.
"""

from __future__ import annotations

import io
import json

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from e360.warehouse.targets import TargetName


def _is_nested(data_type: pa.DataType) -> bool:
    return pa.types.is_nested(data_type) or pa.types.is_dictionary(data_type)


def sql_type(data_type: pa.DataType, target: TargetName) -> str:
    """The warehouse column type for an Arrow type (text for anything without an equivalent)."""
    text = {"redshift": "varchar(65535)", "postgres": "text", "duckdb": "varchar"}[target]
    if pa.types.is_string(data_type) or pa.types.is_large_string(data_type):
        return text
    if pa.types.is_boolean(data_type):
        return "boolean"
    if pa.types.is_int8(data_type) or pa.types.is_int16(data_type):
        return "smallint"
    if (
        pa.types.is_int32(data_type)
        or pa.types.is_uint8(data_type)
        or pa.types.is_uint16(data_type)
    ):
        return "integer"
    if pa.types.is_integer(data_type):
        return "bigint"
    if pa.types.is_floating(data_type):
        return "double precision"
    if pa.types.is_decimal(data_type):
        return f"numeric({data_type.precision}, {data_type.scale})"
    if pa.types.is_date(data_type):
        return "date"
    if pa.types.is_timestamp(data_type):
        return "timestamptz" if data_type.tz else "timestamp"
    return text


def flatten_for_load(table: pa.Table) -> pa.Table:
    """Nested (and other non-scalar) columns as JSON text; everything else unchanged."""
    columns, fields = [], []
    for field, column in zip(table.schema, table.columns, strict=True):
        if _is_nested(field.type) or pa.types.is_binary(field.type) or pa.types.is_null(field.type):
            values = [
                None if value is None else json.dumps(value, default=str, sort_keys=True)
                for value in column.to_pylist()
            ]
            column = pa.chunked_array([pa.array(values, pa.string())])
            field = pa.field(field.name, pa.string())
        elif pa.types.is_time(field.type) or pa.types.is_duration(field.type):
            column = pc.cast(column, pa.string())
            field = pa.field(field.name, pa.string())
        columns.append(column)
        fields.append(field)
    return pa.Table.from_arrays(columns, schema=pa.schema(fields))


def column_definitions(table: pa.Table, target: TargetName) -> list[tuple[str, str]]:
    return [(field.name, sql_type(field.type, target)) for field in table.schema]


def to_csv(table: pa.Table) -> io.BytesIO:
    """CSV for PostgreSQL's `COPY ... (format csv)`: every non-null value quoted, so an empty
    string stays an empty string and only an unquoted empty field is NULL."""
    buffer = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    pacsv.write_csv(table, buffer, write_options=options)
    buffer.seek(0)
    return buffer
