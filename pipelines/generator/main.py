"""Generate the demo country's landing files: simulate (unless a Country is given), draw the year's activity,
build every feed's Docs, inject defects, render, write; then the defect manifest and generation.json.

One school year at a time (memory stays bounded at national scale); within a year one file at a time."""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import polars as pl

from pipelines import settings
from pipelines.generator import activity, defects, discrepancies
from pipelines.generator.country import Country
from pipelines.generator.writers import (base, csp, exams, izm_csv, nva, vendor_a, vendor_b, viis_public, viis_xml,
                                         vzd)
from pipelines.generator.writers import viis_confirmations

FEEDS = ["viis", "viis_public", "izm", "vendor_a", "vendor_b", "exams", "csp", "vzd", "nva"]


def _year_docs(country: Country, year: int, say: Callable[[str], None], out: dict,
               state: defects.Defects | None = None, discrepancy_rate: float = 0.0) -> Iterator[base.Doc]:
    """Docs of one school year, built lazily in a fixed order (each one freed once written: vendor A's Docs
    are written before vendor B's are built). Fills out['totals'] first and out['events'] (the submission
    events) by the end."""
    t = time.perf_counter()
    grades = activity.grades(country, year)
    planned, absences = activity.attendance(country, year)
    months = sorted(set(planned["month"].to_list()))
    subs = activity.submissions(country, year, vendor_a.PERIODS + months)
    if state is not None and discrepancy_rate > 0:  # import-vs-registry discrepancies (valid rows, in the manifest)
        grades, waiting, missing = discrepancies.plant(country, year, grades, subs, discrepancy_rate, state.ids)
        for path, rows in waiting.items():
            state.waiting.setdefault(path, []).append(rows)
        state.manifest.append(missing)
    say(f"  {year}: activity drawn ({grades.height:,} marks, {absences.height:,} absence days) "
        f"in {time.perf_counter() - t:.1f}s")
    out["totals"] = {
        "learners": int(country.enrolments.filter(pl.col("year_started") == year)["person_key"].n_unique()),
        "general_pupils": int(country.learner_years.filter(pl.col("year") == year)["person_key"].n_unique()),
        "marks": grades.height, "absence_days": absences.height,
        "missed_lessons": int(absences["lessons"].sum() or 0), "planned_lessons": int(planned["planned"].sum() or 0),
        "late_batches": int((subs["status"] == "late").sum()), "missing_batches": int((subs["status"] == "missing").sum())}
    # each vendor's share (the builders filter by vendor themselves), so vendor A's rows can go before B's
    by_vendor = {v: [f.filter(pl.col("vendor") == v) for f in (grades, planned, absences)] for v in ("A", "B")}
    del grades, planned, absences
    yield viis_xml.build(country, year)
    yield viis_public.build(country, year)
    yield izm_csv.build(country, year)
    events = [viis_confirmations.events(viis_confirmations.draw(country, year), year)]
    for v, writer in (("A", vendor_a), ("B", vendor_b)):
        docs, ev = writer.build(country, year, *by_vendor.pop(v), subs)
        events.append(ev)
        yield from docs  # built one at a time
        del docs
    out["events"] = pl.concat(events)
    yield exams.build(country, year, activity.exams(country, year))
    yield csp.population(country, year)
    yield csp.wages(country, year)
    yield csp.graduate_outcomes(country, year, activity.graduate_outcomes(country, year))
    yield vzd.build(country, year)
    yield nva.build(country, year, activity.unemployed(country, year))


def write_doc(doc: base.Doc, landing: Path, state: defects.Defects) -> tuple[int, int]:
    """Inject the defects into one Doc, render and write it; returns (records, bytes)."""
    file_kind = defects.choose_file_kind(state, doc) if doc.fmt in ("csv", "jsonl") else None
    rows = state.waiting.pop(doc.path, [])  # planted discrepancies' manifest rows: their lines are read below
    if file_kind == "missing_column":
        rows += defects.before_render(state, doc, file_kind)
    else:
        plan = defects.plan_rows(state, doc, exclude_last=file_kind == "truncated_file")
        rows += defects.apply_rows(state, doc, plan)
        rows += defects.before_render(state, doc, file_kind)
    path = landing / doc.path
    path.parent.mkdir(parents=True, exist_ok=True)
    if base.fast_ok(doc):  # streamed to the file chunk by chunk
        n_head = base.fast_head(doc)
        more, opts = defects.plan_bytes(state, doc, file_kind, n_head + doc.rows(), n_head)
        with open(path, "wb", buffering=1 << 20) as fh:
            n_bytes, pos = base.write_fast(doc, fh, encoding=opts["encoding"], prefix=opts["prefix"],
                                           blanks=opts["blanks"], truncate=opts["truncate"])
        state.manifest += defects.with_fast_lines(rows + more, pos, opts["blanks"])
        return doc.rows(), n_bytes
    lines = base.render_lines(doc)
    lines, more, opts = defects.after_render(state, doc, file_kind, lines)
    state.manifest += defects.with_lines(rows + more, lines)
    doc.encoding, doc.prefix = opts["encoding"], opts["prefix"]
    data = base.to_bytes(doc, lines, final_newline=opts["final_newline"])
    del lines
    path.write_bytes(data)
    return doc.rows(), len(data)


