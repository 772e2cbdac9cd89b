"""Write the example inputs of `e360 resolve` from the demo generator, with renamed columns.

    uv run python examples/resolve/generate.py [OUT_DIR] [--customers N] [--seed S]

Customers: `crm.csv` (the CRM export), `shop.parquet` (the e-commerce accounts) and
`loyalty.csv` (the loyalty members), every column renamed; products: `erp.csv` and
`marketplace.parquet`. The ground truth goes to `truth_customers.csv` and
`truth_products.csv` (source, source_key, entity_id) with the example's source names.
The committed example was made with the defaults (150 customers, seed 5).
"""

from __future__ import annotations

import argparse
import csv
import json
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from demo import generate_demo_data

CRM_COLUMNS = {
    "customer_id": "id", "first_name": "fname", "middle_name": "middle", "last_name": "surname",
    "birth_date": "dob", "gender": "sex", "email": "mail", "phone": "tel", "street": "street",
    "city": "town", "zip": "post_code", "country": "country",
}  # fmt: skip
SHOP_COLUMNS = {
    "account_id": "account", "full_name": "name", "email": "email_address", "mobile": "mobile",
    "dob": "birthday", "address_line1": "addr1", "address_line2": "addr2", "city": "town",
    "postal_code": "zip", "country_code": "cc",
}  # fmt: skip
LOYALTY_COLUMNS = {
    "member_no": "member", "given_name": "given", "family_name": "family",
    "date_of_birth": "born", "sex": "gender", "email": "email", "phone": "phone",
    "postcode": "pc", "town": "town", "country": "country", "joined_on": "joined",
}  # fmt: skip
ERP_COLUMNS = {
    "item_no": "item", "description": "item_text", "brand": "make", "mpn": "mpn", "ean": "ean",
    "category": "group", "list_price": "price",
}  # fmt: skip
MARKETPLACE_COLUMNS = {
    "listing_id": "listing", "title": "headline", "brand": "brand", "gtin": "barcode",
    "price": "price", "category": "category",
}  # fmt: skip
SOURCES = {  # demo source -> example source
    "crm": "crm", "ecommerce": "shop", "loyalty": "loyalty",
    "erp": "erp", "marketplace": "marketplace",
}  # fmt: skip


def _renamed_csv(src: Path, dst: Path, columns: dict[str, str]) -> None:
    """Rename the header only (columns not in `columns` keep their name): the data rows stay
    byte for byte, malformed ones included."""
    lines = src.read_text(encoding="utf-8").splitlines(keepends=True)
    header = next(csv.reader([lines[0]]))
    lines[0] = ",".join(columns.get(name, name) for name in header) + "\n"
    dst.write_text("".join(lines), encoding="utf-8")


def _jsonl_to_parquet(src: Path, dst: Path, columns: dict[str, str]) -> None:
    """Parquet cannot hold a malformed line: those lines are left out of the example."""
    rows = []
    for line in src.read_text(encoding="utf-8").splitlines():
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(obj, dict):
            rows.append({new: _text(obj.get(old)) for old, new in columns.items()})
    schema = pa.schema([(name, pa.string()) for name in columns.values()])
    pq.write_table(pa.Table.from_pylist(rows, schema=schema), dst)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _parquet_to_csv(src: Path, dst: Path, columns: dict[str, str]) -> None:
    table = pq.read_table(src).select(list(columns)).rename_columns(list(columns.values()))
    pacsv.write_csv(table, dst)


def _truth(src: Path, dst: Path) -> None:
    with src.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with dst.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["source", "source_key", "entity_id"])
        for row in rows:
            writer.writerow([SOURCES[row["source"]], row["source_key"], row["entity_id"]])


def write_example(out_dir: Path, customers: int = 150, seed: int = 5) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        demo = Path(tmp)
        generate_demo_data(demo, customers=customers, seed=seed)
        landing = demo / "landing"
        _renamed_csv(next((landing / "crm").glob("*.csv")), out_dir / "crm.csv", CRM_COLUMNS)
        _jsonl_to_parquet(
            next((landing / "ecommerce").glob("*.jsonl")), out_dir / "shop.parquet", SHOP_COLUMNS
        )
        _parquet_to_csv(
            next((landing / "loyalty").glob("*.parquet")), out_dir / "loyalty.csv", LOYALTY_COLUMNS
        )
        erp = next((landing / "erp").glob("*.csv"))
        _csv_subset(erp, out_dir / "erp.csv", ERP_COLUMNS)
        _jsonl_to_parquet(
            next((landing / "marketplace").glob("*.jsonl")),
            out_dir / "marketplace.parquet",
            MARKETPLACE_COLUMNS,
        )
        _truth(demo / "truth" / "customers.csv", out_dir / "truth_customers.csv")
        _truth(demo / "truth" / "products.csv", out_dir / "truth_products.csv")


def _csv_subset(src: Path, dst: Path, columns: dict[str, str]) -> None:
    """A subset of a CSV's columns, renamed (the ERP file has no malformed rows)."""
    with src.open(newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    with dst.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(columns.values())
        for row in rows:
            writer.writerow([row[old] for old in columns])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", nargs="?", type=Path, default=Path(__file__).parent)
    parser.add_argument("--customers", type=int, default=150)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    write_example(args.out_dir, args.customers, args.seed)
