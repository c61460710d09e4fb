"""The in-between form of every landing file: a Doc holds one file's records as Polars frames of text cells
(null = empty / absent), so that defects can be injected on cells and rows before the bytes exist, and the
renderer can tell on which physical line each record lands.

Rendering is vectorised: every record becomes one line built with Polars string expressions; the file is the
lines joined once and encoded once. Meta columns start with '__': '__defect' (the defect id carried by a
record, for the manifest's line numbers) and '__cut' (the record loses its last field: malformed_record)."""
from __future__ import annotations

import codecs
import io
import json
from dataclasses import dataclass, field

import numpy as np
import polars as pl

DEFECT = "__defect"
CUT = "__cut"
PARENT = "__pid"  # XML: the parent record of a child record


@dataclass
class Part:
    """One entity's records inside a file. For XML, `element` is the record element, `container` the
    section element, and a child part names its `parent` part (records keep the parent's __pid)."""
    entity: str | None
    frame: pl.DataFrame
    element: str = ""
    container: str = ""
    parent: str | None = None
    kinds: dict[str, str] = field(default_factory=dict)  # jsonl: column -> 'str' | 'num' | 'bool'


@dataclass
class Doc:
    feed: str
    path: str  # relative to the landing dir, posix
    fmt: str  # csv | jsonl | xml | text
    parts: list[Part]
    year: int
    encoding: str = "utf-8"
    delimiter: str = ","
    quote: str = '"'
    quote_mode: dict[str, str] = field(default_factory=dict)  # column -> always | necessary | never
    header: bool = True
    header_quoted: bool = False
    trailing_delimiter: bool = False
    pre_lines: list[str] = field(default_factory=list)  # lines before the header (PxWeb title + blank)
    line_end: str = "\n"
    prefix: bytes = b""  # bytes before the text (BOMs)
    text: str | None = None  # fmt == 'text': the finished text
    text_records: int = 0  # fmt == 'text': how many records the text holds (JSON-stat: values)
    root_open: list[str] = field(default_factory=list)  # xml: lines before the sections
    root_close: list[str] = field(default_factory=list)

    @property
    def entities(self) -> list[str]:
        return [p.entity for p in self.parts if p.entity]

    def part(self, entity: str) -> Part:
        for p in self.parts:
            if p.entity == entity:
                return p
        raise KeyError(entity)

    def rows(self) -> int:
        if self.fmt == "text":
            return self.text_records
        return sum(p.frame.height for p in self.parts if p.entity)


def data_columns(frame: pl.DataFrame) -> list[str]:
    return [c for c in frame.columns if not c.startswith("__")]


def with_meta(frame: pl.DataFrame) -> pl.DataFrame:
    out = frame
    if DEFECT not in out.columns:
        out = out.with_columns(pl.lit(None, dtype=pl.Utf8).alias(DEFECT))
    if CUT not in out.columns:
        out = out.with_columns(pl.lit(False).alias(CUT))
    return out


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """Every data column as Utf8 (dates ISO, floats as written by Polars)."""
    return frame.with_columns([pl.col(c).cast(pl.Utf8) for c in data_columns(frame)])


# ------------------------------------------------------------------------------------------- csv ---

def _csv_cell(col: str, quote: str, delim: str, mode: str) -> pl.Expr:
    c = pl.col(col)
    quoted = pl.lit(quote) + c.str.replace_all(quote, quote + quote, literal=True) + pl.lit(quote)
    if mode == "always":
        return pl.when(c.is_null()).then(pl.lit(quote + quote)).otherwise(quoted)
    if mode == "never":
        return c.fill_null("")
    special = c.str.contains(f"[{_re_escape(delim + quote)}\r\n]")
    return pl.when(c.is_null()).then(pl.lit("")).when(special).then(quoted).otherwise(c)


def _re_escape(chars: str) -> str:
    return "".join("\\" + ch if ch in "\\^]-[" else ch for ch in chars)


