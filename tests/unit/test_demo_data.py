from __future__ import annotations

import csv
import json
import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo import CRM_COLUMNS, DemoSummary, generate_demo_data
from e360.cli import main
from e360.evaluation import cluster_scores, load_truth, pairwise_scores

CUSTOMERS = 200

FILES = {
    "crm/crm_customers_1.csv",
    "ecommerce/ecommerce_accounts_1.jsonl",
    "loyalty/loyalty_members_1.parquet",
    "erp/erp_items_1.csv",
    "marketplace/marketplace_listings_1.jsonl",
    "webshop/orders_1.jsonl",
    "pos/pos_transactions_1.csv",
    "clickstream/clicks_1.jsonl",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    out = tmp_path_factory.mktemp("demo")
    return out, generate_demo_data(out, customers=CUSTOMERS, seed=42)


@pytest.fixture(scope="module")
def big_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoSummary]:
    # Large enough that the rarer variations (a few percent of records) reliably occur.
    out = tmp_path_factory.mktemp("demo_big")
    return out, generate_demo_data(out, customers=2000, seed=3)


def _csv_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))[1:]


def _jsonl(path: Path) -> list[dict | None]:
    """Parsed objects, None for lines that are not valid JSON."""
    out: list[dict | None] = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            out.append(None)
    return out


