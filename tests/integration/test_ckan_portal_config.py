"""Unit tests (seconds, no CKAN needed) of how ckan/portal.py writes the CKAN config and fingerprints its venv."""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.integration.conftest import load_portal_module

portal = load_portal_module()

GENERATED = """\
#
# CKAN - Pylons configuration
#
[DEFAULT]
debug = false

[app:main]
use = egg:ckan
SECRET_KEY = abc
sqlalchemy.url = postgresql://ckan_default:pass@localhost/ckan_default
ckan.site_url = http://localhost:5000
#ckan.storage_path = /var/lib/ckan
solr_url = http://127.0.0.1:8983/solr/ckan
ckan.plugins = 
ckan.max_resource_size = 10

[loggers]
keys = root, ckan
sqlalchemy.url = must-not-change
"""


def _options(**kw):
    base = dict(pg_port=5499, pg_password="pw", ckan_port=5001, storage_path=Path("/state/storage"))
    return portal.portal_options(**{**base, **kw})


def _values(text: str, section: str = "app:main") -> dict[str, str]:
    out, current = {}, None
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("["):
            current = s.strip("[]")
        elif current == section and "=" in s and not s.startswith("#"):
            k, v = s.split("=", 1)
            out[k.strip()] = v.strip()
    return out


def test_portal_options():
    opts = _options()
    assert opts["sqlalchemy.url"] == "postgresql://ckan:pw@127.0.0.1:5499/ckan"
    assert opts["ckan.site_url"] == "http://127.0.0.1:5001"
    assert opts["solr_url"].startswith("http://127.0.0.1:9/")  # closed loopback port: never a real Solr
    assert opts["ckan.redis.url"].startswith("redis://127.0.0.1:9/")  # nor a Redis someone else runs
    assert "ikms_nosolr" in opts["ckan.plugins"].split()
    assert opts["ckan.storage_path"] == "/state/storage"
    assert int(opts["ckan.max_resource_size"]) >= 500


def test_set_ini_options_replaces_uncomments_and_appends():
    out = portal.set_ini_options(GENERATED, _options())
    values = _values(out)
    for key, value in _options().items():
        assert values[key] == value
    assert values["SECRET_KEY"] == "abc" and values["use"] == "egg:ckan"  # untouched
    # a commented-out default is replaced in place, not duplicated
    assert out.count("ckan.storage_path") == 1 and "#ckan.storage_path" not in out
    # other sections are untouched, and new keys land inside [app:main], before [loggers]
    assert "sqlalchemy.url = must-not-change" in out
    assert out.index("ckan.redis.url") < out.index("[loggers]")
    assert out.startswith("#\n# CKAN - Pylons configuration\n#\n[DEFAULT]\ndebug = false\n")


def test_set_ini_options_is_idempotent_and_follows_new_ports():
    once = portal.set_ini_options(GENERATED, _options())
    assert portal.set_ini_options(once, _options()) == once
    moved = portal.set_ini_options(once, _options(pg_port=6000, ckan_port=7000))
    assert _values(moved)["sqlalchemy.url"].endswith("@127.0.0.1:6000/ckan")
    assert _values(moved)["ckan.site_url"] == "http://127.0.0.1:7000"
    assert len(moved.splitlines()) == len(once.splitlines())


def test_set_ini_options_needs_the_section():
    with pytest.raises(ValueError):
        portal.set_ini_options("[DEFAULT]\na = 1\n", {"a": "2"})


def test_venv_fingerprint_follows_the_lock(tmp_path, monkeypatch):
    before = portal.venv_fingerprint()
    lock = tmp_path / "requirements.lock"
    lock.write_bytes(portal.LOCK.read_bytes() + b"extra==1.0\n")
    monkeypatch.setattr(portal, "LOCK", lock)
    assert portal.venv_fingerprint() != before


def test_lock_pins_every_package_exactly():
    reqs = [ln.strip() for ln in portal.LOCK.read_text().splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    assert "ckan==2.12.0" in reqs
    assert all("==" in r and not any(op in r for op in (">", "<", "~", "*")) for r in reqs), reqs
