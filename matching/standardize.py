"""Attribute standardisation applied once to every record before entity resolution.

Every public function accepts whatever value ingestion handed over (usually `str | None`,
but ints, floats, dates or arbitrary objects can turn up) and returns the normalised value,
or None when the input is empty or unusable. None of them raise on bad data: a single odd
value must not abort a 500k-record batch.

Hot paths are memoised with `functools.lru_cache` on the *string* form of the input. The
public wrappers coerce to `str` first so that unhashable garbage never reaches the cache.
"""

from __future__ import annotations

import datetime as _dt
import math
import numbers
import re
import unicodedata
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import jellyfish
import phonenumbers
from cleanco import basename as _legal_basename
from phonenumbers import PhoneNumberFormat
from unidecode import unidecode

from matching import embeddings, lsh, text
from matching.nicknames import NICKNAMES

__all__ = [
    "clean_text",
    "colour",
    "company_name",
    "company_name_tokens",
    "complete_products",
    "country",
    "currency",
    "date",
    "email",
    "extract_model_number",
    "first_name_canonical",
    "gender",
    "gtin",
    "gtin_check_digit_ok",
    "model_number",
    "name",
    "phone",
    "phonetic",
    "postcode",
    "price",
    "split_full_name",
    "standardize_customer",
    "standardize_product",
    "standardize_products",
    "timestamp",
]

# Sized so the working set of a 500k-record batch (first names, cities, countries,
# postcodes, phones) stays resident without the cache growing without bound.
_CACHE_SIZE = 1 << 17


# ---------------------------------------------------------------------------------------
# Coercion and generic text
# ---------------------------------------------------------------------------------------


