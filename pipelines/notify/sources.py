"""The SQL sources a rule can use, evaluated in DuckDB over the quality tables for an as-of date.

Every source yields one row per ITEM to fix with the columns
  reg_nr, period (the message's period label), deadline (TIMESTAMP or null), item_key (stable, for ordering)
plus its own item fields (see `fields`), which the templates print. Person identifiers (learner_id) are never
selected: items name a source file + line, class, grade and period only."""
from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

import duckdb

log = logging.getLogger(__name__)

SY_LABEL = "(cast({y} as varchar) || '/' || lpad(cast(({y} + 1) % 100 as varchar), 2, '0'))"
# school year (key) of the as-of date: 1 Sep .. 31 Aug
AS_OF_SY = "(case when month($as_of) >= 9 then year($as_of) else year($as_of) - 1 end)"


def sy_label(col: str) -> str:
    return SY_LABEL.format(y=col)


@dataclass(frozen=True)
class Source:
    name: str
    tables: tuple[str, ...]  # required (schema.table)
    defaults: dict = field(default_factory=dict)
    description: str = ""

    def sql(self, con: duckdb.DuckDBPyConnection, params: dict) -> str:
        return BUILDERS[self.name](con, params)


def table_exists(con: duckdb.DuckDBPyConnection, qualified: str) -> bool:
    schema, table = qualified.split(".", 1)
    return con.execute("select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
                       [schema, table]).fetchone()[0] > 0


def _received_by_as_of() -> str:
    # a submission received after the as-of date was still missing on it
    return "(coalesce(received, false) and (submitted_at is null or cast(submitted_at as date) <= $as_of))"


def _submissions(con, p: dict, overdue: bool) -> str:
    if overdue:
        window = "cast(deadline as date) < $as_of"
        if p.get("max_days_overdue") is not None:
            window += f" and cast(deadline as date) >= $as_of - {int(p['max_days_overdue'])}"
    else:
        window = f"cast(deadline as date) between $as_of and $as_of + {int(p['days_ahead'])}"
    return f"""
        select reg_nr, municipality_code, {sy_label('school_year')} || ' ' || period as period, deadline,
               feed || '/' || entity || '/' || period as item_key,
               feed, entity, period as submission_period, school_year, cast(deadline as date) as deadline_date,
               date_diff('day', cast(deadline as date), $as_of) as days_overdue,
               date_diff('day', $as_of, cast(deadline as date)) as days_left
        from quality.dq_submissions
        where coalesce(expected, false) and reg_nr is not null and deadline is not null
          and not {_received_by_as_of()} and {window}
    """


def _years_back(p: dict, col: str = "school_year") -> str:
    cond = f"{col} <= {AS_OF_SY}"
    if p.get("school_years_back") is not None:
        cond += f" and {col} >= {AS_OF_SY} - {int(p['school_years_back'])}"
    return cond


def _invalid_rows(con, p: dict) -> str:
    return f"""
        select reg_nr, null::varchar as municipality_code, {sy_label('school_year')} as period,
               null::timestamp as deadline,
               feed || '/' || entity || '/' || rule as item_key,
               feed, entity, rule, rows_quarantined, rows_read, share,
               example_file as file, example_line as line
        from quality.dq_validity
        where reg_nr is not null and rows_quarantined >= {int(p['min_rows'])} and {_years_back(p)}
    """


def _failed_checks(con, p: dict) -> str:
    # only the failures of the latest run of each suite up to the as-of date: a later clean run resolves them
    runs_from = "gates.results" if table_exists(con, "gates.results") else "gates.failures"
    sev = ", ".join(f"'{s}'" for s in p["severities"])
    return f"""
        with latest as (
            select suite, arg_max(run_id, checked_at) as run_id
            from {runs_from} where cast(checked_at as date) <= $as_of group by suite
        )
        select f.reg_nr, null::varchar as municipality_code,
               coalesce({sy_label('f.school_year')}, '-') as period, null::timestamp as deadline,
               f.suite || '/' || f.expectation || '/' || coalesce(f.detail, '') as item_key,
               f.suite, f.expectation, f.severity as check_severity, f.detail, f.school_year
        from gates.failures as f join latest as l on l.suite = f.suite and l.run_id = f.run_id
        where f.reg_nr is not null and f.severity in ({sev})
        qualify row_number() over (partition by f.reg_nr, f.suite, f.expectation, f.school_year, f.detail
                                   order by f.checked_at) = 1
    """


def _discrepancies(con, p: dict) -> str:
    kinds = ", ".join(f"'{k}'" for k in p["kinds"])
    # missing_from_feed has no feed row: counted per registry grade; the others are one item per file + line
    return f"""
        select reg_nr, null::varchar as municipality_code, {sy_label('school_year')} || ' ' || period as period,
               null::timestamp as deadline,
               kind || '/' || coalesce(source_file, '') || '/' || lpad(coalesce(cast(source_line as varchar), ''), 9, '0')
                   || '/' || coalesce(cast(registry_grade as varchar), '') as item_key,
               kind, vendor, feed_class, registry_grade, feed_grade, source_file as file, source_line as line,
               -- never where else the registry has the learner: that is another institution's business
               case when kind = 'missing_from_feed' then null
                    when kind = 'not_enrolled' then split_part(detail, '; registry:', 1) else detail end as detail,
               count(*) as n, period as feed_period, school_year
        from quality.cmp_discrepancies
        where kind in ({kinds}) and reg_nr is not null and {_years_back(p)}
        group by all
    """


BUILDERS = {
    "submissions_due": lambda con, p: _submissions(con, p, overdue=False),
    "submissions_overdue": lambda con, p: _submissions(con, p, overdue=True),
    "invalid_rows": _invalid_rows,
    "failed_checks": _failed_checks,
    "discrepancies": _discrepancies,
}

SOURCES: dict[str, Source] = {
    "submissions_due": Source("submissions_due", ("quality.dq_submissions",), {"days_ahead": 5},
                              "expected submissions not received by the as-of date whose deadline is within "
                              "days_ahead days"),
    "submissions_overdue": Source("submissions_overdue", ("quality.dq_submissions",), {"max_days_overdue": None},
                                  "expected submissions whose deadline passed before the as-of date, not received"),
    "invalid_rows": Source("invalid_rows", ("quality.dq_validity",), {"min_rows": 1, "school_years_back": None},
                           "quarantined rows per institution, feed, entity and rule with the first example"),
    "failed_checks": Source("failed_checks", ("gates.failures",), {"severities": ["error", "warning"]},
                            "per-institution failures of the latest run of each GE suite"),
    "discrepancies": Source("discrepancies", ("quality.cmp_discrepancies",),
                            {"kinds": ["not_enrolled", "missing_from_feed", "grade_mismatch"],
                             "school_years_back": None},
                            "import-vs-registry discrepancies: kind, class, grade, period, file + line"),
}


def evaluate(con: duckdb.DuckDBPyConnection, source: str, params: dict, as_of: dt.date):
    """The items of `source` on `as_of` as a list of dicts ordered by reg_nr, period, item_key; None when a
    required table is missing (the rule is skipped with a warning)."""
    src = SOURCES[source]
    missing = [t for t in src.tables if not table_exists(con, t)]
    if missing:
        log.warning("notify: source %s skipped, missing table(s) %s", source, ", ".join(missing))
        return None
    sql = f"select * from ({src.sql(con, params)}) order by reg_nr, period, item_key"
    cur = con.execute(sql, {"as_of": as_of})
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row)) for row in cur.fetchall()]
