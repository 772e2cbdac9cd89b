"""UDF worker processes: a batch cut among the workers gives what the function gives in this
process, the slices run in other processes at once, a UDF's error and a dead worker are
reported by name, and DuckDB calls an offloaded UDF as it calls one in-process."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import duckdb
import pyarrow as pa
import pytest

from e360.config import EngineSettings
from e360.dataflow import DuckDBDataflow, RowWise, VectorisedUdf
from e360.udf_workers import UdfWorkerError, UdfWorkers
from matching.resolution.engine import udf_workers


def shout(value: str | None) -> list[str] | None:
    return None if value is None else [value.upper(), str(len(value))]


def worker_pid(_value: str | None) -> int:
    return os.getpid()


def fail_on_x(value: str | None) -> str | None:
    if value == "x":
        raise ValueError(f"cannot read {value!r}")
    return value


SHOUT = RowWise(shout, pa.list_(pa.string()))


@pytest.fixture
def workers() -> Iterator[UdfWorkers]:
    pool = UdfWorkers(2, min_rows=4, warm_up_rows=0)
    yield pool
    pool.close()


def test_a_batch_cut_among_workers_gives_the_in_process_result(workers: UdfWorkers) -> None:
    values = pa.array([None if i % 7 == 0 else f"v{i}é" for i in range(1001)], pa.string())
    assert workers.run(SHOUT, [values]) == SHOUT(values)
    assert workers.started


def test_the_slices_run_in_other_processes_at_once(workers: UdfWorkers) -> None:
    pids = workers.run(RowWise(worker_pid, pa.int64()), [pa.array(["a"] * 100)]).to_pylist()
    assert os.getpid() not in pids
    assert len(set(pids)) == 2  # one slice per worker
    assert pids == sorted(pids, key=pids.index)  # each worker's slice is contiguous


def test_small_batches_and_small_data_stay_in_this_process() -> None:
    pool = UdfWorkers(2, min_rows=512, warm_up_rows=3000)
    call = pool.offloading(RowWise(worker_pid, pa.int64()), 1)
    assert set(call(pa.array(["a"] * 10)).to_pylist()) == {os.getpid()}
    # the first 3,000 rows of batches worth sending run here, then the workers start
    for _ in range(2):
        assert set(call(pa.array(["a"] * 2048)).to_pylist()) == {os.getpid()}
    assert not pool.started
    try:
        assert os.getpid() not in call(pa.array(["a"] * 2048)).to_pylist()
        assert pool.started
    finally:
        pool.close()


def test_a_udf_error_names_the_function_with_its_traceback(workers: UdfWorkers) -> None:
    with pytest.raises(UdfWorkerError, match=r"fail_on_x_rows failed(?s:.*)cannot read 'x'"):
        workers.run(RowWise(fail_on_x, pa.string()), [pa.array(["a", "b", "x", "c"] * 4)])
    # The workers are still there for the next batch.
    assert workers.run(SHOUT, [pa.array(["ok"] * 8)]).to_pylist() == [["OK", "2"]] * 8


def test_a_dead_worker_is_reported_not_waited_for(workers: UdfWorkers) -> None:
    workers.run(SHOUT, [pa.array(["a"] * 8)])
    for worker in workers._workers:
        worker.process.kill()
    with pytest.raises(UdfWorkerError, match="UDF worker running shout_rows exited"):
        workers.run(SHOUT, [pa.array(["a"] * 8)])


def test_threads_calling_at_once_share_the_workers(workers: UdfWorkers) -> None:
    values = pa.array([f"t{i}" for i in range(400)])
    results: list[pa.Array] = []

    def call() -> None:
        results.append(workers.run(SHOUT, [values]))

    threads = [threading.Thread(target=call) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(results) == 4 and all(r == SHOUT(values) for r in results)


def test_duckdb_runs_an_offloaded_udf_in_the_workers(workers: UdfWorkers) -> None:
    flow = DuckDBDataflow(duckdb.connect(), workers)
    try:
        flow.register_udf(VectorisedUdf("shout", SHOUT, (pa.string(),), SHOUT.returns, True))
        flow.register_udf(
            VectorisedUdf("pid", RowWise(worker_pid, pa.int64()), (pa.string(),), pa.int64(), True)
        )
        flow.create_table("v", "select 'n' || range as s from range(5000)")
        got = flow.to_arrow("select s, shout(s) as loud, pid(s) as pid from v order by s")
    finally:
        flow.close()
    assert got.column("loud").to_pylist() == SHOUT(got.column("s").combine_chunks()).to_pylist()
    assert os.getpid() not in set(got.column("pid").to_pylist())


def test_a_flow_stops_its_workers_when_it_closes() -> None:
    """The workers' caches grow with the data: they must not outlive the flow's stage."""
    workers = UdfWorkers(2, min_rows=4, warm_up_rows=0)
    flow = DuckDBDataflow(duckdb.connect(), workers)
    flow.register_udf(VectorisedUdf("shout", SHOUT, (pa.string(),), SHOUT.returns, True))
    flow.create_table("v", "select shout('n' || range) as s from range(100)")
    processes = [worker.process for worker in workers._workers]
    assert len(processes) == 2 and all(p.poll() is None for p in processes)
    flow.close()
    assert all(p.poll() is not None for p in processes)  # close waits for them to exit
    assert not workers.started


@pytest.mark.parametrize(
    ("settings", "expected"),
    [({"threads": 4}, 4), ({"threads": 1}, 0), ({"threads": 4, "udf_workers": 0}, 0),
     ({"udf_workers": 3}, 3)],
)  # fmt: skip
def test_one_worker_per_engine_thread_unless_configured(settings: dict, expected: int) -> None:
    assert udf_workers(EngineSettings.model_validate(settings)) == expected
