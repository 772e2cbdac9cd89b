"""How one system's copy of a person differs from the truth: nicknames, typos, case and
whitespace, swapped names, missing values, birth date slips, email spellings, and each
system's way of writing phones, postcodes, streets and towns.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from unidecode import unidecode

from demo.people import NICKNAMES, Person
from demo.places import Address, Phone
from demo.sampling import typo

_GMAIL_TAGS = ("shop", "promo", "news", "orders", "deals")
_MISSING = {  # share of copies without the value, per system
    "crm": {"email": 0.12, "phone": 0.08, "dob": 0.06},
    "ecommerce": {"email": 0.03, "phone": 0.15, "dob": 0.12},
    "loyalty": {"email": 0.10, "phone": 0.10, "dob": 0.05},
}


@dataclass(slots=True)
class View:
    """One source's idea of a person, before source-specific formatting."""

    first: str
    middle: str | None
    last: str
    dob: date | None
    gender: str
    email: str | None
    phone: Phone | None
    address: Address


def _vary_name(rng: random.Random, name: str) -> str:
    if not name.isascii() and rng.random() < 0.35:
        name = unidecode(name)
    r = rng.random()
    if r < 0.03:
        name = typo(rng, name)
    elif r < 0.05:
        name = name.upper()
    elif r < 0.065:
        name = name.lower()
    elif r < 0.08:
        name = f" {name}" if rng.random() < 0.5 else f"{name}  "
    return name


def _vary_email(rng: random.Random, email: str) -> str:
    local, domain = email.split("@", 1)
    if domain == "gmail.com" and rng.random() < 0.3:
        # Gmail ignores dots and +tags, so people write the same mailbox several ways.
        if rng.random() < 0.5:
            local = local.replace(".", "") if "." in local else f"{local[0]}.{local[1:]}"
        else:
            local = f"{local}+{rng.choice(_GMAIL_TAGS)}"
    r = rng.random()
    if r < 0.04:
        local = ".".join(p.capitalize() for p in local.split("."))
        domain = domain.capitalize()
    elif r < 0.06:
        local, domain = local.upper(), domain.upper()
    elif r < 0.09:
        local = typo(rng, local)
    elif r < 0.10:
        return f" {local}@{domain} "
    return f"{local}@{domain}"


def _vary_dob(rng: random.Random, dob: date) -> date:
    r = rng.random()
    if r < 0.015 and dob.day <= 12 and dob.day != dob.month:
        return dob.replace(day=dob.month, month=dob.day)  # US/UK field order confusion
    if r < 0.025:
        try:
            return dob.replace(year=dob.year + rng.choice((-1, 1)))
        except ValueError:  # 29 February
            return dob - timedelta(days=1)
    if r < 0.03:
        return dob + timedelta(days=rng.choice((-1, 1)))
    return dob


def source_view(rng: random.Random, person: Person, system: str, stale: bool) -> View:
    missing = _MISSING[system]
    first = person.first
    nicks = NICKNAMES.get(first)
    if nicks and rng.random() < 0.25:
        first = rng.choice(nicks)
    first, last = _vary_name(rng, first), _vary_name(rng, person.last)
    if rng.random() < 0.015:
        first, last = last, first
    middle = person.middle
    dob = None if rng.random() < missing["dob"] else _vary_dob(rng, person.dob)
    email: str | None = None
    if rng.random() >= missing["email"]:
        source_email = person.email
        if person.alt_email and rng.random() < 0.35:
            source_email = person.alt_email
        email = _vary_email(rng, source_email)
    phone: Phone | None = None
    if rng.random() >= missing["phone"]:
        if system == "ecommerce":
            phone = person.mobile
        elif person.mobile and person.landline:
            phone = person.landline if rng.random() < 0.4 else person.mobile
        else:
            phone = person.mobile or person.landline
    address = person.prev_address if stale and person.prev_address else person.address
    return View(first, middle, last, dob, person.gender, email, phone, address)


def _phone_national(p: Phone) -> str:
    d = p.digits
    if p.country == "US":
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    rest = d[p.area :]
    if len(rest) == 8:
        rest = f"{rest[:4]} {rest[4:]}"
    elif len(rest) == 7:
        rest = f"{rest[:3]} {rest[3:]}"
    return f"{d[: p.area]} {rest}"


def _phone_e164(p: Phone) -> str:
    if p.country == "US":
        return f"+1{p.digits}"
    return ("+44" if p.country == "GB" else "+353") + p.digits[1:]


def _phone_international(p: Phone) -> str:
    if p.country == "US":
        d = p.digits
        return f"+1 {d[:3]}-{d[3:6]}-{d[6:]}"
    cc = "+44" if p.country == "GB" else "+353"
    return f"{cc} {_phone_national(p)[1:]}"


def format_phone(rng: random.Random, p: Phone | None, system: str) -> str | None:
    if p is None:
        return None
    r = rng.random()
    if system == "crm":
        # The CRM is UK-centric: domestic numbers in national format, foreign ones international.
        if p.country != "GB":
            return _phone_international(p)
        if r < 0.8:
            return _phone_national(p)
        return p.digits if r < 0.9 else _phone_international(p)
    if system == "ecommerce":
        if r < 0.7 or p.country != "GB":
            return _phone_e164(p)
        if r < 0.9:
            return f"+44 (0){_phone_national(p)[1:]}"
        return _phone_national(p)
    if r < 0.5 and p.country == "GB":
        return p.digits
    if r < 0.8:
        return _phone_international(p)
    if r < 0.9 and p.country == "GB":
        d = p.digits
        return f"{d[:5]}-{d[5:8]}-{d[8:]}"
    return _phone_national(p)


def format_postcode(rng: random.Random, postcode: str, no_space: float, lower: float) -> str:
    r = rng.random()
    if r < no_space:
        return postcode.replace(" ", "")
    if r < no_space + lower:
        return postcode.lower()
    return postcode


def street_line(rng: random.Random, a: Address) -> str:
    suffix = a.suffix[1] if rng.random() < 0.25 else a.suffix[0]
    line = f"{a.house} {a.street} {suffix}"
    r = rng.random()
    if r < 0.03:
        line = line.upper()
    elif r < 0.05:
        line = line.lower()
    return line


def city_spelling(rng: random.Random, city: str) -> str:
    r = rng.random()
    if r < 0.04:
        return city.upper()
    if r < 0.06:
        return city.lower()
    return city
