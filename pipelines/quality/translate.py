"""Translation of each expectation kind into (a DuckDB aggregation -> a small pandas frame -> a Great
Expectations expectation on it). The table is never pulled into Python: DuckDB reduces it to counts of
offending rows, a few numbers, or one row per institution / school year, and GE judges those. The table of
kinds is in expectations/README.md.

Frame layout of one suite run (columns of different lengths, padded with nulls, which GE's column
expectations ignore):
  violations__error / violations__warning   one row per row-level expectation of that severity (unique,
      not_null, in_set, between, regex, condition, exists_in): the number of offending rows; key column
      '<col>__key' holds the expectation id. ONE GE expectation per severity judges them all
      (ExpectColumnValuesToBeBetween max 0; its unexpected index list names the failing expectations).
      All their aggregates come from ONE scan of the table (school year).
  <id>                                       row_count: the row count (ExpectColumnMaxToBeBetween);
      row_change: |change %| per pair of consecutive school years (ExpectColumnMaxToBeBetween);
      institution_change / institution_has_rows / sql: one value per key (ExpectColumnValuesToBeBetween; its
      unexpected index list names the failing institutions / keys).
Grouping the row-level kinds keeps GE at ~5 expectations per table instead of ~15: GE costs ~10-40 ms per
expectation, the budget is 22 raw tables x 10 school years.
"""
from __future__ import annotations

from dataclasses import dataclass

from pipelines.quality.suites import Expectation, Suite

# row-level kinds: counted in the suite's single scan (exists_in: one anti-join), judged per severity
ROW_LEVEL = {"unique", "not_null", "in_set", "between", "regex", "condition", "exists_in"}
# kinds whose frame column holds one value per key (institution, school year, indicator x year)
KEYED = {"institution_change", "institution_has_rows", "sql"}
EXAMPLES = 5  # offending values shown per expectation (never for person columns)


def q(name: str) -> str:
    """A quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value) -> str:
    """A SQL literal."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def _where(exp: Expectation) -> str:
    w = exp.param("where")
    if not w:
        return "TRUE"
    if isinstance(w, (list, tuple)):
        return " AND ".join(f"({x})" for x in w)
    return f"({w})"


def table_filter(suite: Suite, year: int | None, alias: str = "") -> str:
    if year is None or not suite.per_year:
        return "TRUE"
    return f"{alias}{q(suite.year_column)} = {int(year)}"


def violations_column(severity: str) -> str:
    return f"violations__{severity}"


@dataclass(frozen=True)
class Probe:
    """What DuckDB computes for one expectation: aggregates in the suite's single scan (alias -> SQL; the
    alias <id> is the value, <id>__ex the examples) or a query of its own returning `value` (and `key`).
    exact: aggregates that replace a scalar's value when it is not 0 (a cheaper scalar that can only err
    towards a failure: the count of distinct key hashes, a rare collision looking like a duplicate)."""
    scalars: dict
    query: str | None = None
    exact: dict | None = None


def _bad(exp: Expectation) -> str | None:
    """The SQL condition of an offending row, for the row-level kinds that have one."""
    c = q(exp.column) if exp.column else None
    if exp.kind == "not_null":
        return f"{c} IS NULL"
    if exp.kind == "in_set":
        return f"{c} IS NOT NULL AND CAST({c} AS VARCHAR) NOT IN ({', '.join(lit(str(v)) for v in exp.param('values'))})"
    if exp.kind == "between":
        parts = []
        if exp.param("min") is not None:
            parts.append(f"{c} {'<=' if exp.param('strict_min') else '<'} {lit(exp.param('min'))}")
        if exp.param("max") is not None:
            parts.append(f"{c} > {lit(exp.param('max'))}")
        return f"{_where(exp)} AND ({' OR '.join(parts)})"
    if exp.kind == "regex":
        return f"{c} IS NOT NULL AND NOT regexp_matches({c}, {lit(exp.param('pattern'))})"
    if exp.kind == "condition":
        return _where(exp)
    return None


