"""Smoke tests of the project's real CKAN portal (ckan/portal.py), through ckanapi as the publisher will use it.

The portal is CKAN 2.12 with PostgreSQL and without Solr (ckanext-ikms-nosolr): datasets are found by
`package_show` on their stable name, never by search.
"""
from __future__ import annotations

import hashlib
import os
import uuid

import ckanapi
import pytest
import requests

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("ckan")]

TIMEOUT = 60  # seconds per request: ckanapi waits forever unless told


class TimedCKAN(ckanapi.RemoteCKAN):
    """RemoteCKAN with a request timeout on every call (also through the `.action` shortcut)."""

    def call_action(self, action, data_dict=None, context=None, apikey=None, files=None, requests_kwargs=None):
        requests_kwargs = {"timeout": TIMEOUT, **(requests_kwargs or {})}
        return super().call_action(action, data_dict, context, apikey, files, requests_kwargs)


@pytest.fixture(scope="module")
def admin(ckan_portal):
    with TimedCKAN(ckan_portal.url, apikey=ckan_portal.api_token, user_agent="ikms-tests") as api:
        yield api


@pytest.fixture(scope="module")
def org(admin):
    name = f"ikms-test-{uuid.uuid4().hex[:8]}"
    return admin.action.organization_create(name=name, title="IZM test organization")


def _sha256_bytes(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _download(url: str) -> bytes:
    r = requests.get(url, timeout=TIMEOUT)  # anonymously: the dataset is public
    r.raise_for_status()
    return r.content


def _dataset(org: dict, **extra) -> dict:
    return {
        "name": f"ikms-smoke-{uuid.uuid4().hex[:8]}",
        "title": "Izglītojamo skaits / Number of learners",
        "owner_org": org["id"],
        "license_id": "cc-by",
        "notes": "Smoke test dataset.",
        "tags": [{"name": "izglītība"}, {"name": "education"}],
        "extras": [{"key": "ikms_dataset", "value": "learners"}, {"key": "update_frequency", "value": "annual"}],
        **extra,
    }


def test_status_shows_the_plugin(admin):
    status = admin.action.status_show()
    assert status["ckan_version"] == "2.12.0"
    assert "ikms_nosolr" in status["extensions"]


def test_organization_create_and_show(admin, org):
    shown = admin.action.organization_show(id=org["name"])
    assert shown["id"] == org["id"] and shown["title"] == "IZM test organization"
    assert org["name"] in admin.action.organization_list()


def test_dataset_resource_upload_download_replace(admin, org, tmp_path):
    pkg = admin.action.package_create(**_dataset(org))
    assert {t["name"] for t in pkg["tags"]} == {"izglītība", "education"}
    assert {e["key"]: e["value"] for e in pkg["extras"]}["ikms_dataset"] == "learners"

    # upload: non-ASCII text plus arbitrary bytes, so any re-encoding would show
    first = tmp_path / "learners_2024.csv"
    first.write_bytes("iestāde;skaits\nRīgas 1. vidusskola;812\n".encode() + os.urandom(256 * 1024))
    with first.open("rb") as f:
        res = admin.action.resource_create(package_id=pkg["id"], name="learners-2024", format="CSV",
                                           hash=_sha256_bytes(first.read_bytes()), upload=f)
    assert res["url_type"] == "upload" and res["hash"] == _sha256_bytes(first.read_bytes())
    assert _sha256_bytes(_download(res["url"])) == _sha256_bytes(first.read_bytes())

    # replace the file: 12 MB, above CKAN's default 10 MB limit (the portal raises it)
    second = tmp_path / "learners_2024_v2.csv"
    second.write_bytes(os.urandom(12 * 1024 * 1024))
    with second.open("rb") as f:
        patched = admin.action.resource_patch(id=res["id"], hash=_sha256_bytes(second.read_bytes()), upload=f)
    assert patched["id"] == res["id"] and patched["name"] == "learners-2024"
    assert _sha256_bytes(_download(patched["url"])) == _sha256_bytes(second.read_bytes())

    # found again by its stable name (no search index on this portal)
    shown = admin.action.package_show(id=pkg["name"])
    assert shown["id"] == pkg["id"]
    assert [r["id"] for r in shown["resources"]] == [res["id"]]
    assert shown["resources"][0]["hash"] == _sha256_bytes(second.read_bytes())
    assert {e["key"] for e in shown["extras"]} == {"ikms_dataset", "update_frequency"}


def test_bad_api_key_is_refused_and_writes_nothing(ckan_portal, admin, org):
    data = _dataset(org)
    with TimedCKAN(ckan_portal.url, apikey="not-a-valid-token", user_agent="ikms-tests") as bad:
        with pytest.raises(ckanapi.NotAuthorized):
            bad.action.package_create(**data)
        with pytest.raises(ckanapi.NotAuthorized):
            bad.action.organization_create(name=f"ikms-bad-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ckanapi.NotFound):
        admin.action.package_show(id=data["name"])


def test_anonymous_cannot_create(ckan_portal, admin, org):
    data = _dataset(org)
    with TimedCKAN(ckan_portal.url, user_agent="ikms-tests") as anon:
        with pytest.raises(ckanapi.NotAuthorized):
            anon.action.package_create(**data)
        with pytest.raises(ckanapi.NotAuthorized):
            anon.action.organization_create(name=f"ikms-anon-{uuid.uuid4().hex[:8]}")
    with pytest.raises(ckanapi.NotFound):
        admin.action.package_show(id=data["name"])
