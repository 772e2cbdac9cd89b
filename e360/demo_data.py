"""Seeded, deterministic sample source systems for demos, tests and benchmarks.

`generate_demo_data(out_dir, customers, seed)` writes, under `out_dir/landing/`:

- `crm/crm_customers_1.csv`              customers (CSV, UK national phones, DD/MM/YYYY dates)
- `ecommerce/ecommerce_accounts_1.jsonl` customers (JSON lines, E.164-ish mobiles, ISO dates)
- `loyalty/loyalty_members_1.parquet`    customers (Parquet, typed dates and timestamps)
- `erp/erp_items_1.csv`                  products (CSV, GTIN-13 in several spellings)
- `marketplace/marketplace_listings_1.jsonl` products (JSON lines, free-text titles)
- `webshop/orders_1.jsonl`, `pos/pos_transactions_1.csv`, `clickstream/clicks_1.jsonl` events

and the ground truth `out_dir/truth/customers.csv` and `out_dir/truth/products.csv`
(`source,source_key,entity_id`, one row per well-formed source record).

What entity resolution is up against:

- every true customer is in one (~45%), two (~35%) or all three (~20%) customer systems, and
  ~3% of source records have a second key in the same system for the same person;
- copies differ by 1-character typos, nicknames (William/Bill, ...), first/last swaps, missing
  email/phone/date of birth (5-15% per system), case, whitespace, accents (José/Jose), phone
  formats, postcode spacing, street abbreviations, capitalised or gmail-dotted/+tagged emails,
  day/month swapped birth dates, and stale addresses (~10% of people moved; an older copy
  still has the previous address);
- ~5% of people are household members who share a last name, an address and sometimes a
  landline with another person, but have their own first name, birth date and email;
- products sit in the ERP (~97%) and/or the marketplace (~70%, some listed twice by different
  sellers); titles are worded differently, brand case varies, GTINs are missing, written as
  12-digit UPC-A, spaced, or carry a wrong check digit; product families contain look-alikes
  (same brand and type, model X200 vs X300, or colour variants of one model whose ERP `mpn`
  carries a colour code such as `X200-BK`; single-colour models have the bare model number).

Clean values are valid where it matters: phone numbers lie in allocated GB/IE/US ranges (the
`phonenumbers` library accepts them) and GTINs carry correct check digits unless deliberately
broken, so a validator rejecting a value points at injected noise, not generator bugs.

Deliberately malformed records (they are extra copies of real people and are NOT in the truth):

- crm CSV: one row whose street holds an unquoted comma (one field too many), one row cut off
  after the email (too few fields) and one row with an empty `customer_id`;
- ecommerce JSONL: two lines of truncated JSON and one object without `account_id`.

Speed: names, streets and towns come from pools built once (Faker's locale tables plus fixed
lists) and are sampled with `random.Random`, so no Faker call runs per row. The same seed always
produces byte-identical files; nothing depends on the clock or on hash ordering.
"""

from __future__ import annotations

import csv
import json
import random
import re
import uuid
from bisect import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from faker.providers.person import (
    de_DE,
    en_GB,
    en_IE,
    en_IN,
    en_US,
    es_ES,
    fr_FR,
    it_IT,
    pl_PL,
    pt_PT,
)
from unidecode import unidecode

__all__ = ["NICKNAME_PAIRS", "DemoSummary", "generate_demo_data"]

CUSTOMER_SYSTEMS = ("crm", "ecommerce", "loyalty")
CRM_FILE = "crm/crm_customers_1.csv"
ECOMMERCE_FILE = "ecommerce/ecommerce_accounts_1.jsonl"
LOYALTY_FILE = "loyalty/loyalty_members_1.parquet"
ERP_FILE = "erp/erp_items_1.csv"
MARKETPLACE_FILE = "marketplace/marketplace_listings_1.jsonl"
ORDERS_FILE = "webshop/orders_1.jsonl"
POS_FILE = "pos/pos_transactions_1.csv"
CLICKS_FILE = "clickstream/clicks_1.jsonl"

CRM_COLUMNS = (
    "customer_id", "title", "first_name", "middle_name", "last_name", "birth_date", "gender",
    "email", "phone", "street", "city", "zip", "country", "updated_at",
)  # fmt: skip
ERP_COLUMNS = (
    "item_no", "description", "brand", "manufacturer", "mpn", "ean", "category", "list_price",
    "currency", "updated_at",
)  # fmt: skip
POS_COLUMNS = ("txn_id", "member_no", "item_no", "qty", "amount", "currency", "ts", "store_id")
TRUTH_HEADER = ("source", "source_key", "entity_id")

# A fixed window keeps output independent of the day the generator runs.
START = datetime(2018, 1, 1)
END = datetime(2025, 6, 30, 23, 59, 59)

# Events per true customer; the three feeds add up to ~5 so large demos stay fast.
ORDERS_PER_CUSTOMER = 1.5
CLICKS_PER_CUSTOMER = 2.5
POS_PER_CUSTOMER = 1.0

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
_NICKNAMES: dict[str, list[str]] = {}
for _formal, _nick in NICKNAME_PAIRS:
    _NICKNAMES.setdefault(_formal, []).append(_nick)
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