def _as_str(value: Any) -> str | None:
    """Best-effort string form of a raw value; None for anything that is not text-like."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    # bool is an int subclass, but True/False is never a meaningful attribute value.
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, float):
        if not math.isfinite(value):
            return None
        # CSV type inference turns "07700900123" or "5012345678900" into floats; drop the
        # spurious ".0" so digit-based fields survive.
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, Decimal):
        return str(value) if value.is_finite() else None
    if isinstance(value, bytes | bytearray):
        return bytes(value).decode("utf-8", errors="replace")
    return None


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_SURROGATES_RE = re.compile("[\ud800-\udfff]")


@lru_cache(maxsize=_CACHE_SIZE)
def _clean_str(s: str) -> str | None:
    # NFKC and unidecode are identities on ASCII, and most data is ASCII: skip them.
    if not s.isascii():
        # Lone surrogates (from badly decoded bytes) only make unidecode emit warnings.
        s = unidecode(unicodedata.normalize("NFKC", _SURROGATES_RE.sub("", s)))
    s = " ".join(s.lower().split())
    return s or None


def clean_text(value: Any) -> str | None:
    """NFKC + ASCII-fold + lowercase + collapse whitespace; empty -> None."""
    s = _as_str(value)
    return None if s is None else _clean_str(s)


# ---------------------------------------------------------------------------------------
# Person names
# ---------------------------------------------------------------------------------------

_TITLES = frozenset(
    {"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "professor", "sir", "dame", "rev", "revd"}
)
_SUFFIXES = frozenset({"jr", "jnr", "junior", "sr", "snr", "senior", "ii", "iii", "iv", "esq"})
# Particles glued to the following token, so "Van der Berg", "van der berg" and
# "Vanderberg" all become "vanderberg" (likewise "Mc Donald" -> "mcdonald").
_PARTICLES = frozenset(
    {
        "van", "von", "der", "den", "ter", "ten", "de", "del", "della", "di", "da", "la",
        "le", "du", "des", "dos", "das", "st", "mc", "mac", "al", "el",
    }
)  # fmt: skip
_APOSTROPHES_RE = re.compile(r"['`\u2018\u2019\u02bc]")
_NAME_JUNK_RE = re.compile(r"[^a-z\s-]+")
_HYPHEN_RE = re.compile(r"\s*-[\s-]*")


def _name_tokens(s: str) -> list[str]:
    """Cleaned name tokens with titles/suffixes removed but particles still separate."""
    s = _APOSTROPHES_RE.sub("", s)  # before folding: unidecode maps curly quotes to "'"
    cleaned = _clean_str(s)
    if cleaned is None:
        return []
    cleaned = _APOSTROPHES_RE.sub("", cleaned)
    cleaned = _NAME_JUNK_RE.sub(" ", cleaned)
    cleaned = _HYPHEN_RE.sub("-", cleaned)
    tokens = [t.strip("-") for t in cleaned.split()]
    tokens = [t for t in tokens if t]
    # Titles only lead and suffixes only trail, so a surname such as "Sir" or "Miss" in
    # the middle of a name survives.
    start, end = 0, len(tokens)
    while start < end and tokens[start] in _TITLES:
        start += 1
    while end > start and tokens[end - 1] in _SUFFIXES:
        end -= 1
    return tokens[start:end]


def _merge_particles(tokens: list[str]) -> list[str]:
    out: list[str] = []
    pending = ""
    for tok in tokens:
        if tok in _PARTICLES:
            pending += tok
        else:
            out.append(pending + tok)
            pending = ""
    if pending:
        # A trailing particle has nothing to attach to ("John De"): keep it as a word.
        out.append(pending)
    return out


@lru_cache(maxsize=_CACHE_SIZE)
def _name_str(s: str) -> str | None:
    return " ".join(_merge_particles(_name_tokens(s))) or None


def name(value: Any) -> str | None:
    """Clean a person-name component for matching.

    Lowercase ASCII, apostrophes removed ("O'Brien" -> "obrien"), other punctuation
    dropped except hyphens, leading titles and trailing suffixes removed, particles
    attached to the following word ("Mc Donald" -> "mcdonald").
    """
    s = _as_str(value)
    return None if s is None else _name_str(s)


def _nickname_to_formal(cleaned: str | None) -> str | None:
    if cleaned is None:
        return None
    return NICKNAMES.get(cleaned, cleaned)


def first_name_canonical(value: Any) -> str | None:
    """name() followed by nickname -> formal mapping ("Bill" -> "william")."""
    return _nickname_to_formal(name(value))


def _split_tokens(tokens: list[str]) -> tuple[str | None, str | None, str | None]:
    if not tokens:
        return None, None, None
    # The first token is always the given name, even if it looks like a particle
    # ("Van Morrison"); particles are only merged in the surname part.
    first, rest = tokens[0], _merge_particles(tokens[1:])
    if not rest:
        return first, None, None
    return first, " ".join(rest[:-1]) or None, rest[-1]


@lru_cache(maxsize=_CACHE_SIZE)
def _split_full_name_str(s: str) -> tuple[str | None, str | None, str | None]:
    # Drop comma-separated parts that are only titles/suffixes ("John Smith, Jr."), so the
    # remaining comma really signals "LAST, First Middle".
    raw_parts = s.split(",")
    parts = [p for p in raw_parts if _name_tokens(p)]
    if len(raw_parts) >= 2 and len(parts) == 1 and parts[0] is raw_parts[0]:
        only = _name_tokens(parts[0])
        if len(only) == 1:  # "Smith," / "Smith, Jr.": a lone word before a comma
            return None, None, only[0]
    if len(parts) >= 2:
        last_tokens = _name_tokens(parts[0])
        given_tokens = _name_tokens(" ".join(parts[1:]))
        last = " ".join(_merge_particles(last_tokens)) or None
        if not given_tokens:
            return None, None, last
        return given_tokens[0], " ".join(given_tokens[1:]) or None, last
    return _split_tokens(_name_tokens(" ".join(parts)))


def split_full_name(value: Any) -> tuple[str | None, str | None, str | None]:
    """(first, middle, last) from "First Middle Last" or "LAST, First Middle".

    Parts are in name() form. A single word is returned as the first name.
    """
    s = _as_str(value)
    return (None, None, None) if s is None else _split_full_name_str(s)


@lru_cache(maxsize=_CACHE_SIZE)
def _phonetic_str(cleaned: str) -> str | None:
    return " ".join(jellyfish.metaphone(t) for t in cleaned.split()) or None


def _phonetic(cleaned: str | None) -> str | None:
    return None if cleaned is None else _phonetic_str(cleaned)


def phonetic(value: Any) -> str | None:
    """Metaphone key of a person name in name() form, word by word ("Smyth" -> "SM0").

    A key of the sound survives the typos and spelling variants that break exact equality,
    so blocking and a comparison level can use it where the spelling differs.
    """
    return _phonetic(name(value))


# ---------------------------------------------------------------------------------------
# Organisation names
# ---------------------------------------------------------------------------------------

_COMPANY_JUNK_RE = re.compile(r"[^a-z0-9\s]+")
_COMPANY_STOPWORDS = frozenset({"the"})


@lru_cache(maxsize=_CACHE_SIZE)
def _company_name_str(s: str) -> str | None:
    cleaned = _clean_str(_APOSTROPHES_RE.sub("", s))
    if cleaned is None:
        return None
    cleaned = _APOSTROPHES_RE.sub("", cleaned)
    # cleanco reads legal forms with their punctuation ("s.a.", "gmbh & co. kg"), so it runs
    # before '&' and punctuation are replaced; a name that is only a legal form ("Co-op") stays.
    base = cleaned
    for _ in range(3):  # stacked forms: "co. ltd"
        stripped = _legal_basename(base)
        if not stripped or stripped == base:
            break
        base = stripped
    base = base.replace("&", " and ").replace("+", " and ")
    tokens = [t for t in _COMPANY_JUNK_RE.sub(" ", base).split() if t not in _COMPANY_STOPWORDS]
    return " ".join(tokens) or None


def company_name(value: Any) -> str | None:
    """An organisation's name for matching: lower-case ASCII, legal form removed (Ltd, Inc,
    GmbH, S.A.), '&' read as 'and', punctuation and 'the' dropped.

    "The Müller & Sons GmbH" -> "muller and sons"; "apple pan, the" -> "apple pan".
    """
    s = _as_str(value)
    return None if s is None else _company_name_str(s)


def company_name_tokens(name_value: str | None) -> str | None:
    """The distinct words of a company_name() form, sorted: word order aside."""
    return None if name_value is None else " ".join(sorted(set(name_value.split()))) or None


# ---------------------------------------------------------------------------------------
# Contact details
# ---------------------------------------------------------------------------------------

_EMAIL_DOMAIN_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z][\w-]+$")
_WHITESPACE_RE = re.compile(r"\s")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@lru_cache(maxsize=_CACHE_SIZE)
def _email_str(s: str) -> str | None:
    s = s.strip().lower()
    if s.startswith("mailto:"):
        s = s[len("mailto:") :]
    if "<" in s and s.endswith(">"):  # "Jane Doe <jane@example.com>"
        s = s[s.rindex("<") + 1 : -1].strip()
    if s.count("@") != 1 or _WHITESPACE_RE.search(s):
        return None
    local, domain = s.split("@")
    domain = domain.rstrip(".")
    if not _EMAIL_DOMAIN_RE.match(domain):
        return None
    # Sub-addressing ("user+tag") reaches the same mailbox at virtually every provider.
    local = local.split("+", 1)[0]
    if domain in _GMAIL_DOMAINS:
        # Gmail ignores dots in the local part and googlemail.com is an alias of gmail.com.
        local = local.replace(".", "")
        domain = "gmail.com"
    if not local:
        return None
    return f"{local}@{domain}"


def email(value: Any) -> str | None:
    """Lowercased, +tag-stripped email (Gmail dots removed); invalid -> None."""
    s = _as_str(value)
    return None if s is None else _email_str(s)


def _region_arg(region: Any) -> str | None:
    if not isinstance(region, str):
        return None
    region = region.strip().upper()
    return region if region in phonenumbers.SUPPORTED_REGIONS else None


# Separators phonenumbers ignores anyway; dropping them before the cache lookup makes
# differently formatted copies of one number ("07700 900123", "07700-900-123") share an
# entry, which matters because parsing dominates the cost of customer standardisation.
_PHONE_SEPARATORS_RE = re.compile(r"[\s().\-/]+")
_HAS_LETTER_RE = re.compile(r"[^\W\d_]")
_HAS_DIGIT_ANY_RE = re.compile(r"\d")


def _phone_key(s: str) -> str:
    if _HAS_LETTER_RE.search(s):  # extensions ("x123", "ext. 4") need their spacing
        return s.strip()
    return _PHONE_SEPARATORS_RE.sub("", s)


@lru_cache(maxsize=_CACHE_SIZE)
def _phone_str(s: str, region: str | None) -> str | None:
    if not _HAS_DIGIT_ANY_RE.search(s):
        return None
    try:
        parsed = phonenumbers.parse(s, region)
    except phonenumbers.NumberParseException:
        return None
    # Possible rather than valid: is_valid_number rejects fictional/unallocated ranges
    # (Ofcom drama numbers such as 07700 900xxx, much synthetic data) and lags behind new
    # allocations, while the length check still rejects truncated or garbage numbers.
    if (
        phonenumbers.is_possible_number_with_reason(parsed)
        != phonenumbers.ValidationResult.IS_POSSIBLE
    ):
        return None
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


@lru_cache(maxsize=_CACHE_SIZE)
def _phone_region(e164: str) -> str | None:
    """ISO region of an E.164 number, from its calling code and, where several regions
    share the code (+1, +44, +7), the national number ranges."""
    digits = e164[1:]
    if not digits.isdigit():
        return None
    # Calling codes are prefix-free, so the first known prefix is the code.
    for cc_len in (1, 2, 3):
        cc = int(digits[:cc_len])
        regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(cc)
        if regions:
            break
    else:
        return None
    main_region = regions[0] if regions[0] not in ("001", "ZZ") else None
    if len(regions) == 1:
        return main_region
    # Built directly rather than re-parsed: this runs only for E.164 strings produced by
    # _phone_str, and parsing would double the cost of country inference.
    national = digits[cc_len:]
    leading_zeros = len(national) - len(national.lstrip("0"))
    number = phonenumbers.PhoneNumber(
        country_code=cc,
        national_number=int(national or "0"),
        italian_leading_zero=leading_zeros > 0 or None,
        number_of_leading_zeros=leading_zeros if leading_zeros > 1 else None,
    )
    # Numbers outside allocated ranges have no precise region: fall back to the main
    # country for the calling code (+44 -> GB).
    return phonenumbers.region_code_for_number(number) or main_region


def _phone_e164(value: Any, default_region: Any) -> str | None:
    s = _as_str(value)
    return None if s is None else _phone_str(_phone_key(s), _region_arg(default_region))


def phone(value: Any, default_region: str = "GB") -> str | None:
    """E.164 phone number ("+447700900123"); unparseable or impossible length -> None.

    National-format numbers are read as numbers of `default_region`; a "(0)" trunk
    prefix after the country code ("+44 (0)7700 900123") is handled.
    """
    return _phone_e164(value, default_region)


# ---------------------------------------------------------------------------------------
# Countries and postcodes
# ---------------------------------------------------------------------------------------

# ISO 3166-1: (alpha-2, alpha-3, short English name). Names use the common short form;
# official long forms and other spellings are covered by _COUNTRY_ALIASES.
_ISO_COUNTRIES: tuple[tuple[str, str, str], ...] = (
    ("AD", "AND", "Andorra"),
    ("AE", "ARE", "United Arab Emirates"),
    ("AF", "AFG", "Afghanistan"),
    ("AG", "ATG", "Antigua and Barbuda"),
    ("AI", "AIA", "Anguilla"),
    ("AL", "ALB", "Albania"),
    ("AM", "ARM", "Armenia"),
    ("AO", "AGO", "Angola"),
    ("AQ", "ATA", "Antarctica"),
    ("AR", "ARG", "Argentina"),
    ("AS", "ASM", "American Samoa"),
    ("AT", "AUT", "Austria"),
    ("AU", "AUS", "Australia"),
    ("AW", "ABW", "Aruba"),
    ("AX", "ALA", "Aland Islands"),
    ("AZ", "AZE", "Azerbaijan"),
    ("BA", "BIH", "Bosnia and Herzegovina"),
    ("BB", "BRB", "Barbados"),
    ("BD", "BGD", "Bangladesh"),
    ("BE", "BEL", "Belgium"),
    ("BF", "BFA", "Burkina Faso"),
    ("BG", "BGR", "Bulgaria"),
    ("BH", "BHR", "Bahrain"),
    ("BI", "BDI", "Burundi"),
    ("BJ", "BEN", "Benin"),
    ("BL", "BLM", "Saint Barthelemy"),
    ("BM", "BMU", "Bermuda"),
    ("BN", "BRN", "Brunei Darussalam"),
    ("BO", "BOL", "Bolivia"),
    ("BQ", "BES", "Bonaire, Sint Eustatius and Saba"),
    ("BR", "BRA", "Brazil"),
    ("BS", "BHS", "Bahamas"),
    ("BT", "BTN", "Bhutan"),
    ("BV", "BVT", "Bouvet Island"),
    ("BW", "BWA", "Botswana"),
    ("BY", "BLR", "Belarus"),
    ("BZ", "BLZ", "Belize"),
    ("CA", "CAN", "Canada"),
    ("CC", "CCK", "Cocos (Keeling) Islands"),
    ("CD", "COD", "Democratic Republic of the Congo"),
    ("CF", "CAF", "Central African Republic"),
    ("CG", "COG", "Congo"),
    ("CH", "CHE", "Switzerland"),
    ("CI", "CIV", "Cote d'Ivoire"),
    ("CK", "COK", "Cook Islands"),
    ("CL", "CHL", "Chile"),
    ("CM", "CMR", "Cameroon"),
    ("CN", "CHN", "China"),
    ("CO", "COL", "Colombia"),
    ("CR", "CRI", "Costa Rica"),
    ("CU", "CUB", "Cuba"),
    ("CV", "CPV", "Cabo Verde"),
    ("CW", "CUW", "Curacao"),
    ("CX", "CXR", "Christmas Island"),
    ("CY", "CYP", "Cyprus"),
    ("CZ", "CZE", "Czechia"),
    ("DE", "DEU", "Germany"),
    ("DJ", "DJI", "Djibouti"),
    ("DK", "DNK", "Denmark"),
    ("DM", "DMA", "Dominica"),
    ("DO", "DOM", "Dominican Republic"),
    ("DZ", "DZA", "Algeria"),
    ("EC", "ECU", "Ecuador"),
    ("EE", "EST", "Estonia"),
    ("EG", "EGY", "Egypt"),
    ("EH", "ESH", "Western Sahara"),
    ("ER", "ERI", "Eritrea"),
    ("ES", "ESP", "Spain"),
    ("ET", "ETH", "Ethiopia"),
    ("FI", "FIN", "Finland"),
    ("FJ", "FJI", "Fiji"),
    ("FK", "FLK", "Falkland Islands"),
    ("FM", "FSM", "Micronesia"),
    ("FO", "FRO", "Faroe Islands"),
    ("FR", "FRA", "France"),
    ("GA", "GAB", "Gabon"),
    ("GB", "GBR", "United Kingdom"),
    ("GD", "GRD", "Grenada"),
    ("GE", "GEO", "Georgia"),
    ("GF", "GUF", "French Guiana"),
    ("GG", "GGY", "Guernsey"),
    ("GH", "GHA", "Ghana"),
    ("GI", "GIB", "Gibraltar"),
    ("GL", "GRL", "Greenland"),
    ("GM", "GMB", "Gambia"),
    ("GN", "GIN", "Guinea"),
    ("GP", "GLP", "Guadeloupe"),
    ("GQ", "GNQ", "Equatorial Guinea"),
    ("GR", "GRC", "Greece"),
    ("GS", "SGS", "South Georgia and the South Sandwich Islands"),
    ("GT", "GTM", "Guatemala"),
    ("GU", "GUM", "Guam"),
    ("GW", "GNB", "Guinea-Bissau"),
    ("GY", "GUY", "Guyana"),
    ("HK", "HKG", "Hong Kong"),
    ("HM", "HMD", "Heard Island and McDonald Islands"),
    ("HN", "HND", "Honduras"),
    ("HR", "HRV", "Croatia"),
    ("HT", "HTI", "Haiti"),
    ("HU", "HUN", "Hungary"),
    ("ID", "IDN", "Indonesia"),
    ("IE", "IRL", "Ireland"),
    ("IL", "ISR", "Israel"),
    ("IM", "IMN", "Isle of Man"),
    ("IN", "IND", "India"),
    ("IO", "IOT", "British Indian Ocean Territory"),
    ("IQ", "IRQ", "Iraq"),
    ("IR", "IRN", "Iran"),
    ("IS", "ISL", "Iceland"),
    ("IT", "ITA", "Italy"),
    ("JE", "JEY", "Jersey"),
    ("JM", "JAM", "Jamaica"),
    ("JO", "JOR", "Jordan"),
    ("JP", "JPN", "Japan"),
    ("KE", "KEN", "Kenya"),
    ("KG", "KGZ", "Kyrgyzstan"),
    ("KH", "KHM", "Cambodia"),
    ("KI", "KIR", "Kiribati"),
    ("KM", "COM", "Comoros"),
    ("KN", "KNA", "Saint Kitts and Nevis"),
    ("KP", "PRK", "North Korea"),
    ("KR", "KOR", "South Korea"),
    ("KW", "KWT", "Kuwait"),
    ("KY", "CYM", "Cayman Islands"),
    ("KZ", "KAZ", "Kazakhstan"),
    ("LA", "LAO", "Laos"),
    ("LB", "LBN", "Lebanon"),
    ("LC", "LCA", "Saint Lucia"),
    ("LI", "LIE", "Liechtenstein"),
    ("LK", "LKA", "Sri Lanka"),
    ("LR", "LBR", "Liberia"),
    ("LS", "LSO", "Lesotho"),
    ("LT", "LTU", "Lithuania"),
    ("LU", "LUX", "Luxembourg"),
    ("LV", "LVA", "Latvia"),
    ("LY", "LBY", "Libya"),
    ("MA", "MAR", "Morocco"),
    ("MC", "MCO", "Monaco"),
    ("MD", "MDA", "Moldova"),
    ("ME", "MNE", "Montenegro"),
    ("MF", "MAF", "Saint Martin (French part)"),
    ("MG", "MDG", "Madagascar"),
    ("MH", "MHL", "Marshall Islands"),
    ("MK", "MKD", "North Macedonia"),
    ("ML", "MLI", "Mali"),
    ("MM", "MMR", "Myanmar"),
    ("MN", "MNG", "Mongolia"),
    ("MO", "MAC", "Macao"),
    ("MP", "MNP", "Northern Mariana Islands"),
    ("MQ", "MTQ", "Martinique"),
    ("MR", "MRT", "Mauritania"),
    ("MS", "MSR", "Montserrat"),
    ("MT", "MLT", "Malta"),
    ("MU", "MUS", "Mauritius"),
    ("MV", "MDV", "Maldives"),
    ("MW", "MWI", "Malawi"),
    ("MX", "MEX", "Mexico"),
    ("MY", "MYS", "Malaysia"),
    ("MZ", "MOZ", "Mozambique"),
    ("NA", "NAM", "Namibia"),
    ("NC", "NCL", "New Caledonia"),
    ("NE", "NER", "Niger"),
    ("NF", "NFK", "Norfolk Island"),
    ("NG", "NGA", "Nigeria"),
    ("NI", "NIC", "Nicaragua"),
    ("NL", "NLD", "Netherlands"),
    ("NO", "NOR", "Norway"),
    ("NP", "NPL", "Nepal"),
    ("NR", "NRU", "Nauru"),
    ("NU", "NIU", "Niue"),
    ("NZ", "NZL", "New Zealand"),
    ("OM", "OMN", "Oman"),
    ("PA", "PAN", "Panama"),
    ("PE", "PER", "Peru"),
    ("PF", "PYF", "French Polynesia"),
    ("PG", "PNG", "Papua New Guinea"),
    ("PH", "PHL", "Philippines"),
    ("PK", "PAK", "Pakistan"),
    ("PL", "POL", "Poland"),
    ("PM", "SPM", "Saint Pierre and Miquelon"),
    ("PN", "PCN", "Pitcairn"),
    ("PR", "PRI", "Puerto Rico"),
    ("PS", "PSE", "Palestine"),
    ("PT", "PRT", "Portugal"),
    ("PW", "PLW", "Palau"),
    ("PY", "PRY", "Paraguay"),
    ("QA", "QAT", "Qatar"),
    ("RE", "REU", "Reunion"),
    ("RO", "ROU", "Romania"),
    ("RS", "SRB", "Serbia"),
    ("RU", "RUS", "Russia"),
    ("RW", "RWA", "Rwanda"),
    ("SA", "SAU", "Saudi Arabia"),
    ("SB", "SLB", "Solomon Islands"),
    ("SC", "SYC", "Seychelles"),
    ("SD", "SDN", "Sudan"),
    ("SE", "SWE", "Sweden"),
    ("SG", "SGP", "Singapore"),
    ("SH", "SHN", "Saint Helena, Ascension and Tristan da Cunha"),
    ("SI", "SVN", "Slovenia"),
    ("SJ", "SJM", "Svalbard and Jan Mayen"),
    ("SK", "SVK", "Slovakia"),
    ("SL", "SLE", "Sierra Leone"),
    ("SM", "SMR", "San Marino"),
    ("SN", "SEN", "Senegal"),
    ("SO", "SOM", "Somalia"),
    ("SR", "SUR", "Suriname"),
    ("SS", "SSD", "South Sudan"),
    ("ST", "STP", "Sao Tome and Principe"),
    ("SV", "SLV", "El Salvador"),
    ("SX", "SXM", "Sint Maarten (Dutch part)"),
    ("SY", "SYR", "Syria"),
    ("SZ", "SWZ", "Eswatini"),
    ("TC", "TCA", "Turks and Caicos Islands"),
    ("TD", "TCD", "Chad"),
    ("TF", "ATF", "French Southern Territories"),
    ("TG", "TGO", "Togo"),
    ("TH", "THA", "Thailand"),
    ("TJ", "TJK", "Tajikistan"),
    ("TK", "TKL", "Tokelau"),
    ("TL", "TLS", "Timor-Leste"),
    ("TM", "TKM", "Turkmenistan"),
    ("TN", "TUN", "Tunisia"),
    ("TO", "TON", "Tonga"),
    ("TR", "TUR", "Turkiye"),
    ("TT", "TTO", "Trinidad and Tobago"),
    ("TV", "TUV", "Tuvalu"),
    ("TW", "TWN", "Taiwan"),
    ("TZ", "TZA", "Tanzania"),
    ("UA", "UKR", "Ukraine"),
    ("UG", "UGA", "Uganda"),
    ("UM", "UMI", "United States Minor Outlying Islands"),
    ("US", "USA", "United States"),
    ("UY", "URY", "Uruguay"),
    ("UZ", "UZB", "Uzbekistan"),
    ("VA", "VAT", "Holy See"),
    ("VC", "VCT", "Saint Vincent and the Grenadines"),
    ("VE", "VEN", "Venezuela"),
    ("VG", "VGB", "British Virgin Islands"),
    ("VI", "VIR", "United States Virgin Islands"),
    ("VN", "VNM", "Vietnam"),
    ("VU", "VUT", "Vanuatu"),
    ("WF", "WLF", "Wallis and Futuna"),
    ("WS", "WSM", "Samoa"),
    ("YE", "YEM", "Yemen"),
    ("YT", "MYT", "Mayotte"),
    ("ZA", "ZAF", "South Africa"),
    ("ZM", "ZMB", "Zambia"),
    ("ZW", "ZWE", "Zimbabwe"),
)

# Keys are in _country_key() form; values are alpha-2 codes.
_COUNTRY_ALIASES: dict[str, str] = {
    # United Kingdom and its constituent countries
    "uk": "GB",
    "great britain": "GB",
    "britain": "GB",
    "england": "GB",
    "scotland": "GB",
    "wales": "GB",
    "northern ireland": "GB",
    "united kingdom of great britain and northern ireland": "GB",
    # United States
    "us": "US",
    "united states of america": "US",
    "america": "US",
    "us of a": "US",
    # Ireland
    "eire": "IE",
    "republic of ireland": "IE",
    # Endonyms and common alternatives
    "deutschland": "DE",
    "holland": "NL",
    "the netherlands": "NL",
    "nederland": "NL",
    "espana": "ES",
    "italia": "IT",
    "schweiz": "CH",
    "suisse": "CH",
    "svizzera": "CH",
    "osterreich": "AT",
    "sverige": "SE",
    "norge": "NO",
    "danmark": "DK",
    "suomi": "FI",
    "polska": "PL",
    "brasil": "BR",
    "czech republic": "CZ",
    "slovak republic": "SK",
    "russian federation": "RU",
    "korea": "KR",
    "republic of korea": "KR",
    "korea republic of": "KR",
    "korea south": "KR",
    "dprk": "KP",
    "korea north": "KP",
    "democratic peoples republic of korea": "KP",
    "iran islamic republic of": "IR",
    "islamic republic of iran": "IR",
    "syrian arab republic": "SY",
    "viet nam": "VN",
    "lao peoples democratic republic": "LA",
    "lao pdr": "LA",
    "bolivia plurinational state of": "BO",
    "venezuela bolivarian republic of": "VE",
    "tanzania united republic of": "TZ",
    "united republic of tanzania": "TZ",
    "moldova republic of": "MD",
    "republic of moldova": "MD",
    "macedonia": "MK",
    "republic of north macedonia": "MK",
    "uae": "AE",
    "emirates": "AE",
    "ivory coast": "CI",
    "cape verde": "CV",
    "swaziland": "SZ",
    "burma": "MM",
    "turkey": "TR",
    "hong kong sar": "HK",
    "macau": "MO",
    "taiwan province of china": "TW",
    "republic of china": "TW",
    "peoples republic of china": "CN",
    "prc": "CN",
    "state of palestine": "PS",
    "palestinian territories": "PS",
    "vatican": "VA",
    "vatican city": "VA",
    "brunei": "BN",
    "micronesia federated states of": "FM",
    "democratic republic of congo": "CD",
    "congo democratic republic of the": "CD",
    "drc": "CD",
    "dr congo": "CD",
    "congo kinshasa": "CD",
    "republic of the congo": "CG",
    "congo brazzaville": "CG",
    "east timor": "TL",
    "falkland islands malvinas": "FK",
    "bosnia": "BA",
    "ksa": "SA",
    "nz": "NZ",
    "aotearoa": "NZ",
    "virgin islands british": "VG",
    "virgin islands us": "VI",
    "us virgin islands": "VI",
    "saint martin": "MF",
    "saint helena": "SH",
    "sint maarten": "SX",
}

_COUNTRY_PUNCT_RE = re.compile(r"[^a-z0-9\s]+")


def _country_key(cleaned: str) -> str:
    s = cleaned.replace("&", " and ").replace("'", "")
    s = _COUNTRY_PUNCT_RE.sub(lambda m: "" if m.group() == "." else " ", s)
    tokens = s.split()
    if tokens and tokens[0] == "the" and len(tokens) > 1:
        tokens = tokens[1:]
    return " ".join(tokens)


def _build_country_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for alpha2, alpha3, country_name in _ISO_COUNTRIES:
        lookup[alpha2.lower()] = alpha2
        lookup[alpha3.lower()] = alpha2
        cleaned = _clean_str(country_name)
        if cleaned:
            lookup[_country_key(cleaned)] = alpha2
    lookup.update(_COUNTRY_ALIASES)
    return lookup


_COUNTRY_LOOKUP = _build_country_lookup()
_ALPHA2 = frozenset(a2 for a2, _, _ in _ISO_COUNTRIES)


@lru_cache(maxsize=4096)
def _country_str(s: str) -> str | None:
    cleaned = _clean_str(s)
    if cleaned is None:
        return None
    key = _country_key(cleaned)
    found = _COUNTRY_LOOKUP.get(key)
    if found is None and len(key) > 2:
        # "St Lucia" / "St. Kitts": only for names, since "st" alone is Sao Tome's code.
        found = _COUNTRY_LOOKUP.get(" ".join("saint" if t == "st" else t for t in key.split()))
    return found


def country(value: Any) -> str | None:
    """ISO 3166-1 alpha-2 code from a code, English name or common variant; unknown -> None."""
    s = _as_str(value)
    return None if s is None else _country_str(s)


_UK_POSTCODE_RE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_US_ZIP_RE = re.compile(r"^(\d{5})(?:-?\d{4})?$")
# Crown dependencies use the UK postcode system.
_UK_POSTCODE_COUNTRIES = frozenset({"GB", "GG", "JE", "IM"})


@lru_cache(maxsize=_CACHE_SIZE)
def _postcode_str(s: str, country_code: str | None) -> str | None:
    s = " ".join(s.upper().split())
    if not s:
        return None
    compact = s.replace(" ", "")
    if country_code in _UK_POSTCODE_COUNTRIES or country_code is None:
        m = _UK_POSTCODE_RE.match(compact)
        if m:
            return f"{m.group(1)} {m.group(2)}"
        if compact == "GIR0AA":  # the one historic code outside the general pattern
            return "GIR 0AA"
        if country_code is not None:
            return None
    if country_code == "US":
        compact = compact.replace("-", "")
        if compact.isdigit() and len(compact) == 4:
            # Spreadsheet/int round-trips strip the leading zeros of New England ZIPs.
            compact = compact.zfill(5)
        m = _US_ZIP_RE.match(compact)
        return m.group(1) if m else None
    # Every modern postal code system uses digits; digit-free values are placeholders
    # ("N/A", "UNKNOWN") that would otherwise agree with each other during matching.
    return s if _HAS_DIGIT_ANY_RE.search(s) else None


def postcode(value: Any, country: Any = None) -> str | None:
    """Normalised postcode for the given country (any form country() accepts).

    GB: "SW1A 1AA" format, anything else -> None. US: 5-digit ZIP. Others: uppercase with
    collapsed whitespace (None without any digit). With no country, UK-shaped codes are
    still formatted.
    """
    s = _as_str(value)
    if s is None:
        return None
    return _postcode_str(s, _country_arg(country))


def _country_arg(value: Any) -> str | None:
    if isinstance(value, str) and value in _ALPHA2:  # already standardised: skip the cache
        return value
    return country(value)


# ---------------------------------------------------------------------------------------
# Demographics and dates
# ---------------------------------------------------------------------------------------

_GENDERS: dict[str, str] = {
    "m": "M",
    "male": "M",
    "man": "M",
    "f": "F",
    "female": "F",
    "woman": "F",
    "x": "X",
    "other": "X",
    "non-binary": "X",
    "nonbinary": "X",
    "non binary": "X",
    "nb": "X",
}


def gender(value: Any) -> str | None:
    """'M' / 'F' / 'X' from common codes and words; unknown -> None."""
    cleaned = clean_text(value)
    return None if cleaned is None else _GENDERS.get(cleaned.strip("."))


_MIN_DATE = _dt.date(1900, 1, 1)
_MONTHS = {
    m: i + 1
    for i, names in enumerate(
        [
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ]
    )
    for m in names
}
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[t ].*)?$")
_YMD_RE = re.compile(r"^(\d{4})[/.](\d{1,2})[/.](\d{1,2})(?:[t ].*)?$")
_DMY_RE = re.compile(r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4})(?:[t ].*)?$")
_COMPACT_RE = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_D_MON_Y_RE = re.compile(r"^(\d{1,2})(?:st|nd|rd|th)?[\s-]+([a-z]+)\.?,?[\s-]+(\d{4})$")
_MON_D_Y_RE = re.compile(r"^([a-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})$")


def _mkdate(y: str | int, m: str | int, d: str | int) -> _dt.date | None:
    try:
        return _dt.date(int(y), int(m), int(d))
    except (ValueError, OverflowError):
        return None


@lru_cache(maxsize=_CACHE_SIZE)
def _parse_date_str(s: str, dayfirst: bool) -> _dt.date | None:
    """Calendar date from a string, without the plausibility window."""
    s = s.strip().lower()
    if m := _ISO_DATE_RE.match(s) or _YMD_RE.match(s):
        return _mkdate(*m.groups())
    if m := _DMY_RE.match(s):
        a, _, b, y = m.groups()
        first, second = (a, b) if dayfirst else (b, a)
        parsed = _mkdate(y, second, first)
        if parsed is None and int(second) > 12 >= int(first):
            # "12/25/1990" under dayfirst: the only reading that exists is month-first.
            parsed = _mkdate(y, first, second)
        return parsed
    if m := _COMPACT_RE.match(s):
        return _mkdate(*m.groups())
    if m := _D_MON_Y_RE.match(s):
        d, mon, y = m.groups()
        return _mkdate(y, _MONTHS[mon], d) if mon in _MONTHS else None
    if m := _MON_D_Y_RE.match(s):
        mon, d, y = m.groups()
        return _mkdate(y, _MONTHS[mon], d) if mon in _MONTHS else None
    return None


def date(value: Any, dayfirst: bool = True) -> _dt.date | None:
    """Calendar date from a date/datetime or common string formats.

    Ambiguous "01/02/2000"-style strings are read day-first unless `dayfirst=False`.
    Impossible dates, dates before 1900 and dates in the future -> None.
    """
    if isinstance(value, _dt.datetime):
        parsed: _dt.date | None = value.date()
    elif isinstance(value, _dt.date):
        parsed = value
    else:
        s = _as_str(value)
        parsed = None if s is None else _parse_date_str(s, bool(dayfirst))
    # The window check stays outside the cache because "today" moves.
    if parsed is None or not (_MIN_DATE <= parsed <= _dt.date.today()):
        return None
    return parsed


_FRACTION_RE = re.compile(r"(\.\d{6})\d+")


def _to_naive_utc(ts: _dt.datetime) -> _dt.datetime:
    if ts.tzinfo is not None and ts.utcoffset() is not None:
        ts = ts.astimezone(_dt.UTC)
    return ts.replace(tzinfo=None)


@lru_cache(maxsize=4096)
def _timestamp_str(s: str) -> _dt.datetime | None:
    s = s.strip()
    if not s:
        return None
    # fromisoformat only takes up to microseconds; engines often emit nanoseconds.
    iso = _FRACTION_RE.sub(r"\1", s)
    try:
        return _to_naive_utc(_dt.datetime.fromisoformat(iso))
    except ValueError:
        pass
    d = _parse_date_str(s, True)
    return None if d is None else _dt.datetime(d.year, d.month, d.day)


def timestamp(value: Any) -> _dt.datetime | None:
    """Naive UTC datetime from a datetime/date or ISO-8601 string (Z or offset allowed).

    Values without an offset are taken to be UTC already.
    """
    try:
        if isinstance(value, _dt.datetime):
            return _to_naive_utc(value)
        if isinstance(value, _dt.date):
            return _dt.datetime(value.year, value.month, value.day)
        s = _as_str(value)
        return None if s is None else _timestamp_str(s)
    except (ValueError, OverflowError):  # e.g. astimezone() beyond datetime.min/max
        return None


# ---------------------------------------------------------------------------------------
# Products
# ---------------------------------------------------------------------------------------


def gtin_check_digit_ok(digits: str) -> bool:
    """True when the last digit is the GS1 mod-10 check digit of the preceding ones."""
    if not isinstance(digits, str) or len(digits) < 2 or not digits.isdigit():
        return False
    if not digits.isascii():  # isdigit() also accepts e.g. superscripts
        return False
    body = digits[:-1]
    # Weights alternate 3,1,3,... starting from the digit next to the check digit.
    total = sum(int(c) * (3 if i % 2 == 0 else 1) for i, c in enumerate(reversed(body)))
    return (10 - total % 10) % 10 == int(digits[-1])


_GTIN_SEPARATORS_RE = re.compile(r"[\s\-.]+")


@lru_cache(maxsize=_CACHE_SIZE)
def _gtin_str(s: str) -> str | None:
    digits = _GTIN_SEPARATORS_RE.sub("", s)
    # 8..14 rather than only 8/12/13/14: numeric typing (CSV, Excel) strips leading zeros
    # from UPC-A/EAN-13, and left-padding never changes the check digit.
    if not digits.isdigit() or not digits.isascii() or not 8 <= len(digits) <= 14:
        return None
    if not gtin_check_digit_ok(digits) or not digits.strip("0"):
        return None
    return digits.zfill(14)


def gtin(value: Any) -> str | None:
    """Check-digit-validated GTIN-8/12/13/14 as a zero-padded GTIN-14; invalid -> None."""
    s = _as_str(value)
    return None if s is None else _gtin_str(s)


_MODEL_JUNK_RE = re.compile(r"[^A-Z0-9+]+")


@lru_cache(maxsize=_CACHE_SIZE)
def _model_number_str(s: str) -> str | None:
    cleaned = _clean_str(s)
    if cleaned is None or cleaned in _NO_MODEL:
        return None
    # "+" survives because it distinguishes real variants ("S21" vs "S21+").
    return _MODEL_JUNK_RE.sub("", cleaned.upper()) or None


# What shops write in a model-number field that has none: not a model number, or every
# such listing would "match" every other one on it (and mismatch every real code).
_NO_MODEL = frozenset(
    """
    does not apply | not applicable | n/a | na | none | null | unknown | not available | - |
    no | nil | tbc | tba | other | generic
    """.replace("\n", " ").split(" | ")
)
_NO_MODEL = frozenset(v.strip() for v in _NO_MODEL)


def model_number(value: Any) -> str | None:
    """Uppercase model number without spaces or separators ("X-200" -> "X200")."""
    s = _as_str(value)
    return None if s is None else _model_number_str(s)


_TITLE_SPLIT_RE = re.compile(r"[\s,;:|()\[\]{}\"!?*]+")
_UNIT_RE = re.compile(
    r"""^(
        \d+(\.\d+)?(mm|cm|m|km|in|inch|inches|ft|ml|cl|dl|l|ltr|litre|liter|g|kg|mg|lb|lbs
            |oz|floz|gb|tb|mb|kb|mah|wh|w|kw|v|a|hz|khz|mhz|ghz|rpm|mp|k|p|x|fps|db|pcs|pc
            |pk|pack|ct|count|yr|yrs|year|years|hr|hrs|h|min|mins|s|sec|gen|st|nd|rd|th|pt
            |piece|pieces|sheets|rolls|cup|cups|qt|gal|in1|d)
        |x\d{1,2}
        |\d+x\d+(x\d+)?([a-z]{1,2})?
        |(gen|rev|pack|size|no)\d+
        |\d+-[a-z]{3,}
        |v\d(\.\d+)?
        |(uk|us|eu)\d{1,2}(\.\d)?
        |(usb|hdmi|ddr|lpddr|gddr|wifi|bt|ip|ipx|pcie|mp|dolby|atmos)\d+(\.\d+)?[a-z]?
        |h26[45]
        |\d+(\.\d+)?(g|gb)?(lte|5g|4g|3g)
        |802\.11[a-z]+
    )$""",
    re.VERBOSE,
)
_MODEL_SEPARATORS_RE = re.compile(r"[\-./_']")
_HAS_ALPHA_RE = re.compile(r"[a-z]")
_HAS_DIGIT_RE = re.compile(r"\d")


@lru_cache(maxsize=_CACHE_SIZE)
def _extract_model_number_str(title: str, brand: str | None) -> str | None:
    cleaned = _clean_str(title)
    if cleaned is None:
        return None
    brand_tokens = set(brand.split()) if brand else set()
    best: tuple[int, int] | None = None
    best_token = ""
    for pos, raw in enumerate(_TITLE_SPLIT_RE.split(cleaned)):
        token = raw.strip(".-/'&#")
        compact = _MODEL_SEPARATORS_RE.sub("", token)
        if len(compact) < 3 or token in brand_tokens:
            continue
        if not (_HAS_ALPHA_RE.search(compact) and _HAS_DIGIT_RE.search(compact)):
            continue
        if _UNIT_RE.match(token) or _UNIT_RE.match(compact):
            continue
        digits = sum(c.isdigit() for c in compact)
        # Longer codes with several digits, and codes written with a hyphen, are the
        # strongest model-number signals; ties go to the earlier token (usually right
        # after the brand).
        score = len(compact) + min(digits, 4) + (3 if "-" in token else 0)
        if best is None or score > best[0]:
            best, best_token = (score, -pos), token
    return _model_number_str(best_token) if best_token else None


def extract_model_number(title: Any, brand: Any = None) -> str | None:
    """Most model-number-like token of a product title ("Sony WH-1000XM4 ..." -> "WH1000XM4").

    Candidates mix letters and digits and are >= 3 characters; units and specs such as
    "500ml", "64GB", "4K", "55in", "2x" or "USB3" are ignored.
    """
    s = _as_str(title)
    if s is None:
        return None
    return _extract_model_number_str(s, clean_text(brand))


_PRICE_NUMBER_RE = re.compile(r"[-+]?\d[\d.,\s']*")


@lru_cache(maxsize=_CACHE_SIZE)
def _price_str(s: str) -> float | None:
    m = _PRICE_NUMBER_RE.search(s)
    if m is None:
        return None
    num = "".join(m.group().split()).replace("'", "").rstrip(".,")
    negative = num.startswith("-") or "-" in s[: m.start()]
    num = num.lstrip("+-")
    if "," in num and "." in num:
        # Whichever separator comes last is the decimal mark ("1,299.99" / "1.299,99").
        if num.rfind(",") > num.rfind("."):
            num = num.replace(".", "").replace(",", ".")
        else:
            num = num.replace(",", "")
    elif "," in num or num.count(".") > 1:
        sep = "," if "," in num else "."
        groups = num.split(sep)
        if len(groups) > 2 or (len(groups[-1]) == 3 and len(groups[0]) <= 3):
            num = num.replace(sep, "")  # thousands grouping: "1,299" / "1.299.000"
        else:
            num = num.replace(",", ".")  # decimal comma: "12,50"
    try:
        result = float(num)
    except ValueError:
        return None
    if negative or not math.isfinite(result):
        return None
    return result


def price(value: Any) -> float | None:
    """Non-negative float from a number or a price string ("£1,299.99", "12,50 €")."""
    if isinstance(value, bool):
        return None
    if isinstance(value, numbers.Real):
        try:
            result = float(value)
        except (TypeError, ValueError, OverflowError):
            return None
        return result if math.isfinite(result) and result >= 0 else None
    s = _as_str(value)
    return None if s is None else _price_str(s)


_ISO_CURRENCIES = _words(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BOV BRL BSD
    BTN BWP BYN BZD CAD CDF CHE CHF CHW CLF CLP CNY COP COU CRC CUC CUP CVE CZK DJF DKK DOP
    DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GNF GTQ GYD HKD HNL HRK HTG HUF IDR ILS
    INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD
    MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MXV MYR MZN NAD NGN NIO NOK NPR NZD OMR
    PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS
    SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD USN UYI UYU UYW
    UZS VED VES VND VUV WST XAF XAG XAU XCD XDR XOF XPD XPF XPT YER ZAR ZMW ZWG ZWL
    """
)
# Matched against the uppercased, NFKC-normalised residue after digits are removed; ¥ is
# read as JPY because that is by far its most common use in retail feeds.
_CURRENCY_SYMBOLS: dict[str, str] = {
    "£": "GBP",
    "$": "USD",
    "US$": "USD",
    "€": "EUR",
    "¥": "JPY",
    "₹": "INR",
    "A$": "AUD",
    "AU$": "AUD",
    "C$": "CAD",
    "CA$": "CAD",
    "NZ$": "NZD",
    "HK$": "HKD",
    "S$": "SGD",
    "R$": "BRL",
    "₩": "KRW",
    "₽": "RUB",
    "₺": "TRY",
    "ZŁ": "PLN",
}
_CURRENCY_NAMES: dict[str, str] = {
    "pound": "GBP",
    "pounds": "GBP",
    "sterling": "GBP",
    "pound sterling": "GBP",
    "pounds sterling": "GBP",
    "dollar": "USD",
    "dollars": "USD",
    "us dollar": "USD",
    "us dollars": "USD",
    "euro": "EUR",
    "euros": "EUR",
    "yen": "JPY",
}
_CURRENCY_STRIP_RE = re.compile(r"[\d.,'\s\-+]+")


