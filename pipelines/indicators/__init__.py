"""The declarative indicator catalogue (models/indicators/) and the generator of its dbt models."""
from pipelines.indicators.catalogue import CatalogueError, Indicator, load_catalogue, load_dimensions
from pipelines.indicators.generator import generate

__all__ = ["CatalogueError", "Indicator", "generate", "load_catalogue", "load_dimensions"]
