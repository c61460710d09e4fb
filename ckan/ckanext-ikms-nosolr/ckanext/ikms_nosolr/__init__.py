"""ckanext-ikms-nosolr: run a real CKAN 2.12 without Apache Solr (see plugin.py for why and how)."""
