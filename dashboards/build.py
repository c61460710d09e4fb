"""Build the static dashboard site: `build_site(warehouse, out_dir)` writes index.html and every page below
out_dir, opened from disk (file://) or served by any static server.

The data work is done once in Polars (payloads.py); every page gets a compact JSON payload in a
<script type="application/json"> element and the charts are drawn in the browser by assets/site.js with the
plotly.min.js shipped in assets/ (no CDN). Shared data live in data/*.js files loaded by script tags (fetch()
is blocked from file://). Output is deterministic: sorted keys, no timestamps except manifest.json's build stamp.
"""
from __future__ import annotations

import json
import shutil
import time
from datetime import datetime, timezone
from pathlib import Path

import jinja2
import polars as pl

from dashboards import bands, data, payloads, publish
from dashboards.fmt import fmt_value, school_year_label

HERE = Path(__file__).resolve().parent
ASSETS = HERE / "assets"
DOMAINS = {1: ("Rezultāti", "Results"), 2: ("Mācīšana", "Teaching"), 3: ("Vide", "Environment"),
           4: ("Pārvaldība", "Governance")}
LEVELS = ("institution", "municipality", "national")
SOURCE_LINE = "VIIS / IZM"
OWNED = ("index.html", "explorer.html", "map.html", "quality.html", "municipalities.html", "institutions.html",
         "manifest.json", "assets", "data", "muni", "inst")


