"""The customer systems' files: which systems hold each person (and which copy is stale or
duplicated), and the CRM CSV, ecommerce JSON lines and loyalty Parquet written from those
copies, the deliberately malformed records included.
"""

from __future__ import annotations

import csv
import random
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from demo.files import CRM_COLUMNS, CUSTOMER_SYSTEMS, json_line
from demo.people import Person
from demo.places import CRM_COUNTRY, ISO3
from demo.sampling import START, pick, random_time, unique_keys, weighted
from demo.variation import (
    View,
    city_spelling,
    format_phone,
    format_postcode,
    source_view,
    street_line,
)

_TITLES = {"M": ("Mr", "Mr.", "Dr", "MR"), "F": ("Mrs", "Ms", "Miss", "Mrs.", "Dr")}


_CRM_COUNTRY_CUM = {c: weighted(options) for c, options in CRM_COUNTRY.items()}


def _crm_row(rng: random.Random, v: View, key: str, updated: datetime) -> list[str]:
    a = v.address
    title = ""
    if rng.random() < 0.85:
        options = _TITLES[v.gender]
        title = options[0] if rng.random() < 0.6 else rng.choice(options)
    middle = ""
    if v.middle:
        r = rng.random()
        middle = v.middle if r < 0.7 else (v.middle[0] if r < 0.9 else "")
    street = street_line(rng, a)
    if a.flat:
        street = f"{a.flat}, {street}"
    gender = "" if rng.random() < 0.1 else v.gender
    country = ""
    if rng.random() >= 0.02:
        country = pick(rng, *_CRM_COUNTRY_CUM[a.country])
    return [
        key, title, v.first, middle, v.last,
        v.dob.strftime("%d/%m/%Y") if v.dob else "", gender, v.email or "",
        format_phone(rng, v.phone, "crm") or "", street, city_spelling(rng, a.city),
        format_postcode(rng, a.postcode, 0.10, 0.05), country, updated.isoformat(),
    ]  # fmt: skip


def _full_name(rng: random.Random, v: View) -> str:
    r = rng.random()
    if r < 0.12:
        return f"{v.last.upper()}, {v.first}"
    if r < 0.17:
        return f"{v.last}, {v.first}"
    if r < 0.22 and v.middle:
        return f"{v.first} {v.middle} {v.last}"
    return f"{v.first} {v.last}"


def _ecommerce_obj(
    rng: random.Random, v: View, key: str | None, created: datetime, updated: datetime
) -> dict[str, Any]:
    a = v.address
    line1, line2 = street_line(rng, a), None
    if a.flat:
        if rng.random() < 0.7:
            line2 = a.flat
        else:
            line1 = f"{a.flat}, {line1}"
    country = a.country.lower() if rng.random() < 0.15 else a.country
    obj: dict[str, Any] = {}
    if key is not None:
        obj["account_id"] = key
    obj["full_name"] = _full_name(rng, v)
    obj["email"] = v.email
    obj["mobile"] = format_phone(rng, v.phone, "ecommerce")
    obj["dob"] = v.dob.isoformat() if v.dob else None
    obj["address_line1"] = line1
    if line2 is not None or rng.random() < 0.5:
        obj["address_line2"] = line2  # absent and null both occur in the wild
    obj["city"] = city_spelling(rng, a.city)
    obj["postal_code"] = format_postcode(rng, a.postcode, 0.15, 0.10)
    obj["country_code"] = country
    obj["created_at"] = created.isoformat() + "Z"
    obj["updated_at"] = updated.isoformat() + "Z"
    return obj


@dataclass(slots=True)
class _Copy:
    person: Person
    stale: bool
    updated: datetime


def copies_by_system(rng: random.Random, people: list[Person]) -> dict[str, list[_Copy]]:
    """Decide which systems hold each person (and which copy is stale or duplicated)."""
    by_system: dict[str, list[_Copy]] = {s: [] for s in CUSTOMER_SYSTEMS}
    for person in people:
        r = rng.random()
        n_systems = 1 if r < 0.45 else (2 if r < 0.80 else 3)
        systems = rng.sample(CUSTOMER_SYSTEMS, n_systems)
        stale_system = systems[0] if person.prev_address and n_systems > 1 else None
        for system in systems:
            n = 2 if rng.random() < 0.03 else 1
            for _ in range(n):
                stale = system == stale_system
                if person.moved_at is None:
                    updated = random_time(rng, datetime(2019, 1, 1))
                elif stale:
                    updated = random_time(rng, START, person.moved_at)
                else:
                    updated = random_time(rng, person.moved_at)
                by_system[system].append(_Copy(person, stale, updated))
    for copies in by_system.values():
        rng.shuffle(copies)
    return by_system


def _malformed_positions(rng: random.Random, total: int, count: int) -> list[int]:
    """Row positions (in the final file) for the malformed rows, spread through the file."""
    return sorted(rng.sample(range(total + count), count))