@lru_cache(maxsize=1024)
def _currency_str(s: str) -> str | None:
    s = unicodedata.normalize("NFKC", s).strip()
    residue = _CURRENCY_STRIP_RE.sub("", s).upper()
    if not residue:
        return None
    if residue in _CURRENCY_SYMBOLS:
        return _CURRENCY_SYMBOLS[residue]
    if residue in _ISO_CURRENCIES:
        return residue
    cleaned = _clean_str(_CURRENCY_STRIP_RE.sub(" ", s))
    return _CURRENCY_NAMES.get(cleaned) if cleaned else None


def currency(value: Any) -> str | None:
    """ISO 4217 code from a code, symbol ("£" -> "GBP") or price string ("€12")."""
    s = _as_str(value)
    return None if s is None else _currency_str(s)


# ---------------------------------------------------------------------------------------
# Record-level standardisation
# ---------------------------------------------------------------------------------------

_ADDRESS_ABBREVIATIONS: dict[str, str] = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "lane": "ln",
    "drive": "dr",
    "court": "ct",
    "place": "pl",
    "crescent": "cres",
    "terrace": "ter",
    "square": "sq",
    "boulevard": "blvd",
    "gardens": "gdns",
    "apartment": "flat",
    "apt": "flat",
}
_ADDRESS_PUNCT_RE = re.compile(r"[^a-z0-9\s/-]+")


