"""JSON Lines: one object per line, parsed by DuckDB's JSON functions over the whole file at once."""
from __future__ import annotations

import duckdb
import polars as pl

from pipelines.common.contracts import Entity
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead, blank_issue, map_header
from pipelines.ingest.readers.delimited import physical_lines


def _path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def read_jsonl(entity: Entity, text: str, name: str) -> FileRead:
    lines = physical_lines(text) if text else pl.DataFrame(schema={"line": pl.Int64, "t": pl.Utf8})
    blank = lines.filter(pl.col("t").str.strip_chars() == "")["line"].to_list()
    issues: list[tuple[str, str]] = [blank_issue(blank)] if blank else []
    lines = lines.filter(pl.col("t").str.strip_chars() != "")
    con = duckdb.connect()
    try:
        con.register("lines_in", lines)
        con.execute(
            "CREATE TEMP TABLE l AS SELECT line, t, valid, CASE WHEN valid THEN json_type(t) END AS jtype "
            "FROM (SELECT line, t, json_valid(t) AS valid FROM lines_in)"
        )
        # field names in order of first appearance across the file
        keys = [r[0] for r in con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(t)) AS k, line FROM l WHERE jtype = 'OBJECT') "
            "GROUP BY k ORDER BY min(line), k"
        ).fetchall()]
        hm = map_header(entity, keys, report_absent_optional=False)
        issues += hm.issues
        wanted = [(k, t) for k, t in zip(keys, hm.targets) if t is not None]
        # one json_extract_string over a list of paths parses each record once for all its fields
        paths = ", ".join(f"'{_path(k)}'" for k, _ in wanted)
        selects = [f"v[{i + 1}] AS \"{t}\"" for i, (_, t) in enumerate(wanted)]
        source = (f"(SELECT *, CASE WHEN jtype = 'OBJECT' THEN json_extract_string(t, [{paths}]) END AS v FROM l)"
                  if wanted else "l")
        frame = con.execute(
            f"SELECT {', '.join(selects + [''])} line AS {LINE}, "
            "CASE WHEN NOT valid THEN 'invalid JSON' WHEN jtype <> 'OBJECT' THEN 'not a JSON object' END "
            f"AS {MALFORMED} FROM {source} ORDER BY line"
        ).pl()
    finally:
        con.close()
    frame = frame.with_columns(pl.col(LINE).cast(pl.Int64), *[pl.col(c).cast(pl.Utf8) for c in frame.columns if c != LINE])
    if frame.height and not text.endswith("\n") and frame[MALFORMED][-1] is not None:
        issues.append(("truncated_file", f"no line break at the end and the last record (line {frame[LINE][-1]}) is cut off"))
    return FileRead(frame, issues, hm.absent)
