"""The Dagster definitions of the whole pipeline: every sub-package of pipelines/defs exposes `defs`; they are
merged here with the shared resources and the executor. Steps run in one process, one after another: DuckDB
takes a single writer process. The exception is the `ingest` job (pipelines/defs/ingest/jobs.py), whose steps
run in parallel processes that each hold the warehouse only for their short write."""
from __future__ import annotations

import importlib
import pkgutil

import dagster as dg

import pipelines.defs
from pipelines.defs.ingest.resources import DuckDBWarehouse


def _stage_defs() -> list[dg.Definitions]:
    out = []
    for mod in sorted(pkgutil.iter_modules(pipelines.defs.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"pipelines.defs.{mod.name}")
        if isinstance(getattr(module, "defs", None), dg.Definitions):
            out.append(module.defs)
    return out


defs = dg.Definitions.merge(
    *_stage_defs(),
    dg.Definitions(resources={"warehouse": DuckDBWarehouse()}, executor=dg.in_process_executor),
)
