"""The configuration reference (docs/configuration.md) and the JSON Schema come from the models:
the page is in sync, every key is described, and editors' schema accepts the demo file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import jsonschema
import yaml
from pydantic import BaseModel, ConfigDict, Field

from e360.cli import main, reference_documents
from e360.config import E360Config
from e360.config.reference import Document, json_schema, keys, markdown, undocumented

ROOT = Path(__file__).resolve().parents[2]
REFERENCE = ROOT / "docs" / "configuration.md"


def test_the_reference_is_in_sync_with_the_models() -> None:
    expected = markdown(reference_documents(), generated_by="e360 schema --markdown")
    assert REFERENCE.read_text(encoding="utf-8") == expected, (
        "docs/configuration.md is out of date: run `make docs-config`"
    )


def test_every_key_of_every_documented_file_has_a_description() -> None:
    for document in reference_documents():
        assert undocumented(document.model) == [], (
            f"{document.title}: give these keys an attribute docstring"
        )


def test_a_required_key_and_its_defaults_are_shown() -> None:
    rows = {key.path: key for key in keys(E360Config)}
    blocking = rows["entities.<customer|product>.matching.blocking_rules"]
    assert blocking.required and blocking.default == ""
    assert blocking.type == "list of (list of string or string) (at least 1 long)"
    budget = rows["entities.<customer|product>.matching.max_comparisons"]
    assert (budget.required, budget.default, budget.type) == (False, "`50000000`", "integer (≥ 1)")
    assert "sources.<name>.csv.encoding" in rows
    assert "entities.<customer|product>.matching.comparisons[].column" in rows
    # a description's line breaks are joined
    assert "\n" not in rows["sources.<name>.csv.encoding"].description


class _Inner(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    size: int = Field(default=3, ge=1)
    """How big."""
    colour: str


class _Outer(BaseModel):
    model_config = ConfigDict(use_attribute_docstrings=True)

    kind: Literal["a", "b"]
    """Which kind."""
    parts: dict[str, _Inner] = Field(default_factory=dict)
    """Named parts."""
    items: list[_Inner] = Field(default_factory=list)
    """Listed parts."""


def test_any_model_is_documented_and_an_undescribed_key_is_found() -> None:
    assert undocumented(_Outer) == ["parts.<name>.colour", "items[].colour"]
    page = markdown([Document("x.yaml", _Outer, "Some file.", {"kind": "a"})], generated_by="t")
    assert "| `parts.<name>.size` | integer (≥ 1) | `3` | no | How big. |" in page
    assert "| `kind` | one of `a`, `b` |  | yes | Which kind. |" in page
    assert "```yaml\nkind: a\n```" in page


def test_the_json_schema_describes_keys_and_accepts_the_demo_file(capsys) -> None:
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json_schema(E360Config)
    assert "both are required" in schema["properties"]["entities"]["description"]
    demo = yaml.safe_load((ROOT / "examples" / "demo" / "e360.yaml").read_text())
    jsonschema.validate(demo, schema)
    demo["sources"]["crm"]["format"] = "xml"
    try:
        jsonschema.validate(demo, schema)
    except jsonschema.ValidationError as error:
        assert list(error.absolute_path)[:3] == ["sources", "crm", "format"]
    else:
        raise AssertionError("the schema accepted an unknown format")
