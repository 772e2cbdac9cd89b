"""The true customers: names (Faker's locale tables, read once, never a Faker call per row),
nicknames, email addresses, households, movers, and the `CustomerFactory` that draws them.

Faker is the one dependency of the demo the service does not have: it comes with the `demo`
extra, and without it `person_provider` raises one clear error.
"""

from __future__ import annotations

import importlib
import random
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from typing import Any

from demo.places import (
    COUNTRIES,
    COUNTRY_CUM,
    EIRCODE_CHARS,
    EIRCODE_LETTERS,
    IE_TOWNS,
    STREET_SUFFIXES,
    STREET_WORDS,
    UK_LANDLINE_LEADING,
    UK_MOBILE_PREFIXES,
    UK_POST_LETTERS,
    UK_TOWN_WEIGHTS,
    UK_TOWNS,
    US_STREET_WORDS,
    US_SUFFIXES,
    US_TOWNS,
    Address,
    Phone,
)
from demo.sampling import END, letters_only, pick, random_time, weighted
from e360.errors import E360Error

NICKNAME_PAIRS: tuple[tuple[str, str], ...] = (
    ("William", "Bill"), ("William", "Will"), ("Robert", "Bob"), ("Robert", "Rob"),
    ("Elizabeth", "Liz"), ("Elizabeth", "Beth"), ("Katherine", "Kate"), ("Catherine", "Cathy"),
    ("Margaret", "Maggie"), ("Richard", "Rich"), ("James", "Jim"), ("Jennifer", "Jenny"),
    ("Michael", "Mike"), ("Thomas", "Tom"), ("Christopher", "Chris"), ("Jonathan", "Jon"),
    ("Daniel", "Dan"), ("Matthew", "Matt"), ("Anthony", "Tony"), ("Edward", "Ted"),
    ("Alexander", "Alex"), ("Benjamin", "Ben"), ("Samuel", "Sam"), ("Joseph", "Joe"),
    ("Nicholas", "Nick"), ("Andrew", "Andy"), ("Stephen", "Steve"), ("Patrick", "Paddy"),
    ("Timothy", "Tim"), ("Peter", "Pete"), ("David", "Dave"), ("Charles", "Charlie"),
    ("Henry", "Harry"), ("Frederick", "Fred"), ("Susan", "Sue"), ("Deborah", "Debbie"),
    ("Rebecca", "Becky"), ("Victoria", "Vicky"), ("Jessica", "Jess"), ("Alexandra", "Alex"),
    ("Samantha", "Sam"), ("Abigail", "Abby"), ("Patricia", "Pat"), ("Jacqueline", "Jackie"),
    ("Eleanor", "Ellie"), ("Gregory", "Greg"), ("Philip", "Phil"), ("Kenneth", "Ken"),
    ("Ronald", "Ron"), ("Gerald", "Gerry"), ("Josephine", "Jo"), ("Nathaniel", "Nate"),
)  # fmt: skip
NICKNAMES: dict[str, list[str]] = {}
for _formal, _nick in NICKNAME_PAIRS:
    NICKNAMES.setdefault(_formal, []).append(_nick)
_MALE_FORMAL = (
    "William", "Robert", "Richard", "James", "Michael", "Thomas", "Christopher", "Jonathan",
    "Daniel", "Matthew", "Anthony", "Edward", "Alexander", "Benjamin", "Samuel", "Joseph",
    "Nicholas", "Andrew", "Stephen", "Patrick", "Timothy", "Peter", "David", "Charles", "Henry",
    "Frederick", "Gregory", "Philip", "Kenneth", "Ronald", "Gerald", "Nathaniel",
)  # fmt: skip
_FEMALE_FORMAL = (
    "Elizabeth", "Katherine", "Catherine", "Margaret", "Jennifer", "Susan", "Deborah", "Rebecca",
    "Victoria", "Jessica", "Alexandra", "Samantha", "Abigail", "Patricia", "Jacqueline",
    "Eleanor", "Josephine",
)  # fmt: skip