def probe(exp: Expectation, suite: Suite, year: int | None) -> Probe:
    k, a = exp.kind, exp.id
    f = table_filter(suite, year)
    if k == "unique":
        cols = ", ".join(q(x) for x in exp.param("columns"))
        # distinct 64-bit hashes of the key (one integer per row: ~3x cheaper than distinct rows on the national
        # school-system files); when they are fewer than the rows, the exact count decides
        return Probe({a: f"count(*) - count(DISTINCT hash({cols}))"},
                     exact={a: f"count(*) - count(DISTINCT row({cols}))"})
    if k in ("not_null", "in_set", "between", "regex", "condition"):
        bad = _bad(exp)
        out = {a: f"count(*) FILTER (WHERE {bad})"}
        if k in ("in_set", "regex", "between") and exp.column:
            out[f"{a}__ex"] = (f"(array_agg(DISTINCT CAST({q(exp.column)} AS VARCHAR) ORDER BY CAST({q(exp.column)} AS VARCHAR)) "
                               f"FILTER (WHERE {bad}))[1:{EXAMPLES}]")
        return Probe(out)
    if k == "row_count":
        return Probe({a: "count(*)"})
    if k == "exists_in":
        yc = q(suite.year_column) if suite.year_column else None
        same_year = f" AND r.{yc} = t.{yc}" if yc else ""
        orphan = (f"NOT EXISTS (SELECT 1 FROM {exp.param('ref_table')} r WHERE r.{q(exp.param('ref_column'))} = "
                  f"t.{q(exp.column)}{same_year})")
        examples = (f"(array_agg(DISTINCT t.{q(exp.column)} ORDER BY t.{q(exp.column)}) FILTER (WHERE {orphan}))[1:{EXAMPLES}]"
                    if exp.param("show_examples", False) else "NULL::VARCHAR[]")
        return Probe({}, f"SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM {exp.param('ref_table')} r "
                         f"WHERE r.{q(exp.param('ref_column'))} = t.{q(exp.column)}{same_year})) AS value, "
                         f"count(*) AS total, {examples} AS examples FROM {suite.table} t "
                         f"WHERE {table_filter(suite, year, 't.')} AND t.{q(exp.column)} IS NOT NULL")
    if k == "row_change":
        yc = q(suite.year_column)
        years = f"WHERE {yc} IN ({int(year) - 1}, {int(year)})" if suite.per_year and year is not None else ""
        only = f"WHERE cur.y = {int(year)}" if suite.per_year and year is not None else ""
        # not_across: school years t whose change from t-1 is a structural break, not judged (e.g. 2021: the
        # territorial reform turned 119 municipalities into 43, so a table per territorial unit shrinks by design)
        breaks = [int(y) for y in exp.param("not_across") or []]
        skip = f" AND cur.y NOT IN ({', '.join(map(str, breaks))})" if breaks else ""
        return Probe({}, f"WITH c AS (SELECT {yc} AS y, count(*) AS n FROM {suite.table} {years} GROUP BY 1) "
                         f"SELECT CAST(cur.y AS VARCHAR) AS key, round(100.0 * (cur.n - prev.n) / prev.n, 2) AS value, "
                         f"prev.n AS previous, cur.n AS current "
                         f"FROM c cur JOIN c prev ON prev.y = cur.y - 1 AND prev.n > 0{skip} {only} ORDER BY cur.y")
    if k == "institution_change":
        if not (suite.per_year and year is not None):
            raise ValueError(f"{suite.name}.{a}: institution_change needs a per-year suite and a school year")
        yc, inst = q(suite.year_column), q(exp.param("institution_column"))
        return Probe({}, f"WITH c AS (SELECT {yc} AS y, {inst} AS reg_nr, {exp.param('count')} AS n FROM {suite.table} "
                         f"WHERE {yc} IN ({int(year) - 1}, {int(year)}) AND {_where(exp)} GROUP BY ALL), "
                         f"prev AS (SELECT * FROM c WHERE y = {int(year) - 1} AND n >= {int(exp.param('min_base', 1))}), "
                         f"cur AS (SELECT * FROM c WHERE y = {int(year)}) "
                         f"SELECT prev.reg_nr AS key, round(100.0 * (coalesce(cur.n, 0) - prev.n) / prev.n, 2) AS value, "
                         f"prev.n AS previous, coalesce(cur.n, 0) AS current "
                         f"FROM prev LEFT JOIN cur USING (reg_nr) ORDER BY 1")
    if k == "institution_has_rows":
        if not (suite.per_year and year is not None):
            raise ValueError(f"{suite.name}.{a}: institution_has_rows needs a per-year suite and a school year")
        yc, inst = q(suite.year_column), q(exp.param("institution_column"))
        return Probe({}, f"SELECT i.reg_nr AS key, count(t.{inst}) AS value FROM raw.viis_institutions i "
                         f"LEFT JOIN {suite.table} t ON t.{inst} = i.reg_nr AND t.{yc} = i._school_year "
                         f"WHERE i._school_year = {int(year)} AND ({exp.param('institutions_where')}) GROUP BY 1 ORDER BY 1")
    if k == "sql":
        frm = str(exp.param("from")).replace("{year}", str(year) if year is not None else "NULL")
        where = f" WHERE {_where(exp)}" if exp.param("where") else ""
        group = f" GROUP BY {exp.param('group_by')}" if exp.param("group_by") else ""
        return Probe({}, f"SELECT CAST({exp.param('key')} AS VARCHAR) AS key, {exp.param('value')} AS value "
                         f"FROM {frm}{where}{group} ORDER BY 1")
    raise ValueError(f"unknown kind {k!r}")