@lru_cache(maxsize=_CACHE_SIZE)
def _address_str(s: str) -> str | None:
    cleaned = _clean_str(s)
    if cleaned is None:
        return None
    cleaned = _ADDRESS_PUNCT_RE.sub(lambda m: "" if m.group() == "'" else " ", cleaned)
    tokens = [_ADDRESS_ABBREVIATIONS.get(t, t) for t in cleaned.split()]
    return " ".join(tokens) or None


def _address(value: Any) -> str | None:
    s = _as_str(value)
    return None if s is None else _address_str(s)


_IDENTIFIER_JUNK_RE = re.compile(r"[^A-Z0-9]+")


def _identifier(value: Any) -> str | None:
    """Uppercase alphanumerics only, for IDs typed with arbitrary spacing/dashes."""
    cleaned = clean_text(value)
    return None if cleaned is None else _IDENTIFIER_JUNK_RE.sub("", cleaned.upper()) or None


# Where a country's postal area is not its codes' first three characters (ZIP3 in the US,
# the FSA in Canada, the routing key of an Eircode, a German or Australian delivery region).
_POSTCODE_AREA_LENGTH = {"NL": 4}
_POSTCODE_SEPARATORS_RE = re.compile(r"[\s\-.]+")


def _postcode_area(pc: str | None, country_code: str | None) -> str | None:
    """The postcode's area, the part a small typo or a move within the town keeps: the
    outward code of a UK postcode, else the country's prefix of the code."""
    if pc is None:
        return None
    if " " in pc and (country_code in _UK_POSTCODE_COUNTRIES or country_code is None):
        outward = pc.split(" ", 1)[0]
        if _UK_POSTCODE_RE.match(pc.replace(" ", "")):
            return outward
    length = _POSTCODE_AREA_LENGTH.get(country_code or "", 3)
    return _POSTCODE_SEPARATORS_RE.sub("", pc)[:length] or None


