"""`e360 resolve` end to end on generated demo data with renamed columns (Splink on DuckDB),
then `e360 evaluate` on its result."""

from __future__ import annotations

import csv
import importlib.util
import json
import re
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

from e360.cli import main
from e360.evaluation import evaluate, load_assignments, load_truth

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "resolve"


def _generator():
    spec = importlib.util.spec_from_file_location("resolve_example", EXAMPLE / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example's files for 300 generated customers, beside copies of its mappings."""
    folder = tmp_path_factory.mktemp("resolve")
    _generator().write_example(folder, customers=300, seed=11)
    for name in ("customers.yaml", "products.yaml"):
        (folder / name).write_text((EXAMPLE / name).read_text())
    return folder


def _rows_in(path: Path) -> int:
    """Data rows of an input file, counted without e360's readers."""
    if path.suffix == ".parquet":
        return pq.read_metadata(path).num_rows
    with path.open(encoding="utf-8", errors="replace") as f:  # line breaks in any encoding
        return sum(1 for line in f if line.strip()) - 1  # the demo data has no quoted newlines


def _check_outputs(out: Path, mapping: dict) -> tuple[dict[str, str], dict]:
    clusters = pq.read_table(out / "clusters.parquet")
    assert clusters.column_names == ["source", "source_key", "master_id"]
    keys = list(
        zip(clusters["source"].to_pylist(), clusters["source_key"].to_pylist(), strict=True)
    )
    assert len(keys) == len(set(keys)), "a record appears twice"
    rejects = pq.read_table(out / "rejects.parquet")
    report = json.loads((out / "report.json").read_text())
    per_source = Counter(source for source, _ in keys)
    rejected = Counter(rejects["source"].to_pylist())
    for source in mapping["sources"]:
        name = source["name"]
        rows_in = _rows_in(out.parent / source["path"])
        # Every input row is a record in clusters.parquet or a reject, exactly once.
        assert per_source[name] + rejected[name] == rows_in, name
        summary = next(s for s in report["sources"] if s["name"] == name)
        assert (summary["rows_in"], summary["records"], summary["rejected"]) == (
            rows_in, per_source[name], rejected[name],
        )  # fmt: skip
    assert all(reason for reason in rejects["reason"].to_pylist())
    assert all(row >= 1 for row in rejects["row"].to_pylist())

    pairs = pq.read_table(out / "pairs.parquet")
    assert pairs.column_names == ["source_l", "key_l", "source_r", "key_r", "match_probability"]
    known = set(keys)
    for row in pairs.to_pylist():
        left, right = (row["source_l"], row["key_l"]), (row["source_r"], row["key_r"])
        assert left in known and right in known and left != right
        assert 0.0 <= row["match_probability"] <= 1.0
    assert pairs.num_rows == report["pairs"] > 0
    masters = dict(zip((f"{s}:{k}" for s, k in keys), clusters["master_id"].to_pylist(),
                       strict=True))  # fmt: skip
    assert report["masters"] == len(set(masters.values()))
    assert all(m.startswith(("CUS-", "PRD-")) for m in masters.values())
    model = json.loads((out / "model.json").read_text())
    assert set(report["model"]["comparisons"]) == {
        c["output_column_name"] for c in model["comparisons"]
    }
    return masters, report


def _scores(data: Path, masters: dict[str, str], truth: str) -> dict:
    truth_map = load_truth(data / truth)
    # The truth describes every well-formed row: all of them were resolved.
    assert set(truth_map) <= set(masters)
    return evaluate(masters, truth_map)


def test_customers_resolve_and_evaluate_through_the_cli(data: Path, capsys) -> None:
    out = data / "customers_out"
    assert main(["resolve", "--mapping", str(data / "customers.yaml"), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "customer:" in printed and "rows could not be read as records" in printed
    mapping = yaml.safe_load((data / "customers.yaml").read_text())
    masters, report = _check_outputs(out, mapping)
    assert report["rejected"] > 0  # the generator's malformed CRM rows
    # Every default comparison is mapped but the national id and the organisation name,
    # which the example lacks.
    company_rules = [
        ["company_name_tokens"],
        "l.city = r.city and substr(l.company_name, 1, 4) = substr(r.company_name, 1, 4)",
        "l.postcode = r.postcode and substr(l.company_name, 1, 4) = substr(r.company_name, 1, 4)",
    ]
    assert report["settings"]["unused_defaults"] == {
        "blocking_rules": [["national_id"], *company_rules],
        "comparisons": [["national_id"], ["company_name", "company_name_tokens"]],
        "deterministic_rules": ["l.phone = r.phone and l.company_name = r.company_name"],
    }
    scores = _scores(data, masters, "truth_customers.csv")
    assert scores["pairwise"]["f1"] >= 0.97, scores
    assert scores["bcubed"]["f1"] >= 0.97, scores

    assert main(["evaluate", "--truth", str(data / "truth_customers.csv"),
                 "--clusters", str(out / "clusters.parquet")]) == 0  # fmt: skip
    lines = capsys.readouterr().out.splitlines()
    bcubed = next(line for line in lines if line.startswith("B-cubed"))
    assert float(bcubed.split()[-1]) == pytest.approx(scores["bcubed"]["f1"], abs=1e-4)
    assert any(line.startswith("pairwise") for line in lines)


def test_one_per_source_never_puts_two_records_of_a_source_together(data: Path) -> None:
    mapping = yaml.safe_load((data / "customers.yaml").read_text())
    mapping["one_per_source"] = True
    # Every kind of extra column, through Splink.
    for source in mapping["sources"]:
        source["extra"] = {"town": "text"}
    crm, _, loyalty = mapping["sources"]
    crm["extra"]["title"] = "exact"
    loyalty["extra"]["joined"] = "date"
    path = data / "one_per_source.yaml"
    path.write_text(yaml.safe_dump(mapping))
    out = data / "one_per_source_out"
    assert main(["resolve", "-m", str(path), "-o", str(out)]) == 0
    masters, report = _check_outputs(out, mapping)
    members = Counter((master, rid.split(":", 1)[0]) for rid, master in masters.items())
    assert max(members.values()) == 1
    assert report["masters_with_several_records"] > 0
    trained = report["model"]["comparisons"]
    assert {"x_town", "x_title", "x_joined"} <= set(trained)
    truth = load_truth(data / "truth_customers.csv")
    # Within-source duplicates of the truth must stay apart now, so recall drops a little;
    # what is joined is still right.
    scores = evaluate(masters, truth)
    assert scores["pairwise"]["precision"] >= 0.95, scores
    assert scores["bcubed"]["f1"] >= 0.9, scores
    for pair in pq.read_table(out / "pairs.parquet").to_pylist():
        assert pair["source_l"] != pair["source_r"]


def test_products_with_a_numeric_extra_column(data: Path) -> None:
    out = data / "products_out"
    assert main(["resolve", "-m", str(data / "products.yaml"), "-o", str(out)]) == 0
    mapping = yaml.safe_load((data / "products.yaml").read_text())
    masters, report = _check_outputs(out, mapping)
    assert report["settings"]["extra_kinds"] == {"x_price": "number"}
    scores = _scores(data, masters, "truth_products.csv")
    assert scores["pairwise"]["f1"] >= 0.85, scores


def _small(tmp_path: Path, rows: list[str], **source: object) -> Path:
    (tmp_path / "people.csv").write_text("\n".join(["id,fname,lname,mail", *rows]) + "\n")
    mapping = {
        "entity": "customer",
        "sources": [{"name": "people", "path": "people.csv", "key": "id",
                     "attributes": {"first_name": "fname", "last_name": "lname",
                                    "email": "mail"}, **source}],
    }  # fmt: skip
    path = tmp_path / "M.yaml"
    path.write_text(yaml.safe_dump(mapping))
    return path


def test_a_duplicate_key_is_an_error_naming_it(tmp_path: Path, capsys) -> None:
    path = _small(tmp_path, ["1,Ann,Lee,a@x.com", "2,Bob,Ray,b@x.com", " 1 ,Ann,Lee,a@x.com"])
    assert main(["resolve", "-m", str(path), "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert "key '1' of source people is on data rows 1 and 3" in err
    assert not (tmp_path / "out" / "clusters.parquet").exists()


def test_a_missing_column_is_named_with_the_columns_there_are(tmp_path: Path, capsys) -> None:
    path = _small(tmp_path, ["1,Ann,Lee,a@x.com"], extra={"town": "text"})
    assert main(["resolve", "-m", str(path), "-o", str(tmp_path / "out")]) == 1
    err = " ".join(capsys.readouterr().err.split())  # the console may wrap
    assert "sources.0.extra.town: column 'town' is not in people.csv" in err
    assert "people.csv has the columns: id, fname, lname, mail" in err


def test_too_few_records_to_compare_still_lists_every_record(tmp_path: Path) -> None:
    path = _small(tmp_path, ["1,Ann,Lee,a@x.com", ",Bob,Ray,b@x.com", "3,Cy,Oh"])
    out = tmp_path / "out"
    assert main(["resolve", "-m", str(path), "-o", str(out)]) == 0
    clusters = pq.read_table(out / "clusters.parquet").to_pylist()
    assert [(c["source"], c["source_key"]) for c in clusters] == [("people", "1")]
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    assert [(r["row"], r["reason"]) for r in rejects] == [
        (2, "missing key column 'id'"),
        (3, "row has 3 fields, the header has 4"),
    ]
    report = json.loads((out / "report.json").read_text())
    assert (report["records"], report["rejected"], report["masters"]) == (1, 2, 1)
    assert report["model"] is None and not (out / "model.json").exists()


def test_evaluate_reads_csv_clusters_and_refuses_disjoint_files(tmp_path: Path, capsys) -> None:
    truth = tmp_path / "truth.csv"
    truth.write_text("source,source_key,entity_id\na,1,t1\na,2,t1\na,3,t2\n")
    clusters = tmp_path / "clusters.csv"
    clusters.write_text("source,source_key,master_id\na,1,M1\na,2,M2\na,3,M2\n")
    assert main(["evaluate", "--truth", str(truth), "--clusters", str(clusters), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["bcubed"]["precision"] == pytest.approx((1 + 0.5 + 0.5) / 3)
    assert result["bcubed"]["recall"] == pytest.approx((0.5 + 0.5 + 1) / 3)
    assert result["pairwise"]["tp"] == 0
    other = tmp_path / "other.csv"
    other.write_text("source,source_key,master_id\nb,1,M1\n")
    assert main(["evaluate", "--truth", str(truth), "--clusters", str(other)]) == 1
    assert "no record is also in" in capsys.readouterr().err


def test_the_committed_example_resolves(tmp_path: Path) -> None:
    """What the README shows: the example mapping on the committed (small) inputs."""
    out = tmp_path / "out"
    assert main(["resolve", "-m", str(EXAMPLE / "products.yaml"), "-o", str(out)]) == 0
    masters = load_assignments(out / "clusters.parquet")
    truth = load_truth(EXAMPLE / "truth_products.csv")
    assert set(truth) == set(masters)
    assert evaluate(masters, truth)["bcubed"]["f1"] >= 0.9


def _latin1_crm(data: Path) -> tuple[Path, list[str], set[str]]:
    """The example's CRM file as a latin-1, ';'-delimited export whose street is split into
    number and name; rows latin-1 cannot write (or malformed) are left out. Returns the file,
    the keys of rows holding non-ASCII text and the records left out."""
    with (data / "crm.csv").open(encoding="utf-8", newline="") as f:
        header, *rows = list(csv.reader(f))
    street = header.index("street")
    kept: list[list[str]] = []
    left_out: set[str] = set()
    for row in rows:
        text = "".join(row)
        if len(row) != len(header) or any(ord(ch) > 255 for ch in text):
            left_out.add(f"crm:{row[0]}")
            continue
        number, name = re.match(r"^(?:(\d+[A-Za-z]?) )?(.*)$", row[street]).groups()
        kept.append([*row[:street], number or "", name, *row[street + 1 :]])
    path = data / "crm_latin1.csv"
    with path.open("w", encoding="latin-1", newline="") as f:
        writer = csv.writer(f, delimiter=";")
        writer.writerow([*header[:street], "no", "street", *header[street + 1 :]])
        writer.writerows(kept)
    accented = [row[0] for row in kept if any(ord(ch) > 127 for ch in "".join(row))]
    return path, accented, left_out


def test_a_latin1_semicolon_file_with_a_template_mapping(data: Path) -> None:
    crm_file, accented, left_out = _latin1_crm(data)
    assert accented  # the generator writes accented names
    mapping = yaml.safe_load((data / "customers.yaml").read_text())
    crm = mapping["sources"][0]
    crm["path"] = crm_file.name
    crm["csv"] = {"encoding": "latin-1", "delimiter": ";"}
    crm["attributes"]["address_line1"] = "{no} {street}"
    path = data / "latin1.yaml"
    path.write_text(yaml.safe_dump(mapping))
    out = data / "latin1_out"
    assert main(["resolve", "-m", str(path), "-o", str(out)]) == 0
    masters, report = _check_outputs(out, mapping)
    rejects = pq.read_table(out / "rejects.parquet").to_pylist()
    # Every row decoded and split into its fields: only the generator's blank keys are out.
    assert {r["reason"] for r in rejects if r["source"] == "crm"} <= {"missing key column 'id'"}
    assert {f"crm:{key}" for key in accented} <= set(masters)
    # The recombined street is the address compared: every CRM record with a street has one.
    with crm_file.open(encoding="latin-1", newline="") as f:
        crm_streets = sum(1 for r in csv.DictReader(f, delimiter=";") if r["id"] and r["street"])
    shop = pq.read_table(data / "shop.parquet").to_pylist()
    shop_streets = sum(1 for r in shop if r["account"] and (r["addr1"] or "").strip())
    expected = (crm_streets + shop_streets) / report["records"]  # loyalty has no address
    assert report["filled"]["address_line1"] == pytest.approx(expected, abs=1e-4)
    truth = load_truth(data / "truth_customers.csv")
    assert set(truth) - set(masters) <= left_out
    scores = evaluate(masters, truth)
    assert scores["pairwise"]["f1"] >= 0.97, scores


def test_bytes_not_valid_in_the_configured_encoding_are_rejects_naming_file_and_row(
    tmp_path: Path,
) -> None:
    text = "id;fname;lname;no;street\n1;Ann;Lee;4;Elm Rd\n2;José;García;;Calle Real\n"
    (tmp_path / "people.csv").write_bytes(text.encode("latin-1"))
    source = {"name": "people", "path": "people.csv", "key": "id",
              "attributes": {"first_name": "fname", "last_name": "lname",
                             "address_line1": "{no} {street}"}}  # fmt: skip
    path = tmp_path / "M.yaml"
    out = tmp_path / "out"
    for csv_options, records in (({"delimiter": ";"}, ["1"]), (LATIN1, ["1", "2"])):
        mapping = {"entity": "customer", "sources": [{**source, "csv": csv_options}]}
        path.write_text(yaml.safe_dump(mapping))
        assert main(["resolve", "-m", str(path), "-o", str(out)]) == 0
        clusters = pq.read_table(out / "clusters.parquet").to_pylist()
        assert sorted(c["source_key"] for c in clusters) == records
        rejects = pq.read_table(out / "rejects.parquet").to_pylist()
        if csv_options is LATIN1:
            assert rejects == []
        else:  # read as UTF-8, José's row is not text: kept as a reject, named
            assert [(r["file"], r["row"], r["reason"]) for r in rejects] == [
                (str(tmp_path / "people.csv"), 2, "bytes not valid utf-8-sig")
            ]
            assert "Garc\ufffda" in rejects[0]["raw"]


LATIN1 = {"encoding": "latin-1", "delimiter": ";"}
