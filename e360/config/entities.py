"""`entities`: how each mastered entity (customer, product) is resolved: blocking, comparisons,
training and thresholds (`matching`), which values survive into the golden record
(`survivorship`), its id prefix and pinned model version."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator

from e360.config.base import Probability, Section

SurvivorshipRuleName = Literal[
    "source_priority", "most_recent", "most_complete", "most_frequent", "non_null_first"
]
# A blocking rule is either a list of columns (Splink's block_on) or a SQL condition on l./r.
BlockingRule = list[str] | str


class ComparisonConfig(Section):
    """One Splink comparison: a `splink.comparison_library` comparison, or one of e360's own
    (`model_number`, `token_jaccard`) from `matching.comparisons` or (`person_name`,
    `birth_date`, `address`, `company_name`) from `matching.resolution.customer_comparisons`."""

    type: Literal[
        "exact",
        "name",
        "forename_surname",
        "email",
        "date_of_birth",
        "postcode",
        "levenshtein",
        "damerau_levenshtein",
        "jaro_winkler",
        "jaccard",
        "model_number",
        "token_jaccard",
        "weighted_tokens",
        "units",
        "embedding_cosine",
        # matching.customer_comparisons, each on its `columns` in order:
        "person_name",  # [name, the other name part, its phonetic key]
        "birth_date",  # [date]
        "address",  # [address_line1, postcode, city, postcode_area, optionally phone]
        "company_name",  # [company_name, company_name_tokens]
    ]
    """The comparison: a Splink library comparison or one of e360's own."""
    column: str | None = None
    """The standardized column compared (or give `columns`)."""
    columns: list[str] | None = None
    """The standardized columns compared, in the order the comparison takes them (e.g.
    `forename_surname`: [forename, surname]).
    """
    term_frequency: bool = False
    """Adjust for how common the value is (a rare surname agreeing is stronger evidence)."""
    params: dict[str, Any] = Field(default_factory=dict)
    """The comparison's own parameters (e.g. `thresholds`), passed as they are."""
    m_probabilities: list[Probability] | None = None
    """Domain knowledge that EM must not overrule, one value per non-null level (best first): e.g. a
    GTIN match or mismatch, which EM can confuse with look-alike variants.
    """

    @property
    def input_columns(self) -> list[str]:
        return list(self.columns or ([self.column] if self.column else []))


class TrainingConfig(Section):
    deterministic_rules: list[BlockingRule]
    """Rules that pick near-certain matches, from which the prior (λ) is estimated."""
    recall: Probability = 0.7
    """The share of true matches the deterministic rules are assumed to find."""
    em_blocking_rules: list[BlockingRule]
    """Blocking rules of the EM sessions that estimate m-probabilities: each session trains every
    comparison but its own columns.
    """
    u_max_pairs: float = Field(default=1e6, gt=0)
    """Random pairs sampled to estimate u-probabilities."""
    seed: int = 42
    """The seed of that sampling (training is reproducible)."""


class MatchingConfig(Section):
    blocking_rules: list[BlockingRule] = Field(min_length=1)
    """Which pairs are compared at all: lists of columns that must agree, or SQL conditions on `l.`
    and `r.` columns.
    """
    comparisons: list[ComparisonConfig] = Field(min_length=1)
    """How a compared pair is scored, one comparison per kind of evidence."""
    training: TrainingConfig
    """How the model is trained."""
    threshold: Probability | Literal["auto"] = 0.9
    """A number, or `auto`: chosen from the scored pairs (matching.resolution.thresholds);
    with `auto` the review band is kept below whatever threshold is chosen.
    """
    review_band: tuple[Probability, Probability] = (0.5, 0.9)
    """Pairs scoring in this band go to the stewards' review queue."""
    pairs_min_probability: Probability = 0.05
    """Pairs below this probability are not stored: they are the bulk of blocked pairs and
    nobody reviews them.
    """
    cannot_link_below: Probability | None = 0.01
    """Pairs scoring below this are clear non-matches: clustering never puts them together,
    however the links around them chain (None: plain connected components).
    """
    max_comparisons: int = Field(default=50_000_000, ge=1)
    """Pairs one blocking rule may add: counted before predicting (matching.blocking), a
    rule over it is left out and named. 50M pairs is minutes on one machine; beyond that
    a rule is not blocking.
    """
    max_block_size: int = Field(default=50, ge=2)
    """Records one blocking key may be shared by and still block: a key rule's value (such as
    `[last_name_phonetic, dob_year]`) or an LSH bucket. The records of a larger block meet
    only on the other rules. A person or product has a handful of records, while a key many
    share (a common surname's sound in one birth year, a title's commonest words) is shared
    by ever more as the population grows: a fixed cap keeps each rule's pairs linear in the
    records.
    """
    max_bucket_size: int | None = Field(default=None, ge=2)
    """The cap for LSH buckets (an exploded rule's key, such as `title_lsh`) alone; default:
    `max_block_size`.
    """

    @field_validator("review_band")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if value[0] > value[1]:
            raise ValueError("the lower bound must not exceed the upper bound")
        return value


class CustomRule(Section):
    """A SQL expression over a member record's columns: the member scoring highest (or
    lowest) wins, e.g. `case when email like '%@example.com' then 0 else 1 end`."""

    expression: str = Field(min_length=1)
    """A SQL expression over a member record's columns; the member scoring highest wins."""
    descending: bool = True
    """False: the member scoring lowest wins."""


SurvivorshipRule = SurvivorshipRuleName | CustomRule


class SurvivorshipConfig(Section):
    default: SurvivorshipRuleName = "most_recent"
    """The rule of every attribute not named in `attributes`."""
    source_priority: list[str] = Field(default_factory=list)
    """Sources best first, for the `source_priority` rule and as a tie-break."""
    attributes: dict[str, SurvivorshipRule] = Field(default_factory=dict)
    """Attribute -> its rule: a rule name or a custom SQL expression."""

    def rule_for(self, attribute: str) -> SurvivorshipRule:
        return self.attributes.get(attribute, self.default)


class EntityConfig(Section):
    id_prefix: str | None = Field(default=None, pattern=r"^[A-Z]{2,5}$")
    """The master ids' prefix (2 to 5 capitals); default: CUS for customers, PRD for products."""
    matching: MatchingConfig
    """Blocking, comparisons, training and thresholds."""
    model_version: int | None = Field(default=None, ge=1)
    """Pin a trained model version (`e360 train` makes new ones); None: the newest that
    fits.
    """
    survivorship: SurvivorshipConfig = SurvivorshipConfig()
    """Which values survive into the golden record."""
