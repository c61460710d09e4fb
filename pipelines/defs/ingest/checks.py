"""Asset checks of the ingest assets, declared on the assets (check_specs) and reported with the
materialization."""
from __future__ import annotations

import dagster as dg

RECONCILES = "reconciles"


def specs(key: dg.AssetKey) -> list[dg.AssetCheckSpec]:
    return [dg.AssetCheckSpec(RECONCILES, asset=key,
                              description="every row read is loaded or quarantined: read = loaded + quarantined, per file")]


def reconcile_result(result) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name=RECONCILES,
        passed=result.reconciles,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rows_read": result.rows_read, "rows_loaded": result.rows_loaded,
                  "rows_quarantined": result.rows_quarantined},
    )
