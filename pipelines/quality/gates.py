"""Running the quality gates: Great Expectations (ephemeral context, pandas data source) over frames that DuckDB
aggregated from the warehouse; results into gates.results / gates.failures; Data Docs into
$IKMS_DATA_DIR/quality/data_docs/.

One GE suite, validation definition and Checkpoint per suite (= table); a suite is validated for one school
year (raw tables) or whole (marts, indicators). The context and the checkpoints are built once per process.

    from pipelines.quality import gates
    results = gates.run_gates(gates.select_suites(prefix="raw/"), years=[2023])   # validate, write, return
    gates.build_data_docs()                                                          # static HTML, offline
"""
from __future__ import annotations

import functools
import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from pipelines import settings
from pipelines.quality import translate as tr
from pipelines.quality.suites import PER_INSTITUTION, Expectation, Suite, all_suites  # noqa: F401

DATASOURCE = "ikms"
DOCS_SITE = "ikms_local"
MAX_KEYS_IN_DETAILS = 20

RESULTS_DDL = """CREATE TABLE IF NOT EXISTS gates.results (
  run_id VARCHAR, checked_at TIMESTAMP, suite VARCHAR, asset_key VARCHAR, school_year INTEGER,
  expectation VARCHAR, column_name VARCHAR, severity VARCHAR, success BOOLEAN, observed VARCHAR, details VARCHAR)"""
FAILURES_DDL = """CREATE TABLE IF NOT EXISTS gates.failures (
  run_id VARCHAR, checked_at TIMESTAMP, suite VARCHAR, expectation VARCHAR, severity VARCHAR,
  school_year INTEGER, reg_nr VARCHAR, detail VARCHAR)"""


@dataclass
class ExpectationOutcome:
    expectation: Expectation
    success: bool
    observed: str
    details: str
    failing_keys: list = field(default_factory=list)   # [(key, detail)]


@dataclass
class SuiteResult:
    suite: Suite
    school_year: int | None
    outcomes: list[ExpectationOutcome]
    seconds: float = 0.0
    ge_success: bool | None = None

    @property
    def errors(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.expectation.severity == "error"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.expectation.severity == "warning"]

    @property
    def passed(self) -> bool:
        return not self.errors and not self.warnings

    @property
    def label(self) -> str:
        return self.suite.asset_key + (f" [{self.school_year}]" if self.school_year is not None else "")


# ---------------------------------------------------------------------------------------------- GE context
@functools.cache
def context():
    """The GE ephemeral context of this process (import ~3 s, once), progress bars off, the pandas data
    source `ikms`, and the local Data Docs site under $IKMS_DATA_DIR/quality/data_docs."""
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    ctx.data_sources.add_pandas(DATASOURCE)
    return ctx


def _docs_dir() -> Path:
    return settings.data_dir() / "quality" / "data_docs"


def _ensure_docs_site(ctx) -> Path:
    target = _docs_dir()
    sites = ctx.get_site_names() if hasattr(ctx, "get_site_names") else list((ctx.variables.data_docs_sites or {}))
    if DOCS_SITE not in sites:
        ctx.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder",
            "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(target)},
            "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        })
    return target


_CHECKPOINTS: dict[str, object] = {}


def checkpoint(suite: Suite):
    """The GE Checkpoint of a suite (built once per process): a dataframe asset named after the suite, its
    whole-dataframe batch definition, the ExpectationSuite translated from the declaration, one
    ValidationDefinition, the Checkpoint (result_format COMPLETE: failing row indexes give the keys)."""
    import hashlib

    digest = hashlib.sha256(repr(suite).encode()).hexdigest()[:10]
    cache_key = f"{suite.name}#{digest}"
    if cache_key in _CHECKPOINTS:
        return _CHECKPOINTS[cache_key]
    import great_expectations as gx

    # the GE name is the suite's; a changed declaration under the same name (tests) gets its own objects
    name = suite.name if not any(k.startswith(suite.name + "#") for k in _CHECKPOINTS) else f"{suite.name}~{digest}"
    ctx = context()
    ds = ctx.data_sources.get(DATASOURCE)
    asset = ds.add_dataframe_asset(name)
    batch = asset.add_batch_definition_whole_dataframe("frame")
    ge_suite = ctx.suites.add(gx.ExpectationSuite(
        name=name, meta={"asset_key": suite.asset_key, "per_school_year": suite.per_year}))
    for ge in tr.ge_expectations(suite):
        ge_suite.add_expectation(ge)
    vd = ctx.validation_definitions.add(gx.ValidationDefinition(name=name, data=batch, suite=ge_suite))
    cp = ctx.checkpoints.add(gx.Checkpoint(name=name, validation_definitions=[vd], result_format="COMPLETE"))
    _CHECKPOINTS[cache_key] = cp
    return cp


