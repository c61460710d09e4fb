"""The warehouse resource: where the DuckDB file and the landing dir are. Connections are opened per use and
closed at once (DuckDB allows one writer process), never held across a run."""

from pathlib import Path
from typing import Optional

import dagster as dg

from pipelines import settings


class DuckDBWarehouse(dg.ConfigurableResource):
    """path / landing default to $IKMS_DATA_DIR/warehouse.duckdb and $IKMS_DATA_DIR/landing, read at run time."""

    path: Optional[str] = None
    landing: Optional[str] = None

    @property
    def warehouse_path(self) -> Path:
        return Path(self.path) if self.path else settings.warehouse_path()

    @property
    def landing_dir(self) -> Path:
        return Path(self.landing) if self.landing else settings.landing_dir()

    def connect(self, read_only: bool = False):
        from pipelines.ingest.load import connect

        return connect(self.warehouse_path, read_only=read_only)
