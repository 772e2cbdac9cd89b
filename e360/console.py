"""Terminal output: rich progress for long steps and a readable run summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from e360.report import RunReport


class RichProgress:
    """Shows one line per stage with a spinner and the tasks inside it as they advance."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress: Progress | None = None

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        progress = Progress(
            SpinnerColumn(finished_text="[green]✓[/]"),
            TextColumn("{task.description}"),
            TextColumn("[cyan]{task.fields[count]}"),
            TimeElapsedColumn(),
            console=self.console,
            transient=False,
        )
        self._progress = progress
        with progress:
            stage = progress.add_task(f"[bold]{name}", total=1, count="")
            yield
            progress.update(stage, completed=1)
            for task in progress.tasks:
                progress.update(task.id, total=task.completed or 1, completed=task.completed or 1)
        self._progress = None

    def task(self, description: str, total: int | None) -> Callable[[int], None]:
        if self._progress is None:
            return lambda advance: None
        progress = self._progress
        task_id = progress.add_task(f"  {description}", total=total, count="0")

        def advance(n: int) -> None:
            progress.advance(task_id, n)
            done = progress.tasks[task_id].completed
            progress.update(task_id, count=f"{done:,.0f}")

        return advance


def print_summary(console: Console, report: RunReport, report_path: str) -> None:
    if report.ingest:
        table = Table(title="Ingestion", title_justify="left")
        for column in ("source", "entity", "files", "skipped", "in", "landed", "quarantined"):
            table.add_column(column, justify="left" if column in ("source", "entity") else "right")
        for r in report.ingest:
            table.add_row(
                r["source"],
                r["entity"],
                str(r["files_ingested"]),
                str(r["files_skipped"]),
                f"{r['rows_in']:,}",
                f"{r['landed']:,}",
                f"{r['quarantined']:,}",
            )
        console.print(table)
        for r in report.ingest:
            for note in r.get("notes") or ():
                console.print(f"{r['source']}: {note}", highlight=False)
    if report.entities:
        table = Table(title="Masters", title_justify="left")
        columns: tuple[str, ...] = (
            "entity", "run", "records", "masters", "pairs", "review queue", "threshold", "model",
            "churn",
        )  # fmt: skip
        for column in columns:
            left = column in ("entity", "model", "run")
            table.add_column(column, justify="left" if left else "right")
        for entity, e in report.entities.items():
            model = (e["model_version"] or "none") + (" (trained)" if e["model_trained"] else "")
            mode = e.get("mode", "full")  # the report has how many records were rescored
            table.add_row(
                entity,
                mode,
                f"{e['records']:,}",
                f"{e['masters']:,}",
                f"{e['pairs']:,}",
                f"{e['review_queue']:,}",
                _threshold(e.get("threshold")),
                model,
                f"{e['id_churn']:.2%}",
            )
        console.print(table)
    if report.evaluation:
        table = Table(title="Match quality against ground truth", title_justify="left")
        columns = ("entity", "pairwise P", "R", "F1", "B-cubed P", "R ", "F1 ", "exact clusters")
        for column in columns:
            table.add_column(column, justify="left" if column == "entity" else "right")
        for entity, ev in report.evaluation.items():
            p, c, b = ev["pairwise"], ev["cluster"], ev.get("bcubed")
            bcubed = [f"{b[k]:.3f}" for k in ("precision", "recall", "f1")] if b else ["-"] * 3
            table.add_row(
                entity,
                *(f"{p[k]:.3f}" for k in ("precision", "recall", "f1")),
                *bcubed,
                f"{c['f1']:.3f}",
            )
        console.print(table)
    if report.events:
        conformed = sum(e["conformed"] for e in report.events)
        rejected = sum(e["rejected"] for e in report.events)
        unresolved = [
            f"{n:,} {entity}"
            for entity in ("customer", "product")
            if (n := sum(e.get(f"unresolved_{entity}", 0) for e in report.events))
        ]
        because = f" ({' and '.join(unresolved)} references resolve to no record)"
        console.print(
            f"Events: {conformed:,} conformed, {rejected:,} rejected"
            + (because if unresolved else "")
        )
    dbt = report.publish.get("dbt")
    if dbt:
        console.print(
            f"Published: {dbt['models']} dbt models, {dbt['tests_passed']} dbt tests passed, "
            f"{dbt['tests_failed']} failed"
            + (f", {dbt['tests_skipped']} skipped" if dbt.get("tests_skipped") else "")
        )
    if report.checks:
        failed = [name for name, check in report.checks.items() if not check["passed"]]
        console.print(f"Checks: {len(report.checks) - len(failed)} passed, {len(failed)} failed")
        for name in failed:
            console.print(f"  [red]failed[/] {name}")
    timings = ", ".join(f"{stage} {seconds:.1f}s" for stage, seconds in report.timings.items())
    console.print(f"Stages: {timings}")
    console.print(f"Run [bold]{report.run_id}[/] {report.status}; report: {report_path}")


def _threshold(threshold: dict | None) -> str:
    """The link threshold used; an auto one with the precision and recall it expects."""
    if not threshold:
        return "-"
    text = f"{threshold['value']:.3f}"
    if threshold.get("chosen") != "auto":
        return text
    p, r = threshold.get("expected_precision"), threshold.get("expected_recall")
    expected = f" (P~{p:.2f} R~{r:.2f})" if p is not None and r is not None else ""
    return f"auto {text}{expected}"