# (town, postcode areas, landline area code)
_UK_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("London", ("E", "N", "NW", "SE", "SW", "W"), "020"), ("Manchester", ("M",), "0161"),
    ("Birmingham", ("B",), "0121"), ("Leeds", ("LS",), "0113"), ("Glasgow", ("G",), "0141"),
    ("Edinburgh", ("EH",), "0131"), ("Liverpool", ("L",), "0151"), ("Bristol", ("BS",), "0117"),
    ("Sheffield", ("S",), "0114"), ("Cardiff", ("CF",), "029"), ("Nottingham", ("NG",), "0115"),
    ("Newcastle upon Tyne", ("NE",), "0191"), ("Leicester", ("LE",), "0116"),
    ("Southampton", ("SO",), "023"), ("Brighton", ("BN",), "01273"), ("Oxford", ("OX",), "01865"),
    ("Cambridge", ("CB",), "01223"), ("York", ("YO",), "01904"), ("Belfast", ("BT",), "028"),
    ("Aberdeen", ("AB",), "01224"), ("Norwich", ("NR",), "01603"), ("Exeter", ("EX",), "01392"),
    ("Plymouth", ("PL",), "01752"), ("Reading", ("RG",), "0118"), ("Coventry", ("CV",), "024"),
    ("Bath", ("BA",), "01225"), ("Derby", ("DE",), "01332"), ("Swansea", ("SA",), "01792"),
    ("Dundee", ("DD",), "01382"), ("Hull", ("HU",), "01482"), ("Milton Keynes", ("MK",), "01908"),
    ("Luton", ("LU",), "01582"), ("Stoke-on-Trent", ("ST",), "01782"),
    ("Wolverhampton", ("WV",), "01902"), ("Preston", ("PR",), "01772"),
    ("Bournemouth", ("BH",), "01202"), ("Ipswich", ("IP",), "01473"),
    ("Canterbury", ("CT",), "01227"), ("Inverness", ("IV",), "01463"),
    ("Chester", ("CH",), "01244"), ("Lancaster", ("LA",), "01524"), ("Carlisle", ("CA",), "01228"),
    ("Guildford", ("GU",), "01483"), ("Harrogate", ("HG",), "01423"),
    ("St Albans", ("AL",), "01727"), ("Bradford", ("BD",), "01274"),
    ("Huddersfield", ("HD",), "01484"), ("Gloucester", ("GL",), "01452"),
    ("Worcester", ("WR",), "01905"), ("Sunderland", ("SR",), "0191"),
)  # fmt: skip
# London is weighted up because real customer bases are.
_UK_TOWN_WEIGHTS = tuple(
    12 if t[0] == "London" else (3 if t[2] in {"0161", "0121"} else 1) for t in _UK_TOWNS
)
# (town, Eircode routing keys, landline area code)
_IE_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Dublin", ("D02", "D04", "D06", "D08", "D12", "D15", "D24"), "01"),
    ("Cork", ("T12", "T23"), "021"), ("Galway", ("H91",), "091"),
    ("Limerick", ("V94",), "061"), ("Waterford", ("X91",), "051"),
)  # fmt: skip
# (town, ZIP prefix, area code)
_US_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("New York", ("100", "101"), "212"), ("Boston", ("021",), "617"),
    ("Chicago", ("606",), "312"), ("San Francisco", ("941",), "415"),
    ("Seattle", ("981",), "206"), ("Austin", ("787",), "512"), ("Denver", ("802",), "303"),
    ("Miami", ("331",), "305"),
)  # fmt: skip
# Number ranges that are really allocated, so phone validators accept the generated numbers:
# mobiles avoid 07700 900xxx (reserved for drama) and the 076 pager range; big-city landlines
# only start with the digits their area actually uses.
_UK_MOBILE_PREFIXES = tuple(f"07{n}" for n in (*range(40, 60), *range(71, 91), *range(92, 100)))
_UK_LANDLINE_LEADING = {
    "020": "378", "023": "89", "024": "7", "028": "9", "029": "2", "0113": "2", "0114": "2",
    "0115": "9", "0116": "2", "0117": "9", "0118": "9", "0121": "234567", "0131": "2345678",
}  # fmt: skip
_COUNTRIES = ("GB", "IE", "US")
_COUNTRY_CUM = tuple(accumulate((0.88, 0.07, 0.05)))
_CRM_COUNTRY: dict[str, tuple[tuple[str, float], ...]] = {
    "GB": (("United Kingdom", 0.62), ("UK", 0.33), ("united kingdom", 0.05)),
    "IE": (("Ireland", 1.0),),
    "US": (("United States", 1.0),),
}
_ISO3 = {"GB": "GBR", "IE": "IRL", "US": "USA"}

_STREET_WORDS = (
    "Church", "Station", "Victoria", "Park", "Mill", "High", "Green", "Manor", "Queens", "Kings",
    "New", "School", "Oak", "Elm", "Beech", "Ash", "Willow", "Cedar", "Chestnut", "Maple",
    "Orchard", "Meadow", "Brook", "River", "Bridge", "Castle", "Abbey", "Priory", "Market",
    "North", "South", "East", "West", "York", "Albert", "George", "Windsor", "Grange", "Hawthorn",
    "Holly", "Ivy", "Lime", "Rose", "Springfield", "Stanley", "Westfield", "Highfield",
    "Fairfield", "Woodland", "Hillside", "Riverside", "Lakeside", "Valley", "Moor", "Heath",
    "Forest", "Spring", "Well", "Cross", "Farm", "Chapel", "Hall", "Tower", "Garden", "Cliff",
)  # fmt: skip
_STREET_SUFFIXES = (
    ("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Close", "Cl"),
    ("Drive", "Dr"), ("Way", "Way"), ("Gardens", "Gdns"), ("Crescent", "Cres"),
    ("Grove", "Gr"), ("Place", "Pl"), ("Terrace", "Terr"), ("Court", "Ct"), ("Square", "Sq"),
    ("Mews", "Mews"), ("Rise", "Rise"), ("Walk", "Walk"), ("Hill", "Hill"),
)  # fmt: skip
_US_STREET_WORDS = (*_STREET_WORDS, "Main", "Washington", "Lincoln", "Pine", "Madison")
_US_SUFFIXES = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Drive", "Dr"),
    ("Boulevard", "Blvd"),
)
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
_GMAIL_TAGS = ("shop", "promo", "news", "orders", "deals")

# (locale module, weight for UK residents) -- other countries use their own mix below.
_LOCALES = {
    "en_GB": en_GB, "en_IE": en_IE, "en_US": en_US, "en_IN": en_IN, "pl_PL": pl_PL,
    "es_ES": es_ES, "it_IT": it_IT, "fr_FR": fr_FR, "de_DE": de_DE, "pt_PT": pt_PT,
}  # fmt: skip
_LOCALE_MIX = {
    "GB": (("en_GB", 55), ("en_IE", 8), ("en_US", 7), ("en_IN", 6), ("pl_PL", 6),
           ("es_ES", 4), ("it_IT", 4), ("fr_FR", 4), ("de_DE", 3), ("pt_PT", 3)),
    "IE": (("en_IE", 80), ("en_GB", 10), ("pl_PL", 5), ("pt_PT", 5)),
    "US": (("en_US", 75), ("es_ES", 10), ("en_IE", 5), ("it_IT", 5), ("en_IN", 5)),
}  # fmt: skip
# Single words with at most one hyphen/apostrophe: compound names would blur the first/last split.
_NAME_RE = re.compile(r"^[^\W\d_]+(?:[-'][^\W\d_]+)?$")

_UK_POST_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_EIRCODE_CHARS = "ACDEFHKNPRTVWXY0123456789"
_EIRCODE_LETTERS = "ACDEFHKNPRTVWXY"


@dataclass(frozen=True)
class DemoSummary:
    """What `generate_demo_data` wrote.

    files: landing-relative path -> data rows written (malformed rows included, headers not).
    customers / products: number of true distinct entities described by the truth files.
    """

    files: dict[str, int]
    customers: int
    products: int