def _name_sort(first: str | None, last: str | None) -> str | None:
    # Nicknames are mapped in every position: when first and last are swapped the
    # nickname sits in the last-name slot, where first-name canonicalisation never ran.
    tokens = [NICKNAMES.get(t, t) for part in (first, last) if part for t in part.split()]
    return " ".join(sorted(tokens)) or None


def standardize_customer(
    record: Mapping[str, Any], default_region: str = "GB", dayfirst: bool = True
) -> dict[str, Any]:
    """Standardise one customer record's canonical attributes (any may be missing).

    Returns exactly the keys of `e360.zones.STANDARDIZED_CUSTOMER_COLUMNS`, in that order.
    `default_region` is used to read national-format phone numbers when the record has
    no recognisable country.
    """
    get = record.get

    first_raw = name(get("first_name"))
    middle = name(get("middle_name"))
    last = name(get("last_name"))
    if first_raw is None or last is None:
        split_first, split_middle, split_last = split_full_name(get("full_name"))
        first_raw = first_raw or split_first
        middle = middle or split_middle
        last = last or split_last
    first = _nickname_to_formal(first_raw)
    full = " ".join(p for p in (first, middle, last) if p) or None

    country_code = country(get("country"))
    # A national-format number is far more likely to belong to the customer's own country
    # than to the batch default.
    region = country_code if country_code in phonenumbers.SUPPORTED_REGIONS else None
    phone_e164 = _phone_e164(get("phone"), region or default_region)
    if country_code is None and phone_e164 is not None:
        country_code = _phone_region(phone_e164)

    email_value = email(get("email"))
    pc = postcode(get("postcode"), country_code)
    dob = date(get("date_of_birth"), dayfirst=dayfirst)
    company = company_name(get("company_name"))

    return {
        "first_name": first,
        "first_name_raw": first_raw,
        "middle_name": middle,
        "last_name": last,
        "full_name": full,
        "date_of_birth": dob,
        "gender": gender(get("gender")),
        "email": email_value,
        "phone": phone_e164,
        "address_line1": _address(get("address_line1")),
        "address_line2": _address(get("address_line2")),
        "city": clean_text(get("city")),
        "postcode": pc,
        "region": clean_text(get("region")),
        "country": country_code,
        "national_id": _identifier(get("national_id")),
        "email_user": None if email_value is None else email_value.split("@", 1)[0],
        "postcode_area": _postcode_area(pc, country_code),
        "dob_year": None if dob is None else dob.year,
        "name_sort": _name_sort(first, last),
        "first_name_phonetic": _phonetic(first),
        "last_name_phonetic": _phonetic(last),
        "company_name": company,
        "company_name_tokens": company_name_tokens(company),
    }


