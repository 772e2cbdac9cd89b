"""Contact details: e-mail addresses in their canonical mailbox form, phone numbers in
E.164 (phonenumbers), and the country a phone number belongs to."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

import phonenumbers
from phonenumbers import PhoneNumberFormat

from matching.standardize.clean import CACHE_SIZE, HAS_DIGIT_RE, as_str

_EMAIL_DOMAIN_RE = re.compile(r"^[\w-]+(?:\.[\w-]+)*\.[a-z][\w-]+$")
_WHITESPACE_RE = re.compile(r"\s")
_GMAIL_DOMAINS = frozenset({"gmail.com", "googlemail.com"})


@lru_cache(maxsize=CACHE_SIZE)
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
    s = as_str(value)
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


def _phone_key(s: str) -> str:
    if _HAS_LETTER_RE.search(s):  # extensions ("x123", "ext. 4") need their spacing
        return s.strip()
    return _PHONE_SEPARATORS_RE.sub("", s)


@lru_cache(maxsize=CACHE_SIZE)
def _phone_str(s: str, region: str | None) -> str | None:
    if not HAS_DIGIT_RE.search(s):
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


@lru_cache(maxsize=CACHE_SIZE)
def phone_region(e164: str) -> str | None:
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


def phone_e164(value: Any, default_region: Any) -> str | None:
    """phone() with any value as the region (an unknown one reads no national format)."""
    s = as_str(value)
    return None if s is None else _phone_str(_phone_key(s), _region_arg(default_region))


def phone(value: Any, default_region: str = "GB") -> str | None:
    """E.164 phone number ("+447700900123"); unparseable or impossible length -> None.

    National-format numbers are read as numbers of `default_region`; a "(0)" trunk
    prefix after the country code ("+44 (0)7700 900123") is handled.
    """
    return phone_e164(value, default_region)