def _csv_lines(doc: Doc, part: Part) -> tuple[list[str], pl.DataFrame]:
    f = with_meta(part.frame)
    cols = data_columns(f)
    d = doc.delimiter
    end = d if doc.trailing_delimiter else ""
    cells = [_csv_cell(c, doc.quote, d, doc.quote_mode.get(c, "necessary")) for c in cols]
    text = pl.concat_str(cells, separator=d) if cells else pl.lit("")
    # malformed_record: the record loses its last field (and its delimiter)
    cut_text = pl.concat_str(cells[:-1], separator=d) if len(cells) > 1 else pl.lit("")
    lines = f.select(
        pl.when(pl.col(CUT)).then(cut_text + pl.lit(end)).otherwise(text + pl.lit(end)).alias("text"),
        pl.col(DEFECT).alias("defect"),
    )
    head = []
    if doc.header:
        hq = [f"{doc.quote}{c}{doc.quote}" if doc.header_quoted else c for c in cols]
        head = [d.join(hq) + end]
    return list(doc.pre_lines) + head, lines


# ----------------------------------------------------------------------------------------- jsonl ---

def json_string(expr: pl.Expr) -> pl.Expr:
    s = (expr.str.replace_all("\\", "\\\\", literal=True).str.replace_all('"', '\\"', literal=True)
         .str.replace_all("\n", "\\n", literal=True).str.replace_all("\r", "\\r", literal=True)
         .str.replace_all("\t", "\\t", literal=True))
    return pl.lit('"') + s + pl.lit('"')


def _json_cell(col: str, kind: str) -> pl.Expr:
    c = pl.col(col)
    if kind == "num":  # a number stays bare; anything else (a defect's 'x') becomes a string
        val = pl.when(c.str.contains(r"^-?[0-9]+(\.[0-9]+)?$")).then(c).otherwise(json_string(c))
    elif kind == "bool":
        val = pl.when(c.is_in(["true", "false"])).then(c).otherwise(json_string(c))
    else:
        val = json_string(c)
    return pl.lit(f'"{col}":') + pl.when(c.is_null()).then(pl.lit("null")).otherwise(val)


def _jsonl_lines(doc: Doc, part: Part) -> tuple[list[str], pl.DataFrame]:
    f = with_meta(part.frame)
    cols = data_columns(f)
    body = pl.concat_str([_json_cell(c, part.kinds.get(c, "str")) for c in cols], separator=",")
    lines = f.select((pl.lit("{") + body + pl.lit("}")).alias("text"), pl.col(DEFECT).alias("defect"))
    return [], lines


# ------------------------------------------------------------------------------------------- xml ---

def xml_escape(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all("&", "&amp;", literal=True).str.replace_all("<", "&lt;", literal=True)
            .str.replace_all(">", "&gt;", literal=True).str.replace_all('"', "&quot;", literal=True)
            .str.replace_all("\n", "&#10;", literal=True))


def _xml_attrs(frame: pl.DataFrame) -> pl.Expr:
    attrs = [
        pl.when(pl.col(c).is_null()).then(pl.lit("")).otherwise(pl.lit(f' {c}="') + xml_escape(pl.col(c)) + pl.lit('"'))
        for c in data_columns(frame)
    ]
    return pl.concat_str(attrs) if attrs else pl.lit("")