_EMAIL_DOMAINS = (
    ("gmail.com", 30), ("hotmail.co.uk", 12), ("outlook.com", 10), ("yahoo.co.uk", 8),
    ("icloud.com", 8), ("btinternet.com", 6), ("sky.com", 4), ("live.co.uk", 4),
    ("virginmedia.com", 3), ("aol.com", 2), ("protonmail.com", 2), ("mail.com", 2),
    ("yahoo.com", 3), ("eircom.net", 1),
)  # fmt: skip
_WORK_DOMAINS = (
    "acme-corp.co.uk",
    "northwind.com",
    "globex.co.uk",
    "initech.com",
    "nhs.net",
    "council.gov.uk",
    "contoso.com",
    "example.org",
)

# Faker's person providers whose name tables the pools are built from, in this order.
LOCALES = ("en_GB", "en_IE", "en_US", "en_IN", "pl_PL", "es_ES", "it_IT", "fr_FR", "de_DE", "pt_PT")
# (locale, weight) per country of residence.
_LOCALE_MIX = {
    "GB": (("en_GB", 55), ("en_IE", 8), ("en_US", 7), ("en_IN", 6), ("pl_PL", 6),
           ("es_ES", 4), ("it_IT", 4), ("fr_FR", 4), ("de_DE", 3), ("pt_PT", 3)),
    "IE": (("en_IE", 80), ("en_GB", 10), ("pl_PL", 5), ("pt_PT", 5)),
    "US": (("en_US", 75), ("es_ES", 10), ("en_IE", 5), ("it_IT", 5), ("en_IN", 5)),
}  # fmt: skip
# Single words with at most one hyphen/apostrophe: compound names would blur the first/last split.
_NAME_RE = re.compile(r"^[^\W\d_]+(?:[-'][^\W\d_]+)?$")


class DemoExtraMissing(E360Error):
    """Faker, which the generator reads names from, is not installed."""


def person_provider(locale: str) -> Any:
    """Faker's person provider of `locale`: only its name tables are read, never a Faker call.

    Faker comes with the `demo` extra, not with the service, hence imported here.
    """
    try:
        module = importlib.import_module(f"faker.providers.person.{locale}")
    except ModuleNotFoundError as missing:
        if missing.name is None or not missing.name.startswith("faker"):
            raise
        raise DemoExtraMissing(
            "the demo generator needs the demo extra: pip install 'e360[demo]'"
        ) from None
    return module.Provider


@dataclass(slots=True)
class Person:
    entity_id: str
    gender: str  # M / F
    first: str
    middle: str | None
    last: str
    dob: date
    email: str
    alt_email: str | None
    mobile: Phone | None
    landline: Phone | None
    address: Address
    prev_address: Address | None
    moved_at: datetime | None