# ---------------------------------------------------------------------------------------------- frames
def measure(con, suite: Suite, year: int | None) -> dict[str, dict]:
    """DuckDB: every measure of the suite (one scan for all aggregates, one small query per other kind)."""
    scalars: dict[str, str] = {}
    exact: dict[str, str] = {}
    queries: dict[str, str] = {}
    for e in suite.expectations:
        p = tr.probe(e, suite, year)
        scalars.update(p.scalars)
        exact.update(p.exact or {})
        if p.query:
            queries[e.id] = p.query
    values: dict = {}

    def scan(aggregates: dict[str, str]) -> dict:
        row = con.execute(f"SELECT {', '.join(f'{v} AS {tr.q(k)}' for k, v in aggregates.items())} "
                          f"FROM {suite.table} WHERE {tr.table_filter(suite, year)}").fetchone()
        return dict(zip(aggregates, row))

    if scalars:
        values = scan(scalars)
        again = {k: v for k, v in exact.items() if values.get(k)}
        if again:  # a cheap measure found something: the exact one decides
            values.update(scan(again))
    frames: dict[str, object] = {}  # identical queries (a warning and an error bound on one measure) run once
    for sql in set(queries.values()):
        frames[sql] = con.execute(sql).df()
    return {e.id: tr.measure(e, values, frames[queries[e.id]] if e.id in queries else None)
            for e in suite.expectations}


def to_frame(cols: dict[str, list]):
    """Columns of different lengths -> one pandas frame padded with nulls."""
    import pandas as pd

    n = max((len(v) for v in cols.values()), default=1) or 1
    return pd.DataFrame({k: pd.Series(list(v) + [None] * (n - len(v)), dtype=_dtype(v)) for k, v in cols.items()})


def _dtype(values: list):
    vals = [v for v in values if v is not None]
    if vals and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in vals):
        return "float64"
    return "object"


# ---------------------------------------------------------------------------------------------- validation
def validate(con, suite: Suite, year: int | None) -> SuiteResult:
    """Validate one suite (for one school year, or whole) through its GE Checkpoint."""
    t0 = time.perf_counter()
    measures = measure(con, suite, year)
    cols = tr.frame_columns(suite, measures)
    run = checkpoint(suite).run(batch_parameters={"dataframe": to_frame(cols)})
    vr = next(iter(run.run_results.values()))
    return SuiteResult(suite=suite, school_year=year if suite.per_year else None,
                       outcomes=judge(suite, measures, cols, vr.results),
                       seconds=time.perf_counter() - t0, ge_success=bool(vr.success))


def _failed_rows(r) -> list[int] | None:
    """Row indexes GE found unexpected; None when GE could not evaluate (exception)."""
    if r is None:
        return None
    exc = getattr(r, "exception_info", None) or {}
    if isinstance(exc, dict) and exc.get("raised_exception"):
        return None
    return [int(i) for i in (r.result or {}).get("unexpected_index_list") or []]


