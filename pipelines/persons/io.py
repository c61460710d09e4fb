"""Reading the requester's file (CSV or XLSX) into (row, code as given); nothing else of it is kept.

The code column is found by its header (personas_kods / personal_code / kods, case-insensitive; spaces or
hyphens for the underscore tolerated), else the first used column; a first row that does not look like a code is
taken for a header. Row numbers are the file's own (1 = the first line / Excel row 1), so the requester can find
each answer in their file; the output keeps the input's row order.
"""
from __future__ import annotations

import io
from pathlib import Path

import polars as pl

from pipelines.persons import xlsx

CODE_HEADERS = ("personas_kods", "personal_code", "kods")


class InputError(ValueError):
    """The input file cannot be read as a list of personal codes (the message never contains a code)."""


def _header_key(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def _pick_code_column(wide: pl.DataFrame) -> pl.DataFrame:
    """wide: row + c0, c1, ... (Utf8) -> row, code_given (the data rows only)."""
    cols = [c for c in wide.columns if c != "row"]
    if not cols or wide.height == 0:
        return pl.DataFrame(schema={"row": pl.Int64, "code_given": pl.Utf8})
    first_row = wide.head(1)
    keys = first_row.select(_header_key(pl.col(c)).alias(c) for c in cols).row(0)
    chosen, header = None, False
    for wanted in CODE_HEADERS:  # priority order of the accepted names
        if wanted in keys:
            chosen, header = cols[keys.index(wanted)], True
            break
    if chosen is None:
        # the first column holding anything; the first row is a header unless it looks like a code
        chosen = next((c for c in cols if wide[c].is_not_null().any()), cols[0])
        v = first_row[chosen].item()
        header = v is not None and not _looks_like_code(v)
    out = wide.select("row", pl.col(chosen).alias("code_given"))
    if header:
        out = out.slice(1)
    # rows with nothing at all in them (blank lines, empty Excel rows between data) are not requests
    nonempty = wide.select("row", pl.any_horizontal(
        [pl.col(c).is_not_null() & (pl.col(c).str.strip_chars() != "") for c in cols]).alias("any"))
    out = out.join(nonempty, on="row", how="left", maintain_order="left").filter(pl.col("any")).drop("any")
    return out


def _looks_like_code(value: str) -> bool:
    digits = sum(ch.isdigit() for ch in value)
    return digits >= 6


def _sniff_separator(text: str) -> str:
    head = text[:4096].splitlines()[:5]
    counts = {sep: sum(line.count(sep) for line in head) for sep in (";", ",", "\t", "|")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def read_csv_codes(path: Path) -> pl.DataFrame:
    raw = path.read_bytes()
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = raw.decode("cp1257")  # Excel's "CSV" in a Baltic locale
        raw = text.encode("utf-8")
    if not text.strip():
        return pl.DataFrame(schema={"row": pl.Int64, "code_given": pl.Utf8})
    sep = _sniff_separator(text)
    try:
        df = pl.read_csv(io.BytesIO(raw), has_header=False, infer_schema=False, separator=sep,
                         truncate_ragged_lines=True)
    except pl.exceptions.PolarsError as e:  # the message of a parse error quotes no field values we keep
        raise InputError(f"{path.name}: not a readable CSV file ({type(e).__name__})") from None
    df = df.rename({c: f"c{i}" for i, c in enumerate(df.columns)})
    wide = df.with_row_index("row", offset=1).with_columns(pl.col("row").cast(pl.Int64))
    return _pick_code_column(wide)


def read_xlsx_codes(path: Path) -> pl.DataFrame:
    try:
        sheets = xlsx.read_cells(path)
    except (KeyError, OSError, ValueError) as e:
        raise InputError(f"{path.name}: not a readable XLSX file ({e.__class__.__name__})") from None
    if not sheets:
        raise InputError(f"{path.name}: the workbook has no sheets")
    wides = {name: xlsx.cells_to_rows(cells) for name, cells in sheets.items()}
    # the first sheet whose first row names a code column; else the first sheet
    for wide in wides.values():
        cols = [c for c in wide.columns if c != "row"]
        if wide.height and cols:
            keys = wide.head(1).select(_header_key(pl.col(c)).alias(c) for c in cols).row(0)
            if any(k in CODE_HEADERS for k in keys):
                return _pick_code_column(wide)
    return _pick_code_column(next(iter(wides.values())))


def read_codes(path: str | Path) -> pl.DataFrame:
    """The requester's file -> frame (row Int64, code_given Utf8), in file order."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"no such file: {path}")
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return read_xlsx_codes(path)
    if suffix in (".csv", ".txt"):
        return read_csv_codes(path)
    raise InputError(f"{path.name}: give a .csv or .xlsx file")
