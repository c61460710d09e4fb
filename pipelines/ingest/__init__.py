"""Ingest: landing files -> DuckDB raw.<feed>_<entity> + quarantine.*, driven by models/contracts/*.yaml."""
