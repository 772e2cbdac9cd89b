"""How a column is recognised as a canonical attribute: by its name and by its contents.

Each attribute (`e360.entities.CANONICAL_ATTRIBUTES`, plus the `updated_at` of a source) has
the column names it usually goes by, the name words that hint at it, and a measure of how well
a column's values fit it (`ColumnProfile.kinds`). `decisive` attributes have contents no other
attribute shares (an e-mail, a GTIN): their contents alone may map a column, and contents that
do not fit veto a name. For the rest (a city, a brand: any words) only a name maps a column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from onboarding.profile import ColumnProfile

Fit = Callable[[ColumnProfile], float]


@dataclass(frozen=True)
class AttributeSpec:
    names: frozenset[str]  # normalised column names that are this attribute
    words: frozenset[str]  # name words hinting at it (`customer_email` -> email)
    fit: Fit  # the share of values that look like it
    decisive: bool = False
    weight: float = 0.5  # how much a mapped column says the source is of this entity
    related: frozenset[str] = frozenset()  # names of a neighbouring attribute that may be it
    looks: str = "values fit"  # what fitting values look like, for the comments
    alone: float = 0.6  # the fit a decisive attribute needs to map a column by contents alone


def _names(*names: str) -> frozenset[str]:
    return frozenset(names)


def _kind(kind: str) -> Fit:
    return lambda column: column.share(kind)


def _short_text(column: ColumnProfile) -> float:
    """A title: a few words naming a thing, not a paragraph."""
    return max(column.share("text"), column.share("word")) * (
        1.0 if column.mean_words <= 15 else 0.3
    )


def _long_text(column: ColumnProfile) -> float:
    return column.share("text") * (1.0 if column.mean_words > 15 else 0.3)


def _amount(column: ColumnProfile) -> float:
    return max(column.share("decimal"), 0.5 * column.share("price"))


def _moment(column: ColumnProfile) -> float:
    return max(column.share("timestamp"), column.share("date"))


def _birth_date(column: ColumnProfile) -> float:
    # A birth date has no time of day: a timestamp column is when something happened.
    return column.share("date") * (1.0 - column.share("timestamp"))


def _words(column: ColumnProfile) -> float:
    return column.share("word")


def _any(column: ColumnProfile) -> float:
    return 1.0 if column.values else 0.0


CUSTOMER: dict[str, AttributeSpec] = {
    "first_name": AttributeSpec(
        _names("first_name", "firstname", "given_name", "givenname", "forename", "fname", "first"),
        _names("first", "given", "forename", "fname"),
        _kind("name_part"),
        weight=1.0,
        looks="names",
    ),
    "middle_name": AttributeSpec(
        _names("middle_name", "middlename", "middle_names", "middle_initial", "mname"),
        _names("middle"),
        _kind("name_part"),
        looks="names",
    ),
    "last_name": AttributeSpec(
        _names("last_name", "lastname", "surname", "family_name", "familyname", "lname", "last"),
        _names("last", "surname", "family", "lname"),
        _kind("name_part"),
        weight=1.0,
        looks="names",
    ),
    "full_name": AttributeSpec(
        _names("full_name", "fullname", "name", "customer_name", "display_name", "contact_name"),
        _names("fullname", "full"),
        _kind("full_name"),
        # Two or three capitalised words are also a town or a company: only nearly every
        # value being one makes a person's name.
        decisive=True,
        alone=0.85,
        weight=1.0,
        related=_names(
            "customer",
            "client",
            "member",
            "member_name",
            "account_name",
            "client_name",
            "person_name",
            "holder",
            "account_holder",
        ),
        looks="full names",
    ),
    "date_of_birth": AttributeSpec(
        _names("date_of_birth", "dob", "birth_date", "birthdate", "birthday", "born", "born_on"),
        _names("birth", "dob", "born", "birthday"),
        _birth_date,
        decisive=True,
        weight=1.0,
        looks="dates without a time",
    ),
    "gender": AttributeSpec(
        _names("gender", "sex"),
        _names("gender", "sex"),
        _kind("gender"),
        decisive=True,
        weight=1.0,
        looks="genders",
    ),
    "email": AttributeSpec(
        _names("email", "e_mail", "mail", "email_address", "emailaddress"),
        _names("email", "mail"),
        _kind("email"),
        decisive=True,
        weight=1.0,
        looks="e-mails",
    ),
    "phone": AttributeSpec(
        _names("phone", "telephone", "tel", "mobile", "cell", "phone_number", "mobile_number"),
        _names("phone", "tel", "telephone", "mobile", "cell"),
        _kind("phone"),
        decisive=True,
        weight=1.0,
        looks="phone numbers",
    ),
    "address_line1": AttributeSpec(
        _names(
            "address_line1",
            "address_line_1",
            "address1",
            "addr1",
            "street",
            "address",
            "street_address",
            "address_street",
            "line1",
        ),
        _names("street", "address", "addr"),
        _kind("address"),
        looks="street lines",
    ),
    "address_line2": AttributeSpec(
        _names("address_line2", "address_line_2", "address2", "addr2", "line2"),
        _names("line2"),
        _any,
        looks="text",
    ),
    "city": AttributeSpec(
        _names("city", "town", "locality", "city_name", "post_town"),
        _names("city", "town", "locality"),
        _words,
        looks="place names",
    ),
    "postcode": AttributeSpec(
        _names("postcode", "zip", "zipcode", "postal_code", "post_code", "zip_code", "postalcode"),
        _names("postcode", "zip", "postal", "zipcode"),
        _kind("postcode"),
        decisive=True,
        weight=1.0,
        looks="postcodes",
    ),
    "region": AttributeSpec(
        _names("region", "state", "county", "province"),
        _names("region", "state", "county", "province"),
        _words,
        looks="place names",
    ),
    "country": AttributeSpec(
        _names("country", "country_code", "countrycode", "nation", "country_name"),
        _names("country"),
        _kind("country"),
        decisive=True,
        looks="countries",
    ),
    "national_id": AttributeSpec(
        _names("national_id", "ssn", "nin", "national_insurance", "national_insurance_number"),
        _names("ssn", "national"),
        _kind("identifier"),
        weight=1.0,
        looks="identifiers",
    ),
    "company_name": AttributeSpec(
        _names("company", "company_name", "organisation", "organization", "business_name"),
        _names("company", "organisation", "organization", "business", "employer"),
        _words,
        weight=1.0,
        looks="names",
    ),
}

PRODUCT: dict[str, AttributeSpec] = {
    "title": AttributeSpec(
        _names("title", "name", "product_name", "item_name", "product_title", "item_title"),
        _names("title"),
        _short_text,
        weight=1.0,
        related=_names("description", "desc", "item_description", "product_description"),
        looks="short titles",
    ),
    "brand": AttributeSpec(
        _names("brand", "brand_name", "make"), _names("brand"), _words, weight=1.0, looks="labels"
    ),
    "manufacturer": AttributeSpec(
        _names("manufacturer", "maker", "mfr", "manufacturer_name"),
        _names("manufacturer"),
        _words,
        looks="labels",
    ),
    "model_number": AttributeSpec(
        _names("model_number", "model", "mpn", "model_no", "part_number", "part_no"),
        _names("model", "mpn"),
        _kind("identifier"),
        weight=1.0,
        looks="codes",
    ),
    "gtin": AttributeSpec(
        _names("gtin", "ean", "upc", "barcode", "ean13", "gtin13", "gtin14", "isbn"),
        _names("gtin", "ean", "upc", "barcode"),
        _kind("gtin"),
        decisive=True,
        weight=1.0,
        looks="GTINs with a valid check digit",
    ),
    "sku": AttributeSpec(
        _names("sku", "item_no", "item_number", "article_no", "article_number", "product_code"),
        _names("sku"),
        _kind("identifier"),
        looks="codes",
    ),
    "category": AttributeSpec(
        _names("category", "category_path", "product_type", "department", "product_category"),
        _names("category"),
        _kind("category"),
        decisive=True,
        weight=1.0,
        looks="category paths",
    ),
    "description": AttributeSpec(
        _names("description", "desc", "long_description", "details", "product_description"),
        _names("description"),
        _long_text,
        looks="long texts",
    ),
    "price": AttributeSpec(
        _names("price", "list_price", "unit_price", "retail_price", "rrp", "msrp", "sale_price"),
        _names("price"),
        _amount,
        weight=1.0,
        looks="prices",
    ),
    "currency": AttributeSpec(
        _names("currency", "currency_code", "ccy", "cur"),
        _names("currency"),
        _kind("currency"),
        decisive=True,
        looks="currency codes",
    ),
}

EVENT: dict[str, AttributeSpec] = {
    "occurred_at": AttributeSpec(
        _names(
            "occurred_at",
            "ts",
            "timestamp",
            "event_time",
            "event_ts",
            "time",
            "datetime",
            "ordered_at",
            "order_date",
            "order_time",
            "transaction_date",
            "txn_date",
            "date",
            "event_date",
            "created_at",
            "purchased_at",
            "viewed_at",
            "when",
        ),
        _names("ts", "time", "timestamp", "date", "occurred", "ordered", "at"),
        _moment,
        # An event's time is what its timestamps are about: contents alone may say it.
        decisive=True,
        alone=0.9,
        looks="timestamps",
    ),
    "quantity": AttributeSpec(
        _names("quantity", "qty", "units", "count", "quantity_ordered"),
        _names("qty", "quantity"),
        _kind("integer"),
        looks="whole numbers",
    ),
    "amount": AttributeSpec(
        _names("amount", "total", "value", "revenue", "net_amount", "line_total", "price"),
        _names("amount", "total", "revenue"),
        _amount,
        looks="amounts",
    ),
    "currency": PRODUCT["currency"],
    "channel": AttributeSpec(
        _names("channel", "sales_channel"), _names("channel"), _words, looks="labels"
    ),
}

UPDATED_AT = AttributeSpec(
    _names(
        "updated_at",
        "updated",
        "last_updated",
        "modified_at",
        "last_modified",
        "updated_on",
        "changed_at",
        "modified",
        "last_changed",
        "update_time",
        "modified_date",
    ),
    _names("updated", "modified", "changed"),
    _moment,
    looks="timestamps",
)
"""When the source last changed a record; without one, a timestamp it was created or joined."""
CREATED_WORDS = frozenset({"created", "joined", "registered", "since", "opened", "signup"})

SPECS: dict[str, dict[str, AttributeSpec]] = {
    "customer": CUSTOMER,
    "product": PRODUCT,
    "event": EVENT,
}

_CAMEL_RE = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_NOT_WORD_RE = re.compile(r"[^a-z0-9]+")


def normalise(column: str) -> str:
    """`Customer-Email`, `customerEmail` and `customer email` all read `customer_email`."""
    return _NOT_WORD_RE.sub("_", _CAMEL_RE.sub("_", column).lower()).strip("_")


def name_score(spec: AttributeSpec, column: str) -> tuple[float, str]:
    """How strongly a column's name says it is the attribute, and how it says so."""
    name = normalise(column)
    if name in spec.names:
        return 1.0, "named so"
    if name in spec.related:
        return 0.7, f"'{column}' often holds it"
    words = set(name.split("_"))
    if words & spec.words:
        return 0.7, f"its name has '{sorted(words & spec.words)[0]}'"
    return 0.0, ""