_TITLE_STOPWORDS = _words(
    """
    a an and the with without for of in on to by from at or plus new inc incl including
    edition version pack set item items
    """
)
_COLOUR_WORDS = _words(
    """
    black white red blue green silver grey gray gold pink purple yellow orange brown beige
    navy cream ivory teal turquoise violet charcoal graphite bronze copper maroon burgundy
    khaki tan rose magenta cyan lilac lavender mint coral champagne multicolour multicolor
    colour color
    """
)
_COLOUR_SYNONYMS = {"gray": "grey", "multicolor": "multicolour", "colour": None, "color": None}
_COLOUR_PHRASES = {"rose gold": "rose gold", "space grey": "space grey",
                   "space gray": "space grey", "stainless steel": "stainless steel"}  # fmt: skip
# Catalogue colour codes, trusted only where codes sit: a model number's suffix (X200-BK) or
# the last word of a terse ERP title ("... SPKR BK"); elsewhere "BT" or "PK" mean other things.
_COLOUR_CODES = {
    "bk": "black", "wh": "white", "sv": "silver", "nv": "navy", "rg": "rose gold",
    "gy": "grey", "bl": "blue", "rd": "red", "sg": "space grey", "cr": "cream",
    "ss": "stainless steel", "pu": "purple", "pk": "pink", "gn": "green",
}  # fmt: skip


