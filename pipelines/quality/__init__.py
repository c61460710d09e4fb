"""Quality gates: Great Expectations suites over DuckDB aggregates (suites, translate, gates); wired into
Dagster by pipelines/defs/quality."""
