"""`e360 resolve` with the default customer matching on generated hard cases: people with a
mistake in any one field or who moved house, and organisation accounts written differently."""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

import yaml

from e360.evaluation import evaluate, load_assignments, load_truth
from matching.mapped.mapping import load_mapping
from matching.mapped.resolver import resolve_mapping

SYLLABLES = [
    "ka",
    "ri",
    "mo",
    "lan",
    "ter",
    "son",
    "bel",
    "dor",
    "vin",
    "sha",
    "pe",
    "lu",
    "gar",
    "nis",
    "to",
    "wen",
    "ca",
    "fi",
    "ros",
    "ald",
]
STREETS = [
    "high",
    "church",
    "mill",
    "station",
    "park",
    "victoria",
    "green",
    "manor",
    "kings",
    "queen",
]
TOWNS = [
    "ashby",
    "bexley",
    "corby",
    "derwent",
    "elton",
    "frome",
    "goring",
    "hythe",
    "ilkley",
    "jarrow",
]
MISTAKES = (
    "first_typo",
    "last_typo",
    "swapped_names",
    "dob_transposed",
    "dob_year",
    "email_typo",
    "phone_typo",
    "street_typo",
    "postcode_typo",
    "city_typo",
)


def _word(rng: random.Random, syllables: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(syllables))


def _typo(rng: random.Random, text: str) -> str:
    i = rng.randrange(1, len(text))  # keep the first letter: a typo rarely hits it
    return text[:i] + rng.choice("aeiouxz".replace(text[i], "")) + text[i + 1 :]


def _digit(rng: random.Random, text: str) -> str:
    i = rng.randrange(len(text) - 3, len(text))
    return text[:i] + str((int(text[i]) + rng.randint(1, 9)) % 10) + text[i + 1 :]


def _address(rng: random.Random) -> dict[str, str]:
    return {
        "street": f"{rng.randint(1, 200)} {rng.choice(STREETS)} road",
        "postcode": f"{rng.randint(1000, 9999)}",
        "city": rng.choice(TOWNS),
    }


def _person(rng: random.Random, i: int) -> dict[str, str]:
    first, last = _word(rng, 2), _word(rng, 3)
    born = dt.date(1940, 1, 1) + dt.timedelta(days=rng.randrange(60 * 365))
    return {
        "id": str(i),
        "first": first,
        "last": last,
        "dob": born.isoformat(),
        "email": f"{first}.{last}{rng.randint(1, 99)}@example.com",
        "phone": f"04{rng.randint(10**7, 10**8 - 1)}",
        **_address(rng),
    }


def _with_mistake(rng: random.Random, person: dict[str, str], mistake: str) -> dict[str, str]:
    p = dict(person)
    born = dt.date.fromisoformat(p["dob"])
    if mistake in ("first_typo", "last_typo"):
        key = mistake.split("_")[0]
        p[key] = _typo(rng, p[key])
    elif mistake == "swapped_names":
        p["first"], p["last"] = p["last"], p["first"]
    elif mistake == "dob_transposed":
        if born.day <= 12 and born.day != born.month:
            p["dob"] = born.replace(month=born.day, day=born.month).isoformat()
        else:
            p["dob"] = born.replace(day=min(born.day + 1, 28)).isoformat()
    elif mistake == "dob_year":
        p["dob"] = born.replace(year=born.year + rng.choice((-10, -1, 1, 10)), day=1).isoformat()
    elif mistake == "email_typo":
        p["email"] = _typo(rng, p["email"])
    elif mistake in ("phone_typo", "postcode_typo"):
        key = mistake.split("_")[0]
        p[key] = _digit(rng, p[key])
    else:
        key = {"street_typo": "street", "city_typo": "city"}[mistake]
        p[key] = _typo(rng, p[key])
    return p