def judge(suite: Suite, measures: dict, cols: dict, ge_results) -> list[ExpectationOutcome]:
    """Map GE's results back onto the declared expectations (GE decides; the measures only word the details)."""
    by_id = {r.expectation_config.meta.get("ikms_id"): r for r in ge_results}
    failing_row_level: dict[str, set | None] = {}
    for sev in ("error", "warning"):
        col = tr.violations_column(sev)
        if col in by_id:
            rows = _failed_rows(by_id[col])
            keys = cols[col + "__key"]
            failing_row_level[sev] = None if rows is None else {keys[i] for i in rows if i < len(keys)}
    out = []
    for e in suite.expectations:
        m = measures[e.id]
        if e.kind in tr.ROW_LEVEL:
            failing = failing_row_level.get(e.severity)
            ok = failing is not None and e.id not in failing
            obs = str(m.get("count", m["value"])) + (f" ({m['share']:g} % of rows)" if "share" in m else "")
            det = "" if ok else (f"{obs} offending row(s); expected {tr.describe_bounds(e)}"
                                 + (f"; e.g. {m['examples']}" if m.get("examples") else "")
                                 + ("" if failing is not None else " (GE could not evaluate)"))
            out.append(ExpectationOutcome(e, ok, obs, det))
            continue
        r = by_id.get(e.id)
        if e.kind == "row_count":
            ok = bool(r is not None and r.success)
            out.append(ExpectationOutcome(e, ok, str(m["value"]), "" if ok else
                                          f"{m['value']} rows; expected {tr.describe_bounds(e)}"))
        elif e.kind == "row_change":
            ok = bool(r is not None and r.success)
            p = float(e.param("max_change_pct"))
            pairs = [(k, v, pv, cv) for k, v, pv, cv in zip(m["keys"], m["values"], m.get("previous", []), m.get("current", []))
                     if v is not None]
            obs = "; ".join(f"{k}: {v:+.1f} % ({pv} -> {cv})" for k, v, pv, cv in pairs) or "no previous school year"
            bad = [f"{k}: {v:+.1f} % ({pv} -> {cv} rows)" for k, v, pv, cv in pairs if abs(v) > p]
            out.append(ExpectationOutcome(e, ok, obs[:500], "" if ok else
                                          f"row count changed beyond +-{p:g} %: " + "; ".join(bad[:MAX_KEYS_IN_DETAILS])))
        else:  # keyed
            rows = _failed_rows(r)
            keys, vals = m["keys"], m["values"]
            ok = rows is not None and not rows and bool(r.success)
            failing = []
            for i in rows or []:
                extra = (f" (previous year {m['previous'][i]}, this year {m['current'][i]})" if "previous" in m else "")
                failing.append((keys[i], f"{e.id}: {vals[i]:g}{extra}" if vals[i] is not None else f"{e.id}: null"))
            shown = ", ".join(f"{k} = {vals[i]:g}" for (k, _), i in zip(failing[:MAX_KEYS_IN_DETAILS], rows or []))
            det = "" if ok else (f"{len(failing)} of {len(keys)} failing: {shown}" + (" ..." if len(failing) > MAX_KEYS_IN_DETAILS else "")
                                 if rows is not None else "GE could not evaluate")
            out.append(ExpectationOutcome(e, ok, f"{len(keys)} key(s), {len(failing)} outside", det, failing))
    return out


# ---------------------------------------------------------------------------------------------- runs
def select_suites(prefix: str | None = None, asset_keys=None) -> list[Suite]:
    out = all_suites()
    if prefix:
        out = [s for s in out if s.asset_key.startswith(prefix)]
    if asset_keys is not None:
        wanted = set(asset_keys)
        out = [s for s in out if s.asset_key in wanted]
    return out


def existing_tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_schema || '.' || table_name FROM information_schema.tables").fetchall()}


def run_gates(suites: list[Suite], years: list[int] | None = None, warehouse: Path | None = None,
              run_id: str | None = None, write: bool = True) -> list[SuiteResult]:
    """Validate `suites` (raw suites for each of `years`, default every school year in the table; the others
    whole) against the warehouse, then write gates.results / gates.failures (one short write connection).
    Tables that do not exist are skipped."""
    from pipelines.ingest.load import connect

    path = warehouse or settings.warehouse_path()
    run_id = run_id or uuid.uuid4().hex
    out: list[SuiteResult] = []
    with connect(path, read_only=True) as con:
        have = existing_tables(con)
        for s in suites:
            if s.table not in have:
                continue
            if s.per_year:
                ys = years if years is not None else [r[0] for r in con.execute(
                    f"SELECT DISTINCT {tr.q(s.year_column)} FROM {s.table} ORDER BY 1").fetchall()]
                for y in ys:
                    out.append(validate(con, s, int(y)))
            else:
                out.append(validate(con, s, None))
    if write and out:
        write_results(out, run_id, path)
    return out


