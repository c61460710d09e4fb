"""Imported once by the forkserver of the ingest job's step processes (jobs.PRELOAD), so that each step process,
forked from it, finds these modules loaded instead of importing them itself.

A step process first opens the Dagster instance (DagsterInstance.from_ref): that imports the instance's storage
classes named in dagster.yaml (for the default, SQLite, also sqlalchemy, alembic, the daemon and scheduler
modules) — ~400 modules, measured 0.55 s of every step's ~0.65 s start. The classes are the ones the instance
in $DAGSTER_HOME names, so another storage (e.g. Postgres) is preloaded the same way. Writing a frame to DuckDB
imports pyarrow's dataset modules."""
from __future__ import annotations

import importlib
import os


def _instance_modules() -> None:
    from dagster._core.instance import factory  # noqa: F401  (from_ref's own import)
    from dagster._core.instance.ref import InstanceRef

    home = os.environ.get("DAGSTER_HOME")
    if not home or not os.path.isdir(home):
        return
    ref = InstanceRef.from_dir(home)
    for name in ref._fields:
        data = getattr(ref, name)
        module = getattr(data, "module_name", None)
        if module:
            importlib.import_module(module)


_instance_modules()
import pyarrow.dataset  # noqa: E402,F401
