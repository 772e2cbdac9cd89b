"""The mapping file of `e360 resolve`: shape, canonical attributes, files, extra columns."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from e360.errors import ConfigError
from matching.mapped.mapping import MappedSource, Mapping, extra_column, load_mapping


def _write(tmp_path: Path, data: object, files: tuple[str, ...] = ("crm.csv",)) -> Path:
    for name in files:
        (tmp_path / name).write_text("id,fname\n1,Ann\n", encoding="utf-8")
    path = tmp_path / "M.yaml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data)
    return path


def _source(**overrides: object) -> dict[str, object]:
    return {
        "name": "crm",
        "path": "crm.csv",
        "key": "id",
        "attributes": {"first_name": "fname"},
        **overrides,
    }


def test_a_valid_mapping_resolves_paths_against_its_folder(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "entity": "customer",
            "one_per_source": True,
            "sources": [_source(extra={"Job Title": "text", "born": "date"})],
        },
    )
    mapping = load_mapping(path)
    assert mapping.entity == "customer" and mapping.one_per_source
    source = mapping.sources[0]
    assert mapping.path_of(source) == tmp_path / "crm.csv"
    assert source.format == "csv" and source.dayfirst
    assert mapping.mapped_attributes == {"first_name"}
    assert mapping.extra_columns() == {"x_job_title": "text", "x_born": "date"}


def test_one_per_source_defaults_to_false(tmp_path: Path) -> None:
    mapping = load_mapping(_write(tmp_path, {"entity": "product", "sources": [
        _source(attributes={"title": "fname"})]}))  # fmt: skip
    assert mapping.one_per_source is False


def test_one_per_master_per_source_and_the_shorthand(tmp_path: Path) -> None:
    files = ("crm.csv", "shop.csv")
    two = [_source(one_per_master=True), _source(name="shop", path="shop.csv")]
    mapping = load_mapping(_write(tmp_path, {"entity": "customer", "sources": two}, files))
    assert mapping.exclusive_sources == {"crm"}
    both = {"entity": "customer", "one_per_source": True, "sources": two}
    assert load_mapping(_write(tmp_path, both, files)).exclusive_sources == {"crm", "shop"}


def test_threshold_is_auto_unless_a_probability_is_given(tmp_path: Path) -> None:
    data: dict[str, object] = {"entity": "customer", "sources": [_source()]}
    assert load_mapping(_write(tmp_path, data)).threshold == "auto"
    assert load_mapping(_write(tmp_path, {**data, "threshold": 0.8})).threshold == 0.8
    with pytest.raises(ConfigError, match="threshold"):
        load_mapping(_write(tmp_path, {**data, "threshold": 1.5}))


def test_unknown_canonical_attribute_is_refused_naming_the_valid_ones(tmp_path: Path) -> None:
    path = _write(tmp_path, {"entity": "customer", "sources": [
        _source(attributes={"firstname": "fname"})]})  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    message = str(info.value)
    assert f"{path}: sources.0.attributes.firstname: not a canonical customer attribute" in message
    assert "first_name, middle_name, last_name" in message


def test_product_attributes_are_not_customer_attributes(tmp_path: Path) -> None:
    path = _write(tmp_path, {"entity": "product", "sources": [_source()]})
    with pytest.raises(ConfigError, match=r"sources\.0\.attributes\.first_name: not a canonical "
                       r"product attribute; choose from title, brand"):  # fmt: skip
        load_mapping(path)


def test_schema_errors_name_file_and_key(tmp_path: Path) -> None:
    path = _write(tmp_path, {"entity": "supplier", "sources": [_source(extra={"x": "fuzzy"})]})
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    message = str(info.value)
    assert f"{path}: entity: Input should be 'customer' or 'product'" in message
    assert f"{path}: sources.0.extra.x: Input should be 'exact', 'text', 'number' or 'date'" in (
        message
    )


def test_unknown_keys_and_bad_names_are_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, {"entity": "customer", "sources": [
        _source(name="CRM:1", mapping={"first_name": "fname"})]})  # fmt: skip
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    assert "sources.0.name: String should match pattern" in str(info.value)
    assert "sources.0.mapping: Extra inputs are not permitted" in str(info.value)


def test_files_duplicates_and_formats_are_checked_together(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "entity": "customer",
            "sources": [
                _source(),
                _source(path="missing.csv"),
                _source(name="shop", path="shop.xlsx"),
                _source(name="empty", attributes={}),
            ],
        },
    )
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    lines = str(info.value).splitlines()
    assert f"{path}: sources.1.name: 'crm' names two sources" in lines
    assert f"{path}: sources.1.path: file not found: {tmp_path / 'missing.csv'}" in lines
    assert f"{path}: sources.2.path: 'shop.xlsx' is neither .csv nor .parquet" in lines
    assert f"{path}: sources.3.attributes: map at least one column of empty" in lines


def test_extra_columns_must_be_compared_one_way(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "entity": "customer",
            "sources": [
                _source(extra={"Town": "text"}),
                _source(name="shop", extra={"town": "exact"}),
                _source(name="pos", extra={"job": "exact", "JOB": "exact"}),
            ],
        },
    )
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    lines = str(info.value).splitlines()
    assert f"{path}: sources.1.extra.town: 'exact' here but 'text' in source crm: an extra " \
        "column is compared one way in every source" in lines  # fmt: skip
    assert any(
        line.startswith(f"{path}: sources.2.extra.") and "the same attribute as" in line
        for line in lines
    )


def test_unreadable_or_missing_mapping_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="mapping file not found"):
        load_mapping(tmp_path / "none.yaml")
    with pytest.raises(ConfigError, match="line 2, column 1: invalid YAML"):
        load_mapping(_write(tmp_path, "entity: [customer\n"))
    with pytest.raises(ConfigError, match="must be a mapping with entity and sources"):
        load_mapping(_write(tmp_path, "- customer\n"))


def test_extra_columns_get_names_that_cannot_collide() -> None:
    assert extra_column("title") == "x_title"
    assert extra_column("Job Title ") == "x_job_title"
    assert extra_column("%%") == "x_column"


def test_templates_and_csv_options_per_source(tmp_path: Path) -> None:
    address = {"first_name": "fname", "address_line1": "{no} {street}"}
    csv = {"encoding": "latin-1", "delimiter": ";"}
    path = _write(tmp_path, {"entity": "customer", "sources": [
        _source(attributes=address, csv=csv)]})  # fmt: skip
    source = load_mapping(path).sources[0]
    assert source.attributes["address_line1"] == "{no} {street}"
    assert (source.csv.encoding, source.csv.delimiter, source.csv.quote_char) == (
        "latin-1",
        ";",
        '"',
    )


def test_bad_templates_and_csv_options_name_their_key(tmp_path: Path) -> None:
    pq.write_table(pa.table({"id": ["1"]}), tmp_path / "shop.parquet")
    path = _write(
        tmp_path,
        {
            "entity": "customer",
            "sources": [
                _source(attributes={"first_name": "fname", "address_line1": "{no {street}"}),
                _source(name="shop", path="shop.parquet", csv={"delimiter": ";"}),
                _source(name="pos", csv={"encoding": "klingon"}),
            ],
        },
    )
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    message = str(info.value)
    assert f"{path}: sources.2.csv.encoding: unknown encoding 'klingon'" in message
    # Schema errors come first; the rest once the schema holds.
    fixed = yaml.safe_load(path.read_text())
    fixed["sources"].pop()
    path.write_text(yaml.safe_dump(fixed))
    with pytest.raises(ConfigError) as info:
        load_mapping(path)
    lines = str(info.value).splitlines()
    assert f"{path}: sources.0.attributes.address_line1: template '{{no {{street}}': '{{' at " \
        "character 1 is not closed (write '{{' for a literal brace)" in lines  # fmt: skip
    assert f"{path}: sources.1.csv: only CSV files take a csv section" in lines


def test_every_key_of_a_mapping_file_is_documented() -> None:
    for model in (Mapping, MappedSource):
        undocumented = [n for n, f in model.model_fields.items() if not f.description]
        assert undocumented == [], f"{model.__name__}: {undocumented}"