def write_results(results: list[SuiteResult], run_id: str, warehouse: Path | None = None) -> None:
    import pandas as pd

    from pipelines.ingest.load import connect

    now = datetime.now(timezone.utc).replace(tzinfo=None)
    rows, fails = [], []
    for sr in results:
        for o in sr.outcomes:
            e = o.expectation
            rows.append((run_id, now, sr.suite.name, sr.suite.asset_key, sr.school_year, e.id, e.column, e.severity,
                         o.success, o.observed, o.details or e.description))
            if not o.success and e.kind in PER_INSTITUTION:
                for key, detail in o.failing_keys:
                    fails.append((run_id, now, sr.suite.name, e.id, e.severity, sr.school_year, key, detail))
    res = pd.DataFrame(rows, columns=["run_id", "checked_at", "suite", "asset_key", "school_year", "expectation",
                                      "column_name", "severity", "success", "observed", "details"])
    fl = pd.DataFrame(fails, columns=["run_id", "checked_at", "suite", "expectation", "severity", "school_year",
                                      "reg_nr", "detail"])
    res["school_year"] = res["school_year"].astype("Int32")
    fl["school_year"] = fl["school_year"].astype("Int32")
    with connect(warehouse or settings.warehouse_path()) as con:
        con.execute("CREATE SCHEMA IF NOT EXISTS gates")
        con.execute(RESULTS_DDL)
        con.execute(FAILURES_DDL)
        con.register("res_df", res)
        con.execute("INSERT INTO gates.results SELECT * FROM res_df")
        if len(fl):
            con.register("fl_df", fl)
            con.execute("INSERT INTO gates.failures SELECT * FROM fl_df")


def latest_blocking_failures(asset_prefix: str = "raw/", years: list[int] | None = None,
                             warehouse: Path | None = None) -> list[str]:
    """Error-severity expectations that failed in the LATEST gate run of each asset x school year (so a
    re-ingested, now valid partition clears its failure). One line per failure: 'raw/x [2023] id: details'."""
    from pipelines.ingest.load import connect

    path = warehouse or settings.warehouse_path()
    if not path.exists():
        return []
    with connect(path, read_only=True) as con:
        if "gates.results" not in existing_tables(con):
            return []
        yf = f"AND school_year IN ({', '.join(str(int(y)) for y in years)})" if years else ""
        rows = con.execute(f"""
            WITH latest AS (SELECT asset_key, school_year, max(checked_at) AS at FROM gates.results
                            WHERE asset_key LIKE ? {yf} GROUP BY ALL)
            SELECT r.asset_key, r.school_year, r.expectation, r.observed, r.details
            FROM gates.results r JOIN latest l ON l.asset_key = r.asset_key AND l.at = r.checked_at
              AND l.school_year IS NOT DISTINCT FROM r.school_year
            WHERE NOT r.success AND r.severity = 'error' ORDER BY 1, 2, 3""", [asset_prefix + "%"]).fetchall()
    return [f"{a}{f' [{y}]' if y is not None else ''} {e}: {d or o}" for a, y, e, o, d in rows]


def build_data_docs() -> Path:
    """Build GE Data Docs (static HTML) of this process's validations into $IKMS_DATA_DIR/quality/data_docs.
    Offline: nothing is fetched; the pages link GE's CSS/JS from a CDN, so without network they render
    unstyled but complete. Returns index.html."""
    ctx = context()
    target = _ensure_docs_site(ctx)
    target.mkdir(parents=True, exist_ok=True)
    ctx.build_data_docs(site_names=[DOCS_SITE])
    return target / "index.html"


def summary_lines(results: list[SuiteResult]) -> list[str]:
    """One line per suite run with a failure, then the totals."""
    lines = []
    n_exp = sum(len(r.outcomes) for r in results)
    n_err = sum(len(r.errors) for r in results)
    n_warn = sum(len(r.warnings) for r in results)
    for r in results:
        for o in r.errors + r.warnings:
            lines.append(f"    {'ERROR' if o.expectation.severity == 'error' else 'warn '} {r.label} "
                         f"{o.expectation.id}: {(o.details or o.observed)[:300]}")
    lines.append(f"  {len(results)} suite run(s), {n_exp} expectations: {n_exp - n_err - n_warn} passed, "
                 f"{n_err} error(s), {n_warn} warning(s)")
    return lines
