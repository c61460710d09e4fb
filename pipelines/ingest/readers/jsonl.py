"""JSON Lines: one object per line, parsed by DuckDB's JSON functions over the whole file at once.

Proving each line valid (json_valid) is the costly part, so lines are first matched against a regex built from
the field names of the file's first line: a line matching it is a flat JSON object with exactly those fields
(strings without escapes or control characters, plain numbers, true/false/null), hence valid, an object, and
its keys known. Only the other lines go through json_valid / json_type / json_keys.

When every line of the file matches (the usual case: a vendor's export, one shape), Polars' NDJSON reader
parses the whole file with every field read as text, on all cores: for the tokens the regex admits, that text is
json_extract_string's (0.4 s for a 212 MB file against 0.9 s for the regex's capture groups).

The values of a matching line are taken by the same regex's capture groups (Polars), not by DuckDB: the tokens it
admits are those whose text json_extract_string returns unchanged (a string's characters between its quotes,
true, false, an integer of at most 18 digits other than -0; null gives null). Lines with any other token
(decimals, exponents, escapes, big or negative-zero integers) take the DuckDB path, json_extract_string."""
from __future__ import annotations

import io
import json
import re

import duckdb
import polars as pl

from pipelines.common.contracts import Entity
from pipelines.ingest.readers.base import LINE, MALFORMED, FileRead, blank_issue, map_header
from pipelines.ingest.readers.delimited import physical_lines

_WS = r"[ \t]*"
# only tokens every JSON parser accepts: no escapes (lone surrogates), no exponents (overflow), no nesting
# a string (group 1: its characters) or a bare token (group 2) whose text json_extract_string returns as is
_VAL = r'(?:"([^"\\\x00-\x1f]*)"|(0|-?[1-9][0-9]{0,17}|true|false|null))'


def _path(key: str) -> str:
    return '$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _template(lines: pl.DataFrame) -> tuple[str, list[str]] | None:
    """A regex for flat objects with the field names of the first line, in that order, and those names."""
    if lines.height == 0:
        return None
    try:
        obj = json.loads(lines["t"][0])
    except ValueError:
        return None
    if not isinstance(obj, dict) or not obj:
        return None
    keys = list(obj)
    if any(re.search(r'[\\"\x00-\x1f]', k) for k in keys):
        return None
    pairs = f"{_WS},{_WS}".join(re.escape(json.dumps(k, ensure_ascii=False)) + f"{_WS}:{_WS}{_VAL}" for k in keys)
    return rf"^{_WS}\{{{_WS}{pairs}{_WS}\}}{_WS}$", keys


def read_jsonl(entity: Entity, data: bytes, name: str) -> FileRead:
    lines = physical_lines(data) if data else pl.DataFrame(schema={"line": pl.Int64, "t": pl.Utf8})
    blank = lines.filter(pl.col("t").str.strip_chars() == "")["line"].to_list()
    issues: list[tuple[str, str]] = [blank_issue(blank)] if blank else []
    lines = lines.filter(pl.col("t").str.strip_chars() != "")
    tmpl = _template(lines)
    if tmpl and lines.height and lines.select(pl.col("t").str.contains(tmpl[0]).all()).item():
        whole = _read_whole(entity, data, lines, tmpl[1])
        if whole is not None:
            return FileRead(whole[0], issues + whole[1], whole[2])
    known, known_vals = lines.clear(), {}
    if tmpl:
        # one regex pass: the groups of every field, null everywhere on a line that does not match
        groups = lines.select("line", pl.col("t").str.extract_groups(tmpl[0]).alias("g")).unnest("g")
        g = groups.columns[1:]  # '1', '2', ... : (string, token) per key, in the template's order
        matched = pl.col(g[0]).is_not_null() | pl.col(g[1]).is_not_null()
        vals = groups.filter(matched).select(
            "line", *[pl.coalesce(pl.col(g[2 * i]), pl.col(g[2 * i + 1]).replace("null", None)).alias(str(i))
                      for i in range(len(tmpl[1]))])
        known = vals.select("line")
        known_vals = {k: vals[str(i)] for i, k in enumerate(tmpl[1])}
        del groups
    rest = lines.join(known, on="line", how="anti") if known.height else lines
    con = duckdb.connect()
    try:
        con.register("lines_in", rest)
        con.register("known_keys", pl.DataFrame(
            {"k": tmpl[1] if known.height else [], "line": [known["line"][0]] * len(tmpl[1]) if known.height else []},
            schema={"k": pl.Utf8, "line": pl.Int64},
        ))
        con.execute(
            "CREATE TEMP TABLE l AS SELECT line, t, valid, CASE WHEN valid THEN json_type(t) END AS jtype "
            "FROM (SELECT line, t, json_valid(t) AS valid FROM lines_in)"
        )
        # field names in order of first appearance across the file
        keys = [r[0] for r in con.execute(
            "SELECT k FROM (SELECT unnest(json_keys(t)) AS k, line FROM l WHERE jtype = 'OBJECT' "
            "UNION ALL SELECT k, line FROM known_keys) GROUP BY k ORDER BY min(line), k"
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
    if known.height:
        fast = known.select(
            *[(pl.lit(known_vals[k], pl.Utf8) if k in known_vals else pl.lit(None, pl.Utf8)).alias(t) for k, t in wanted],
            pl.col("line").cast(pl.Int64).alias(LINE), pl.lit(None, pl.Utf8).alias(MALFORMED))
        frame = pl.concat([fast, frame]).sort(LINE) if frame.height else fast
    if frame.height and not data.endswith(b"\n") and frame[MALFORMED][-1] is not None:
        issues.append(("truncated_file", f"no line break at the end and the last record (line {frame[LINE][-1]}) is cut off"))
    return FileRead(frame, issues, hm.absent)


def _read_whole(entity: Entity, data: bytes, lines: pl.DataFrame, keys: list[str]):
    """(frame, header issues, absent columns) of a file whose every non-blank line matches the template of
    `keys`, read by Polars' NDJSON reader; None when its records are not the lines one to one."""
    try:
        parsed = pl.read_ndjson(io.BytesIO(data), schema={k: pl.Utf8 for k in keys}, ignore_errors=False)
    except pl.exceptions.PolarsError:
        return None
    if parsed.height != lines.height:
        return None
    # the key order of the general path (first appearance, then name: one line's keys all appear together)
    hm = map_header(entity, sorted(keys), report_absent_optional=False)
    wanted = [(k, t) for k, t in zip(sorted(keys), hm.targets) if t is not None]
    frame = parsed.select([pl.col(k).alias(t) for k, t in wanted]).with_columns(
        lines.get_column("line").cast(pl.Int64).alias(LINE), pl.lit(None, pl.Utf8).alias(MALFORMED))
    return frame, list(hm.issues), hm.absent
