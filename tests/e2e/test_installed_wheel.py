"""The wheel, installed outside the checkout, runs `e360 resolve` and `e360 demo`.

Built with `uv build`, installed into a fresh venv in a temp folder from uv's cache (offline),
and run there with the working directory outside the checkout and no environment activated:
the dbt project, the demo configuration and the default matching settings must come from the
package data, and nothing may be written inside the installed package.

The dependencies are installed at the lock's versions, exported as a `pylock.toml` (each
package with its wheel's URL and hash) and installed from the cache that `uv sync` filled, not
resolved by `uv pip install '<wheel>[demo]'`: resolving offline needs index metadata, which
`uv sync --frozen` (how the checkout's .venv was installed) never fetches, so on a fresh
machine the cache holds none (a plain requirements file needs it too, to find each wheel).
`uv pip check` then shows the installed set satisfies what the wheel declares.

The checkout's own `.venv/bin/e360` runs the same way: no venv activated, `.venv/bin` not on
PATH, so every tool it starts (dbt, Dagster's servers) must be found beside the interpreter.
"""

from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest
import yaml

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
UV = [shutil.which("uv")] if shutil.which("uv") else ["python3", "-m", "uv"]
MISSING_EXTRA = "error: the demo generator needs the demo extra: pip install 'e360[demo]'"


