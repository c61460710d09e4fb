"""A minimal, fast XLSX reader and writer for the bulk person check (Office Open XML, SpreadsheetML).

openpyxl takes seconds for 10,000 rows (a Python object per cell); the check has a 2-second budget. Both
directions here work on whole columns with Polars string expressions and C-level regular expressions:

* writing: every cell of a column becomes an XML fragment in one expression (strings as inline strings,
  integers as numbers, dates as date serials with a yyyy-mm-dd format), rows are concatenated, the parts zipped;
* reading: the cells of a sheet are cut out with one regular expression, their reference, type and value
  extracted column-wise; shared strings are resolved by index.

Only what the check needs: several sheets, header style, a frozen header row, column widths, a text-formatted
column (for the template), autofilter. The files open in Excel, LibreOffice and openpyxl (tested).
"""
from __future__ import annotations

import datetime as dt
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import polars as pl

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
EXCEL_EPOCH = dt.date(1899, 12, 30)

# style ids in STYLES: 0 default, 1 date yyyy-mm-dd, 2 bold (header), 3 text '@', 4 wrapped text
STYLE_DATE, STYLE_BOLD, STYLE_TEXT, STYLE_WRAP = 1, 2, 3, 4
STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{MAIN_NS}">
<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy\\-mm\\-dd"/></numFmts>
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font><font><b/><sz val="11"/><name val="Calibri"/></font></fonts>
<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>
<cellXfs count="5">
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>
<xf numFmtId="49" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>
<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" applyAlignment="1"><alignment wrapText="1" vertical="top"/></xf>
</cellXfs>
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>
</styleSheet>"""

_ILLEGAL_XML = r"[\x00-\x08\x0B\x0C\x0E-\x1F]"


def col_letter(i: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    s = ""
    i += 1
    while i:
        i, r = divmod(i - 1, 26)
        s = chr(65 + r) + s
    return s


def col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


@dataclass
class Sheet:
    name: str
    frame: pl.DataFrame
    header: bool = True                     # write the column names as a bold first row
    widths: dict[str, float] = field(default_factory=dict)
    text_columns: tuple[str, ...] = ()      # columns formatted as text ('@') for the whole column
    wrap_columns: tuple[str, ...] = ()      # wrapped text
    freeze_header: bool = True
    autofilter: bool = False


def _xml_text(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all(_ILLEGAL_XML, "").str.replace_all("&", "&amp;", literal=True)
            .str.replace_all("<", "&lt;", literal=True).str.replace_all(">", "&gt;", literal=True))


def _cell_expr(name: str, dtype: pl.DataType, letter: str, rownum: pl.Expr, style: int | None) -> pl.Expr:
    col = pl.col(name)
    ref = pl.lit(f'<c r="{letter}') + rownum
    s_attr = f' s="{style}"' if style else ""
    if dtype == pl.Date:
        serial = (col - pl.lit(EXCEL_EPOCH)).dt.total_days().cast(pl.Utf8)
        cell = ref + pl.lit(f'" s="{STYLE_DATE}"><v>') + serial + pl.lit("</v></c>")
    elif dtype.is_integer() or dtype.is_float():
        cell = ref + pl.lit(f'"{s_attr}><v>') + col.cast(pl.Utf8) + pl.lit("</v></c>")
    elif dtype == pl.Boolean:
        cell = ref + pl.lit(f'" t="b"{s_attr}><v>') + col.cast(pl.Int8).cast(pl.Utf8) + pl.lit("</v></c>")
    else:
        cell = (ref + pl.lit(f'" t="inlineStr"{s_attr}><is><t xml:space="preserve">')
                + _xml_text(col.cast(pl.Utf8)) + pl.lit("</t></is></c>"))
    return cell.fill_null("")


def _sheet_xml(sheet: Sheet) -> str:
    df = sheet.frame
    names = df.columns
    first = 2 if sheet.header else 1
    parts = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="{MAIN_NS}" '
             f'xmlns:r="{REL_NS}">']
    if sheet.header and sheet.freeze_header:
        parts.append('<sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
                     'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>')
    cols = []
    for i, n in enumerate(names):
        width = sheet.widths.get(n, max(10.0, min(50.0, len(n) + 2.0)))
        style = STYLE_TEXT if n in sheet.text_columns else STYLE_WRAP if n in sheet.wrap_columns else None
        st = f' style="{style}"' if style else ""
        cols.append(f'<col min="{i + 1}" max="{i + 1}" width="{width}"{st} customWidth="1"/>')
    if cols:
        parts.append("<cols>" + "".join(cols) + "</cols>")
    parts.append("<sheetData>")
    if sheet.header:
        parts.append('<row r="1">' + "".join(
            f'<c r="{col_letter(i)}1" t="inlineStr" s="{STYLE_BOLD}"><is><t>{escape(n)}</t></is></c>'
            for i, n in enumerate(names)) + "</row>")
    if df.height and names:
        rownum = (pl.int_range(0, pl.len(), dtype=pl.Int64) + first).cast(pl.Utf8)
        cells = []
        for i, (n, t) in enumerate(df.schema.items()):
            style = STYLE_TEXT if n in sheet.text_columns else STYLE_WRAP if n in sheet.wrap_columns else None
            cells.append(_cell_expr(n, t, col_letter(i), rownum, style))
        rows = df.select(pl.concat_str([pl.lit('<row r="'), rownum, pl.lit('">'), *cells, pl.lit("</row>")])
                         .alias("x")).to_series()
        parts.append(rows.str.join("").item())
    parts.append("</sheetData>")
    if sheet.autofilter and sheet.header and names:
        parts.append(f'<autoFilter ref="A1:{col_letter(len(names) - 1)}{df.height + 1}"/>')
    parts.append("</worksheet>")
    return "".join(parts)


def write_xlsx(path: str | Path, sheets: list[Sheet]) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    n = len(sheets)
    content_types = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/styles.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/>'
        + "".join(f'<Override PartName="/xl/worksheets/sheet{i + 1}.xml" '
                  'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
                  for i in range(n))
        + "</Types>")
    root_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
                 f'<Relationship Id="rId1" Type="{REL_NS}/officeDocument" Target="xl/workbook.xml"/>'
                 "</Relationships>")
    workbook = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<workbook xmlns="{MAIN_NS}" '
                f'xmlns:r="{REL_NS}"><bookViews><workbookView/></bookViews><sheets>'
                + "".join(f'<sheet name="{escape(s.name[:31])}" sheetId="{i + 1}" r:id="rId{i + 1}"/>'
                          for i, s in enumerate(sheets))
                + "</sheets>")
    filters = [(i, s) for i, s in enumerate(sheets) if s.autofilter and s.header and s.frame.columns]
    if filters:
        workbook += "<definedNames>" + "".join(
            f'<definedName name="_xlnm._FilterDatabase" localSheetId="{i}" hidden="1">'
            f"'{escape(s.name[:31])}'!$A$1:${col_letter(len(s.frame.columns) - 1)}${s.frame.height + 1}"
            "</definedName>" for i, s in filters) + "</definedNames>"
    workbook += "</workbook>"
    wb_rels = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<Relationships xmlns="{PKG_REL_NS}">'
               + "".join(f'<Relationship Id="rId{i + 1}" Type="{REL_NS}/worksheet" '
                         f'Target="worksheets/sheet{i + 1}.xml"/>' for i in range(n))
               + f'<Relationship Id="rId{n + 1}" Type="{REL_NS}/styles" Target="styles.xml"/></Relationships>')
    tmp = path.with_name(path.name + ".part")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as z:
        z.writestr("[Content_Types].xml", content_types)
        z.writestr("_rels/.rels", root_rels)
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", wb_rels)
        z.writestr("xl/styles.xml", STYLES)
        for i, s in enumerate(sheets):
            z.writestr(f"xl/worksheets/sheet{i + 1}.xml", _sheet_xml(s))
    tmp.replace(path)
    return path


# ------------------------------------------------------------------------------------------ reading -----

_CELL = re.compile(r"<(?:\w+:)?c\b([^>]*?)(?:/>|>(.*?)</(?:\w+:)?c>)", re.S)
_SI = re.compile(r"<(?:\w+:)?si\b[^>]*>(.*?)</(?:\w+:)?si>", re.S)


def _unescape(expr: pl.Expr) -> pl.Expr:
    return (expr.str.replace_all("&lt;", "<", literal=True).str.replace_all("&gt;", ">", literal=True)
            .str.replace_all("&quot;", '"', literal=True).str.replace_all("&apos;", "'", literal=True)
            .str.replace_all("&amp;", "&", literal=True))


def _texts(expr: pl.Expr) -> pl.Expr:
    """All <t> texts of a string item / inline string, joined (rich text runs), phonetic runs dropped."""
    no_phonetic = expr.str.replace_all(r"(?s)<(?:\w+:)?rPh\b.*?</(?:\w+:)?rPh>", "")
    return _unescape(no_phonetic.str.extract_all(r"(?s)<(?:\w+:)?t(?:\s[^>]*)?>(.*?)</(?:\w+:)?t>")
                     .list.eval(pl.element().str.replace(r"(?s)^<(?:\w+:)?t(?:\s[^>]*)?>(.*)</(?:\w+:)?t>$", "$1"))
                     .list.join(""))


def _sheet_targets(z: zipfile.ZipFile) -> list[tuple[str, str]]:
    """[(sheet name, zip member)] in workbook order."""
    wb = z.read("xl/workbook.xml").decode("utf-8")
    rels = z.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    targets = {}
    for rel in re.findall(r"<(?:\w+:)?Relationship\b([^>]*)/?>", rels):
        rid = re.search(r'\bId="([^"]+)"', rel)
        tgt = re.search(r'\bTarget="([^"]+)"', rel)
        if rid and tgt:
            t = tgt.group(1)
            targets[rid.group(1)] = t.lstrip("/") if t.startswith("/") else "xl/" + t
    out = []
    for attrs in re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", wb):
        name = re.search(r'\bname="([^"]*)"', attrs)
        rid = re.search(r'\br:id="([^"]+)"', attrs) or re.search(r'\b\w+:id="([^"]+)"', attrs)
        if name and rid and rid.group(1) in targets:
            out.append((name.group(1), targets[rid.group(1)]))
    return out


def read_cells(path: str | Path) -> dict[str, pl.DataFrame]:
    """Every sheet as a long frame of non-empty cells: row (1-based), col (0-based), value (Utf8).

    Numbers are given back as written in the file (integers without '.0'); booleans as TRUE/FALSE; formulas by
    their cached value."""
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        shared = pl.Series("s", [], dtype=pl.Utf8)
        if "xl/sharedStrings.xml" in names:
            sst = z.read("xl/sharedStrings.xml").decode("utf-8")
            shared = pl.DataFrame({"x": _SI.findall(sst)}, schema={"x": pl.Utf8}).select(
                _texts(pl.col("x")).alias("s")).to_series()
        sheets = {}
        for name, member in _sheet_targets(z):
            xml = z.read(member).decode("utf-8")
            cells = pl.DataFrame(_CELL.findall(xml), schema={"a": pl.Utf8, "b": pl.Utf8}, orient="row")
            if cells.height and cells["a"].str.contains(r'\br="').not_().any():
                raise ValueError(f"sheet {name!r}: cells without a reference (r=) are not supported; "
                                 "save the file from Excel or LibreOffice, or use CSV")
            df = cells.select(
                pl.col("a").str.extract(r'\br="([A-Z]+)[0-9]+"', 1).alias("letters"),
                pl.col("a").str.extract(r'\br="[A-Z]+([0-9]+)"', 1).cast(pl.Int64).alias("row"),
                pl.col("a").str.extract(r'\bt="(\w+)"', 1).fill_null("n").alias("t"),
                _unescape(pl.col("b").str.extract(r"(?s)<(?:\w+:)?v>(.*?)</(?:\w+:)?v>", 1)).alias("v"),
                _texts(pl.col("b").fill_null("")).alias("inline"),
            )
            letters = df["letters"].unique().drop_nulls().to_list()
            idx = {a: col_index(a) for a in letters}  # distinct column letters: a handful
            number = pl.col("v").str.replace(r"^(-?[0-9]+)\.0+$", "$1")
            sci = pl.col("v").str.contains(r"^[0-9.]+[eE]\+?[0-9]+$")
            df = df.with_columns(
                pl.col("letters").replace_strict(idx, default=None, return_dtype=pl.Int64).alias("col"),
                pl.when(pl.col("t") == "s").then(pl.lit(None, dtype=pl.Utf8))  # resolved below
                .when(pl.col("t") == "inlineStr").then(pl.col("inline"))
                .when(pl.col("t") == "b").then(pl.when(pl.col("v") == "1").then(pl.lit("TRUE")).otherwise(pl.lit("FALSE")))
                .when((pl.col("t") == "n") & sci)
                .then(pl.col("v").cast(pl.Float64, strict=False).round(0).cast(pl.Int64, strict=False).cast(pl.Utf8))
                .when(pl.col("t") == "n").then(number)
                .otherwise(pl.col("v")).alias("value"),
                pl.when(pl.col("t") == "s").then(pl.col("v").cast(pl.Int64, strict=False)).alias("sst"),
            )
            if df.height and df["sst"].is_not_null().any():
                lookup = pl.DataFrame({"sst": pl.int_range(0, shared.len(), eager=True, dtype=pl.Int64),
                                       "shared": shared})
                df = df.join(lookup, on="sst", how="left", maintain_order="left").with_columns(
                    pl.coalesce("value", "shared").alias("value"))
            sheets[name] = (df.select("row", "col", "value")
                            .filter(pl.col("value").is_not_null() & (pl.col("value") != "")))
    return sheets


def cells_to_rows(cells: pl.DataFrame) -> pl.DataFrame:
    """Long cells -> a wide frame: row plus one Utf8 column per used column index ('c0', 'c1', ...)."""
    if cells.height == 0:
        return pl.DataFrame({"row": []}, schema={"row": pl.Int64})
    wide = cells.with_columns(("c" + pl.col("col").cast(pl.Utf8)).alias("cname")).pivot(
        on="cname", index="row", values="value", aggregate_function="first").sort("row")
    order = sorted((c for c in wide.columns if c != "row"), key=lambda c: int(c[1:]))
    return wide.select("row", *order)