# ---------------------------------------------------------------------------------------------
# Small helpers
# ---------------------------------------------------------------------------------------------


def _pick(rng: random.Random, items: tuple[Any, ...], cum: tuple[float, ...]) -> Any:
    return items[bisect(cum, rng.random() * cum[-1])]


def _weighted(pairs: tuple[tuple[Any, float], ...]) -> tuple[tuple[Any, ...], tuple[float, ...]]:
    return tuple(p[0] for p in pairs), tuple(accumulate(p[1] for p in pairs))


def _ts(rng: random.Random, lo: datetime = START, hi: datetime = END) -> datetime:
    span = max(1, int((hi - lo).total_seconds()))
    return lo + timedelta(seconds=rng.randrange(span))


def _typo(rng: random.Random, s: str) -> str:
    """A single keyboard-style edit away from the first character (people get initials right)."""
    if len(s) < 3:
        return s
    for _ in range(3):
        op = rng.randrange(4)
        i = rng.randrange(2 if op == 3 else 1, len(s))
        if op == 0:
            out = s[:i] + rng.choice("abcdefghijklmnoprstuwy") + s[i + 1 :]
        elif op == 1:
            out = s[:i] + s[i + 1 :]
        elif op == 2:
            out = s[:i] + s[i] + s[i:]
        else:
            out = s[: i - 1] + s[i] + s[i - 1] + s[i + 1 :]
        if out != s:
            return out
    return s[:-1]


def _gtin_check(body12: str) -> str:
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body12))
    return str((10 - total % 10) % 10)


def _letters_only(s: str) -> str:
    return re.sub(r"[^a-z]", "", unidecode(s).lower())


# ---------------------------------------------------------------------------------------------
# Customers
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Phone:
    country: str  # GB / IE / US
    digits: str  # national digits, trunk 0 included for GB/IE
    area: int  # length of the area/mobile prefix, for grouping


@dataclass(frozen=True, slots=True)
class _Address:
    house: str
    street: str
    suffix: tuple[str, str]  # (full, abbreviated)
    flat: str | None
    city: str
    postcode: str
    country: str


@dataclass(slots=True)
class _Person:
    entity_id: str
    gender: str  # M / F
    first: str
    middle: str | None
    last: str
    dob: date
    email: str
    alt_email: str | None
    mobile: _Phone | None
    landline: _Phone | None
    address: _Address
    prev_address: _Address | None
    moved_at: datetime | None


class _NamePools:
    """Per-locale first/last name tables, filtered once and sampled with the caller's rng."""

    def __init__(self) -> None:
        self.male: dict[str, tuple[str, ...]] = {}
        self.female: dict[str, tuple[str, ...]] = {}
        self.last: dict[str, tuple[str, ...]] = {}
        for code, module in _LOCALES.items():
            provider = module.Provider
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


class _CustomerFactory:
    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.names = _NamePools()
        surnames = self.names.last["en_GB"]
        # A pre-drawn street pool: a few thousand names shared by everyone, like a real city.
        self.streets = tuple(
            (
                rng.choice(_STREET_WORDS) if rng.random() < 0.6 else rng.choice(surnames),
                rng.choice(_STREET_SUFFIXES),
            )
            for _ in range(4000)
        )
        self.us_streets = tuple(
            (rng.choice(_US_STREET_WORDS), rng.choice(_US_SUFFIXES)) for _ in range(400)
        )
        self.uk_towns = (_UK_TOWNS, tuple(accumulate(_UK_TOWN_WEIGHTS)))
        self.locale_mix = {c: _weighted(m) for c, m in _LOCALE_MIX.items()}
        self.domains = _weighted(_EMAIL_DOMAINS)
        self.used_emails: set[str] = set()
        self.used_phones: set[str] = set()

    # -- contact details --------------------------------------------------------------------
    def _digits(self, n: int) -> str:
        return str(self.rng.randrange(10**n)).zfill(n)

    def _unique_phone(self, make: Any) -> _Phone:
        while True:
            phone = make()
            if phone.digits not in self.used_phones:
                self.used_phones.add(phone.digits)
                return phone

    def mobile(self, country: str, area_code: str) -> _Phone:
        rng = self.rng
        if country == "GB":
            return self._unique_phone(
                lambda: _Phone("GB", rng.choice(_UK_MOBILE_PREFIXES) + self._digits(7), 5)
            )
        if country == "IE":
            return self._unique_phone(
                lambda: _Phone("IE", "08" + rng.choice("35679") + self._digits(7), 3)
            )
        # NANP exchanges never start with 0 or 1.
        return self._unique_phone(
            lambda: _Phone("US", area_code + str(rng.randrange(2, 10)) + self._digits(6), 3)
        )

    def landline(self, country: str, area_code: str) -> _Phone:
        rng = self.rng
        if country == "US":
            return self.mobile("US", area_code)
        length = 11 if country == "GB" else 9
        leading = _UK_LANDLINE_LEADING.get(area_code, "23456789") if country == "GB" else "2345678"
        return self._unique_phone(
            lambda: _Phone(
                country,
                area_code + rng.choice(leading) + self._digits(length - len(area_code) - 1),
                len(area_code),
            )
        )

    def email(self, first: str, last: str, dob: date, work: bool = False) -> str:
        rng = self.rng
        f, la = _letters_only(first) or "x", _letters_only(last) or "x"
        while True:
            style = rng.randrange(7)
            local = (
                f"{f}.{la}", f"{f}{la}", f"{f[0]}{la}", f"{f}.{la}{rng.randrange(1, 100)}",
                f"{la}.{f}", f"{f}_{la}", f"{f}{dob.year % 100:02d}",
            )[style]  # fmt: skip
            domain = rng.choice(_WORK_DOMAINS) if work else _pick(rng, *self.domains)
            address = f"{local}@{domain}"
            if address in self.used_emails:
                address = f"{local}{rng.randrange(100, 1000)}@{domain}"
            if address not in self.used_emails:
                self.used_emails.add(address)
                return address

    def address(self, country: str) -> tuple[_Address, str]:
        """An address and the landline area code of its town."""
        rng = self.rng
        if country == "GB":
            town, areas, area_code = _pick(rng, *self.uk_towns)
            area = rng.choice(areas)
            district = rng.randrange(1, 20 if len(area) == 1 else 30)
            postcode = (
                f"{area}{district} {rng.randrange(1, 10)}"
                f"{rng.choice(_UK_POST_LETTERS)}{rng.choice(_UK_POST_LETTERS)}"
            )
            street, suffix = rng.choice(self.streets)
        elif country == "IE":
            town, keys, area_code = rng.choice(_IE_TOWNS)
            unique = rng.choice(_EIRCODE_LETTERS) + "".join(
                rng.choice(_EIRCODE_CHARS) for _ in range(3)
            )
            postcode = f"{rng.choice(keys)} {unique}"
            street, suffix = rng.choice(self.streets)
        else:
            town, prefixes, area_code = rng.choice(_US_TOWNS)
            postcode = rng.choice(prefixes) + self._digits(2)
            street, suffix = rng.choice(self.us_streets)
        house = str(rng.randrange(1, 250 if country != "US" else 3000))
        flat = f"Flat {rng.randrange(1, 30)}" if country != "US" and rng.random() < 0.15 else None
        if country == "US" and rng.random() < 0.15:
            flat = f"Apt {rng.randrange(1, 40)}"
        return _Address(house, street, suffix, flat, town, postcode, country), area_code

    def dob(self, lo: float = 18, hi: float = 90, mode: float = 38) -> date:
        age_days = int(self.rng.triangular(lo, hi, mode) * 365.25)
        return END.date() - timedelta(days=age_days)

    # -- people -----------------------------------------------------------------------------
    def person(self, index: int, people: list[_Person]) -> _Person:
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
            country = _pick(rng, _COUNTRIES, _COUNTRY_CUM)
            locale = _pick(rng, *self.locale_mix[country])
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
            moved_at = _ts(rng, datetime(2019, 6, 1), datetime(2024, 12, 31))
        email = self.email(first, last, dob)
        alt_email = self.email(first, last, dob, work=True) if rng.random() < 0.12 else None
        return _Person(
            entity_id=f"cust-{index + 1:06d}", gender=gender, first=first, middle=middle,
            last=last, dob=dob, email=email, alt_email=alt_email, mobile=mobile,
            landline=landline, address=address, prev_address=prev_address, moved_at=moved_at,
        )  # fmt: skip

    @staticmethod
    def _area_code(address: _Address) -> str:
        towns = {"GB": _UK_TOWNS, "IE": _IE_TOWNS, "US": _US_TOWNS}[address.country]
        for town, _, code in towns:
            if town == address.city:
                return code
        return "020"


