"""A sensor over the landing dir: a new or changed file (path, size, mtime) under landing/<feed>/<year>/
requests one run per (feed, school year) with only that feed's assets; a new year folder adds its partition."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from pipelines import settings
from pipelines.common.contracts import feeds
from pipelines.defs.ingest.assets import feed_keys
from pipelines.defs.ingest.jobs import ingest_job
from pipelines.defs.ingest.partitions import SCHOOL_YEAR


def landing_state(landing: Path) -> dict[str, list[int]]:
    """landing-relative path -> [size, mtime_ns] of every file of a known feed's year folder."""
    state: dict[str, list[int]] = {}
    for feed in sorted(feeds()):
        folder = landing / feed
        if not folder.is_dir():
            continue
        for year_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name.isdigit()):
            for f in sorted(p for p in year_dir.iterdir() if p.is_file()):
                st = f.stat()
                state[f.relative_to(landing).as_posix()] = [st.st_size, st.st_mtime_ns]
    return state


def changes(old: dict, new: dict) -> list[tuple[str, str]]:
    """(feed, year) pairs with a new, changed or removed file, sorted."""
    touched = {p for p in set(old) | set(new) if old.get(p) != new.get(p)}
    return sorted({tuple(p.split("/")[:2]) for p in touched})


@dg.sensor(name="landing_files", job=ingest_job, minimum_interval_seconds=30,
           default_status=dg.DefaultSensorStatus.STOPPED,
           description="new or changed files under the landing dir -> one run per (feed, school year)")
def landing_sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
    old = json.loads(context.cursor) if context.cursor else {}
    new = landing_state(settings.landing_dir())
    todo = changes(old, new)
    known = set(context.instance.get_dynamic_partitions(SCHOOL_YEAR))
    years = sorted({y for _, y in todo if y not in known})
    runs = []
    for feed, year in todo:
        if not any(p.startswith(f"{feed}/{year}/") for p in new):
            continue  # the folder was emptied: nothing to load
        digest = hashlib.sha256(json.dumps({p: v for p, v in new.items() if p.startswith(f"{feed}/{year}/")},
                                           sort_keys=True).encode()).hexdigest()[:16]
        runs.append(dg.RunRequest(run_key=f"{feed}:{year}:{digest}", partition_key=year,
                                  asset_selection=feed_keys(feed), tags={"ikms/feed": feed}))
    return dg.SensorResult(
        run_requests=runs,
        cursor=json.dumps(new, sort_keys=True),
        dynamic_partitions_requests=[dg.AddDynamicPartitionsRequest(SCHOOL_YEAR, years)] if years else [],
    )