def _json(obj) -> str:
    """Compact deterministic JSON, safe inside <script>: every '<' escaped, so no text can end the element."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), sort_keys=True, allow_nan=False) \
        .replace("<", "\\u003c")


def _cols(df: pl.DataFrame, names: list[str]) -> dict:
    return {n: df[n].to_list() for n in names}


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).resolve().parent / "package_data" / "plotly.min.js"


class _Writer:
    """Writes files under out_dir and counts pages and bytes per page type."""

    def __init__(self, out_dir: Path):
        self.out = out_dir
        self.stats: dict[str, dict] = {}

    def write(self, rel: str, text: str, kind: str) -> None:
        path = self.out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = text.encode("utf-8")
        path.write_bytes(raw)
        s = self.stats.setdefault(kind, {"files": 0, "bytes": 0, "max_bytes": 0})
        s["files"] += 1
        s["bytes"] += len(raw)
        s["max_bytes"] = max(s["max_bytes"], len(raw))


def _prepare_out(out_dir: Path) -> None:
    """Remove what an earlier build wrote (only the site's own names: a wrong --out never wipes a folder)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in OWNED:
        p = out_dir / name
        if p.is_dir():
            shutil.rmtree(p)
        elif p.exists():
            p.unlink()


def _catalogue_meta(cat: pl.DataFrame) -> dict:
    out = {}
    for row in cat.iter_rows(named=True):  # ~50 catalogue entries, not data rows
        out[row["indicator_id"]] = {
            "name_lv": row["name_lv"], "name_en": row["name_en"], "domain": int(row["domain"]),
            "definition": row["definition"], "unit": row["unit"], "scale": row["scale"],
            "direction": row["direction"], "reference": row["reference"],
            "levels": [x for x in (row["levels"] or "").split(",") if x],
            "dimensions": [x for x in (row["dimensions"] or "").split(",") if x],
            "aggregation": row["aggregation"], "min_denominator": int(row["min_denominator"]),
        }
    return out


def _dimension_meta(labels: dict) -> dict:
    dims = {}
    for name, d in (labels.get("dimensions") or {}).items():
        dims[name] = {"lv": d.get("label_lv", name), "en": d.get("label_en", name),
                      "values": {str(k): {"lv": v.get("label_lv", k), "en": v.get("label_en", k)}
                                 for k, v in (d.get("values") or {}).items()}}
    special = {k: {"lv": v.get("label_lv", k), "en": v.get("label_en", k)}
               for k, v in (labels.get("special_values") or {}).items()}
    return {"dims": dims, "special": special}


def build_site(warehouse: Path, out_dir: Path, edition: str = "public", boundaries: Path | None = None,
               progress=print) -> dict:
    """Build the whole site from the warehouse into out_dir. edition 'public' (disclosure-controlled values only)
    or 'internal' (every value, bannered for ministry staff). boundaries: an optional GeoJSON of the 43
    municipalities (property municipality_code) for a true choropleth next to the tile grid.
    Returns {pages, bytes, seconds, edition, page_types: {type: {files, bytes, max_bytes}}}."""
    from dashboards import geometry

    if edition not in publish.EDITIONS:
        raise ValueError(f"edition must be one of {publish.EDITIONS}, not {edition!r}")
    t0 = time.perf_counter()
    warehouse, out_dir = Path(warehouse), Path(out_dir)
    d = data.load(warehouse)
    progress(f"  read the warehouse: {d.totals.height:,} total rows, {d.breakdowns.height:,} breakdown rows, "
             f"{d.catalogue.height} indicators in {time.perf_counter() - t0:.1f} s")
    cat = d.catalogue
    cat_meta = _catalogue_meta(cat)
    totals = publish.apply(d.totals, cat, edition)
    breakdowns = publish.apply(d.breakdowns, cat, edition)
    totals, breakdowns = publish.secondary_counts(
        totals, breakdowns, cat, d.institutions.select(pl.col("institution_id").alias("unit_code"), "municipality_code"),
        edition)
    years = sorted(int(y) for y in totals["school_year"].unique().to_list()) or [0]
    munis = d.municipalities
    muni_codes = munis["municipality_code"].to_list()
    muni_names = dict(zip(muni_codes, munis["municipality_name"].to_list()))

    inst_tot = totals.filter(pl.col("level") == "institution")
    inst_ids = sorted(inst_tot["unit_code"].unique().to_list())
    insts = (pl.DataFrame({"institution_id": inst_ids}, schema={"institution_id": pl.Utf8})
             .join(d.institutions, on="institution_id", how="left", maintain_order="left")
             .with_columns(pl.col("institution_name").fill_null(pl.col("institution_id")),
                           pl.col("institution_type").fill_null("?"))
             .sort("institution_id"))
    size = payloads.enrolment_bands(d.totals)
    last = payloads.last_years(totals)

    map_payload = _map_payload(munis, geometry, boundaries)  # a bad boundary file fails before anything is removed
    _prepare_out(out_dir)
    w = _Writer(out_dir)
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters["json"] = _json
    env.globals.update(edition=edition, source_line=SOURCE_LINE, domains=DOMAINS, fmt_value=fmt_value,
                       year_label=school_year_label)

    # --- shared assets
    (out_dir / "assets").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(_plotly_js(), out_dir / "assets" / "plotly.min.js")
    for name in ("site.js", "site.css"):
        w.write(f"assets/{name}", (ASSETS / name).read_text(encoding="utf-8"), "asset")

    national = payloads.series(totals.filter(pl.col("level") == "national"), ["indicator_id"], years)
    nat_map = {i: {"v": v, "f": f} for i, v, f in national.select("indicator_id", "v", "f").iter_rows()}
    cfg = bands.config()
    meta = {
        "edition": edition, "years": years, "year_labels": [school_year_label(y) for y in years],
        "catalogue": cat_meta, "domains": {str(k): {"lv": v[0], "en": v[1]} for k, v in DOMAINS.items()},
        **_dimension_meta(d.dimension_labels),
        "munis": muni_names, "national": nat_map,
        "bands": [{"code": b["code"], "lv": b["label_lv"], "en": b["label_en"]} for b in bands.bands()],
        "targets": cfg.get("targets") or {},
        "last_year": dict(zip(last["indicator_id"].to_list(), last["school_year"].to_list())),
        "breakdowns": _breakdown_index(breakdowns, muni_codes),  # the data/ind/<ID>.<dim>.js files written
    }
    w.write("data/meta.js", f"window.IKMS_META={_json(meta)};\n", "data")

    # municipality series of every indicator: the muni pages, the map and the explorer share it
    muni_tot = totals.filter((pl.col("level") == "municipality") & pl.col("unit_code").is_in(muni_codes))
    muni_series = payloads.series(muni_tot, ["indicator_id", "unit_code"], years)
    muni_js = {i: _cols(g.sort("unit_code"), ["unit_code", "v", "f"])
               for (i,), g in muni_series.partition_by("indicator_id", as_dict=True).items()}
    w.write("data/munis.js", f"window.IKMS_MUNIS={_json(muni_js)};\n", "data")

    # institutions (names, municipality, type, band of the latest year, projected position)
    latest_band = (size.sort("school_year").group_by("institution_id").agg(pl.col("size_band").last()))
    insts = insts.join(latest_band, on="institution_id", how="left", maintain_order="left").with_columns(
        pl.col("size_band").fill_null(bands.NO_BAND))
    x, y = geometry.project(insts["lon"].fill_null(float("nan")).to_numpy(),
                            insts["lat"].fill_null(float("nan")).to_numpy())
    insts = insts.with_columns(x=pl.Series(x).round(2).fill_nan(None), y=pl.Series(y).round(2).fill_nan(None))
    units = {"u": insts["institution_id"].to_list(), "n": insts["institution_name"].to_list(),
             "m": insts["municipality_code"].to_list(), "t": insts["institution_type"].to_list(),
             "b": insts["size_band"].to_list(), "x": insts["x"].to_list(), "y": insts["y"].to_list()}
    w.write("data/units.js", f"window.IKMS_UNITS={_json(units)};\n", "data")
    progress(f"  shared data written in {time.perf_counter() - t0:.1f} s")

    # --- explorer files: one per indicator (totals, every level) and per indicator x dimension
    _explorer_files(w, totals, breakdowns, years, muni_codes)
    progress(f"  explorer data written in {time.perf_counter() - t0:.1f} s")

    # --- institution pages
    inst_series = payloads.series(inst_tot, ["unit_code", "indicator_id"], years)
    peers = payloads.peer_medians(inst_tot, insts, size)
    peer_series = payloads.series(peers.rename({"institution_id": "unit_code"}), ["unit_code", "indicator_id"], years)
    inst_muni = insts.select(pl.col("institution_id").alias("unit_code"), "municipality_code")
    joined = (inst_series
              .join(peer_series.rename({"v": "p", "f": "pf"}), on=["unit_code", "indicator_id"], how="left", maintain_order="left")
              .join(inst_muni, on="unit_code", how="left", maintain_order="left")
              .join(muni_series.rename({"unit_code": "municipality_code", "v": "m", "f": "mf"}),
                    on=["municipality_code", "indicator_id"], how="left", maintain_order="left")
              .sort("unit_code", "indicator_id"))
    n_peers = (peers.join(last, on=["indicator_id", "school_year"]).filter(pl.col("indicator_id") == "ENR_TOTAL")
               .select("institution_id", "peers"))
    info = insts.join(n_peers, on="institution_id", how="left", maintain_order="left")
    info_rows = {r["institution_id"]: r for r in info.iter_rows(named=True)}  # one dict per institution page
    tpl = env.get_template("institution.html.j2")
    for (uid,), g in joined.partition_by("unit_code", as_dict=True).items():
        r = info_rows[uid]
        page = {"id": uid, "name": r["institution_name"], "type": r["institution_type"],
                "kind": r["institution_kind"], "muni": r["municipality_code"], "band": r["size_band"],
                "peers": r["peers"], "closed": str(r["closed_date"]) if r["closed_date"] else None,
                "series": _cols(g, ["indicator_id", "v", "f", "p", "m", "mf"])}
        w.write(f"inst/{uid}.html", tpl.render(root="../", page_type="institution", title=r["institution_name"],
                                               info=r, muni_name=muni_names.get(r["municipality_code"], ""),
                                               payload=page, band_label=_band_label(r["size_band"])), "institution")
    progress(f"  {len(inst_ids)} institution pages in {time.perf_counter() - t0:.1f} s")

    # --- municipality pages: own series vs national and the other municipalities; institutions ranked
    inst_latest = payloads.latest_values(inst_tot, last).join(inst_muni, on="unit_code", how="left", maintain_order="left")
    tpl = env.get_template("municipality.html.j2")
    muni_own = {k[0]: g for k, g in muni_series.partition_by("unit_code", as_dict=True).items()}
    muni_insts = {k[0]: g for k, g in inst_latest.partition_by("municipality_code", as_dict=True).items()}
    names = dict(zip(insts["institution_id"].to_list(), insts["institution_name"].to_list()))
    for code in muni_codes:
        own = muni_own.get(code)
        ranked = muni_insts.get(code)
        inst_block = {}
        if ranked is not None:
            # values aligned to the list of institutions (u): one array per indicator, flags as one string
            wide_v = ranked.pivot(on="indicator_id", index="unit_code", values="value",
                                  sort_columns=True).sort("unit_code")
            wide_f = ranked.pivot(on="indicator_id", index="unit_code", values="flag",
                                  sort_columns=True).sort("unit_code")
            ids = wide_v["unit_code"].to_list()
            inds = [c for c in wide_v.columns if c != "unit_code"]
            vals = wide_v.select([pl.col(c).cast(pl.Float64).fill_nan(None).round(payloads.SERIES_ROUND)
                                  for c in inds]).to_dict(as_series=False)
            flags = wide_f.select([pl.col(c).fill_null(".").str.join("") for c in inds]).row(0, named=True)
            inst_block = {"u": ids, "n": [names.get(i, i) for i in ids], "vals": vals, "flags": flags}
        page = {"code": code, "name": muni_names[code],
                "series": _cols(own.sort("indicator_id"), ["indicator_id", "v", "f"]) if own is not None else
                {"indicator_id": [], "v": [], "f": []}, "inst": inst_block}
        w.write(f"muni/{code}.html", tpl.render(root="../", page_type="municipality", title=muni_names[code],
                                                payload=page, n_inst=len(inst_block.get("u", []))), "municipality")
    progress(f"  {len(muni_codes)} municipality pages in {time.perf_counter() - t0:.1f} s")

    # --- overview, lists, explorer, map, quality
    key = {str(k): [i for i in v if i in cat_meta] for k, v in (cfg.get("key_indicators") or {}).items()}
    target_series = _target_series(breakdowns, meta["targets"], years)
    latest = {i: _latest(nat_map[i], years) if i in nat_map else {"year": None, "value": None, "flag": None}
              for i in cat_meta}
    w.write("index.html", env.get_template("overview.html.j2").render(
        root="", page_type="overview", title="IKMS", payload={"key": key, "target_series": target_series},
        key=key, cat=cat_meta, latest=latest, targets=meta["targets"]), "overview")
    w.write("municipalities.html", env.get_template("municipalities.html.j2").render(
        root="", page_type="list", title="Pašvaldības", munis=munis.iter_rows(named=True), payload={}), "list")
    w.write("institutions.html", env.get_template("institutions.html.j2").render(
        root="", page_type="list", title="Iestādes", insts=insts.iter_rows(named=True), muni_names=muni_names,
        payload={}), "list")
    w.write("explorer.html", env.get_template("explorer.html.j2").render(
        root="", page_type="explorer", title="Rādītāju pētnieks", payload={}), "explorer")
    w.write("map.html", env.get_template("map.html.j2").render(
        root="", page_type="map", title="Karte", payload=map_payload), "map")
    w.write("quality.html", env.get_template("quality.html.j2").render(
        root="", page_type="quality", title="Datu kvalitāte", payload=_quality_payload(d, insts)), "quality")

    pages = sum(s["files"] for k, s in w.stats.items() if k not in ("asset", "data", "explorer_data"))
    total = sum(s["bytes"] for s in w.stats.values())
    seconds = round(time.perf_counter() - t0, 2)
    manifest = {"edition": edition, "built_at": datetime.now(timezone.utc).replace(microsecond=0).isoformat(),
                "pages": pages, "bytes": total, "page_types": w.stats, "years": years,
                "indicators": len(cat_meta), "institutions": len(inst_ids), "municipalities": len(muni_codes),
                "boundaries": str(boundaries) if boundaries else None}
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    progress(f"  site: {pages} pages, {total / 2**20:.1f} MiB (+ plotly.min.js) in {seconds:.1f} s -> "
             f"{out_dir / 'index.html'}")
    return {"pages": pages, "bytes": total, "seconds": seconds, "edition": edition, "page_types": w.stats,
            "out_dir": str(out_dir), "institutions": len(inst_ids)}


def _band_label(code: str) -> tuple[str, str]:
    for b in bands.bands():
        if b["code"] == code:
            return b["label_lv"], b["label_en"]
    return "nav datu par izglītojamajiem", "no learners recorded"


def _latest(series: dict, years: list[int]) -> dict:
    """The last year with a value or a suppression flag of a national series."""
    for i in range(len(years) - 1, -1, -1):
        if series["v"][i] is not None or series["f"][i] != ".":
            return {"year": years[i], "value": series["v"][i], "flag": None if series["f"][i] == "." else series["f"][i]}
    return {"year": None, "value": None, "flag": None}


def _target_series(breakdowns: pl.DataFrame, targets: dict, years: list[int]) -> dict:
    """National series of the breakdown a target applies to (e.g. GRAD_EMP_1Y for VET graduates)."""
    out = {}
    for ind, t in targets.items():
        for dim, code in (t.get("dimension") or {}).items():
            part = breakdowns.filter((pl.col("indicator_id") == ind) & (pl.col("level") == "national")
                                     & (pl.col("dim") == dim) & (pl.col("code") == str(code)))
            s = payloads.series(part, ["indicator_id"], years)
            if s.height:
                out[ind] = {"v": s["v"][0].to_list(), "f": s["f"][0], "dim": dim, "code": str(code)}
    return out


def _explorer_rows(df: pl.DataFrame, muni_codes: list[str]) -> pl.DataFrame:
    """Rows the explorer files hold: every level, municipalities among the 43 current ones only."""
    return df.filter((pl.col("level") != "municipality") | pl.col("unit_code").is_in(muni_codes))


def _breakdown_index(breakdowns: pl.DataFrame, muni_codes: list[str]) -> dict:
    pairs = _explorer_rows(breakdowns, muni_codes).select("indicator_id", "dim").unique().sort("indicator_id", "dim")
    return {i: g["dim"].to_list() for (i,), g in pairs.partition_by("indicator_id", as_dict=True).items()}


def _explorer_files(w: _Writer, totals: pl.DataFrame, breakdowns: pl.DataFrame, years: list[int],
                    muni_codes: list[str]) -> None:
    tot = payloads.series(_explorer_rows(totals, muni_codes), ["indicator_id", "level", "unit_code"], years)
    for (ind,), g in tot.partition_by("indicator_id", as_dict=True).items():
        levels = {lv: _cols(gl.sort("unit_code"), ["unit_code", "v", "f"])
                  for (lv,), gl in g.partition_by("level", as_dict=True).items()}
        w.write(f"data/ind/{ind}.js", f"IKMS.register({_json({'id': ind, 'dim': '_T', 'levels': levels})});\n",
                "explorer_data")
    br = payloads.series(_explorer_rows(breakdowns, muni_codes), ["indicator_id", "dim", "level", "unit_code", "code"],
                         years)
    for (ind, dim), g in br.partition_by("indicator_id", "dim", as_dict=True).items():
        levels = {lv: _cols(gl.sort("unit_code", "code"), ["unit_code", "code", "v", "f"])
                  for (lv,), gl in g.partition_by("level", as_dict=True).items()}
        w.write(f"data/ind/{ind}.{dim}.js",
                f"IKMS.register({_json({'id': ind, 'dim': dim, 'levels': levels})});\n", "explorer_data")


def _map_payload(munis: pl.DataFrame, geometry, boundaries: Path | None) -> dict:
    grid = geometry.tile_grid(munis.select("municipality_code", "centre_lat", "centre_lon")).sort("municipality_code")
    out = {"tiles": _cols(grid, ["municipality_code", "row", "col"]),
           "outline": [geometry.rings_to_xy([r]) for r in geometry.latvia_outline()]}
    if boundaries:
        polys = geometry.load_boundaries(boundaries, expected_codes=munis["municipality_code"].to_list())
        out["boundaries"] = {code: geometry.rings_to_xy(rings) for code, rings in polys.items()}
    return out


def _quality_payload(d: data.SiteData, insts: pl.DataFrame) -> dict:
    """Completeness and timeliness per institution (quality.dq_institution_report) and the national trend
    (Σ received / Σ expected over institutions: quality.dq_completeness, quality.dq_timeliness)."""
    out: dict = {}
    rep = d.dq_report
    if rep is not None and rep.height:
        last_year = int(rep["school_year"].max())
        cols = ["reg_nr", "institution_name", "municipality_code", "n_expected", "n_missing", "n_late",
                "completeness_pct", "on_time_pct", "max_days_late", "quarantine_share", "top_quarantine_rule"]
        cols = [c for c in cols if c in rep.columns]
        latest = rep.filter(pl.col("school_year") == last_year).sort("completeness_pct", "reg_nr", nulls_last=True)
        latest = latest.with_columns([pl.col(c).round(2) for c in ("completeness_pct", "on_time_pct", "quarantine_share")
                                      if c in latest.columns])
        latest = latest.with_columns(has_page=pl.col("reg_nr").is_in(insts["institution_id"].implode()))
        out["year"] = last_year
        out["table"] = _cols(latest.select(*cols, "has_page"), [*cols, "has_page"])
    if d.completeness is not None and d.completeness.height:
        c = (d.completeness.group_by("school_year", "feed")
             .agg(pct=(100 * pl.col("n_received_expected").sum() / pl.col("n_expected").sum()).round(2))
             .sort("feed", "school_year"))
        out["completeness"] = {f: _cols(g, ["school_year", "pct"]) for (f,), g in c.partition_by("feed", as_dict=True).items()}
    if d.completeness is not None and d.completeness.height:
        last_c = int(d.completeness["school_year"].max())
        m = (d.completeness.filter(pl.col("school_year") == last_c).group_by("municipality_code")
             .agg(pct=(100 * pl.col("n_received_expected").sum() / pl.col("n_expected").sum()).round(2))
             .sort("pct", "municipality_code"))
        out["by_muni"] = {"year": last_c, **_cols(m, ["municipality_code", "pct"])}
    if d.timeliness is not None and d.timeliness.height:
        t = (d.timeliness.group_by("school_year", "feed")
             .agg(pct=(100 * pl.col("n_on_time").sum() / pl.col("n_expected").sum()).round(2))
             .sort("feed", "school_year"))
        out["timeliness"] = {f: _cols(g, ["school_year", "pct"]) for (f,), g in t.partition_by("feed", as_dict=True).items()}
    return out