# -- per-copy variation -----------------------------------------------------------------------

_MISSING = {  # share of copies without the value, per system
    "crm": {"email": 0.12, "phone": 0.08, "dob": 0.06},
    "ecommerce": {"email": 0.03, "phone": 0.15, "dob": 0.12},
    "loyalty": {"email": 0.10, "phone": 0.10, "dob": 0.05},
}


@dataclass(slots=True)
class _View:
    """One source's idea of a person, before source-specific formatting."""

    first: str
    middle: str | None
    last: str
    dob: date | None
    gender: str
    email: str | None
    phone: _Phone | None
    address: _Address


def _vary_name(rng: random.Random, name: str) -> str:
    if not name.isascii() and rng.random() < 0.35:
        name = unidecode(name)
    r = rng.random()
    if r < 0.03:
        name = _typo(rng, name)
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
        local = _typo(rng, local)
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


def _view(rng: random.Random, person: _Person, system: str, stale: bool) -> _View:
    missing = _MISSING[system]
    first = person.first
    nicks = _NICKNAMES.get(first)
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
    phone: _Phone | None = None
    if rng.random() >= missing["phone"]:
        if system == "ecommerce":
            phone = person.mobile
        elif person.mobile and person.landline:
            phone = person.landline if rng.random() < 0.4 else person.mobile
        else:
            phone = person.mobile or person.landline
    address = person.prev_address if stale and person.prev_address else person.address
    return _View(first, middle, last, dob, person.gender, email, phone, address)


def _phone_national(p: _Phone) -> str:
    d = p.digits
    if p.country == "US":
        return f"({d[:3]}) {d[3:6]}-{d[6:]}"
    rest = d[p.area :]
    if len(rest) == 8:
        rest = f"{rest[:4]} {rest[4:]}"
    elif len(rest) == 7:
        rest = f"{rest[:3]} {rest[3:]}"
    return f"{d[: p.area]} {rest}"


def _phone_e164(p: _Phone) -> str:
    if p.country == "US":
        return f"+1{p.digits}"
    return ("+44" if p.country == "GB" else "+353") + p.digits[1:]


def _phone_international(p: _Phone) -> str:
    if p.country == "US":
        d = p.digits
        return f"+1 {d[:3]}-{d[3:6]}-{d[6:]}"
    cc = "+44" if p.country == "GB" else "+353"
    return f"{cc} {_phone_national(p)[1:]}"


def _format_phone(rng: random.Random, p: _Phone | None, system: str) -> str | None:
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


def _format_postcode(rng: random.Random, postcode: str, no_space: float, lower: float) -> str:
    r = rng.random()
    if r < no_space:
        return postcode.replace(" ", "")
    if r < no_space + lower:
        return postcode.lower()
    return postcode


def _street_line(rng: random.Random, a: _Address) -> str:
    suffix = a.suffix[1] if rng.random() < 0.25 else a.suffix[0]
    line = f"{a.house} {a.street} {suffix}"
    r = rng.random()
    if r < 0.03:
        line = line.upper()
    elif r < 0.05:
        line = line.lower()
    return line


def _city(rng: random.Random, city: str) -> str:
    r = rng.random()
    if r < 0.04:
        return city.upper()
    if r < 0.06:
        return city.lower()
    return city


_TITLES = {"M": ("Mr", "Mr.", "Dr", "MR"), "F": ("Mrs", "Ms", "Miss", "Mrs.", "Dr")}


_CRM_COUNTRY_CUM = {c: _weighted(options) for c, options in _CRM_COUNTRY.items()}


def _crm_row(rng: random.Random, v: _View, key: str, updated: datetime) -> list[str]:
    a = v.address
    title = ""
    if rng.random() < 0.85:
        options = _TITLES[v.gender]
        title = options[0] if rng.random() < 0.6 else rng.choice(options)
    middle = ""
    if v.middle:
        r = rng.random()
        middle = v.middle if r < 0.7 else (v.middle[0] if r < 0.9 else "")
    street = _street_line(rng, a)
    if a.flat:
        street = f"{a.flat}, {street}"
    gender = "" if rng.random() < 0.1 else v.gender
    country = ""
    if rng.random() >= 0.02:
        country = _pick(rng, *_CRM_COUNTRY_CUM[a.country])
    return [
        key, title, v.first, middle, v.last,
        v.dob.strftime("%d/%m/%Y") if v.dob else "", gender, v.email or "",
        _format_phone(rng, v.phone, "crm") or "", street, _city(rng, a.city),
        _format_postcode(rng, a.postcode, 0.10, 0.05), country, updated.isoformat(),
    ]  # fmt: skip


