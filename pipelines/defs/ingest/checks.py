"""Asset checks of the ingest assets, declared on the assets (check_specs) and reported with the
materialization."""
from __future__ import annotations

import dagster as dg

RECONCILES = "reconciles"


def specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(RECONCILES, asset=key,
                              description="every row read is loaded or quarantined: read = loaded + quarantined, per file")]


def reconcile_result(result, asset_key: dg.AssetKey | None = None) -> dg.AssetCheckResult:
    """asset_key: needed when one step materializes several assets (the XML extract)."""
    return dg.AssetCheckResult(
        asset_key=asset_key,
        check_name=RECONCILES,
        passed=result.reconciles,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
                  "rows_quarantined": result.rows_quarantined},
    )
