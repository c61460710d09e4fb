"""The ingest job: every ingest asset and its raw quality gates, one run per school-year partition, each step in
its own process, as many at once as there are CPUs (IKMS_INGEST_PROCESSES).

Why processes: an ingest step is Polars and DuckDB work that keeps ~1 core busy (readers, the contract rules and
the single-threaded DuckDB insert: one process used 109 % CPU of the 2-core machine), so two steps side by side
use both cores — each ~30 % slower than alone (shared cores and memory bandwidth), so the national year gains ~10 %.
DuckDB takes one writer process: each step holds the warehouse only for its short replace-partition transaction
and waits while the other holds it (pipelines.ingest.load.connect). Steps start from a forkserver that has the
pipeline imported, not from a fresh interpreter (great_expectations alone is a 4 s import).
"""
from __future__ import annotations

import os

import dagster as dg

from pipelines.defs.ingest.assets import ingest_assets
from pipelines.defs.ingest.gates import RAW_GATE_CHECKS
from pipelines.defs.ingest.partitions import school_years
from pipelines.defs.ingest.resources import DuckDBWarehouse

JOB = "ingest"
# imported once by the forkserver, shared by every step process (step_imports: what Dagster itself imports in a
# step process)
PRELOAD = ["pipelines.defs.ingest.jobs", "pipelines.ingest.ingest", "pipelines.quality.gates", "polars", "duckdb",
           "great_expectations", "pipelines.defs.ingest.step_imports"]


# below this many bytes of landing files in a run, one process: a step process costs ~1.5 s to start and report
# (the small test landing dir: 18 s in one process, 32 s in two); the national year (1.8 GB) gains, measured
# back to back: 127-129 s in one process, 116-121 s in two
PARALLEL_FROM_BYTES = 256 * 2**20


def processes(landing_bytes: int | None = None) -> int:
    """IKMS_INGEST_PROCESSES if set; else the CPU count, or 1 when the run reads less than PARALLEL_FROM_BYTES
    of landing files. 1 runs every step in the run's own process."""
    value = os.environ.get("IKMS_INGEST_PROCESSES")
    if value:
        return max(1, int(value))
    if landing_bytes is not None and landing_bytes < PARALLEL_FROM_BYTES:
        return 1
    return os.cpu_count() or 1


def execution_config(n: int | None = None) -> dict:
    """The run config's `execution` part for n processes (1: in process)."""
    n = processes() if n is None else n
    if n <= 1:
        return {"config": {"in_process": {}}}
    return {"config": {"multiprocess": {
        "max_concurrent": n,
        "start_method": {"forkserver": {"preload_modules": PRELOAD}},
    }}}


ingest_job = dg.define_asset_job(
    JOB,
    selection=dg.AssetSelection.assets(*ingest_assets) | dg.AssetSelection.checks(*RAW_GATE_CHECKS),
    partitions_def=school_years,
    executor_def=dg.multi_or_in_process_executor,
    config={"execution": execution_config()},
    description="ingest: landing files -> raw.* / quarantine.* for one school year, steps in parallel processes",
)

# the job with its assets, checks and resources alone (the code location's defs are pipelines.definitions)
_job_defs = dg.Definitions(assets=ingest_assets, asset_checks=RAW_GATE_CHECKS, jobs=[ingest_job],
                           resources={"warehouse": DuckDBWarehouse()})


def resolved_job() -> dg.JobDefinition:
    """The job with its resources bound: what the runner executes (dg.reconstructable needs a function)."""
    return _job_defs.resolve_job_def(JOB)
