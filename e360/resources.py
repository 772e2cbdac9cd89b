"""Files e360 ships beside its code: the dbt project and the demo configuration.

One way to find them, `shipped(name)`, with `name` the file's path in the checkout
(`dbt_project`, `examples/demo/e360.yaml`):

- installed from a wheel, they are package data under `e360/_data/<name>` (pyproject's
  `[tool.hatch.build.targets.wheel.force-include]` puts them there);
- in a checkout (an editable install: tests, `make demo`, development) there is no
  `e360/_data`, and they are the checkout's own files, so an edit shows at once. (Hatch copies
  the force-included files into an editable install's site-packages too; that copy is never
  read, since `e360` is imported from the checkout.)

Nothing is ever written under an installed package: what e360 derives from these files goes
under the project root (`dbt_work_dir`), and the demo project, without `--dir`, under the
working directory (`demo_project_root`).
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent
PACKAGE_DATA = _PACKAGE / "_data"
CHECKOUT = _PACKAGE.parent
INSTALLED = PACKAGE_DATA.is_dir()  # from a wheel; else a checkout


def shipped(name: str) -> Path:
    """The shipped file or folder `name` (its path in the checkout), wherever e360 runs from."""
    return (PACKAGE_DATA if INSTALLED else CHECKOUT) / name


DBT_PROJECT_DIR = shipped("dbt_project")
# The embedded-defaults demo; its `entities` section is also the default matching settings
# of `e360 resolve`.
DEMO_CONFIG = shipped("examples/demo/e360.yaml")


def demo_project_root() -> Path:
    """Where the demo project lives unless `--dir` says otherwise: `.e360/demo` of the checkout
    (what the demo configuration's own `project.root` names), or of the working directory when
    e360 runs from a wheel (a root relative to the installed configuration would be inside
    site-packages)."""
    return (Path.cwd() if INSTALLED else CHECKOUT) / ".e360" / "demo"


def dbt_work_dir(project_root: Path) -> Path:
    """Where dbt writes what it derives from the shipped dbt project (the parsed manifest, its
    logs): the dbt project's own `target/` in a checkout, shared by every e360 project there
    as before; `<project root>/dbt` from a wheel, whose installed files are read-only to e360."""
    return DBT_PROJECT_DIR / "target" if not INSTALLED else project_root / "dbt"