def measure(exp: Expectation, scalars: dict, result) -> dict:
    """What DuckDB measured for one expectation: {'value': number (row-level kinds: offending rows;
    row_count: rows), 'examples': [...]} or, for keyed kinds and row_change, {'keys': [...], 'values': [...]}
    (+ 'previous' / 'current' when the query gives them)."""
    a = exp.id
    if exp.kind in ("unique", "not_null", "in_set", "between", "regex", "condition", "row_count"):
        ex = scalars.get(f"{a}__ex")
        return {"value": int(scalars[a] or 0), "examples": list(ex) if ex is not None else []}
    if exp.kind == "exists_in":
        ex = result["examples"].iloc[0]
        ex = list(ex) if ex is not None and hasattr(ex, "__len__") and not isinstance(ex, str) else []
        n, total = int(result["value"].iloc[0]), int(result["total"].iloc[0])
        share = 100.0 * n / total if total else 0.0
        # max_pct: a tolerated share of orphans (e.g. rows whose parent row was quarantined); within it the
        # frame gets 0 offending rows, beyond it all of them
        tolerated = exp.param("max_pct") is not None and share <= float(exp.param("max_pct"))
        return {"value": 0 if tolerated else n, "count": n, "share": round(share, 3), "examples": ex}
    out = {"keys": [str(k) for k in result["key"]],
           "values": [None if v is None or v != v else float(v) for v in result["value"]]}
    for extra in ("previous", "current"):
        if extra in result.columns:
            out[extra] = [int(v) for v in result[extra]]
    return out


def frame_columns(suite: Suite, measures: dict[str, dict]) -> dict[str, list]:
    """The suite's frame columns from the measures of its expectations (see the module docstring)."""
    cols: dict[str, list] = {}
    for sev in ("error", "warning"):
        ids = [e.id for e in suite.expectations if e.kind in ROW_LEVEL and e.severity == sev]
        if ids:
            cols[violations_column(sev)] = [measures[i]["value"] for i in ids]
            cols[violations_column(sev) + "__key"] = ids
    for e in suite.expectations:
        m = measures[e.id]
        if e.kind == "row_count":
            cols[e.id] = [m["value"]]
        elif e.kind == "row_change":
            # no previous school year with rows: nothing to compare, recorded as a change of 0
            cols[e.id] = [abs(v) for v in m["values"] if v is not None] or [0.0]
            cols[e.id + "__key"] = [k for k, v in zip(m["keys"], m["values"]) if v is not None] or ["none"]
        elif e.kind in KEYED:
            cols[e.id] = m["values"]
            cols[e.id + "__key"] = m["keys"]
    return cols


def ge_expectations(suite: Suite) -> list:
    """The GE expectations of a suite (see the module docstring); meta names the declared expectation(s) and
    the severity, so results and Data Docs say both."""
    import great_expectations.expectations as gxe

    out = []
    for sev in ("error", "warning"):
        ids = [e.id for e in suite.expectations if e.kind in ROW_LEVEL and e.severity == sev]
        if ids:
            out.append(gxe.ExpectColumnValuesToBeBetween(
                column=violations_column(sev), min_value=0, max_value=0,
                meta={"severity": sev, "ikms_id": violations_column(sev), "expectations": ids,
                      "description": "offending rows per row-level expectation (key column: the expectation)"}))
    for e in suite.expectations:
        meta = {"severity": e.severity, "kind": e.kind, "ikms_id": e.id, "description": e.description,
                "source": e.source, "column": e.column}
        if e.kind == "row_count":
            out.append(gxe.ExpectColumnMaxToBeBetween(column=e.id, min_value=e.param("min"), max_value=e.param("max"),
                                                      meta=meta))
        elif e.kind == "row_change":
            out.append(gxe.ExpectColumnMaxToBeBetween(column=e.id, max_value=float(e.param("max_change_pct")),
                                                      meta=meta))
        elif e.kind == "institution_change":
            p = float(e.param("max_change_pct"))
            out.append(gxe.ExpectColumnValuesToBeBetween(column=e.id, min_value=-p, max_value=p, meta=meta))
        elif e.kind == "institution_has_rows":
            out.append(gxe.ExpectColumnValuesToBeBetween(column=e.id, min_value=1, meta=meta))
        elif e.kind == "sql":
            out.append(gxe.ExpectColumnValuesToBeBetween(column=e.id, min_value=e.param("min"), max_value=e.param("max"),
                                                         meta=meta))
    return out


def describe_bounds(e: Expectation) -> str:
    if e.kind in ROW_LEVEL:
        return "0 offending rows"
    if e.kind in ("row_change", "institution_change"):
        return f"change within +-{e.param('max_change_pct')} %"
    if e.kind == "institution_has_rows":
        return "at least 1 row"
    lo, hi = e.param("min"), e.param("max")
    return f"between {lo if lo is not None else '-inf'} and {hi if hi is not None else 'inf'}"