def write_crm(
    rng: random.Random, path: Path, copies: list[_Copy], people: list[Person]
) -> tuple[int, list[tuple[str, str]]]:
    truth: list[tuple[str, str]] = []
    bad_at = _malformed_positions(rng, len(copies), 3)
    kinds = dict(zip(bad_at, ("extra_field", "short", "no_key"), strict=True))
    rows = 0
    next_id = 100
    good = iter(copies)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CRM_COLUMNS)
        for pos in range(len(copies) + 3):
            next_id += 1 if rng.random() < 0.9 else rng.randrange(2, 6)  # deleted records
            key = f"C{next_id:06d}"
            kind = kinds.get(pos)
            if kind is None:
                c = next(good)
                writer.writerow(
                    _crm_row(rng, source_view(rng, c.person, "crm", c.stale), key, c.updated)
                )
                truth.append((key, c.person.entity_id))
            else:
                person = people[rng.randrange(len(people))]
                fields = _crm_row(
                    rng, source_view(rng, person, "crm", False), key, random_time(rng)
                )
                if kind == "no_key":
                    fields[0] = ""
                    writer.writerow(fields)
                elif kind == "extra_field":
                    # A hand-typed flat prefix written without quoting: the comma adds a field.
                    a = person.address
                    fields[9] = f"Flat {rng.randrange(1, 9)}, {a.house} {a.street} {a.suffix[0]}"
                    handle.write(",".join(fields) + "\n")
                else:
                    # An export cut off after the email column.
                    handle.write(",".join(fields[:8]) + "\n")
            rows += 1
    return rows, truth


def write_ecommerce(
    rng: random.Random, path: Path, copies: list[_Copy], people: list[Person]
) -> tuple[int, list[tuple[str, str]], list[tuple[str, datetime]]]:
    width = 6
    while 16**width < 4 * (len(copies) + 3):
        width += 1
    keys = unique_keys(len(copies) + 3, lambda: f"A-{rng.getrandbits(4 * width):0{width}x}")
    bad_at = _malformed_positions(rng, len(copies), 3)
    kinds = dict(zip(bad_at, ("truncated", "no_key", "truncated"), strict=True))
    truth: list[tuple[str, str]] = []
    accounts: list[tuple[str, datetime]] = []
    good = iter(copies)
    with path.open("w", newline="", encoding="utf-8") as handle:
        for pos, key in enumerate(keys):
            kind = kinds.get(pos)
            if kind is None:
                c = next(good)
                created = random_time(rng, START, c.updated)
                v = source_view(rng, c.person, "ecommerce", c.stale)
                handle.write(json_line(_ecommerce_obj(rng, v, key, created, c.updated)) + "\n")
                truth.append((key, c.person.entity_id))
                accounts.append((key, created))
            else:
                person = people[rng.randrange(len(people))]
                updated = random_time(rng)
                v = source_view(rng, person, "ecommerce", False)
                obj = _ecommerce_obj(rng, v, None if kind == "no_key" else key, updated, updated)
                text = json_line(obj)
                if kind == "truncated":
                    # Cut inside the full_name string so the line can never parse.
                    cut = text.index('"full_name": "') + len('"full_name": "') + 2
                    text = text[:cut]
                handle.write(text + "\n")
    return len(keys), truth, accounts


def write_loyalty(
    rng: random.Random, path: Path, copies: list[_Copy]
) -> tuple[int, list[tuple[str, str]], list[int]]:
    cols: dict[str, list[Any]] = {
        name: []
        for name in ("member_no", "given_name", "family_name", "date_of_birth", "sex", "email",
                     "phone", "postcode", "town", "country", "joined_on")
    }  # fmt: skip
    truth: list[tuple[str, str]] = []
    member_no = 40_000_000
    for c in copies:
        member_no += rng.randrange(1, 12)
        v = source_view(rng, c.person, "loyalty", c.stale)
        a = v.address
        cols["member_no"].append(member_no)
        cols["given_name"].append(v.first)
        cols["family_name"].append(v.last)
        cols["date_of_birth"].append(v.dob)
        cols["sex"].append(
            None if rng.random() < 0.12 else ("male" if v.gender == "M" else "female")
        )
        cols["email"].append(v.email)
        cols["phone"].append(format_phone(rng, v.phone, "loyalty"))
        cols["postcode"].append(format_postcode(rng, a.postcode, 0.15, 0.05))
        cols["town"].append(city_spelling(rng, a.city))
        cols["country"].append(ISO3[a.country])
        cols["joined_on"].append(c.updated)
        truth.append((str(member_no), c.person.entity_id))
    schema = pa.schema(
        [
            ("member_no", pa.int64()), ("given_name", pa.string()),
            ("family_name", pa.string()), ("date_of_birth", pa.date32()), ("sex", pa.string()),
            ("email", pa.string()), ("phone", pa.string()), ("postcode", pa.string()),
            ("town", pa.string()), ("country", pa.string()), ("joined_on", pa.timestamp("us")),
        ]
    )  # fmt: skip
    table = pa.table(cols, schema=schema)
    pq.write_table(table, path, compression="zstd")
    return len(copies), truth, cols["member_no"]
