"""The dbt models (and seeds) as Dagster assets, their dbt tests as asset checks.

Two `@dbt_assets` over one manifest: the models tagged `yearly` are partitioned by the school-year partitions of
the ingest (a run of partitions 2022..2024 is ONE dbt invocation with the school years [2022, 2023, 2024] (in
IKMS_SCHOOL_YEARS), so the incremental models delete+insert exactly those years); every other model and seed is
unpartitioned. dbt sources on raw.* are the ingest assets raw/<table>, so the dbt graph hangs below them.
Where the two sets interleave (staging view -> yearly table -> unpartitioned union) Dagster runs the subsets as
separate steps, in order, each one dbt invocation.
"""

import json
import logging
import os
import shutil
import sys
import uuid
from contextlib import contextmanager
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Optional

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from pipelines import settings
from pipelines.defs.dbt import project as proj
from pipelines.defs.ingest.partitions import school_years

YEARLY = "yearly"
# A dbt test runs in the step where all its parents are built or upstream ("buildable"), not in the first step
# that selects one of them (dbt's default "eager"): a relationships test between a yearly fact and a dimension
# must wait for the fact's step, or it queries a table that does not exist yet (seen once the open-data models,
# downstream of both, made Dagster split the unpartitioned models into two steps).
os.environ.setdefault("DBT_INDIRECT_SELECTION", "buildable")
# Partitioned: the yearly models, plus the views sandwiched between two of them (an indicator's __finest view
# between the marts and its roll-up): re-creating a view per partition costs nothing, and keeping them in the
# partitioned set spares a Dagster step (and a dbt invocation) at each alternation.
YEARLY_SELECT = f"tag:{YEARLY} +tag:{YEARLY},tag:{YEARLY}+,config.materialized:view"
log = logging.getLogger(__name__)

# The runner sets this to print one line per built model / test while `dg.materialize` runs in-process.
progress_hook: Optional[Callable[[str], None]] = None


class IkmsTranslator(DagsterDbtTranslator):
    """Keys are <schema>/<name> like the DuckDB relations (raw/viis_enrolments, marts/fct_enrolments,
    indicators/indicator_values); groups are the layers."""

    def get_asset_key(self, props: Mapping[str, Any]) -> dg.AssetKey:
        if props["resource_type"] == "source" and props.get("schema") == "raw":
            return dg.AssetKey(["raw", props.get("identifier") or props["name"]])  # = the ingest asset
        if props["resource_type"] in ("model", "seed", "snapshot"):
            return dg.AssetKey([props.get("schema") or "dbt", props.get("alias") or props["name"]])
        return super().get_asset_key(props)

    def get_group_name(self, props: Mapping[str, Any]) -> Optional[str]:
        if props["resource_type"] in ("model", "seed", "snapshot"):
            return props.get("schema") or None
        return super().get_group_name(props)


def _manifest_path() -> Path:
    try:
        return proj.ensure_manifest()
    except Exception as e:  # a model being edited must not take the ingest down with it: use the last manifest
        path = proj.project_dir() / proj.TARGET / "manifest.json"
        if not path.exists():
            raise
        log.warning("dbt manifest could not be refreshed, using the previous one: %s", str(e).splitlines()[0])
        return path


DBT_PROJECT = proj.dbt_project()
MANIFEST = _manifest_path()
TRANSLATOR = IkmsTranslator(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))


def _target_path(context: dg.AssetExecutionContext) -> Path:
    """One folder per dbt invocation under $IKMS_DATA_DIR/dbt_target (artifacts stay with the data, the repo
    stays clean), seeded with a partial-parse file so dbt does not parse the project again."""
    root = settings.data_dir() / "dbt_target"
    path = root / f"{context.run.run_id[:8]}-{context.op_execution_context.op.name}-{uuid.uuid4().hex[:6]}"
    path.mkdir(parents=True, exist_ok=True)
    proj.seed_partial_parse(path, MANIFEST.parent)
    _prune(root, keep=30)
    return path


def _prune(root: Path, keep: int) -> None:
    runs = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime)
    for old in runs[:-keep]:
        shutil.rmtree(old, ignore_errors=True)


# run tag: build with dbt --full-refresh (runner.build(full_refresh=True), `ikms build --full-refresh`)
FULL_REFRESH_TAG = "ikms/dbt_full_refresh"


# The school years a build rebuilds reach dbt as this environment variable rather than --vars: dbt parses the
# whole project again whenever --vars change (6.5 s against 2.6 s), and every run has its own years. The macro
# school_years_var reads it only while executing, so it is no input of the parse (var('school_years') still
# wins where given, e.g. on the dbt command line).
SCHOOL_YEARS_ENV = "IKMS_SCHOOL_YEARS"


