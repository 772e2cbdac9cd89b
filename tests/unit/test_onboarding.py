"""`e360 init`'s profiler and proposer on small landing folders written here: encodings and
delimiters, what column contents say, keys, references, entities, events, the written file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from demo import generate_demo_data
from e360.cli import main
from e360.config import load_config
from e360.entities import record_id
from e360.mappings import columns_of, value_of
from matching.mastering.events import conform_events, masters_table
from onboarding import OnboardingError, init_config
from onboarding.kinds import day_first, is_gtin, is_phone, is_postcode
from onboarding.profile import (
    detect_delimiter,
    detect_encoding,
    families,
    profile_column,
    profile_family,
    profile_landing,
)
from onboarding.propose import event_type_of, key_prefixes, propose

CUSTOMERS = [
    # id, forename, surname, contact, born, town, postcode
    ("K-1001", "José", "García", "jose.garcia@example.com", "23/12/1953", "Málaga", "SW1A 1AA"),
    ("K-1002", "Zoë", "Brontë", "zoe@example.org", "02/11/1944", "Leeds", "LS12 4WL"),
    ("K-1003", "Ana", "Muñoz", "ana.munoz@example.net", "17/01/1990", "Bristol", "BS1 4DJ"),
    ("K-1004", "Jose", "Garcia", "jgarcia@example.com", "23/12/1953", "Malaga", "SW1A 1AA"),
    ("K-1005", "Léa", "Dubois", "lea.dubois@example.fr", "30/06/1985", "London", "E2 4QS"),
    ("K-1006", "Noël", "Faure", "noel@example.com", "05/05/1975", "York", "YO1 7HH"),
]
PRODUCTS = [
    {"article": f"ART-{i:04d}", "name": f"Vantor X{i}00 Toaster", "ean": ean, "price": 19.5 + i}
    for i, ean in enumerate(["5067389372215", "5075177972103", "4045040883943"], start=1)
]


def _write_customers(path: Path, encoding: str = "latin-1", delimiter: str = ";") -> None:
    header = ["cust_no", "forename", "surname", "contact", "born", "town", "postcode"]
    lines = [delimiter.join(header)] + [delimiter.join(row) for row in CUSTOMERS]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))


def _landing(root: Path) -> Path:
    """A CRM export in latin-1 with ';', a catalogue in Parquet, orders in JSON lines."""
    landing = root / "landing"
    _write_customers(landing / "crm" / "export_2024_01.csv")
    _write_customers(landing / "crm" / "export_2024_02.csv")
    (landing / "catalogue").mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(PRODUCTS), landing / "catalogue" / "items.parquet")
    orders = [
        {
            "order_ref": f"O-{n}",
            "buyer": CUSTOMERS[n % len(CUSTOMERS)][0],
            "article": PRODUCTS[n % len(PRODUCTS)]["article"],
            "qty": 1 + n % 3,
            "total": 20.25 + n,
            "placed_at": f"2024-03-{1 + n:02d}T10:00:00Z",
            "kind": "CANCELLED" if n % 5 == 0 else "PLACED",
        }
        for n in range(12)
    ]
    (landing / "orders").mkdir()
    (landing / "orders" / "orders.jsonl").write_text(
        "".join(json.dumps(o) + "\n" for o in orders), encoding="utf-8"
    )
    return landing


def test_encoding_is_utf8_unless_the_bytes_say_otherwise() -> None:
    assert detect_encoding("José;Zoë".encode()) == (None, "every byte sequence is valid UTF-8")
    assert detect_encoding("José;Zoë".encode("latin-1"))[0] == "latin-1"
    # curly quotes: bytes 0x93/0x94 exist in Windows-1252 only
    assert detect_encoding("“José”".encode("cp1252"))[0] == "cp1252"
    assert detect_encoding(b"\xef\xbb\xbfJos\xc3\xa9")[0] is None  # a byte-order mark
    # a character cut at the end of the sampled head is not an encoding error
    assert detect_encoding("abc é".encode()[:-1])[0] is None


def test_the_delimiter_is_the_one_splitting_rows_evenly() -> None:
    text = 'id;name;street\n1;"Smith, John";"1, High St"\n2;Jones;Low Rd\n'
    assert detect_delimiter(text) == ";"
    assert detect_delimiter("a,b,c\n1,2,3\n4,5,6\n") == ","
    assert detect_delimiter("a\tb\n1\t2\n") == "\t"


def test_contents_are_recognised() -> None:
    assert is_gtin("5067389372215") and not is_gtin("5067389372216")
    assert is_phone("07584 815717") and is_phone("+1 212-614-5660")
    assert not is_phone("40000010")  # a bare number is an id, not a phone number
    assert is_postcode("SW16 2HS") and is_postcode("10058") and not is_postcode("London")
    assert day_first("23/12/1953") is True and day_first("12/23/1953") is False
    assert day_first("01/02/2000") is None
    column = profile_column("contact", ["a@example.com", "b@example.org", None, "not one"])
    assert column.fill == 0.75 and column.share("email") == pytest.approx(2 / 3)


def test_a_latin1_semicolon_family_is_read_as_such(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    found = {f.name: f for f in families(landing)}
    crm = profile_family(found["crm"])
    assert crm.pattern == "crm/*.csv" and len(crm.files) == 2
    assert (crm.encoding, crm.delimiter) == ("latin-1", ";")
    assert crm.rows == 2 * len(CUSTOMERS) and crm.rejected == 0
    assert "José" in crm.column("forename").distinct
    assert crm.column("born").dayfirst is True


def test_the_proposal_reads_names_and_contents(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    proposal = propose(profile_landing(landing), landing)
    by_name = {s.name: s for s in proposal.sources}
    assert {n: s.kind for n, s in by_name.items()} == {
        "crm": "customer",
        "catalogue": "product",
        "orders": "event",
    }
    crm = by_name["crm"]
    assert crm.key.value == "cust_no"
    mapped = {a: g.value for a, g in crm.mapping.items()}
    # "contact" is an e-mail by its contents alone; the rest by their names
    assert mapped == {
        "first_name": "forename",
        "last_name": "surname",
        "email": "contact",
        "date_of_birth": "born",
        "city": "town",
        "postcode": "postcode",
    }
    assert crm.mapping["email"].reason == "1.00 of values look like e-mails"
    assert crm.dayfirst is not None and crm.dayfirst.value is True
    catalogue = {a: g.value for a, g in by_name["catalogue"].mapping.items()}
    assert catalogue == {"title": "name", "gtin": "ean", "price": "price", "sku": "article"}
    orders = by_name["orders"]
    assert orders.key.value == "order_ref"
    assert orders.mapping["customer_ref"].value == "buyer"
    assert orders.mapping["product_ref"].value == "article"
    assert orders.mapping["occurred_at"].value == "placed_at"
    assert orders.event is not None and orders.event.type_column is not None
    assert orders.event.type_column.value == "kind"
    assert orders.event.type_map == {"CANCELLED": "order_cancelled", "PLACED": "purchase"}
    assert orders.event.customer_source is not None
    assert (orders.event.customer_source.value, orders.event.product_source.value) == (
        "crm",
        "catalogue",
    )
    # matching keeps only what the mapping fills: no phone, no address line here
    customer = proposal.plans["customer"].matching
    columns = {c for rule in customer.blocking_rules if isinstance(rule, list) for c in rule}
    assert "email" in columns and "phone" not in columns and "address_line1" not in columns
    # (the address comparison names the phone too: unfilled, its phone levels never fire)
    assert all("phone" not in c.input_columns for c in customer.comparisons if c.type != "address")


def test_event_types_from_their_words() -> None:
    assert event_type_of("ADD_TO_CART") == "add_to_cart"
    assert event_type_of("order cancelled") == "order_cancelled"
    assert event_type_of("PageView") == "product_view"
    assert event_type_of("COMPLETED") == "purchase"
    assert event_type_of("refund") is None


def test_init_writes_a_config_that_loads_and_never_overwrites(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    path = tmp_path / "e360.yaml"
    init_config(landing, path)
    config = load_config(path, environ={})
    crm = config.sources["crm"]
    assert (crm.csv.encoding, crm.csv.delimiter) == ("latin-1", ";")
    assert config.landing_dir == landing.resolve()
    text = path.read_text()
    assert "# 0.90: 1.00 of values look like e-mails" in text  # by contents alone
    assert "csv: {encoding: latin-1, delimiter: ;}" in text or "delimiter: ';'" in text
    with pytest.raises(OnboardingError, match="already exists; pass --force"):
        init_config(landing, path)
    path.write_text("# mine\n")
    init_config(landing, path, force=True)
    assert path.read_text() == text


def test_the_command_prints_its_guesses_and_refuses_to_overwrite(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    landing = _landing(tmp_path)
    path = tmp_path / "e360.yaml"
    assert main(["init", str(landing), "-c", str(path)]) == 0
    out = capsys.readouterr().out
    assert "contact" in out and "latin-1" in out and path.is_file()
    assert main(["init", str(landing), "-c", str(path)]) == 1
    assert "already exists; pass --force" in capsys.readouterr().err


def test_a_folder_without_products_says_what_is_missing(tmp_path: Path) -> None:
    _write_customers(tmp_path / "landing" / "crm" / "a.csv")
    with pytest.raises(OnboardingError, match="no product source found"):
        init_config(tmp_path / "landing", tmp_path / "e360.yaml")
    assert not (tmp_path / "e360.yaml").exists()
    with pytest.raises(OnboardingError, match="no CSV, JSON lines or Parquet files"):
        (tmp_path / "empty").mkdir()
        init_config(tmp_path / "empty", tmp_path / "e360.yaml")


def test_contents_map_columns_whose_names_say_nothing(tmp_path: Path) -> None:
    """An account file and an order feed with unhelpful column names: e-mails, phones, full
    names and the events' time are still recognised by their values."""
    landing = _landing(tmp_path)
    people = [("Jose Garcia", "+44 7807 152532"), ("Zoe Bronte", "07967 263941")] * 3
    accounts = [
        {"uid": f"A-{n}", "holder_x": name, "login": f"user{n}@example.com", "reach": tel}
        for n, (name, tel) in enumerate(people)
    ]
    (landing / "shop").mkdir()
    (landing / "shop" / "accounts.jsonl").write_text(
        "".join(json.dumps(a) + "\n" for a in accounts)
    )
    (landing / "orders" / "orders.jsonl").write_text(
        "".join(
            json.dumps({"id": f"O-{n}", "acct": f"A-{n % 6}", "t": f"2024-03-0{1 + n}T10:00:00Z"})
            + "\n"
            for n in range(6)
        )
    )
    proposal = propose(profile_landing(landing), landing)
    by_name = {s.name: s for s in proposal.sources}
    shop = {a: g.value for a, g in by_name["shop"].mapping.items()}
    assert shop == {"full_name": "holder_x", "email": "login", "phone": "reach"}
    assert by_name["shop"].key.value == "uid"
    orders = by_name["orders"]
    assert orders.kind == "event"
    assert {a: g.value for a, g in orders.mapping.items()} == {
        "occurred_at": "t",
        "customer_ref": "acct",
    }
    assert orders.event is not None and orders.event.customer_source is not None
    assert orders.event.customer_source.value == "shop"


