"""Money: prices as non-negative floats from numbers or price strings (either decimal mark,
thousands grouping), and currencies as ISO 4217 codes from codes, symbols or names."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from functools import lru_cache
from typing import Any

from matching.standardize.clean import CACHE_SIZE, as_str, clean_str, words

_PRICE_NUMBER_RE = re.compile(r"[-+]?\d[\d.,\s']*")


@lru_cache(maxsize=CACHE_SIZE)
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
    s = as_str(value)
    return None if s is None else _price_str(s)


_ISO_CURRENCIES = words(
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
    cleaned = clean_str(_CURRENCY_STRIP_RE.sub(" ", s))
    return _CURRENCY_NAMES.get(cleaned) if cleaned else None


def currency(value: Any) -> str | None:
    """ISO 4217 code from a code, symbol ("£" -> "GBP") or price string ("€12")."""
    s = as_str(value)
    return None if s is None else _currency_str(s)