def generate(seed: int, scale: float, years: list[int], landing: Path, defect_rate: float = 0.002,
             country: Country | None = None, progress: Callable[[str], None] | None = None,
             discrepancy_rate: float = 0.002) -> dict:
    say = progress or print
    t0 = time.perf_counter()
    years = sorted(years)
    if country is None:
        from pipelines.generator import population  # the simulation (another module)

        say(f"simulating the country: seed {seed}, scale {scale}, years {years[0]}-{years[-1]}")
        country = population.simulate(seed, scale, years)
    t_sim = time.perf_counter() - t0
    landing = Path(landing)
    for feed in FEEDS + ["_manifest"]:  # a re-run replaces the previous landing files exactly
        if (landing / feed).exists():
            shutil.rmtree(landing / feed)
    landing.mkdir(parents=True, exist_ok=True)
    state = defects.Defects(seed=seed, rate=defect_rate, years=years,
                            known_regs=set(country.institutions["reg_nr"].to_list()))
    files: dict[str, dict] = {}
    per_year: dict[str, dict] = {}
    events = []
    t1 = time.perf_counter()
    for year in years:
        ty = time.perf_counter()
        state.start_year(year)
        out: dict = {}
        n_rows = n_bytes = 0
        for doc in _year_docs(country, year, say, out, state, discrepancy_rate):
            if doc is None:
                continue
            r, b = write_doc(doc, landing, state)
            files[doc.path] = {"feed": doc.feed, "rows": r, "bytes": b}
            del doc  # freed before the next Doc is built
            n_rows += r
            n_bytes += b
        events.append(out["events"])
        totals = out["totals"]
        totals.update(files=sum(1 for f in files if f.split("/")[1] == str(year)), rows=n_rows, bytes=n_bytes)
        per_year[str(year)] = totals
        say(f"  {year}: {totals['files']} files, {n_rows:,} records, {n_bytes / 1e6:,.1f} MB "
            f"in {time.perf_counter() - ty:.1f}s")
    manifest = state.frame()
    ev = pl.concat(events) if events else None
    if ev is not None and ev.height:
        ev = ev.with_columns(pl.Series("defect_id", state.ids(ev.height)))
        manifest = pl.concat([manifest, ev.select(defects.MANIFEST_COLUMNS).cast(manifest.schema)])
    (landing / "_manifest").mkdir(parents=True, exist_ok=True)
    manifest.write_csv(landing / "_manifest" / "defects.csv")
    t_write = time.perf_counter() - t1
    by_feed: dict[str, dict] = {}
    for f in files.values():
        d = by_feed.setdefault(f["feed"], {"files": 0, "rows": 0, "bytes": 0})
        d["files"] += 1
        d["rows"] += f["rows"]
        d["bytes"] += f["bytes"]
    summary = {
        "parameters": {"seed": seed, "scale": scale, "years": years, "defect_rate": defect_rate,
                       "discrepancy_rate": discrepancy_rate},
        "files": dict(sorted(files.items())),
        "feeds": dict(sorted(by_feed.items())),
        "years": per_year,
        "defects": {
            "rows": manifest.height,
            "by_kind": dict(sorted(manifest.group_by("kind").len().iter_rows())),
            "by_rule": dict(sorted((k or "", v) for k, v in manifest.group_by("rule").len().iter_rows())),
        },
        "country": {k: v for k, v in (country.stats or {}).items() if isinstance(v, (int, float, str))},
    }
    (landing / "_manifest" / "generation.json").write_text(json.dumps(summary, ensure_ascii=False, indent=1) + "\n",
                                                           encoding="utf-8")
    settings.ensure_demo_key()
    summary["timings"] = {"simulate_s": round(t_sim, 1), "write_s": round(t_write, 1),
                          "total_s": round(time.perf_counter() - t0, 1)}
    say(f"wrote {len(files)} files, {sum(f['rows'] for f in files.values()):,} records, "
        f"{sum(f['bytes'] for f in files.values()) / 1e6:,.1f} MB and {manifest.height:,} manifest rows "
        f"in {t_write:.1f}s")
    return summary