@contextmanager
def _school_years_env(years: list[int]):
    """IKMS_SCHOOL_YEARS for the dbt process started inside (dagster-dbt passes os.environ); unset without years
    (every year), whatever the calling shell had."""
    before = os.environ.get(SCHOOL_YEARS_ENV)
    if years:
        os.environ[SCHOOL_YEARS_ENV] = json.dumps(sorted(years))
    else:
        os.environ.pop(SCHOOL_YEARS_ENV, None)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(SCHOOL_YEARS_ENV, None)
        else:
            os.environ[SCHOOL_YEARS_ENV] = before


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, years: list[int]):
    args = ["build"]
    if context.run.tags.get(FULL_REFRESH_TAG) == "true":
        args.append("--full-refresh")
    with _school_years_env(years):
        invocation = dbt.cli(args, context=context, target_path=_target_path(context), raise_on_error=False)
    for event in invocation.stream():
        if progress_hook is not None:
            _report(context, event)
        yield event
    proj.keep_partial_parse(invocation.target_path)
    skipped = _skipped_models(invocation.target_path)
    if skipped:
        msg = f"dbt skipped {len(skipped)} model(s) below a failed test or model: {', '.join(skipped[:8])}" + (
            " ..." if len(skipped) > 8 else "")
        context.log.warning(msg)
        if progress_hook is not None:
            progress_hook(f"    SKIPPED {msg[12:]}")
    # A model that errors fails the step (its dependents cannot be built); failed dbt tests do not: they are
    # failed asset checks (severity ERROR) that the runner reports, and dbt already skipped their dependents.
    if not invocation.is_successful() and _has_errors(invocation.target_path):
        what = f"dbt {' '.join(args)}" + (f" (school years {years})" if years else "")
        raise dg.Failure(description=f"{what} failed: {_failed_nodes(invocation.target_path)}",
                         metadata={"target_path": str(invocation.target_path)})


def _skipped_models(target: Path) -> list[str]:
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return []
    return [r["unique_id"].split(".")[-1] for r in results
            if r["status"] == "skipped" and r["unique_id"].split(".")[0] in ("model", "seed", "snapshot")]


def _has_errors(target: Path) -> bool:
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return True  # no results: dbt stopped before running anything (parse / compile error)
    return any(r["status"] in ("error", "runtime error") for r in results)


def _failed_nodes(target: Path) -> str:
    try:
        results = json.loads((target / "run_results.json").read_text())["results"]
    except (OSError, ValueError, KeyError):
        return _log_errors(target / "dbt.log")
    bad = [f"{r['unique_id']} ({r['status']}: {(r.get('message') or '').splitlines()[0][:200] if r.get('message') else ''})"
           for r in results if r["status"] in ("error", "fail")]
    return "; ".join(bad[:10]) or "see the dbt log"


def _log_errors(log_file: Path) -> str:
    """The error messages of a dbt run that stopped before writing run_results.json (parse, compile)."""
    errors = []
    try:
        for line in log_file.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if rec.get("info", {}).get("level") == "error":
                errors.append(rec["info"].get("msg", "").strip())
    except OSError:
        pass
    return " | ".join(errors)[-2000:] or f"see {log_file}"


def _report(context: dg.AssetExecutionContext, event) -> None:
    if isinstance(event, (dg.Output, dg.AssetMaterialization)):
        key = (event.asset_key if isinstance(event, dg.AssetMaterialization)
               else context.asset_key_for_output(event.output_name)).to_user_string()
        secs = (event.metadata or {}).get("Execution Duration")
        secs = getattr(secs, "value", secs)
        progress_hook(f"    built  {key:48s}" + (f" {secs:6.1f} s" if isinstance(secs, (int, float)) else ""))
    elif isinstance(event, dg.AssetCheckResult) and not event.passed:
        what = "warning" if event.severity == dg.AssetCheckSeverity.WARN else "FAILED"
        progress_hook(f"    {what} test {event.check_name} on {event.asset_key.to_user_string()}")


@dbt_assets(manifest=MANIFEST, project=DBT_PROJECT, select=YEARLY_SELECT, name="dbt_yearly",
            partitions_def=school_years, backfill_policy=dg.BackfillPolicy.single_run(),
            dagster_dbt_translator=TRANSLATOR)
def dbt_yearly_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """School-year-partitioned models: rebuild exactly the run's partition(s)."""
    years = sorted(int(k) for k in context.partition_keys)
    yield from _build(context, dbt, years)


@dbt_assets(manifest=MANIFEST, project=DBT_PROJECT, exclude=YEARLY_SELECT, name="dbt_models",
            dagster_dbt_translator=TRANSLATOR)
def dbt_other_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """Views, dimensions, seeds and unions: rebuilt whole. In a run of some school years, the run's years are
    passed here too: the unpartitioned models that are incremental by school year (the open-data cells,
    disclosure control) rebuild only those years, and the tests of the views with a school year (staging over
    raw.*) read only those years (dbt_project/macros/test_where_school_years.sql)."""
    yield from _build(context, dbt, run_school_years(context))


def run_school_years(context: dg.AssetExecutionContext) -> list[int]:
    """The school years of the run's partition or partition range (its tags), [] for a run of no partition."""
    tags = context.run.tags
    try:
        if tags.get("dagster/partition"):
            return [int(tags["dagster/partition"])]
        first, last = tags.get("dagster/asset_partition_range_start"), tags.get("dagster/asset_partition_range_end")
        if first and last:
            return sorted(int(k) for k in context.instance.get_dynamic_partitions(school_years.name)
                          if int(first) <= int(k) <= int(last))
    except ValueError:  # a partition key that is not a year: test whole tables
        pass
    return []


dbt_assets_defs = [dbt_yearly_models, dbt_other_models]


class IkmsDbtCliResource(DbtCliResource):
    """DbtCliResource that takes the dbt version from the installed dbt-core package instead of running
    `dbt --version` before every invocation (seconds each: it also looks for a newer release on PyPI). Valid
    because the executable is the one of this very environment."""

    @cached_property
    def _cli_version(self):
        from dagster_dbt.compat import DBT_PYTHON_VERSION

        if DBT_PYTHON_VERSION is not None and Path(self.dbt_executable).parent == Path(sys.executable).parent:
            return DBT_PYTHON_VERSION
        return super()._cli_version


def dbt_resource() -> DbtCliResource:
    return IkmsDbtCliResource(project_dir=DBT_PROJECT, profiles_dir=str(proj.project_dir()),
                          dbt_executable=proj.dbt_executable())
