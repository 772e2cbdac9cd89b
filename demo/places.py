"""Where the demo's people live: towns with their postcode areas and landline codes (GB, IE,
US), allocated phone number ranges, street names, and the phone and address records.

The ranges are real allocations, so a phone validator rejecting a generated number points at
injected noise, not at the generator.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import accumulate

# (town, postcode areas, landline area code)
UK_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
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
UK_TOWN_WEIGHTS = tuple(
    12 if t[0] == "London" else (3 if t[2] in {"0161", "0121"} else 1) for t in UK_TOWNS
)
# (town, Eircode routing keys, landline area code)
IE_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("Dublin", ("D02", "D04", "D06", "D08", "D12", "D15", "D24"), "01"),
    ("Cork", ("T12", "T23"), "021"), ("Galway", ("H91",), "091"),
    ("Limerick", ("V94",), "061"), ("Waterford", ("X91",), "051"),
)  # fmt: skip
# (town, ZIP prefix, area code)
US_TOWNS: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("New York", ("100", "101"), "212"), ("Boston", ("021",), "617"),
    ("Chicago", ("606",), "312"), ("San Francisco", ("941",), "415"),
    ("Seattle", ("981",), "206"), ("Austin", ("787",), "512"), ("Denver", ("802",), "303"),
    ("Miami", ("331",), "305"),
)  # fmt: skip
# Number ranges that are really allocated, so phone validators accept the generated numbers:
# mobiles avoid 07700 900xxx (reserved for drama) and the 076 pager range; big-city landlines
# only start with the digits their area actually uses.
UK_MOBILE_PREFIXES = tuple(f"07{n}" for n in (*range(40, 60), *range(71, 91), *range(92, 100)))
UK_LANDLINE_LEADING = {
    "020": "378", "023": "89", "024": "7", "028": "9", "029": "2", "0113": "2", "0114": "2",
    "0115": "9", "0116": "2", "0117": "9", "0118": "9", "0121": "234567", "0131": "2345678",
}  # fmt: skip
COUNTRIES = ("GB", "IE", "US")
COUNTRY_CUM = tuple(accumulate((0.88, 0.07, 0.05)))
CRM_COUNTRY: dict[str, tuple[tuple[str, float], ...]] = {
    "GB": (("United Kingdom", 0.62), ("UK", 0.33), ("united kingdom", 0.05)),
    "IE": (("Ireland", 1.0),),
    "US": (("United States", 1.0),),
}
ISO3 = {"GB": "GBR", "IE": "IRL", "US": "USA"}

STREET_WORDS = (
    "Church", "Station", "Victoria", "Park", "Mill", "High", "Green", "Manor", "Queens", "Kings",
    "New", "School", "Oak", "Elm", "Beech", "Ash", "Willow", "Cedar", "Chestnut", "Maple",
    "Orchard", "Meadow", "Brook", "River", "Bridge", "Castle", "Abbey", "Priory", "Market",
    "North", "South", "East", "West", "York", "Albert", "George", "Windsor", "Grange", "Hawthorn",
    "Holly", "Ivy", "Lime", "Rose", "Springfield", "Stanley", "Westfield", "Highfield",
    "Fairfield", "Woodland", "Hillside", "Riverside", "Lakeside", "Valley", "Moor", "Heath",
    "Forest", "Spring", "Well", "Cross", "Farm", "Chapel", "Hall", "Tower", "Garden", "Cliff",
)  # fmt: skip
STREET_SUFFIXES = (
    ("Road", "Rd"), ("Street", "St"), ("Avenue", "Ave"), ("Lane", "Ln"), ("Close", "Cl"),
    ("Drive", "Dr"), ("Way", "Way"), ("Gardens", "Gdns"), ("Crescent", "Cres"),
    ("Grove", "Gr"), ("Place", "Pl"), ("Terrace", "Terr"), ("Court", "Ct"), ("Square", "Sq"),
    ("Mews", "Mews"), ("Rise", "Rise"), ("Walk", "Walk"), ("Hill", "Hill"),
)  # fmt: skip
US_STREET_WORDS = (*STREET_WORDS, "Main", "Washington", "Lincoln", "Pine", "Madison")
US_SUFFIXES = (
    ("Street", "St"),
    ("Avenue", "Ave"),
    ("Road", "Rd"),
    ("Drive", "Dr"),
    ("Boulevard", "Blvd"),
)


UK_POST_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
EIRCODE_CHARS = "ACDEFHKNPRTVWXY0123456789"
EIRCODE_LETTERS = "ACDEFHKNPRTVWXY"


@dataclass(frozen=True, slots=True)
class Phone:
    country: str  # GB / IE / US
    digits: str  # national digits, trunk 0 included for GB/IE
    area: int  # length of the area/mobile prefix, for grouping


@dataclass(frozen=True, slots=True)
class Address:
    house: str
    street: str
    suffix: tuple[str, str]  # (full, abbreviated)
    flat: str | None
    city: str
    postcode: str
    country: str