def _xml_lines(doc: Doc) -> tuple[list[str], pl.DataFrame]:
    """Sections in part order; a child part is rendered inside its parent's section. Each record element is
    on its own line; a parent with children has an open line, the child lines and a close line."""
    children = {p.parent: p for p in doc.parts if p.parent}
    frames = []
    order = 0
    for p in doc.parts:
        if p.parent:
            continue
        order += 1
        f = with_meta(p.frame)
        head = pl.DataFrame({"text": [f"  <{p.container}>"], "defect": [None], "k1": [order], "k2": [-1], "k3": [0], "k4": [0]},
                            schema={"text": pl.Utf8, "defect": pl.Utf8, "k1": pl.Int64, "k2": pl.Int64, "k3": pl.Int64, "k4": pl.Int64})
        tail = head.with_columns(pl.lit(f"  </{p.container}>").alias("text"), pl.lit(1 << 62).alias("k2"))
        frames.append(head)
        child = children.get(p.entity or p.element)
        f = f.with_row_index("__i").with_columns(pl.col("__i").cast(pl.Int64))
        if child is None:
            frames.append(f.select((pl.lit(f"    <{p.element}") + _xml_attrs(f) + pl.lit("/>")).alias("text"),
                                   pl.col(DEFECT).alias("defect"), pl.lit(order).alias("k1"),
                                   pl.col("__i").alias("k2"), pl.lit(0).alias("k3"), pl.lit(0).cast(pl.Int64).alias("k4")))
        else:
            cf = with_meta(child.frame).with_row_index("__j").with_columns(pl.col("__j").cast(pl.Int64))
            pos = f.select(pl.col(PARENT), pl.col("__i"))
            frames.append(f.select((pl.lit(f"    <{p.element}") + _xml_attrs(f.drop(PARENT)) + pl.lit(">")).alias("text"),
                                   pl.col(DEFECT).alias("defect"), pl.lit(order).alias("k1"),
                                   pl.col("__i").alias("k2"), pl.lit(0).alias("k3"), pl.lit(0).cast(pl.Int64).alias("k4")))
            frames.append(cf.join(pos, on=PARENT, how="inner").select(
                (pl.lit(f"      <{child.element}") + _xml_attrs(cf.drop(PARENT, "__j")) + pl.lit("/>")).alias("text"),
                pl.col(DEFECT).alias("defect"), pl.lit(order).alias("k1"), pl.col("__i").alias("k2"),
                pl.lit(1).alias("k3"), pl.col("__j").alias("k4")))
            frames.append(f.select(pl.lit(f"    </{p.element}>").alias("text"), pl.lit(None, dtype=pl.Utf8).alias("defect"),
                                   pl.lit(order).alias("k1"), pl.col("__i").alias("k2"), pl.lit(2).alias("k3"),
                                   pl.lit(0).cast(pl.Int64).alias("k4")))
        frames.append(tail)
    frames = [fr.with_columns(pl.col("k1").cast(pl.Int64), pl.col("k2").cast(pl.Int64), pl.col("k3").cast(pl.Int64),
                              pl.col("k4").cast(pl.Int64)) for fr in frames]
    lines = pl.concat(frames).sort("k1", "k2", "k3", "k4").select("text", "defect")
    return list(doc.root_open), lines


# ---------------------------------------------------------------------------------------- render ---

def render_lines(doc: Doc) -> pl.DataFrame:
    """All physical lines of the file: text, defect (the defect id of the record starting there)."""
    if doc.fmt == "text":
        texts = (doc.text or "").split("\n")
        if texts and texts[-1] == "":
            texts = texts[:-1]
        return pl.DataFrame({"text": texts, "defect": [None] * len(texts)}, schema={"text": pl.Utf8, "defect": pl.Utf8})
    if doc.fmt == "xml":
        head, body = _xml_lines(doc)
        tail = doc.root_close
    else:
        part = next(p for p in doc.parts if p.entity)
        head, body = (_csv_lines if doc.fmt == "csv" else _jsonl_lines)(doc, part)
        tail = []
    mk = lambda xs: pl.DataFrame({"text": xs, "defect": [None] * len(xs)}, schema={"text": pl.Utf8, "defect": pl.Utf8})  # noqa: E731
    return pl.concat([mk(head), body, mk(tail)])


def to_bytes(doc: Doc, lines: pl.DataFrame, final_newline: bool = True) -> bytes:
    if lines.height == 0:
        return doc.prefix
    text = lines["text"].str.join(doc.line_end).item()
    if final_newline:
        text += doc.line_end
    data = text.encode("utf-8")
    if doc.encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig") and not data.isascii():
        data = text.encode(doc.encoding)
    return doc.prefix + data


# ------------------------------------------------------------------------- fast path (big files) ---
# Plain CSV (quoted where needed, '\n') and JSONL files are written by Polars' own writers: one record per
# line, so record i lands on line (lines before the body) + i + 1 and nothing has to be split. Two cell
# tricks keep the defects byte-exact: a cut record (malformed_record) gets a \x01 marker before its last
# delimiter, removed with its last field afterwards; a non-number in a JSON number field is written as a
# sentinel number and replaced by the quoted string afterwards. The file is streamed in chunks of rows
# (render, fix, encode, write), so a national-scale file never sits in memory whole.

