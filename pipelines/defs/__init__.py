"""Dagster definitions, one sub-package per feed group or stage; pipelines.definitions merges every
sub-package's `defs`."""