def _full_name(rng: random.Random, v: _View) -> str:
    r = rng.random()
    if r < 0.12:
        return f"{v.last.upper()}, {v.first}"
    if r < 0.17:
        return f"{v.last}, {v.first}"
    if r < 0.22 and v.middle:
        return f"{v.first} {v.middle} {v.last}"
    return f"{v.first} {v.last}"


def _ecommerce_obj(
    rng: random.Random, v: _View, key: str | None, created: datetime, updated: datetime
) -> dict[str, Any]:
    a = v.address
    line1, line2 = _street_line(rng, a), None
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
    obj["mobile"] = _format_phone(rng, v.phone, "ecommerce")
    obj["dob"] = v.dob.isoformat() if v.dob else None
    obj["address_line1"] = line1
    if line2 is not None or rng.random() < 0.5:
        obj["address_line2"] = line2  # absent and null both occur in the wild
    obj["city"] = _city(rng, a.city)
    obj["postal_code"] = _format_postcode(rng, a.postcode, 0.15, 0.10)
    obj["country_code"] = country
    obj["created_at"] = created.isoformat() + "Z"
    obj["updated_at"] = updated.isoformat() + "Z"
    return obj


def _json(obj: dict[str, Any]) -> str:
    return json.dumps(obj, ensure_ascii=False)


@dataclass(slots=True)
class _Copy:
    person: _Person
    stale: bool
    updated: datetime


def _copies(rng: random.Random, people: list[_Person]) -> dict[str, list[_Copy]]:
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
                    updated = _ts(rng, datetime(2019, 1, 1))
                elif stale:
                    updated = _ts(rng, START, person.moved_at)
                else:
                    updated = _ts(rng, person.moved_at)
                by_system[system].append(_Copy(person, stale, updated))
    for copies in by_system.values():
        rng.shuffle(copies)
    return by_system


def _unique_keys(count: int, make: Any) -> list[str]:
    seen: set[str] = set()
    keys: list[str] = []
    while len(keys) < count:
        key = make()
        if key not in seen:
            seen.add(key)
            keys.append(key)
    return keys


def _malformed_positions(rng: random.Random, total: int, count: int) -> list[int]:
    """Row positions (in the final file) for the malformed rows, spread through the file."""
    return sorted(rng.sample(range(total + count), count))