def _truth_keys(out: Path, kind: str) -> dict[str, set[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for rid in load_truth(out / "truth" / f"{kind}.csv"):
        source, key = rid.split(":", 1)
        keys[source].add(key)
    return keys


def _tree_bytes(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def test_writes_every_file_and_summary(demo: tuple[Path, DemoSummary]) -> None:
    out, summary = demo
    assert set(summary.files) == FILES
    for rel in FILES:
        assert (out / "landing" / rel).is_file()
    assert summary.customers == CUSTOMERS
    assert summary.products == 50  # max(50, customers // 10)
    assert (out / "truth" / "customers.csv").is_file()
    assert (out / "truth" / "products.csv").is_file()


def test_same_seed_same_bytes_other_seed_differs(
    demo: tuple[Path, DemoSummary], tmp_path: Path
) -> None:
    out, summary = demo
    again = generate_demo_data(tmp_path / "again", customers=CUSTOMERS, seed=42)
    assert again == summary
    assert _tree_bytes(tmp_path / "again") == _tree_bytes(out)

    other = tmp_path / "other"
    generate_demo_data(other, customers=CUSTOMERS, seed=43)
    first, second = _tree_bytes(out), _tree_bytes(other)
    assert first.keys() == second.keys()
    assert all(first[name] != second[name] for name in first)


def test_counts_match_files(demo: tuple[Path, DemoSummary]) -> None:
    out, summary = demo
    landing = out / "landing"
    for rel, count in summary.files.items():
        path = landing / rel
        if rel.endswith(".csv"):
            actual = len(_csv_rows(path))
        elif rel.endswith(".jsonl"):
            actual = len(path.read_text(encoding="utf-8").splitlines())
        else:
            actual = pq.read_metadata(path).num_rows
        assert actual == count, rel


def test_event_volumes_scale_with_customers(demo: tuple[Path, DemoSummary]) -> None:
    _, summary = demo
    events = sum(
        summary.files[f] for f in FILES if f.split("/")[0] in {"webshop", "pos", "clickstream"}
    )
    assert 4 * CUSTOMERS <= events <= 6 * CUSTOMERS


def test_crm_malformed_rows_and_truth(demo: tuple[Path, DemoSummary]) -> None:
    out, _ = demo
    rows = _csv_rows(out / "landing" / "crm" / "crm_customers_1.csv")
    wrong_width = [r for r in rows if len(r) != len(CRM_COLUMNS)]
    assert len(wrong_width) == 2
    assert {len(r) > len(CRM_COLUMNS) for r in wrong_width} == {True, False}
    well_formed = [r for r in rows if len(r) == len(CRM_COLUMNS)]
    assert sum(1 for r in well_formed if r[0] == "") == 1
    keys = [r[0] for r in well_formed if r[0]]
    assert len(keys) == len(set(keys))
    assert set(keys) == _truth_keys(out, "customers")["crm"]
    assert all(re.fullmatch(r"C\d{6}", k) for k in keys)
    assert all(re.fullmatch(r"(\d{2}/\d{2}/\d{4})?", r[5]) for r in well_formed)
    assert {r[6] for r in well_formed} <= {"M", "F", ""}


def test_ecommerce_malformed_lines_and_truth(demo: tuple[Path, DemoSummary]) -> None:
    out, _ = demo
    objects = _jsonl(out / "landing" / "ecommerce" / "ecommerce_accounts_1.jsonl")
    assert sum(o is None for o in objects) == 2
    parsed = [o for o in objects if o is not None]
    assert sum("account_id" not in o for o in parsed) == 1
    keys = [o["account_id"] for o in parsed if "account_id" in o]
    assert len(keys) == len(set(keys))
    assert set(keys) == _truth_keys(out, "customers")["ecommerce"]
    assert all(re.fullmatch(r"A-[0-9a-f]{6,}", k) for k in keys)
    expected = {
        "account_id",
        "full_name",
        "email",
        "mobile",
        "dob",
        "address_line1",
        "city",
        "postal_code",
        "country_code",
        "created_at",
        "updated_at",
    }
    for o in parsed:
        assert set(o) - {"address_line2"} == expected - ({"account_id"} - set(o))
        assert o["dob"] is None or re.fullmatch(r"\d{4}-\d{2}-\d{2}", o["dob"])
        assert o["country_code"] in {"GB", "gb", "IE", "ie", "US", "us"}


def test_loyalty_parquet_types_and_truth(demo: tuple[Path, DemoSummary]) -> None:
    out, _ = demo
    table = pq.read_table(out / "landing" / "loyalty" / "loyalty_members_1.parquet")
    schema = table.schema
    assert schema.field("member_no").type == pa.int64()
    assert schema.field("date_of_birth").type == pa.date32()
    assert pa.types.is_timestamp(schema.field("joined_on").type)
    for name in (
        "given_name",
        "family_name",
        "sex",
        "email",
        "phone",
        "postcode",
        "town",
        "country",
    ):
        assert schema.field(name).type == pa.string(), name
    members = table.column("member_no").to_pylist()
    assert len(members) == len(set(members))
    assert {str(m) for m in members} == _truth_keys(out, "customers")["loyalty"]
    assert set(table.column("sex").to_pylist()) <= {"male", "female", None}
    assert set(table.column("country").to_pylist()) <= {"GBR", "IRL", "USA"}


def test_product_sources_and_truth(demo: tuple[Path, DemoSummary]) -> None:
    out, summary = demo
    truth = _truth_keys(out, "products")
    erp = _csv_rows(out / "landing" / "erp" / "erp_items_1.csv")
    assert {r[0] for r in erp} == truth["erp"]
    assert all(re.fullmatch(r"SKU-\d{6}", r[0]) for r in erp)
    assert all(re.fullmatch(r"\d+\.\d{2}", r[7]) for r in erp)
    listings = _jsonl(out / "landing" / "marketplace" / "marketplace_listings_1.jsonl")
    assert all(o is not None for o in listings)
    assert {o["listing_id"] for o in listings if o} == truth["marketplace"]
    assert all(isinstance(o["price"], float) for o in listings if o)
    entities = set(load_truth(out / "truth" / "products.csv").values())
    assert len(entities) == summary.products


def _gtin_ok(code: str) -> bool:
    digits = re.sub(r"[ -]", "", code).zfill(13)
    body, check = digits[:12], int(digits[12])
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return (10 - total % 10) % 10 == check


def test_gtins_valid_in_erp_and_sometimes_broken_in_marketplace(
    big_demo: tuple[Path, DemoSummary],
) -> None:
    out, _ = big_demo
    eans = [r[5] for r in _csv_rows(out / "landing" / "erp" / "erp_items_1.csv") if r[5]]
    assert all(_gtin_ok(e) for e in eans)
    assert any(len(e) == 12 for e in eans)  # UPC-A spelling
    assert any(" " in e or "-" in e for e in eans)
    listings = [
        o for o in _jsonl(out / "landing" / "marketplace" / "marketplace_listings_1.jsonl") if o
    ]
    gtins = [o.get("gtin") for o in listings]
    assert any(g is None for g in gtins)
    assert any(g and not _gtin_ok(g) for g in gtins)
    assert sum(1 for g in gtins if g and _gtin_ok(g)) > len(gtins) / 2


def test_events_reference_real_source_keys(demo: tuple[Path, DemoSummary]) -> None:
    out, _ = demo
    landing = out / "landing"
    customers, products = _truth_keys(out, "customers"), _truth_keys(out, "products")
    orders = _jsonl(landing / "webshop" / "orders_1.jsonl")
    clicks = _jsonl(landing / "clickstream" / "clicks_1.jsonl")
    for event in [*orders, *clicks]:
        assert event is not None
        assert event["account_id"] in customers["ecommerce"]
        assert event["listing_id"] in products["marketplace"]
    assert {o["status"] for o in orders if o} <= {"PLACED", "CANCELLED"}
    assert {c["event"] for c in clicks if c} <= {"VIEW", "ADD_TO_CART"}
    for row in _csv_rows(landing / "pos" / "pos_transactions_1.csv"):
        assert row[1] in customers["loyalty"]
        assert row[2] in products["erp"]


def test_truth_has_cross_source_and_within_source_duplicates(
    demo: tuple[Path, DemoSummary],
) -> None:
    out, _ = demo
    truth = load_truth(out / "truth" / "customers.csv")
    by_entity: dict[str, list[str]] = defaultdict(list)
    for rid, entity in truth.items():
        by_entity[entity].append(rid.split(":", 1)[0])
    n_sources = Counter(len(set(sources)) for sources in by_entity.values())
    assert set(n_sources) == {1, 2, 3}
    # Roughly 45% / 35% / 20% of people are in one / two / three systems.
    assert 0.30 < n_sources[1] / CUSTOMERS < 0.60
    assert 0.08 < n_sources[3] / CUSTOMERS < 0.35
    assert any(len(sources) != len(set(sources)) for sources in by_entity.values())
    products = load_truth(out / "truth" / "products.csv")
    product_sources: dict[str, set[str]] = defaultdict(set)
    for rid, entity in products.items():
        product_sources[entity].add(rid.split(":", 1)[0])
    assert any(s == {"erp", "marketplace"} for s in product_sources.values())


def test_truth_scores_perfectly_against_itself(demo: tuple[Path, DemoSummary]) -> None:
    out, _ = demo
    truth = load_truth(out / "truth" / "customers.csv")
    assert pairwise_scores(truth, truth).f1 == 1.0
    assert cluster_scores(truth, truth).f1 == 1.0
    singletons = {rid: rid for rid in truth}
    assert pairwise_scores(singletons, truth).recall == 0.0


def test_copies_vary_but_mostly_agree(big_demo: tuple[Path, DemoSummary]) -> None:
    """Matching must be possible (copies mostly agree) but not trivial (they sometimes differ)."""
    out, _ = big_demo
    truth = load_truth(out / "truth" / "customers.csv")
    crm = {
        r[0]: r
        for r in _csv_rows(out / "landing" / "crm" / "crm_customers_1.csv")
        if len(r) == len(CRM_COLUMNS) and r[0]
    }
    loyalty = pq.read_table(out / "landing" / "loyalty" / "loyalty_members_1.parquet")
    loyalty_rows = {str(r["member_no"]): r for r in loyalty.to_pylist()}
    crm_by_entity = {truth[f"crm:{k}"]: r for k, r in crm.items()}
    pairs = [
        (crm_by_entity[truth[f"loyalty:{k}"]], r)
        for k, r in loyalty_rows.items()
        if truth[f"loyalty:{k}"] in crm_by_entity
    ]
    assert len(pairs) > 200
    same_first = sum(c[2] == lo["given_name"] for c, lo in pairs) / len(pairs)
    same_last = sum(c[4] == lo["family_name"] for c, lo in pairs) / len(pairs)
    assert 0.6 < same_first < 0.97
    assert 0.6 < same_last < 0.99
    # Households: different people who share a surname and a postcode.
    homes: dict[tuple[str, str], set[str]] = defaultdict(set)
    for k, r in loyalty_rows.items():
        homes[(r["family_name"], r["postcode"])].add(truth[f"loyalty:{k}"])
    assert any(len(entities) > 1 for entities in homes.values())


def test_nicknames_and_format_variation_present(big_demo: tuple[Path, DemoSummary]) -> None:
    out, _ = big_demo
    rows = [
        r
        for r in _csv_rows(out / "landing" / "crm" / "crm_customers_1.csv")
        if len(r) == len(CRM_COLUMNS)
    ]
    firsts = {r[2] for r in rows}
    assert firsts & {"Bill", "Bob", "Liz", "Kate", "Mike", "Tom", "Chris", "Dave", "Sue", "Jim"}
    assert any(re.fullmatch(r"0\d{3,4} \d{3,4} ?\d{3,4}", r[8]) for r in rows)
    assert any(r[11] and " " not in r[11] for r in rows)  # postcode without its space
    assert any(r[7] and r[7] != r[7].lower() for r in rows)  # capitalised email
    assert any(not r[7] for r in rows) and any(not r[5] for r in rows)
    accounts = [
        o for o in _jsonl(out / "landing" / "ecommerce" / "ecommerce_accounts_1.jsonl") if o
    ]
    assert any("," in o["full_name"] for o in accounts)  # "LAST, First"
    assert any(o["email"] and "+" in o["email"].split("@")[0] for o in accounts)


def test_rejects_non_positive_customer_count(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        generate_demo_data(tmp_path, customers=0)


def test_without_faker_the_demo_command_says_which_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A None entry makes importing the module fail as if Faker were not installed.
    monkeypatch.setitem(sys.modules, "faker.providers.person.en_GB", None)
    assert main(["demo", "--customers", "50", "--dir", str(tmp_path / "demo")]) == 1
    assert capsys.readouterr().err.strip() == (
        "error: the demo generator needs the demo extra: pip install 'e360[demo]'"
    )
    assert not (tmp_path / "demo" / "landing").exists()  # nothing written
