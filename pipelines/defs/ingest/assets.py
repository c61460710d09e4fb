"""One asset per feed entity: raw/<feed>_<entity>, partitioned by school year, grouped by feed. Assets whose
contract references viis.institutions.reg_nr depend on raw/viis_institutions of the same partition."""

import dagster as dg

from pipelines.common import school_years as sy
from pipelines.common.contracts import Entity, all_entities
from pipelines.defs.ingest import checks
from pipelines.defs.ingest.partitions import school_years
from pipelines.defs.ingest.resources import DuckDBWarehouse

INSTITUTIONS = dg.AssetKey(["raw", "viis_institutions"])


def asset_key(entity: Entity) -> dg.AssetKey:
    return dg.AssetKey(["raw", entity.table])


def build_asset(entity: Entity) -> dg.AssetsDefinition:
    key = asset_key(entity)
    deps = [INSTITUTIONS] if any(c.references for c in entity.stored_columns) and key != INSTITUTIONS else []

    @dg.asset(
        key=key,
        group_name=entity.feed,
        partitions_def=school_years,
        deps=deps,
        check_specs=checks.specs(key),
        kinds={"duckdb", "polars"},
        description=f"{entity.feed} {entity.name} from landing/{entity.feed}/<year>/{entity.files} "
                    f"({entity.format}); bad rows go to quarantine.rows.",
        metadata={"contract": f"models/contracts/{entity.feed}.yaml", "table": f"raw.{entity.table}"},
    )
    def _ingest(context: dg.AssetExecutionContext, warehouse: DuckDBWarehouse):
        from pipelines.ingest.files import UnreadableFile
        from pipelines.ingest.ingest import ingest_entity

        year = sy.from_key(context.partition_key)
        try:
            r = ingest_entity(entity, year, warehouse.landing_dir, warehouse.warehouse_path)
        except UnreadableFile as e:
            raise dg.Failure(description=f"raw.{entity.table} {sy.label(year)}: cannot read {e.path}: {e.reason}",
                             metadata={"file": e.path, "reason": e.reason}) from None
        context.log.info(f"raw.{entity.table} {sy.label(year)}: read {r.rows_read}, loaded {r.rows_loaded}, "
                         f"quarantined {r.rows_quarantined} in {r.seconds:.1f} s")
        issues = sorted({f"{i['_source_file']}: {i['issue']}" for i in r.issues})
        return dg.MaterializeResult(
            metadata={
                "rows_read": r.rows_read, "rows_loaded": r.rows_loaded, "rows_quarantined": r.rows_quarantined,
                "files": len(r.files), "file_issues": len(r.issues),
                "file_issue_list": dg.MetadataValue.md("\n".join(f"- {i}" for i in issues) or "none"),
                "quarantined_by_rule": dg.MetadataValue.json(r.rules),
                "seconds": round(r.seconds, 2),
            },
            check_results=[checks.reconcile_result(r)],
        )

    return _ingest


ingest_assets = [build_asset(e) for e in all_entities()]


def feed_keys(feed: str) -> list[dg.AssetKey]:
    return [asset_key(e) for e in all_entities() if e.feed == feed]
