"""A CKAN plugin that lets the IKMS test portal run without Apache Solr.

Why it exists
    CKAN keeps its datasets in PostgreSQL but also indexes every dataset in Apache Solr, and in CKAN 2.12 the
    index is written *inside* the action: ``package_create`` calls the search index before it commits, so when
    Solr is unreachable the call answers HTTP 500 "Search Index Error" and nothing is saved. Organization
    create/show fail too, because dataset counts come from a Solr facet query. No configuration key turns
    indexing off in 2.12 (``ckan.search.automatic_indexing`` is gone) and ``solr_url`` is required. Solr itself
    cannot be installed on the project's machines (not packaged for Debian 12, not on PyPI, no Docker engine,
    the Apache download hosts unreachable), yet the open-data publisher must be tested against a real CKAN.

What it does (at ``update_config`` time, once per process, before CKAN first looks for Solr)
    * the package search index becomes a no-op index (CKAN's own ``NoopSearchIndex``), so writes go straight
      to PostgreSQL and commit as usual;
    * ``PackageSearchQuery`` answers every search with an empty result: count 0, no rows, and an empty dict for
      every facet field asked for (an empty ``facets`` dict would break
      ``organization_list(all_fields=True)``);
    * ``PackageSearchQuery.get_index`` raises ``SearchError``, which ``package_show`` already treats as "not in
      the index" and answers from the database;
    * the Solr schema check at start-up is skipped (it would only log a connection error).

What it does not give
    ``package_search`` finds nothing, dataset counts are 0 and the web UI's dataset lists are empty. Everything
    else (organizations, datasets, resources, uploads and downloads, authorization) is unmodified CKAN. Clients
    therefore find datasets by ``package_show`` on a stable name, never by search.

Only for tests and demos: never enable it on a portal that has a Solr server.
"""
from __future__ import annotations

import logging
from typing import Any

import ckan.plugins as plugins
from ckan.lib import search
from ckan.lib.search.index import NoopSearchIndex
from ckan.lib.search.query import PackageSearchQuery

log = logging.getLogger(__name__)


class NoSolrPackageIndex(NoopSearchIndex):
    """CKAN's no-op index, plus the package-index methods CKAN calls (delete, clear, commit) as no-ops."""

    def index_package(self, pkg_dict: Any = None, defer_commit: bool = False) -> None:
        return None

    def delete_package(self, pkg_dict: Any) -> None:
        return None

    def clear(self) -> None:
        return None

    def commit(self) -> None:
        return None


def _facet_fields(query: Any) -> list[str]:
    fields = query.get("facet.field", []) if hasattr(query, "get") else []
    if isinstance(fields, str):
        fields = [fields]
    return [str(f) for f in fields]


def _empty_run(self: PackageSearchQuery, query: Any, permission_labels: Any = None, **kwargs: Any) -> dict:
    self.count = 0
    self.results = []
    self.facets = {field: {} for field in _facet_fields(query)}
    return {"results": self.results, "count": self.count}


def _not_indexed(self: PackageSearchQuery, reference: str) -> dict:
    raise search.SearchError(f"no search index on this portal (ikms_nosolr): {reference}")


def _no_entity_ids(self: PackageSearchQuery, max_results: int = 1000) -> list:
    return []


def _no_schema_check(schema_file: Any = None) -> bool:
    return False  # what CKAN answers itself when Solr is unreachable, minus the logged connection error


def install() -> None:
    """Point CKAN's package search at the no-op implementations (idempotent)."""
    search._INDICES["package"] = NoSolrPackageIndex
    search.check_solr_schema_version = _no_schema_check
    # Patched on the class, not in search._QUERIES: model_dictize instantiates PackageSearchQuery directly.
    PackageSearchQuery.run = _empty_run  # type: ignore[method-assign]
    PackageSearchQuery.get_index = _not_indexed  # type: ignore[method-assign]
    PackageSearchQuery.get_all_entity_ids = _no_entity_ids  # type: ignore[method-assign]


class NoSolrPlugin(plugins.SingletonPlugin):
    plugins.implements(plugins.IConfigurer)
    plugins.implements(plugins.IConfigurable)

    def update_config(self, config: Any) -> None:
        # IConfigurer runs before CKAN's Solr schema check, IConfigurable after it: install in both (idempotent)
        install()

    def configure(self, config: Any) -> None:
        install()
        log.info("ikms_nosolr: no search index; package_search returns nothing, package_show reads the DB")