def _run(args: list[str], *, cwd: Path, timeout: float, env: dict[str, str] | None = None):
    done = subprocess.run(
        [str(a) for a in args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return done


def _ok(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args}\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _outside_env() -> dict[str, str]:
    """The machine's environment without an activated venv, the checkout on PATH or e360's
    own variables."""
    dropped = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "UV_PROJECT_ENVIRONMENT", "E360_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env["PATH"] = os.pathsep.join(
        p for p in env.get("PATH", "").split(os.pathsep) if p and not Path(p).is_relative_to(REPO)
    )
    return env


class Installed:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.venv = root / "venv"
        self.work = root / "work"  # the working directory of every run
        self.work.mkdir()
        self.env = _outside_env()

    def e360(self, *args: object, timeout: float = 900) -> subprocess.CompletedProcess[str]:
        return _run(
            [self.venv / "bin" / "e360", *args], cwd=self.work, timeout=timeout, env=self.env
        )

    def python(self, code: str) -> subprocess.CompletedProcess[str]:
        return _run(
            [self.venv / "bin" / "python", "-c", code], cwd=self.work, timeout=120, env=self.env
        )

    def install_locked(self, *extras: str) -> None:
        """The lock's versions of the service's dependencies (and of `extras`), from the cache."""
        # pylock.toml: its name must be `pylock.toml` or `pylock.<name>.toml`
        locked = self.root / f"pylock{''.join('.' + e for e in extras)}.toml"
        extra_args = [arg for e in extras for arg in ("--extra", e)]
        _ok(_run(
            [*UV, "export", "--frozen", "--offline", "--no-dev", "--no-emit-project",
             "--format", "pylock.toml", *extra_args, "--output-file", locked],
            cwd=REPO, timeout=120,
        ))  # fmt: skip
        _ok(_run(
            [*UV, "pip", "install", "--offline", "--python", self.venv / "bin" / "python",
             "-r", locked],
            cwd=self.root, timeout=900,
        ))  # fmt: skip

    def package_files(self) -> set[str]:
        """Files of the installed e360 package (bytecode caches aside)."""
        site = next((self.venv / "lib").glob("python3*/site-packages"))
        return {
            str(p.relative_to(site))
            for p in (site / "e360").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts
        }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel and the service's dependencies (not the demo extra) in a fresh venv."""
    root = tmp_path_factory.mktemp("installed")
    assert not root.resolve().is_relative_to(REPO)
    dist = root / "dist"
    _ok(
        _run([*UV, "build", "--offline", "--wheel", "--out-dir", dist, REPO], cwd=REPO, timeout=600)
    )
    (wheel,) = dist.glob("e360-*.whl")
    target = Installed(root)
    _ok(
        _run(
            [*UV, "venv", "--offline", "--python", sys.executable, target.venv],
            cwd=root,
            timeout=120,
        )
    )
    target.install_locked()
    _ok(_run(
        [*UV, "pip", "install", "--offline", "--no-deps", "--python", target.venv / "bin" / "python",
         wheel],
        cwd=root, timeout=300,
    ))  # fmt: skip
    _ok(
        _run(
            [*UV, "pip", "check", "--python", target.venv / "bin" / "python"], cwd=root, timeout=120
        )
    )
    return target


def _write_customers(folder: Path) -> tuple[Path, int]:
    """Two small customer files sharing most people, the copies in the second one slightly
    misspelt; a mapping for `e360 resolve`. Returns the mapping and the number of rows."""
    rng = random.Random(14)
    firsts = ["Anna", "Ben", "Carla", "David", "Elena", "Farid", "Grace", "Hugo", "Ines", "Jonas"]
    lasts = ["Keller", "Lopez", "Moreau", "Novak", "Olsen", "Patel", "Quinn", "Rossi", "Sato"]
    towns = [("Leeds", "LS"), ("York", "YO"), ("Bath", "BA"), ("Derby", "DE")]
    people = []
    for i in range(90):
        first, last = rng.choice(firsts), rng.choice(lasts)
        town, area = rng.choice(towns)
        people.append({
            "first": first, "last": last, "dob": f"19{rng.randrange(50, 99)}-0{rng.randrange(1, 10)}-1{rng.randrange(10)}",
            "email": f"{first.lower()}.{last.lower()}{i}@example.org",
            "postcode": f"{area}{rng.randrange(1, 20)} {rng.randrange(1, 10)}AB", "town": town,
        })  # fmt: skip
    crm = ["id,given,family,born,mail,pc,town"]
    crm += [
        f"C{i:04d},{p['first']},{p['last']},{p['dob']},{p['email']},{p['postcode']},{p['town']}"
        for i, p in enumerate(people)
    ]
    shop = ["account,first,surname,birthday,email,zip,city"]
    for i, p in enumerate(people):
        if i % 3 == 0:
            continue  # a third only in the CRM
        last = p["last"][:-1] if i % 4 == 0 else p["last"]  # a typo
        shop.append(
            f"S{i:04d},{p['first']},{last},{p['dob']},{p['email']},{p['postcode']},{p['town']}"
        )
    (folder / "crm.csv").write_text("\n".join(crm) + "\n")
    (folder / "shop.csv").write_text("\n".join(shop) + "\n")
    attributes = ("first_name", "last_name", "date_of_birth", "email", "postcode", "city")
    mapping = {
        "entity": "customer",
        "sources": [
            {"name": "crm", "path": "crm.csv", "key": "id", "attributes": dict(zip(
                attributes, ("given", "family", "born", "mail", "pc", "town"), strict=True))},
            {"name": "shop", "path": "shop.csv", "key": "account", "attributes": dict(zip(
                attributes, ("first", "surname", "birthday", "email", "zip", "city"), strict=True))},
        ],
    }  # fmt: skip
    path = folder / "customers.yaml"
    path.write_text(yaml.safe_dump(mapping, sort_keys=False))
    return path, len(crm) + len(shop) - 2


def test_the_installed_package_is_the_wheel_without_faker(installed: Installed) -> None:
    where = _ok(installed.python("import demo, e360, matching; print(e360.__file__)"))
    assert Path(where.stdout.strip()).is_relative_to(installed.venv)
    assert installed.python("import faker").returncode != 0  # not a service dependency
    done = installed.e360("demo", "--customers", 50, "--dir", installed.root / "no-faker")
    assert done.returncode == 1
    assert done.stderr.strip() == MISSING_EXTRA
    assert not (installed.root / "no-faker" / "landing").exists()


def test_resolve_runs_from_the_wheel(installed: Installed) -> None:
    data = installed.root / "resolve"
    data.mkdir()
    mapping, rows = _write_customers(data)
    before = installed.package_files()
    _ok(installed.e360("resolve", "--mapping", mapping, "--out", data / "out", timeout=600))
    clusters = pq.read_table(data / "out" / "clusters.parquet")
    assert clusters.num_rows == rows
    report = json.loads((data / "out" / "report.json").read_text())
    assert report["records"] == rows
    assert 0 < report["masters"] < rows  # copies of one person were linked
    assert installed.package_files() == before
    assert not any(installed.work.iterdir())  # nothing written in the working directory


def test_demo_runs_from_the_wheel(installed: Installed) -> None:
    installed.install_locked("demo")
    before = installed.package_files()
    project = installed.root / "demo"
    _ok(installed.e360("demo", "--customers", 150, "--dir", project, timeout=1200))
    (report_file,) = project.glob("runs/*/report.json")
    report = json.loads(report_file.read_text())
    assert report["status"] == "succeeded"
    assert report["entities"]["customer"]["masters"] > 0
    assert report["entities"]["product"]["masters"] > 0
    assert (project / "warehouse" / "e360.duckdb").is_file()
    # dbt parsed into the project, not into the installed package
    assert (project / "dbt" / "manifest.json").is_file()
    assert installed.package_files() == before
    assert not any(installed.work.iterdir())


def test_the_checkouts_venv_runs_demo_without_being_activated(tmp_path: Path) -> None:
    venv_e360 = Path(sys.executable).parent / "e360"
    assert venv_e360.is_relative_to(REPO)  # the checkout's venv, which _outside_env drops
    env = _outside_env()
    assert str(venv_e360.parent) not in env["PATH"].split(os.pathsep)
    work = tmp_path / "work"
    work.mkdir()
    project = tmp_path / "demo"
    done = _ok(
        _run([venv_e360, "demo", "--customers", 150, "--dir", project], cwd=work, timeout=1200,
             env=env)
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    (report_file,) = project.glob("runs/*/report.json")
    report = json.loads(report_file.read_text())
    assert report["status"] == "succeeded"
    assert report["entities"]["customer"]["masters"] > 0
    assert (project / "warehouse" / "e360.duckdb").is_file()  # dbt ran, found beside python