def colour(title: Any, model_number_raw: Any = None) -> str | None:
    """The product's colour from its title or a colour-code suffix of its model number.

    Colour tells apart variants that share a model number root (X200-BK vs X200-WH).
    """
    raw_model = _as_str(model_number_raw)
    if raw_model is not None:
        suffix = re.split(r"[-/ ]", raw_model.strip().lower())[-1]
        if suffix in _COLOUR_CODES and suffix != raw_model.strip().lower():
            return _COLOUR_CODES[suffix]
    text = clean_text(title)
    if text is None:
        return None
    for phrase, canonical in _COLOUR_PHRASES.items():
        if phrase in text:
            return canonical
    words = _TITLE_TOKEN_RE.findall(text)
    for word in words:
        if word in _COLOUR_WORDS:
            found = _COLOUR_SYNONYMS.get(word, word)
            if found is not None:
                return found
    if words and words[-1] in _COLOUR_CODES:
        return _COLOUR_CODES[words[-1]]
    return None


_TITLE_TOKEN_RE = re.compile(r"[a-z0-9]+(?:[-./][a-z0-9]+)*")
_TITLE_SEPARATORS_RE = re.compile(r"[-./]")


def _title_tokens(
    title: str | None, brand_words: frozenset[str], model: str | None = None
) -> str | None:
    if title is None:
        return None
    tokens = {_TITLE_SEPARATORS_RE.sub("", t) for t in _TITLE_TOKEN_RE.findall(title)}
    model = (model or "").lower()
    informative = {
        t
        for t in tokens
        if len(t) > 1
        # the model number, or its root when the model carries a colour suffix (x200 / x200bk)
        and not (len(t) >= 3 and model.startswith(t))
        and t not in _TITLE_STOPWORDS
        and t not in _COLOUR_WORDS
        and t not in _COLOUR_CODES
        and t not in brand_words
    }
    return " ".join(sorted(informative)) or None