def _write(folder: Path, name: str, rows: list[dict[str, str]]) -> None:
    with (folder / f"{name}.csv").open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _resolve(folder: Path, attributes: dict[str, str], truth: list[tuple[str, str, str]]):
    with (folder / "truth.csv").open("w", newline="", encoding="utf-8") as handle:
        csv.writer(handle).writerows([("source", "source_key", "entity_id"), *truth])
    sources = [
        {"name": s, "path": f"{s}.csv", "key": "id", "default_region": "AU",
         "attributes": attributes}
        for s in ("a", "b")
    ]  # fmt: skip
    path = folder / "mapping.yaml"
    path.write_text(yaml.safe_dump({"entity": "customer", "sources": sources}))
    resolve_mapping(load_mapping(path), folder / "out")
    assignments = load_assignments(folder / "out" / "clusters.parquet")
    return assignments, evaluate(assignments, load_truth(folder / "truth.csv"))


def test_people_with_a_mistake_in_any_field_or_a_new_address_are_found(tmp_path: Path) -> None:
    rng = random.Random(12)
    people = [_person(rng, i) for i in range(400)]
    movers = set(rng.sample(range(len(people)), len(people) // 20))
    copies = []
    for i, person in enumerate(people):
        copy = dict(person)
        if i in movers:  # moved house: street, postcode and city all differ
            copy.update(_address(rng))
        # two mistakes in other fields, every pair of kinds in turn
        for mistake in (MISTAKES[i % len(MISTAKES)], MISTAKES[(i // len(MISTAKES) + 1) % 10]):
            copy = _with_mistake(rng, copy, mistake)
        for key in ("email", "phone"):  # many sources lack contact details
            if rng.random() < 0.3:
                copy[key] = ""
        copies.append(copy)
    _write(tmp_path, "a", people)
    _write(tmp_path, "b", copies)
    attributes = {
        "first_name": "first", "last_name": "last", "date_of_birth": "dob", "email": "email",
        "phone": "phone", "address_line1": "street", "postcode": "postcode", "city": "city",
    }  # fmt: skip
    truth = [(s, p["id"], p["id"]) for p in people for s in ("a", "b")]
    assignments, scores = _resolve(tmp_path, attributes, truth)

    assert scores["pairwise"]["precision"] >= 0.99
    assert scores["pairwise"]["recall"] >= 0.97

    def together(i: int) -> bool:
        return assignments[f"a:{i}"] == assignments[f"b:{i}"]

    assert [i for i in movers if not together(i)] == []
    for k, mistake in enumerate(MISTAKES):  # no kind of mistake defeats matching
        found = [together(i) for i in range(k, len(people), len(MISTAKES))]
        assert sum(found) >= 0.9 * len(found), mistake


LEGAL_FORMS = ("", " ltd", " limited", " inc.", " plc", " & co.")


def test_organisations_written_differently_are_one_account(tmp_path: Path) -> None:
    rng = random.Random(5)
    accounts = []
    for i in range(200):
        words = [_word(rng, 2) for _ in range(rng.choice((1, 2, 3)))]
        accounts.append(
            {"id": str(i), "name": " ".join(words), "phone": f"02{rng.randint(10**7, 10**8 - 1)}",
             **_address(rng)}
        )  # fmt: skip
    a, b = [], []
    for i, account in enumerate(accounts):
        name = account["name"]
        a.append({**account, "name": f"The {name.title()}{rng.choice(LEGAL_FORMS)}"})
        other = {**account, "name": f"{name.upper()}{rng.choice(LEGAL_FORMS).upper()}"}
        if i % 4 == 1:
            other["phone"] = _digit(rng, other["phone"])  # a mistyped phone
        elif i % 4 == 2:
            other["street"] = other["street"].replace("road", "rd.")  # abbreviated
        elif i % 4 == 3 and " " in name:
            other["name"] = name.replace(" ", " & ", 1)  # "&" for a space
        b.append(other)
    _write(tmp_path, "a", a)
    _write(tmp_path, "b", b)
    attributes = {"company_name": "name", "address_line1": "street", "city": "city",
                  "phone": "phone"}  # fmt: skip
    truth = [(s, acc["id"], acc["id"]) for acc in accounts for s in ("a", "b")]
    _, scores = _resolve(tmp_path, attributes, truth)
    assert scores["pairwise"]["precision"] >= 0.98
    assert scores["pairwise"]["recall"] >= 0.95