def test_a_large_file_is_profiled_from_its_beginning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import onboarding.profile as profile

    monkeypatch.setattr(profile, "SAMPLE_BYTES", 400)
    monkeypatch.setattr(profile, "MAX_ROWS", 10)
    rows = [f"C{n:05d},name {n},{n}.50" for n in range(200)]
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "big.csv").write_text("id,name,amount\n" + "\n".join(rows) + "\n")
    pq.write_table(
        pa.Table.from_pylist([{"id": n, "name": f"x {n}"} for n in range(200)]),
        tmp_path / "big" / "big.parquet",
    )
    found = {f.format: profile_family(f) for f in families(tmp_path)}
    csv_family, parquet_family = found["csv"], found["parquet"]
    assert csv_family.sampled and 0 < csv_family.rows < 200
    assert csv_family.rejected == 0  # cut after a whole line
    assert csv_family.column("id").examples[0] == "C00000"
    assert parquet_family.sampled and parquet_family.rows == 10


def test_a_column_name_with_braces_is_written_so_it_reads_that_column(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    (landing / "catalogue" / "items.parquet").unlink()
    lines = ["article,name,ean,price {eur}"] + [
        f"{p['article']},{p['name']},{p['ean']},{p['price']}" for p in PRODUCTS
    ]
    (landing / "catalogue" / "items.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "e360.yaml"
    proposal = init_config(landing, path)
    catalogue = next(s for s in proposal.sources if s.name == "catalogue")
    assert catalogue.mapping["price"].value == "{price {{eur}}}"
    assert "price {eur}" not in {c.name for c in catalogue.unmapped}
    mapping = load_config(path, environ={}).sources["catalogue"].mapping
    assert columns_of(mapping["price"]) == ["price {eur}"]
    assert value_of(mapping["price"], {"price {eur}": "20.5", "eur": "wrong"}) == "20.5"


SHOP = [("K-2001", "Ana Lopez", "ana.lopez@example.com"), ("K-2002", "Tom Hart", "tom@x.org")]
SHOP += [(f"K-20{n:02d}", f"Eve Shaw{'e' * n}", f"eve{n}@example.com") for n in range(3, 7)]


def _mixed_landing(root: Path, shop_keys: str = "K-", system: bool = True) -> Path:
    """Two customer sources (a CRM keyed K-1..., a shop keyed `shop_keys`2...) and an order
    feed naming customers of both, half each, with a `system` column saying which."""
    landing = _landing(root)
    shop = [
        {"id": key.replace("K-", shop_keys), "full_name": name, "email": mail}
        for key, name, mail in SHOP
    ]
    (landing / "shop").mkdir()
    (landing / "shop" / "accounts.jsonl").write_text("".join(json.dumps(a) + "\n" for a in shop))
    orders = []
    for n in range(24):
        crm = n % 2 == 0
        order = {
            "order_ref": f"O-{n}",
            "buyer": CUSTOMERS[n % 6][0] if crm else shop[n % 6]["id"],
            "article": PRODUCTS[n % 3]["article"],
            "qty": 1 + n % 3,
            "placed_at": f"2024-03-{1 + n:02d}T10:00:00Z",
            "kind": "CANCELLED" if n % 5 == 0 else "PLACED",
        }
        if system:
            order["system"] = "CRM-A" if crm else "WEBSHOP"
        orders.append(order)
    (landing / "orders" / "orders.jsonl").write_text("".join(json.dumps(o) + "\n" for o in orders))
    return landing


def _conformed(config_path: Path, landing: Path) -> tuple[list[dict], list[dict]]:
    """The order feed's rows conformed with the written configuration (every customer and
    product record its own master): the events and the rejects."""
    config = load_config(config_path, environ={})
    masters = {
        entity: {
            record_id(name, str(row[source.key])): f"M-{name}-{row[source.key]}"
            for name, source in config.sources.items()
            if source.entity == entity
            for row in _rows(landing / str(source.path))
        }
        for entity in ("customer", "product")
    }
    rows = [
        {**row, "_file": "orders.jsonl", "_row": i}
        for i, row in enumerate(_rows(landing / "orders" / "orders.jsonl"))
    ]
    events, rejects, _ = conform_events(
        "orders",
        config.sources["orders"],
        rows,
        masters_table(masters["customer"]),
        masters_table(masters["product"]),
        "r1",
    )
    return events, rejects


def _rows(pattern: Path) -> list[dict]:
    out: list[dict] = []
    for path in sorted(pattern.parent.glob(pattern.name)):
        if path.suffix == ".parquet":
            out += pq.read_table(path).to_pylist()
        elif path.suffix == ".jsonl":
            out += [json.loads(line) for line in path.read_text().splitlines()]
        else:
            header, *lines = path.read_text(encoding="latin-1").splitlines()
            out += [dict(zip(header.split(";"), line.split(";"), strict=True)) for line in lines]
    return out


def test_a_feed_naming_customers_of_two_sources_tells_them_apart_by_a_column(
    tmp_path: Path,
) -> None:
    landing = _mixed_landing(tmp_path)
    path = tmp_path / "e360.yaml"
    proposal = init_config(landing, path)
    orders = next(s for s in proposal.sources if s.name == "orders")
    assert orders.kind == "event" and orders.event is not None
    assert orders.event.customer_source is None
    several = orders.event.customer_sources
    assert several is not None and several.column is not None
    assert (several.sources.value, several.column.value) == (["crm", "shop"], "system")
    assert several.values == {"CRM-A": "crm", "WEBSHOP": "shop"}
    assert "system" not in {c.name for c in orders.unmapped}
    event = load_config(path, environ={}).sources["orders"].event
    assert event is not None
    assert (event.customer_sources, event.customer_source_column) == (["crm", "shop"], "system")
    assert event.customer_source_map == {"CRM-A": "crm", "WEBSHOP": "shop"}
    assert event.product_source == "catalogue"
    events, rejects = _conformed(path, landing)
    assert rejects == [] and len(events) == 24
    assert {e["customer_ref"].split(":")[0] for e in events} == {"crm", "shop"}
    assert all(e["customer_master_id"] and e["product_master_id"] for e in events)


def test_keys_with_prefixes_of_their_own_tell_the_sources_apart(tmp_path: Path) -> None:
    landing = _mixed_landing(tmp_path, shop_keys="S-", system=False)
    path = tmp_path / "e360.yaml"
    proposal = init_config(landing, path)
    orders = next(s for s in proposal.sources if s.name == "orders")
    assert orders.event is not None and orders.event.customer_sources is not None
    event = load_config(path, environ={}).sources["orders"].event
    assert event is not None and event.customer_sources == ["crm", "shop"]
    assert event.customer_key_prefixes == {"K-": "crm", "S-": "shop"}
    assert event.customer_source_column is None and not event.customer_strip_prefix
    events, rejects = _conformed(path, landing)
    assert rejects == [] and len(events) == 24


def test_several_sources_nothing_tells_apart_are_a_check(tmp_path: Path) -> None:
    landing = _mixed_landing(tmp_path, system=False)  # both keyed K-, no system column
    path = tmp_path / "e360.yaml"
    proposal = init_config(landing, path)
    orders = next(s for s in proposal.sources if s.name == "orders")
    assert orders.event is not None and orders.event.customer_sources is None
    assert orders.event.customer_source is not None
    assert orders.event.customer_source.value in ("crm", "shop")
    text = path.read_text()
    assert "check: its values are keys of several sources (crm 0.50, shop 0.50" in text
    assert "list them in customer_sources and set customer_source_column" in text
    event = load_config(path, environ={}).sources["orders"].event
    assert event is not None and event.customer_source == orders.event.customer_source.value


def test_a_house_number_beside_a_street_becomes_one_street_line(tmp_path: Path) -> None:
    landing = _landing(tmp_path)
    lines = ["id,given_name,family_name,email,house_number,street,town"] + [
        f"C{n},{first},{last},{first.lower()}{n}@example.com,{number},{street},Leeds"
        for n, (first, last, number, street) in enumerate(
            [
                ("Ana", "Lopez", "12", "High Street"),
                ("Tom", "Hart", "4a", "Elm Road"),
                ("Eve", "Shaw", "12", "Mill Lane"),
                ("Bo", "Li", "221 B", "Baker Street"),
                ("Al", "Ray", "7", "Elm Road"),
            ]
        )
    ]
    (landing / "members").mkdir()
    (landing / "members" / "members.csv").write_text("\n".join(lines) + "\n")
    path = tmp_path / "e360.yaml"
    proposal = init_config(landing, path)
    members = next(s for s in proposal.sources if s.name == "members")
    guess = members.mapping["address_line1"]
    assert guess.value == "{house_number} {street}"
    assert "house_number holds house numbers (e.g. 12, 4a) beside the street street" in guess.reason
    assert {"house_number", "street"}.isdisjoint(c.name for c in members.unmapped)
    assert "address_line1: '{house_number} {street}'" in path.read_text()
    mapping = load_config(path, environ={}).sources["members"].mapping
    assert value_of(mapping["address_line1"], {"house_number": "4a", "street": "Elm Road"}) == (
        "4a Elm Road"
    )
    # a street column already holding the number stays as it is
    (landing / "members" / "members.csv").write_text(
        "id,given_name,email,street\n"
        + "".join(f"C{n},Ana,a{n}@example.com,{n} High St\n" for n in range(5))
    )
    proposal = init_config(landing, path, force=True)
    members = next(s for s in proposal.sources if s.name == "members")
    assert members.mapping["address_line1"].value == "street"


def test_a_feed_over_the_demo_sources_points_into_two_crms_and_two_catalogues(
    tmp_path: Path,
) -> None:
    """The demo's landing folder plus an order feed naming customers of the CRM and the shop
    and products of the ERP and the marketplace: each pair told apart by its keys' prefixes."""
    generate_demo_data(tmp_path, customers=60, seed=3)

    def keys(truth: str) -> dict[str, list[str]]:
        with (tmp_path / "truth" / truth).open(newline="") as handle:
            out: dict[str, list[str]] = {}
            for row in csv.DictReader(handle):
                out.setdefault(row["source"], []).append(row["source_key"])
            return out

    customers, products = keys("customers.csv"), keys("products.csv")
    rows = [
        {
            "order_id": f"o{n}",
            "system": "CRM-A" if n % 2 == 0 else "SHOP",
            "customer": customers["crm" if n % 2 == 0 else "ecommerce"][n // 2],
            "item": products["erp" if n % 3 else "marketplace"][n // 3],
            "at": f"2024-03-01T10:{n:02d}:00Z",
        }
        for n in range(40)
    ]
    (tmp_path / "landing" / "orders").mkdir()
    with (tmp_path / "landing" / "orders" / "orders_1.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    path = tmp_path / "e360.yaml"
    init_config(tmp_path / "landing", path)
    config = load_config(path, environ={})
    event = config.sources["orders"].event
    assert event is not None
    assert sorted(event.customer_sources) == ["crm", "ecommerce"]
    assert event.customer_key_prefixes == {"C": "crm", "A-": "ecommerce"}
    assert sorted(event.product_sources) == ["erp", "marketplace"]
    assert event.product_key_prefixes == {"SKU-": "erp", "MP-": "marketplace"}
    masters = [
        {record_id(s, k): f"M-{k}" for s, ks in found.items() for k in ks}
        for found in (customers, products)
    ]
    landed = [{**row, "_file": "orders_1.csv", "_row": i} for i, row in enumerate(rows)]
    events, rejects, _ = conform_events(
        "orders", config.sources["orders"], landed, *map(masters_table, masters), "r1"
    )
    assert rejects == [] and len(events) == 40


def test_key_prefixes_are_marks_or_letters_before_digits_of_one_source_each() -> None:
    keys = {"crm": {"K-1001", "K-1002"}, "shop": {"S-7", "S-a9"}, "erp": {"C0001", "C0002"}}
    assert key_prefixes(["crm", "shop", "erp"], keys) == {"K-": "crm", "S-": "shop", "C": "erp"}
    assert key_prefixes(["crm", "x"], {**keys, "x": {"ABC1", "ABD2"}}) == {}  # `AB` by chance
    assert key_prefixes(["erp", "x"], {**keys, "x": {"CX-1", "CX-2"}}) == {}  # `C` starts `CX-`
    assert key_prefixes(["crm", "x"], {**keys, "x": {"K-2001"}}) == {}  # the same prefix
    assert key_prefixes(["crm", "x"], {**keys, "x": {"1", "2"}}) == {}  # no prefix