def standardize_product(record: Mapping[str, Any]) -> dict[str, Any]:
    """Standardise one product record's canonical attributes (any may be missing).

    Returns exactly the keys of STANDARDIZED_PRODUCT_COLUMNS, in that order.
    """
    get = record.get

    title = clean_text(get("title"))
    brand = clean_text(get("brand"))
    manufacturer = clean_text(get("manufacturer"))

    model = model_number(get("model_number"))
    from_title = False
    if model is None and title is not None:
        model = extract_model_number(title, brand)
        from_title = model is not None

    raw_price = get("price")
    currency_code = currency(get("currency"))
    if currency_code is None and isinstance(raw_price, str):
        currency_code = currency(raw_price)  # "£12.99" carries its own currency

    # Brand and model number are compared on their own: leaving them in the title tokens
    # would count the same evidence twice.
    brand_words = frozenset(
        w for b in (brand, manufacturer) if b for w in _TITLE_TOKEN_RE.findall(b)
    )
    return {
        "title": title,
        "brand": brand,
        "manufacturer": manufacturer,
        "model_number": model,
        "gtin": _first_gtin(get("gtin")),
        "sku": _identifier(get("sku")),
        "category": clean_text(get("category")),
        "description": clean_text(get("description")),
        "price": price(raw_price),
        "currency": currency_code,
        "model_number_from_title": from_title,
        "title_tokens": _title_tokens(title, brand_words, model),
        "colour": colour(title, get("model_number")),
        **_free_text(title, clean_text(get("description")), _brand_words(brand, manufacturer)),
    }


_LIST_SEPARATORS_RE = re.compile(r"[,;|/]+")


def _first_gtin(value: Any) -> str | None:
    """The GTIN, or the first valid one of a field listing several ("0061..., 0088...")."""
    found = gtin(value)
    text_value = _as_str(value)
    if found is not None or text_value is None:
        return found
    return next(
        (g for g in map(gtin, _LIST_SEPARATORS_RE.split(text_value)) if g is not None), None
    )


def _brand_words(*brands: str | None) -> frozenset[str]:
    return frozenset(w for b in brands if b for w in text.text_tokens(b))


def _informative(tokens: list[str], brand_words: frozenset[str]) -> list[str]:
    # Brand and colour have comparisons of their own; stopwords carry no evidence.
    return [
        t
        for t in tokens
        if t not in _TITLE_STOPWORDS
        and t not in _COLOUR_WORDS
        and t not in _COLOUR_CODES
        and t not in brand_words
    ]


def _free_text(
    title: str | None, description: str | None, brand_words: frozenset[str]
) -> dict[str, Any]:
    """Weighted tokens of the title, of title and description, their quantities, the
    title's LSH buckets.

    The embedding is left empty here: it is computed for a batch at once
    (`standardize_products`).
    """
    title_words = _informative(text.text_tokens(title), brand_words)
    description_words = _informative(text.text_tokens(description), brand_words)
    all_words = title_words + description_words
    quantities = text.unit_tokens(title) + text.unit_tokens(description)
    return {
        "title_weighted": text.weighted_tokens(title_words),
        "text_tokens": text.weighted_tokens(all_words),
        "units": " ".join(dict.fromkeys(quantities)) or None,
        # a listing without a title still meets its product by its description's words
        "title_lsh": lsh.lsh_buckets(
            (text.weighted_tokens(title_words or description_words) or "").split()
        ),
        "title_embedding": None,
    }


def standardize_products(records: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Standardise a batch of product records: `standardize_product` for each, then what
    needs the batch: the brand read from the title where there is no brand (brands the
    batch's own brand column names first; the title's first word only when no record has a
    brand at all), and the title embeddings, in one model call."""
    out = [standardize_product(r) for r in records]
    complete_products(out)
    return out


def complete_products(products: list[dict[str, Any]]) -> None:
    """Fill, in place, the batch-level columns of standardised products (see above)."""
    vocabulary = text.brand_vocabulary(p["brand"] for p in products)
    no_brand_column = not vocabulary
    for product in products:
        if product["brand"] is not None:
            continue
        product["brand"] = text.brand_from_title(
            product["title"], vocabulary, leading_token=no_brand_column
        ) or text.brand_from_title(product["description"], vocabulary, generic=False)
        if product["brand"] is not None:
            words = _brand_words(product["brand"], product["manufacturer"])
            product.update(_free_text(product["title"], product["description"], words))
    vectors = embeddings.embed([_embedding_text(p) for p in products])
    for product, vector in zip(products, vectors, strict=True):
        product["title_embedding"] = vector


def _embedding_text(product: Mapping[str, Any]) -> str | None:
    title = product["title"]
    if title is None:
        return None
    brand = product["brand"]
    return title if not brand or brand in title else f"{brand} {title}"