class _NamePools:
    """Per-locale first/last name tables, filtered once and sampled with the caller's rng."""

    def __init__(self) -> None:
        self.male: dict[str, tuple[str, ...]] = {}
        self.female: dict[str, tuple[str, ...]] = {}
        self.last: dict[str, tuple[str, ...]] = {}
        for code in LOCALES:
            provider = person_provider(code)
            self.male[code] = self._clean(provider.first_names_male)
            self.female[code] = self._clean(provider.first_names_female)
            if code == "pl_PL":
                lasts = tuple(provider.male_last_names) + tuple(provider.unisex_last_names)
            else:
                lasts = tuple(provider.last_names)
            self.last[code] = self._clean(lasts)

    @staticmethod
    def _clean(names: Any) -> tuple[str, ...]:
        # OrderedDicts (weighted tables) iterate their keys; order is the library's, not a hash's.
        seen: dict[str, None] = {}
        for name in names:
            name = str(name).strip()
            if _NAME_RE.match(name):
                seen.setdefault(name, None)
        return tuple(seen)

    def last_name(self, rng: random.Random, locale: str, gender: str) -> str:
        name = rng.choice(self.last[locale])
        if locale == "pl_PL" and gender == "F":
            # Polish surnames in -ski/-cki/-dzki take the feminine -ska/-cka/-dzka.
            for masc, fem in (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka")):
                if name.endswith(masc):
                    return name[: -len(masc)] + fem
        return name

    def first_name(self, rng: random.Random, locale: str, gender: str) -> str:
        if locale in {"en_GB", "en_US", "en_IE"} and rng.random() < 0.15:
            # Formal names with common nicknames are over-represented so nickname variation shows.
            return rng.choice(_MALE_FORMAL if gender == "M" else _FEMALE_FORMAL)
        return rng.choice(self.male[locale] if gender == "M" else self.female[locale])


class CustomerFactory:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = _NamePools()
        surnames = self.names.last["en_GB"]
        # A pre-drawn street pool: a few thousand names shared by everyone, like a real city.
        self.streets = tuple(
            (
                rng.choice(STREET_WORDS) if rng.random() < 0.6 else rng.choice(surnames),
                rng.choice(STREET_SUFFIXES),
            )
            for _ in range(4000)
        )
        self.us_streets = tuple(
            (rng.choice(US_STREET_WORDS), rng.choice(US_SUFFIXES)) for _ in range(400)
        )
        self.uk_towns = (UK_TOWNS, tuple(accumulate(UK_TOWN_WEIGHTS)))
        self.locale_mix = {c: weighted(m) for c, m in _LOCALE_MIX.items()}
        self.domains = weighted(_EMAIL_DOMAINS)
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()

    # -- contact details --------------------------------------------------------------------
    def _digits(self, n: int) -> str:
        return str(self.rng.randrange(10**n)).zfill(n)

    def _unique_phone(self, make: Any) -> Phone:
        while True:
            phone = make()
            if phone.digits not in self.used_phones:
                self.used_phones.add(phone.digits)
                return phone

    def mobile(self, country: str, area_code: str) -> Phone:
        rng = self.rng
        if country == "GB":
            return self._unique_phone(
                lambda: Phone("GB", rng.choice(UK_MOBILE_PREFIXES) + self._digits(7), 5)
            )
        if country == "IE":
            return self._unique_phone(
                lambda: Phone("IE", "08" + rng.choice("35679") + self._digits(7), 3)
            )
        # NANP exchanges never start with 0 or 1.
        return self._unique_phone(
            lambda: Phone("US", area_code + str(rng.randrange(2, 10)) + self._digits(6), 3)
        )

    def landline(self, country: str, area_code: str) -> Phone:
        rng = self.rng
        if country == "US":
            return self.mobile("US", area_code)
        length = 11 if country == "GB" else 9
        leading = UK_LANDLINE_LEADING.get(area_code, "23456789") if country == "GB" else "2345678"
        return self._unique_phone(
            lambda: Phone(
                country,
                area_code + rng.choice(leading) + self._digits(length - len(area_code) - 1),
                len(area_code),
            )
        )

    def email(self, first: str, last: str, dob: date, work: bool = False) -> str:
        rng = self.rng
        f, la = letters_only(first) or "x", letters_only(last) or "x"
        while True:
            style = rng.randrange(7)
            local = (
                f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}.{la}{rng.randrange(1, 100)}",
                f"{la}.{f}", f"{f}_{la}", f"{f}{dob.year % 100:02d}",
            )[style]  # fmt: skip
            domain = rng.choice(_WORK_DOMAINS) if work else pick(rng, *self.domains)
            address = f"{local}@{domain}"
            if address in self.used_emails:
                address = f"{local}{rng.randrange(100, 1000)}@{domain}"
            if address not in self.used_emails:
                self.used_emails.add(address)
                return address

    def address(self, country: str) -> tuple[Address, str]:
        """An address and the landline area code of its town."""
        rng = self.rng
        if country == "GB":
            town, areas, area_code = pick(rng, *self.uk_towns)
            area = rng.choice(areas)
            district = rng.randrange(1, 20 if len(area) == 1 else 30)
            postcode = (
                f"{area}{district} {rng.randrange(1, 10)}"
                f"{rng.choice(UK_POST_LETTERS)}{rng.choice(UK_POST_LETTERS)}"
            )
            street, suffix = rng.choice(self.streets)
        elif country == "IE":
            town, keys, area_code = rng.choice(IE_TOWNS)
            unique = rng.choice(EIRCODE_LETTERS) + "".join(
                rng.choice(EIRCODE_CHARS) for _ in range(3)
            )
            postcode = f"{rng.choice(keys)} {unique}"
            street, suffix = rng.choice(self.streets)
        else:
            town, prefixes, area_code = rng.choice(US_TOWNS)
            postcode = rng.choice(prefixes) + self._digits(2)
            street, suffix = rng.choice(self.us_streets)
        house = str(rng.randrange(1, 250 if country != "US" else 3000))
        flat = f"Flat {rng.randrange(1, 30)}" if country != "US" and rng.random() < 0.15 else None
        if country == "US" and rng.random() < 0.15:
            flat = f"Apt {rng.randrange(1, 40)}"
        return Address(house, street, suffix, flat, town, postcode, country), area_code

    def dob(self, lo: float = 18, hi: float = 90, mode: float = 38) -> date:
        age_days = int(self.rng.triangular(lo, hi, mode) * 365.25)
        return END.date() - timedelta(days=age_days)

    # -- people -----------------------------------------------------------------------------
    def person(self, index: int, people: list[Person]) -> Person:
        rng = self.rng
        gender = "M" if rng.random() < 0.49 else "F"
        head = None
        if people and rng.random() < 0.05:
            head = people[rng.randrange(len(people))]
        if head is not None:
            country = head.address.country
            address, area_code = head.address, ""
            last = head.last
            locale = "en_GB" if country == "GB" else ("en_IE" if country == "IE" else "en_US")
            first = head.first
            while first == head.first:
                first = self.names.first_name(rng, locale, gender)
            # A partner of similar age or an adult child of an older head.
            head_age = (END.date() - head.dob).days / 365.25
            if head_age > 45 and rng.random() < 0.4:
                dob = self.dob(18, max(19.0, head_age - 18), max(18.5, head_age - 28))
            else:
                dob = self.dob(max(18.0, head_age - 6), head_age + 6, head_age)
            if dob == head.dob:
                dob -= timedelta(days=rng.randrange(1, 900))
        else:
            country = pick(rng, COUNTRIES, COUNTRY_CUM)
            locale = pick(rng, *self.locale_mix[country])
            first = self.names.first_name(rng, locale, gender)
            last = self.names.last_name(rng, locale, gender)
            address, area_code = self.address(country)
            dob = self.dob()
        middle = None
        if rng.random() < 0.25:
            middle = self.names.first_name(rng, locale, gender)
            if middle == first:
                middle = None
        if not area_code:
            area_code = self._area_code(address)
        mobile = self.mobile(country, area_code) if rng.random() < 0.9 else None
        landline = None
        if head is not None and head.landline is not None and rng.random() < 0.6:
            landline = head.landline  # one household phone
        elif mobile is None or rng.random() < 0.35:
            landline = self.landline(country, area_code)
        prev_address = moved_at = None
        if rng.random() < 0.1:
            prev_address, _ = self.address(country)
            moved_at = random_time(rng, datetime(2019, 6, 1), datetime(2024, 12, 31))
        email = self.email(first, last, dob)
        alt_email = self.email(first, last, dob, work=True) if rng.random() < 0.12 else None
        return Person(
            entity_id=f"cust-{index + 1:06d}", gender=gender, first=first, middle=middle,
            last=last, dob=dob, email=email, alt_email=alt_email, mobile=mobile,
            landline=landline, address=address, prev_address=prev_address, moved_at=moved_at,
        )  # fmt: skip

    @staticmethod
    def _area_code(address: Address) -> str:
        towns = {"GB": UK_TOWNS, "IE": IE_TOWNS, "US": US_TOWNS}[address.country]
        for town, _, code in towns:
            if town == address.city:
                return code
        return "020"