def _write_crm(
    rng: random.Random, path: Path, copies: list[_Copy], people: list[_Person]
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
                writer.writerow(_crm_row(rng, _view(rng, c.person, "crm", c.stale), key, c.updated))
                truth.append((key, c.person.entity_id))
            else:
                person = people[rng.randrange(len(people))]
                fields = _crm_row(rng, _view(rng, person, "crm", False), key, _ts(rng))
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


def _write_ecommerce(
    rng: random.Random, path: Path, copies: list[_Copy], people: list[_Person]
) -> tuple[int, list[tuple[str, str]], list[tuple[str, datetime]]]:
    width = 6
    while 16**width < 4 * (len(copies) + 3):
        width += 1
    keys = _unique_keys(len(copies) + 3, lambda: f"A-{rng.getrandbits(4 * width):0{width}x}")
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
                created = _ts(rng, START, c.updated)
                v = _view(rng, c.person, "ecommerce", c.stale)
                handle.write(_json(_ecommerce_obj(rng, v, key, created, c.updated)) + "\n")
                truth.append((key, c.person.entity_id))
                accounts.append((key, created))
            else:
                person = people[rng.randrange(len(people))]
                updated = _ts(rng)
                v = _view(rng, person, "ecommerce", False)
                obj = _ecommerce_obj(rng, v, None if kind == "no_key" else key, updated, updated)
                text = _json(obj)
                if kind == "truncated":
                    # Cut inside the full_name string so the line can never parse.
                    cut = text.index('"full_name": "') + len('"full_name": "') + 2
                    text = text[:cut]
                handle.write(text + "\n")
    return len(keys), truth, accounts


def _write_loyalty(
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
        v = _view(rng, c.person, "loyalty", c.stale)
        a = v.address
        cols["member_no"].append(member_no)
        cols["given_name"].append(v.first)
        cols["family_name"].append(v.last)
        cols["date_of_birth"].append(v.dob)
        cols["sex"].append(
            None if rng.random() < 0.12 else ("male" if v.gender == "M" else "female")
        )
        cols["email"].append(v.email)
        cols["phone"].append(_format_phone(rng, v.phone, "loyalty"))
        cols["postcode"].append(_format_postcode(rng, a.postcode, 0.15, 0.05))
        cols["town"].append(_city(rng, a.city))
        cols["country"].append(_ISO3[a.country])
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


# ---------------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------------

_BRANDS = (
    "Sonara", "Voltix", "Lumora", "Kestrel", "Nordvik", "Aurelle", "Brightwell", "Zentro",
    "Haverly", "Quillon", "Tevani", "Orbix", "Pellham", "Arcwave", "Fennick", "Glimra",
    "Iverson", "Korvath", "Marlowe", "Novalux", "Oakridge", "Primacasa", "Rendell", "Stratovo",
    "Tidewell", "Vantor", "Wexley", "Yarrow", "Zephyra", "Calloway",
)  # fmt: skip
_MANUFACTURER_FORMS = (
    "{} Electronics Ltd",
    "{} Group plc",
    "{} Home Appliances Ltd",
    "{} GmbH",
    "{} Technologies Inc.",
    "{} UK Ltd",
)
# category key: (ERP category, marketplace category, types with synonyms, price range, colours)
_CATEGORIES: dict[str, tuple[str, str, tuple[tuple[str, ...], ...], tuple[int, int],
                             tuple[str, ...]]] = {
    "headphones": ("Audio > Headphones", "Electronics > Headphones & Earphones",
                   (("Wireless Headphones", "Bluetooth Headphones", "Over-Ear Wireless Headphones"),
                    ("Noise Cancelling Headphones", "ANC Headphones"),
                    ("True Wireless Earbuds", "Wireless Earbuds", "TWS Earphones")),
                   (29, 349), ("Black", "White", "Silver", "Navy", "Rose Gold")),
    "speakers": ("Audio > Speakers", "Electronics > Speakers",
                 (("Bluetooth Speaker", "Portable Wireless Speaker"), ("Smart Speaker",),
                  ("Soundbar", "Sound Bar")),
                 (25, 499), ("Black", "Grey", "Blue", "Red")),
    "tv": ("Vision > Televisions", "Electronics > TV & Home Cinema",
           (("55\" 4K Smart TV", "55 inch 4K UHD Smart Television"),
            ("65\" QLED TV", "65 inch QLED Smart TV"), ("43\" Full HD TV", "43 inch FHD TV")),
           (249, 1899), ("Black",)),
    "laptops": ("Computing > Laptops", "Computers > Laptops & Notebooks",
                (("14\" Laptop", "14 inch Notebook"), ("Ultrabook", "Thin & Light Laptop"),
                 ("Gaming Laptop",)),
                (299, 1999), ("Silver", "Space Grey", "Black")),
    "monitors": ("Computing > Monitors", "Computers > Monitors",
                 (("27\" QHD Monitor", "27 inch 1440p Monitor"), ("24\" Full HD Monitor",),
                  ("34\" Curved Monitor", "34 inch Ultrawide Curved Monitor")),
                 (99, 899), ("Black", "White")),
    "kettles": ("Small Appliances > Kettles", "Home & Kitchen > Kettles",
                (("Electric Kettle 1.7L", "1.7 Litre Electric Kettle"), ("Cordless Kettle",),
                 ("Glass Kettle", "Illuminated Glass Kettle")),
                (19, 129), ("Black", "White", "Cream", "Stainless Steel")),
    "toasters": ("Small Appliances > Toasters", "Home & Kitchen > Toasters",
                 (("2-Slice Toaster", "2 Slice Toaster"), ("4-Slice Toaster", "Four Slice Toaster")),
                 (19, 149), ("Black", "White", "Cream", "Red")),
    "coffee": ("Small Appliances > Coffee", "Home & Kitchen > Coffee Machines",
               (("Bean-to-Cup Coffee Machine", "Bean to Cup Coffee Maker"),
                ("Espresso Machine", "Espresso Coffee Machine"), ("Pod Coffee Maker",)),
               (49, 899), ("Black", "Silver")),
    "vacuums": ("Floorcare > Vacuums", "Home & Garden > Vacuum Cleaners",
                (("Cordless Vacuum Cleaner", "Cordless Stick Vacuum"), ("Robot Vacuum",
                 "Robot Vacuum Cleaner"), ("Bagless Upright Vacuum",)),
                (79, 599), ("Grey", "Purple", "Red", "Black")),
    "wearables": ("Wearables > Smartwatches", "Electronics > Wearable Technology",
                  (("Smartwatch", "Smart Watch"), ("Fitness Tracker", "Activity Tracker")),
                  (29, 399), ("Black", "Silver", "Pink", "Green")),
    "power": ("Accessories > Power", "Electronics > Chargers & Power Banks",
              (("USB-C Fast Charger 65W", "65W USB C Charger"),
               ("Power Bank 20000mAh", "20000mAh Portable Charger"), ("Wireless Charging Pad",)),
              (12, 79), ("Black", "White")),
}  # fmt: skip
_COLOUR_CODES = {
    "Black": "BK", "White": "WH", "Silver": "SV", "Navy": "NV", "Rose Gold": "RG", "Grey": "GY",
    "Blue": "BL", "Red": "RD", "Space Grey": "SG", "Cream": "CR", "Stainless Steel": "SS",
    "Purple": "PU", "Pink": "PK", "Green": "GN",
}  # fmt: skip
_ERP_ABBREV = {
    "Wireless": "WRLS", "Headphones": "HDPHN", "Bluetooth": "BT", "Speaker": "SPKR",
    "Cordless": "CRDLS", "Vacuum": "VAC", "Cleaner": "CLNR", "Coffee": "COF",
    "Machine": "MACH", "Monitor": "MON", "Laptop": "LPTP", "Kettle": "KTL", "Toaster": "TSTR",
    "Noise": "NS", "Cancelling": "CANC", "Earbuds": "EARBDS", "Smartwatch": "SMARTWTCH",
    "Charger": "CHGR", "Charging": "CHG", "Curved": "CRVD",
}  # fmt: skip
_SELLERS = (
    "TechDirect UK", "GadgetHub", "ElectroWorld Outlet", "HomeStore Direct", "PrimeDeals Ltd",
    "Value Electricals", "Brit Bargains", "Kitchen Kingdom", "AudioPlanet", "The Appliance Shed",
    "Digital Depot", "Northern Electricals", "SmartBuy UK", "CityTech", "Warehouse Wonders",
    "Crate & Current", "Bright Sparks Retail", "EuroTech IE", "MegaMart Online", "Volt & Co",
)  # fmt: skip
_FEATURES = (
    "Fast UK Delivery",
    "2 Year Warranty",
    "Latest Model",
    "Genuine UK Stock",
    "Free Returns",
    "Official Retailer",
)


@dataclass(frozen=True, slots=True)
class _Product:
    entity_id: str
    brand: str
    manufacturer: str
    category: str
    type_names: tuple[str, ...]
    model: str
    colour: str
    mpn: str
    gtin: str
    price: float


def _price(value: float) -> float:
    # Retail prices end in .99 or .49, which also keeps float formatting short and stable.
    return max(4.99, float(int(value)) + (0.99 if value % 1 >= 0.5 else 0.49))


def _make_products(rng: random.Random, count: int) -> list[_Product]:
    products: list[_Product] = []
    used_gtins: set[str] = set()
    used_models: set[tuple[str, str]] = set()
    brand_categories = {b: rng.sample(sorted(_CATEGORIES), rng.randrange(2, 5)) for b in _BRANDS}
    brand_maker = {b: rng.choice(_MANUFACTURER_FORMS).format(b) for b in _BRANDS}
    letters = "ABCDEFGHJKLMNPRSTVWXZ"

    def gtin() -> str:
        while True:
            prefix = rng.choices(("50", "0", "40", "84", "87"), (60, 20, 8, 6, 6))[0]
            body = prefix + str(rng.randrange(10 ** (12 - len(prefix)))).zfill(12 - len(prefix))
            code = body + _gtin_check(body)
            if code not in used_gtins:
                used_gtins.add(code)
                return code

    while len(products) < count:
        brand = rng.choice(_BRANDS)
        category = rng.choice(brand_categories[brand])
        _, _, types, (lo, hi), colours = _CATEGORIES[category]
        type_names = rng.choice(types)
        prefix = rng.choice(letters) + (rng.choice(letters) if rng.random() < 0.4 else "")
        step = rng.choice((100, 10, 1000))
        base = rng.uniform(lo, (lo + hi) / 2)
        # A family: one brand, type and prefix with several model numbers, so the look-alikes
        # (X200 vs X300) differ only by a digit in the model and by the GTIN.
        for tier in range(1, rng.randrange(2, 6)):
            model = f"{prefix}{tier * step}"
            if (brand, model) in used_models:
                continue
            used_models.add((brand, model))
            r = rng.random()
            n_colours = 1 if r < 0.65 else (2 if r < 0.9 else 3)
            chosen = rng.sample(colours, min(n_colours, len(colours)))
            for colour in chosen:
                # The colour is only in the part number when the model comes in several.
                mpn = model if len(chosen) == 1 else f"{model}-{_COLOUR_CODES[colour]}"
                products.append(
                    _Product(
                        entity_id=f"prod-{len(products) + 1:06d}", brand=brand,
                        manufacturer=brand_maker[brand], category=category,
                        type_names=type_names, model=model, colour=colour, mpn=mpn, gtin=gtin(),
                        price=_price(min(hi, base * (1 + 0.35 * (tier - 1)))),
                    )
                )  # fmt: skip
                if len(products) == count:
                    return products
    return products


def _ean_spelling(rng: random.Random, gtin: str) -> str:
    r = rng.random()
    if gtin.startswith("0") and r < 0.5:
        return gtin[1:]  # stored as UPC-A / leading zero lost in a spreadsheet
    if r < 0.03:
        return ""
    if r < 0.07:
        return f"{gtin[0]} {gtin[1:7]} {gtin[7:]}"
    if r < 0.10:
        return f"{gtin[0]}-{gtin[1:7]}-{gtin[7:]}"
    return gtin


def _erp_description(rng: random.Random, p: _Product) -> str:
    type_name = p.type_names[0]
    r = rng.random()
    if r < 0.5:
        return f"{p.brand} {p.model} {type_name} {p.colour}"
    if r < 0.8:
        words = [_ERP_ABBREV.get(w, w.upper()) for w in type_name.split()]
        return f"{p.brand.upper()} {p.model} {' '.join(words)} {_COLOUR_CODES[p.colour]}"
    return f"{type_name} {p.model} - {p.colour}"


def _model_spelling(rng: random.Random, model: str) -> str:
    r = rng.random()
    if r < 0.7:
        return model
    split = len(model.rstrip("0123456789"))
    if r < 0.85:
        return f"{model[:split]}-{model[split:]}"
    if r < 0.95:
        return model.lower()
    return f"{model[:split]} {model[split:]}"


def _listing_title(rng: random.Random, p: _Product) -> str:
    model = _model_spelling(rng, p.model)
    type_name = rng.choice(p.type_names)
    brand, colour = p.brand, p.colour
    template = rng.randrange(6)
    if template == 0:
        return f"{brand} {model} {type_name} - {colour}"
    if template == 1:
        return f"{brand} {type_name} {model} ({colour})"
    if template == 2:
        return f"{brand} {model} {type_name.lower()}, {colour.lower()}, {rng.choice(_FEATURES)}"
    if template == 3:
        return f"{type_name} {model} by {brand} - {colour}"
    if template == 4:
        return f"NEW {brand.upper()} {model} {type_name} {colour} | {rng.choice(_FEATURES)}"
    return f"{brand} {model} {type_name}"  # no colour: look-alike variants become ambiguous


def _bad_check_digit(rng: random.Random, gtin: str) -> str:
    i = rng.randrange(len(gtin))
    digit = str((int(gtin[i]) + rng.randrange(1, 10)) % 10)
    return gtin[:i] + digit + gtin[i + 1 :]


def _write_products(
    rng: random.Random, landing: Path, products: list[_Product]
) -> tuple[dict[str, int], list[tuple[str, str, str]], list[tuple[str, float]],
           list[tuple[str, float, str]]]:  # fmt: skip
    in_erp: list[_Product] = []
    listings: list[tuple[_Product, int]] = []  # (product, copy number)
    for p in products:
        erp = rng.random() < 0.97
        market = rng.random() < 0.70 or not erp
        if erp:
            in_erp.append(p)
        if market:
            r = rng.random()
            n = 1 if r < 0.88 else (2 if r < 0.98 else 3)
            listings.extend((p, i) for i in range(n))
    rng.shuffle(in_erp)
    rng.shuffle(listings)

    truth: list[tuple[str, str, str]] = []
    erp_items: list[tuple[str, float]] = []
    item = 4000
    with (landing / ERP_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(ERP_COLUMNS)
        for p in in_erp:
            item += rng.randrange(1, 4)
            key = f"SKU-{item:06d}"
            brand = p.brand.upper() if rng.random() < 0.05 else p.brand
            erp_category = _CATEGORIES[p.category][0]
            writer.writerow([
                key, _erp_description(rng, p), brand, p.manufacturer, p.mpn,
                _ean_spelling(rng, p.gtin), erp_category, f"{p.price:.2f}", "GBP",
                _ts(rng, datetime(2020, 1, 1)).isoformat(),
            ])  # fmt: skip
            truth.append(("erp", key, p.entity_id))
            erp_items.append((key, p.price))

    listing_ids = _unique_keys(len(listings), lambda: f"MP-{rng.getrandbits(40):010X}")
    market_items: list[tuple[str, float, str]] = []
    with (landing / MARKETPLACE_FILE).open("w", newline="", encoding="utf-8") as handle:
        sellers_used: dict[str, list[str]] = {}
        for (p, _), key in zip(listings, listing_ids, strict=True):
            taken = sellers_used.setdefault(p.entity_id, [])
            seller = rng.choice([s for s in _SELLERS if s not in taken])
            taken.append(seller)
            r = rng.random()
            brand: str | None = p.brand
            if r < 0.08:
                brand = p.brand.lower()
            elif r < 0.15:
                brand = p.brand.upper()
            elif r < 0.25:
                brand = None
            r = rng.random()
            gtin: str | None = p.gtin
            if r < 0.18:
                gtin = None
            elif r < 0.24:
                gtin = _bad_check_digit(rng, p.gtin)
            elif r < 0.28 and p.gtin.startswith("0"):
                gtin = p.gtin[1:]
            currency = "EUR" if rng.random() < 0.05 else "GBP"
            price = p.price * rng.uniform(0.85, 1.05) * (1.17 if currency == "EUR" else 1.0)
            obj: dict[str, Any] = {"listing_id": key, "title": _listing_title(rng, p)}
            if brand is not None or rng.random() < 0.5:
                obj["brand"] = brand
            if gtin is not None or rng.random() < 0.5:
                obj["gtin"] = gtin
            obj["price"] = _price(price)
            obj["currency"] = currency
            obj["category"] = _CATEGORIES[p.category][1]
            obj["seller"] = seller
            handle.write(_json(obj) + "\n")
            truth.append(("marketplace", key, p.entity_id))
            market_items.append((key, obj["price"], currency))
    counts = {ERP_FILE: len(in_erp), MARKETPLACE_FILE: len(listings)}
    return counts, truth, erp_items, market_items


# ---------------------------------------------------------------------------------------------
# Events
# ---------------------------------------------------------------------------------------------


def _skewed(rng: random.Random, n: int) -> int:
    # A few customers and products account for most activity.
    return int(n * rng.random() ** 2)


def _quantity(rng: random.Random) -> int:
    r = rng.random()
    return 1 if r < 0.8 else (2 if r < 0.93 else rng.randrange(3, 7))


def _write_events(
    rng: random.Random,
    landing: Path,
    customers: int,
    accounts: list[tuple[str, datetime]],
    members: list[int],
    erp_items: list[tuple[str, float]],
    listings: list[tuple[str, float, str]],
) -> dict[str, int]:
    accounts = accounts[:]
    rng.shuffle(accounts)
    listings = listings[:]
    rng.shuffle(listings)

    orders: list[tuple[datetime, str, tuple[str, float, str], int, str]] = []
    if accounts and listings:
        for _ in range(round(customers * ORDERS_PER_CUSTOMER)):
            account, created = accounts[_skewed(rng, len(accounts))]
            listing = listings[_skewed(rng, len(listings))]
            status = "CANCELLED" if rng.random() < 0.06 else "PLACED"
            orders.append((_ts(rng, created), account, listing, _quantity(rng), status))
    orders.sort(key=lambda o: (o[0], o[1]))
    with (landing / ORDERS_FILE).open("w", newline="", encoding="utf-8") as handle:
        for i, (at, account, (listing_id, price, currency), qty, status) in enumerate(orders):
            obj = {
                "order_id": f"WO-{i + 1:09d}", "account_id": account, "listing_id": listing_id,
                "quantity": qty, "amount": round(qty * price, 2), "currency": currency,
                "ordered_at": at.isoformat() + "Z", "status": status,
            }  # fmt: skip
            handle.write(_json(obj) + "\n")

    txns: list[tuple[datetime, int, tuple[str, float], int, str]] = []
    if members and erp_items:
        stores = [f"S{n:03d}" for n in rng.sample(range(1, 400), 40)]
        for _ in range(round(customers * POS_PER_CUSTOMER)):
            member = members[_skewed(rng, len(members))]
            item = erp_items[_skewed(rng, len(erp_items))]
            txns.append(
                (_ts(rng, datetime(2021, 1, 1)), member, item, _quantity(rng), rng.choice(stores))
            )
    txns.sort(key=lambda t: (t[0], t[1]))
    with (landing / POS_FILE).open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(POS_COLUMNS)
        for i, (at, member, (item_no, price), qty, store) in enumerate(txns):
            writer.writerow([
                f"T{i + 1:010d}", member, item_no, qty, f"{qty * price:.2f}", "GBP",
                at.strftime("%Y-%m-%d %H:%M:%S"), store,
            ])  # fmt: skip

    clicks: list[tuple[datetime, str, str, str]] = []
    if accounts and listings:
        for _ in range(round(customers * CLICKS_PER_CUSTOMER)):
            account, created = accounts[_skewed(rng, len(accounts))]
            listing_id = listings[_skewed(rng, len(listings))][0]
            event = "ADD_TO_CART" if rng.random() < 0.2 else "VIEW"
            at = _ts(rng, created) + timedelta(milliseconds=rng.randrange(1000))
            clicks.append((at, account, listing_id, event))
    clicks.sort(key=lambda c: (c[0], c[1]))
    with (landing / CLICKS_FILE).open("w", newline="", encoding="utf-8") as handle:
        for at, account, listing_id, event in clicks:
            obj = {
                "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                "account_id": account, "listing_id": listing_id, "event": event,
                "ts": at.isoformat(timespec="milliseconds") + "Z",
            }  # fmt: skip
            handle.write(_json(obj) + "\n")
    return {ORDERS_FILE: len(orders), POS_FILE: len(txns), CLICKS_FILE: len(clicks)}


# ---------------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------------


def _write_truth(path: Path, rows: list[tuple[str, str, str]]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(TRUTH_HEADER)
        writer.writerows(rows)


def generate_demo_data(out_dir: Path, customers: int = 2000, seed: int = 42) -> DemoSummary:
    """Write sample landing files and their ground truth under `out_dir`; see the module docs.

    Existing files at the same paths are overwritten; other files are left alone.
    """
    if customers < 1:
        raise ValueError("customers must be at least 1")
    out_dir = Path(out_dir)
    landing = out_dir / "landing"
    truth_dir = out_dir / "truth"
    for rel in (
        CRM_FILE,
        ECOMMERCE_FILE,
        LOYALTY_FILE,
        ERP_FILE,
        MARKETPLACE_FILE,
        ORDERS_FILE,
        POS_FILE,
        CLICKS_FILE,
    ):
        (landing / rel).parent.mkdir(parents=True, exist_ok=True)
    truth_dir.mkdir(parents=True, exist_ok=True)

    # Independent streams per concern, so changing one generator does not reshuffle the others.
    def stream(name: str) -> random.Random:
        return random.Random(f"e360-demo:{seed}:{name}")

    factory = _CustomerFactory(stream("people"))
    people: list[_Person] = []
    for i in range(customers):
        people.append(factory.person(i, people))
    copies = _copies(stream("copies"), people)

    files: dict[str, int] = {}
    crm_rows, crm_truth = _write_crm(stream("crm"), landing / CRM_FILE, copies["crm"], people)
    eco_rows, eco_truth, accounts = _write_ecommerce(
        stream("ecommerce"), landing / ECOMMERCE_FILE, copies["ecommerce"], people
    )
    loy_rows, loy_truth, members = _write_loyalty(
        stream("loyalty"), landing / LOYALTY_FILE, copies["loyalty"]
    )
    files[CRM_FILE], files[ECOMMERCE_FILE], files[LOYALTY_FILE] = crm_rows, eco_rows, loy_rows
    customer_truth = (
        [("crm", k, e) for k, e in crm_truth]
        + [("ecommerce", k, e) for k, e in eco_truth]
        + [("loyalty", k, e) for k, e in loy_truth]
    )
    _write_truth(truth_dir / "customers.csv", customer_truth)

    product_rng = stream("products")
    products = _make_products(product_rng, max(50, customers // 10))
    counts, product_truth, erp_items, market_items = _write_products(product_rng, landing, products)
    files.update(counts)
    _write_truth(truth_dir / "products.csv", product_truth)

    files.update(
        _write_events(
            stream("events"), landing, customers, accounts, members, erp_items, market_items
        )
    )
    return DemoSummary(
        files=files,
        customers=len({e for _, _, e in customer_truth}),
        products=len({e for _, _, e in product_truth}),
    )
