"""One asset per feed entity: raw/<feed>_<entity>, partitioned by school year, grouped by feed. Assets whose
contract references viis.institutions.reg_nr depend on raw/viis_institutions of the same partition.

The entities of one XML extract (the registry's viis_izraksts_<year>.xml: institutions, learners, enrolments...)
are read from one parse per step process (read lazily per entity: pipelines/ingest/readers/xml.py), in two
steps: raw/viis_institutions alone, which every school-system file and most of the extract wait for (with its
gate), then the others together (a subsettable multi-asset). The school-system files so start after a parse and
the institutions (~5 s at scale 1.0), not after the whole extract (~14 s); the second parse costs ~3 s of CPU.
Measured at scale 1.0 (stop 18), the split alone: 55.3-56.5 s against 55.1-56.9 s for the run (it is bound by
its CPU work, no longer by the extract: every saving of work now shortens it); an earlier version of the split,
before the step processes and the parse got cheaper, measured slower (112 s against 108 s).
"""

import dagster as dg

from pipelines.common import school_years as sy
from pipelines.common.contracts import Entity, all_entities
from pipelines.defs.ingest import checks
from pipelines.defs.ingest.partitions import school_years
from pipelines.defs.ingest.resources import DuckDBWarehouse

INSTITUTIONS = dg.AssetKey(["raw", "viis_institutions"])


def asset_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity.table])


# the order in which the ingest job's processes take ready steps (dagster/priority, higher first): the registry's
# institutions first (every school-system file and most of the extract wait for them and their gate), then the
# long steps longest first (at scale 1.0 in two processes: vendor A absences and the rest of the registry extract
# ~17 s, vendor A and B grades 11-15 s, the others 3-6 s), so that the two processes end together, while the
# small feeds fill the gaps. Keys: table, or feed (the rest of the XML extract's step).
PRIORITY = {"viis_institutions": 5, "viis": 3, "vendor_a_absences": 3, "vendor_a_grades": 2, "vendor_b_grades": 2,
            "vendor_a_planned_lessons": 1, "vendor_b_attendance": 1, "vendor_b_planned_lessons": 1}


def _op_tags(entity: Entity) -> dict:
    return {"dagster/priority": str(PRIORITY.get(entity.table, PRIORITY.get(entity.feed, 0)))}


def _deps(entity: Entity) -> list[dg.AssetKey]:
    key = asset_key(entity)
    return [INSTITUTIONS] if any(c.references for c in entity.stored_columns) and key != INSTITUTIONS else []


def _description(entity: Entity) -> str:
    return (f"{entity.feed} {entity.name} from landing/{entity.feed}/<year>/{entity.files} ({entity.format}); "
            "bad rows go to quarantine.rows.")


def _metadata(entity: Entity) -> dict:
    return {"contract": f"models/contracts/{entity.feed}.yaml", "table": f"raw.{entity.table}"}


def _ingest(context, warehouse: DuckDBWarehouse, entity: Entity, multi: bool, known: dict | None = None
            ) -> dg.MaterializeResult:
    """known: shared by the entities of one extract step: the year's institutions, read once for all of them."""
    from pipelines.ingest.files import UnreadableFile
    from pipelines.ingest.ingest import ingest_entity

    year = sy.from_key(context.partition_key)
    known = {} if known is None else known
    try:
        r = ingest_entity(entity, year, warehouse.landing_dir, warehouse.warehouse_path,
                          institutions=known.get("institutions"))
        if r.institutions is not None:
            known["institutions"] = r.institutions
    except UnreadableFile as e:
        raise dg.Failure(description=f"raw.{entity.table} {sy.label(year)}: cannot read {e.path}: {e.reason}",
                         metadata={"file": e.path, "reason": e.reason}) from None
    context.log.info(f"raw.{entity.table} {sy.label(year)}: read {r.rows_read}, loaded {r.rows_loaded}, "
                     f"quarantined {r.rows_quarantined} in {r.seconds:.1f} s")
    issues = sorted({f"{i['_source_file']}: {i['issue']}" for i in r.issues})
    key = asset_key(entity)
    return dg.MaterializeResult(
        asset_key=key if multi else None,
        metadata={
            "rows_read": r.rows_read, "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined,
            "files": len(r.files), "file_issues": len(r.issues),
            "file_issue_list": dg.MetadataValue.md("\n".join(f"- {i}" for i in issues) or "none"),
            "quarantined_by_rule": dg.MetadataValue.json(r.rules),
            "seconds": round(r.seconds, 2),
        },
        check_results=[checks.reconcile_result(r, key if multi else None)],
    )


def build_asset(entity: Entity) -> dg.AssetsDefinition:
    key = asset_key(entity)

    @dg.asset(
        key=key,
        group_name=entity.feed,
        partitions_def=school_years,
        deps=_deps(entity),
        check_specs=checks.specs(key),
        kinds={"duckdb", "polars"},
        description=_description(entity),
        metadata=_metadata(entity),
        op_tags=_op_tags(entity),
    )
    def _asset(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
        return _ingest(context, warehouse, entity, multi=False)

    return _asset


def build_extract_asset(entities: list[Entity]) -> dg.AssetsDefinition:
    """Entities of one XML extract as one subsettable step (raw/viis_institutions first when among them)."""
    entities = sorted(entities, key=lambda e: asset_key(e) != INSTITUTIONS)  # stable: contract order otherwise
    first = entities[0]
    specs = [dg.AssetSpec(asset_key(e), group_name=e.feed, deps=_deps(e), description=_description(e),
                          metadata=_metadata(e), kinds={"duckdb", "polars"}, partitions_def=school_years)
             for e in entities]

    @dg.multi_asset(
        name=f"raw__{first.feed}__{first.files.split('*')[0].rstrip('_')}",
        specs=specs,
        check_specs=[s for e in entities for s in checks.specs(asset_key(e))],
        can_subset=True,
        partitions_def=school_years,
        op_tags=_op_tags(first),
        description=f"the entities of landing/{first.feed}/<year>/{first.files}, parsed once",
    )
    def _extract(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
        selected = context.selected_asset_keys
        known: dict = {}  # the year's institutions: read once, by the first entity that checks against them
        for e in entities:
            if asset_key(e) in selected:
                yield _ingest(context, warehouse, e, multi=True, known=known)

    return _extract


def _build_all() -> list[dg.AssetsDefinition]:
    out, extracts = [], {}
    for e in all_entities():
        if e.format == "xml":
            group = extracts.setdefault((e.feed, e.files), [])
            if not group:
                out.append(group)  # placeholder keeps the feed's place in the list
            group.append(e)
        else:
            out.append(e)
    steps: list[dg.AssetsDefinition] = []
    for x in out:
        if not isinstance(x, list):
            steps.append(build_asset(x))
            continue
        # raw/viis_institutions is a step of its own, ahead of the rest of its extract: every asset that reads it
        # (the school-system files, most of the extract) waits for it and its gate, not for the whole extract
        rest = [e for e in x if asset_key(e) != INSTITUTIONS]
        steps += [build_asset(e) for e in x if asset_key(e) == INSTITUTIONS]
        steps += [build_extract_asset(rest)] if rest else []
    return steps


ingest_assets = _build_all()


def feed_keys(feed: str) -> list[dg.AssetKey]:
    return [asset_key(e) for e in all_entities() if e.feed == feed]