_CUT_MARK = "\x01"
_SENTINEL = -7_310_000_000
CHUNK_ROWS = 250_000


def fast_ok(doc: Doc) -> bool:
    if doc.fmt == "jsonl":
        return True
    return (doc.fmt == "csv" and not doc.quote_mode and not doc.trailing_delimiter and doc.line_end == "\n"
            and doc.quote == '"' and doc.header and not doc.header_quoted)


def fast_head(doc: Doc) -> int:
    """Lines before the first record in the fast path's output."""
    return len(doc.pre_lines) + 1 if doc.fmt == "csv" else 0


def _utf8(encoding: str) -> bool:
    return encoding.lower().replace("_", "-") in ("utf-8", "utf8", "utf-8-sig")


def write_fast(doc: Doc, out, encoding: str | None = None, prefix: bytes = b"", blanks: np.ndarray | None = None,
               truncate: bool = False, chunk_rows: int = CHUNK_ROWS) -> tuple[int, pl.DataFrame]:
    """Stream the file to `out` (anything with .write(bytes)): prefix, then chunks of records rendered as
    UTF-8, fixed up, encoded to `encoding` (default doc.encoding) and written. blanks: original line numbers
    (1-based) before which a blank line goes in; truncate: the last record loses its end (no final newline).
    Returns (bytes written, defect -> line in the original numbering)."""
    part = next(p for p in doc.parts if p.entity)
    f = with_meta(part.frame)
    cols = data_columns(f)
    enc = encoding or doc.encoding
    blanks = np.asarray(blanks if blanks is not None else [], dtype=np.int64)
    offset = fast_head(doc)
    n = f.height
    cut_any = doc.fmt == "csv" and len(cols) > 1 and bool(f[CUT].any())
    swaps: dict[bytes, bytes] = {}
    exprs = [pl.col(c) for c in cols]
    bad_rows = None
    if doc.fmt == "jsonl":
        exprs, bad_any = [], []
        for c in cols:
            if part.kinds.get(c, "str") != "num":
                exprs.append(pl.col(c))
                continue
            is_bad = pl.col(c).is_not_null() & pl.col(c).cast(pl.Int64, strict=False).is_null()
            bad = f.filter(is_bad)[c].unique().sort()
            mapping = {v: _SENTINEL - i for i, v in enumerate(bad.to_list())}
            for v, s in mapping.items():
                swaps[f'"{c}":{s}'.encode()] = (f'"{c}":' + json.dumps(v, ensure_ascii=False)).encode()
            e = pl.col(c).cast(pl.Int64, strict=False)
            if mapping:
                e = pl.col(c).replace_strict(mapping, default=e, return_dtype=pl.Int64)
                bad_any.append(is_bad)
            exprs.append(e.alias(c))
        if bad_any:
            bad_rows = f.select(pl.any_horizontal(bad_any)).to_series()
    written = 0
    if prefix:
        out.write(prefix)
        written += len(prefix)
    n_chunks = max(1, -(-n // chunk_rows))
    for k in range(n_chunks):
        s0 = k * chunk_rows
        ch = f.slice(s0, chunk_rows)
        buf = io.BytesIO()
        if doc.fmt == "csv":
            for line in (doc.pre_lines if k == 0 else []):
                buf.write((line + "\n").encode("utf-8"))
            cut_here = cut_any and bool(ch[CUT].any())
            if cut_here:
                last, prev = cols[-1], cols[-2]
                ch = ch.with_columns(
                    pl.when(pl.col(CUT)).then(pl.col(prev).fill_null("") + pl.lit(_CUT_MARK)).otherwise(pl.col(prev)).alias(prev),
                    pl.when(pl.col(CUT)).then(pl.lit(None, dtype=pl.Utf8)).otherwise(pl.col(last)).alias(last))
            ch.select(cols).write_csv(buf, separator=doc.delimiter, quote_style="necessary", include_header=k == 0)
            data = buf.getvalue()
            if cut_here:
                data = data.replace((_CUT_MARK + doc.delimiter + "\n").encode(), b"\n")
        else:
            ch.select(exprs).write_ndjson(buf)
            data = buf.getvalue()
            if bad_rows is not None and bool(bad_rows.slice(s0, chunk_rows).any()):
                for a, b in swaps.items():
                    data = data.replace(a, b)
        del buf, ch
        first = 1 if k == 0 else offset + s0 + 1  # original number of the chunk's first line
        last_line = offset + min(n, s0 + chunk_rows)
        here = blanks[(blanks >= first) & (blanks <= last_line)]
        if here.size:
            nl = np.flatnonzero(np.frombuffer(data, dtype=np.uint8) == 10)
            starts = np.r_[0, nl[:-1] + 1]
            cuts = [0, *starts[here - first].tolist(), len(data)]
            data = b"\n".join(data[a:b] for a, b in zip(cuts[:-1], cuts[1:]))
        if truncate and k == n_chunks - 1:
            ls = data.rfind(b"\n", 0, len(data) - 1) + 1
            text = data[ls:-1].decode("utf-8")
            if doc.fmt == "csv":  # a field goes missing, not just a value shortened
                cut = text[: max(1, text.rfind(doc.delimiter) - 1)]
            else:
                cut = text[: max(1, len(text) * 2 // 3)]
            data = data[:ls] + cut.encode("utf-8")
        data = encode_fast(doc, data, enc)
        out.write(data)
        written += len(data)
        del data
    lines = (f.select(pl.col(DEFECT)).with_row_index("i").filter(pl.col(DEFECT).is_not_null())
             .select(pl.col(DEFECT).alias("defect"), (pl.col("i").cast(pl.Int64) + offset + 1).alias("line")))
    return written, lines


def render_fast(doc: Doc, chunk_rows: int = CHUNK_ROWS) -> tuple[bytes, int, pl.DataFrame]:
    """(utf-8 bytes of the whole file, number of lines before the first record, defect -> line)."""
    buf = io.BytesIO()
    _, lines = write_fast(doc, buf, encoding="utf-8", chunk_rows=chunk_rows)
    return buf.getvalue(), fast_head(doc), lines


def encode_fast(doc: Doc, data: bytes, encoding: str) -> bytes:
    if _utf8(encoding) or data.isascii():
        return data
    out = _encode_single_byte(data, encoding)
    return out if out is not None else data.decode("utf-8").encode(encoding)


_LUTS: dict[str, np.ndarray | None] = {}


def _lut(encoding: str) -> np.ndarray | None:
    """Code point (< 0x800) -> byte of a single-byte code page (-1: not in it); None for other encodings."""
    name = codecs.lookup(encoding).name
    if name not in _LUTS:
        lut = None
        if name.startswith(("cp125", "iso8859", "latin")):
            lut = np.full(0x800, -1, dtype=np.int16)
            lut[:128] = np.arange(128)
            for b in range(128, 256):
                try:
                    ch = bytes([b]).decode(name)
                except UnicodeDecodeError:
                    continue
                if ord(ch) < 0x800:
                    lut[ord(ch)] = b
        _LUTS[name] = lut
    return _LUTS[name]


def _encode_single_byte(data: bytes, encoding: str) -> bytes | None:
    """UTF-8 -> a single-byte code page with NumPy (the codec's charmap is ~3x slower on big chunks): every
    2-byte sequence becomes its byte. None (use the codec) when a character needs 3+ UTF-8 bytes or is not in
    the code page, so the codec then gives the exact result or the exact error."""
    lut = _lut(encoding)
    if lut is None:
        return None
    arr = np.frombuffer(data, dtype=np.uint8)
    lead = np.flatnonzero(arr >= 0xC0)
    first = arr[lead]
    if lead.size == 0 or (first >= 0xE0).any():
        return None
    byte = lut[((first & 0x1F).astype(np.int32) << 6) | (arr[lead + 1] & 0x3F)]
    if (byte < 0).any():
        return None
    out = arr.copy()
    out[lead] = byte.astype(np.uint8)
    keep = np.ones(arr.size, dtype=bool)
    keep[lead + 1] = False
    return out[keep].tobytes()
