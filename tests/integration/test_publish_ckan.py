"""The publisher against the project's real CKAN 2.12 portal (ckan/portal.py): every dataset published with its
resources, downloads byte-identical to the exports, a second publish changes nothing, one changed file updates
exactly its resource, a bad key writes nothing, and a portal stopped in the middle of a publish is completed by
the next publish without duplicates.

The exports are the real exporter's output (CSV, Parquet, datapackage.json, dcat.jsonld, catalog, manifest) over
small synthetic od_* tables (tests/open_data_tree.py::write_exports): the files the portal must serve back byte
for byte are the files `ikms export` writes."""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import ckanapi
import pytest
import requests

from pipelines.open_data import audit
from pipelines.open_data import catalogue as cat_mod
from pipelines.open_data import publish as P
from tests.integration.conftest import DATA_DIR, load_portal_module
from tests.open_data_tree import replace_file, write_exports, write_gate_results

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("ckan")]
TIMEOUT = 60


def _api(url: str, key: str | None = None) -> ckanapi.RemoteCKAN:
    return ckanapi.RemoteCKAN(url, apikey=key, user_agent="ikms-tests")


def _show(api, name: str) -> dict:
    return api.call_action("package_show", {"id": name}, requests_kwargs={"timeout": TIMEOUT})


def _manifest(data_dir: Path) -> dict:
    return json.loads((data_dir / "open_data" / "manifest.json").read_text(encoding="utf-8"))


def _state(api, manifest: dict) -> dict:
    """What could change on the portal: per resource id, hash, last_modified, url; per package its metadata
    time and resource ids."""
    out = {}
    for d in manifest["datasets"]:
        pkg = _show(api, d["name"])
        out[d["name"]] = {"modified": pkg["metadata_modified"],
                          "resources": [(r["id"], r["name"], r["hash"], r["last_modified"], r["url"])
                                        for r in pkg["resources"]]}
    return out


def _download(url: str) -> bytes:
    r = requests.get(url, timeout=TIMEOUT)
    r.raise_for_status()
    return r.content


def _publish(url: str, data_dir: Path, **kw) -> P.Report:
    lines: list[str] = kw.pop("lines", [])
    return P.publish(url, data_dir=data_dir, warehouse=data_dir / "warehouse.duckdb", progress=lines.append, **kw)


@pytest.fixture(scope="module")
def site(ckan_portal, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("publish")
    write_exports(data_dir)
    write_gate_results(data_dir / "warehouse.duckdb")
    return ckan_portal, data_dir


@pytest.fixture
def key_env(site, monkeypatch):
    portal, data_dir = site
    monkeypatch.setenv("IKMS_CKAN_API_KEY", portal.api_token)
    monkeypatch.setenv("IKMS_DATA_DIR", str(data_dir))
    return portal, data_dir


def test_every_dataset_published_with_its_resources(key_env):
    portal, data_dir = key_env
    report = _publish(portal.url, data_dir)
    manifest = _manifest(data_dir)
    cat = cat_mod.load()
    assert len(manifest["datasets"]) == len(cat.datasets)
    api = _api(portal.url)  # anonymously: the datasets are public
    for d in manifest["datasets"]:
        ds = cat.dataset(d["name"])
        pkg = _show(api, d["name"])
        assert pkg["title"] == ds.title_lv and pkg["organization"]["name"] == cat.organization
        assert pkg["license_id"] == cat.licence and pkg["url"] == cat.uri(ds)
        assert ds.description_lv.split()[0] in pkg["notes"] and ds.description_en.split()[0] in pkg["notes"]
        assert pkg["notes"].index(ds.description_lv[:30]) < pkg["notes"].index(ds.description_en[:30])
        assert sorted(t["name"] for t in pkg["tags"]) == sorted(ds.keywords_lv)
        extras = {e["key"]: e["value"] for e in pkg["extras"]}
        assert extras["title_en"] == ds.title_en and extras["uri"] == cat.uri(ds)
        assert extras["contact_email"] == cat.contact_email and extras["temporal_end"] == "2024-08-31"
        assert extras["update_frequency"].endswith("/" + ds.update_frequency)
        assert extras["disclosure_rule"] == ds.disclosure.rule_lv
        assert [(r["name"], r["hash"]) for r in pkg["resources"]] == \
            [(f["path"].rsplit("/", 1)[1], f["sha256"]) for f in d["files"]]
        assert all(r["url_type"] == "upload" for r in pkg["resources"])
    rows = audit.read(data_dir / "warehouse.duckdb", report.run_id)
    files = [r for r in rows if r["action"].endswith("_resource")]  # skip/update: a reused portal
    assert len(files) == sum(len(d["files"]) for d in manifest["datasets"])
    assert all(r["result"] in ("ok", "skipped") and len(r["sha256"]) == 64 and r["portal_url"] == portal.url
               for r in files)


def test_downloads_are_byte_identical_to_the_exports(key_env):
    portal, data_dir = key_env
    api = _api(portal.url)
    n = 0
    for d in _manifest(data_dir)["datasets"]:
        by_name = {r["name"]: r for r in _show(api, d["name"])["resources"]}
        for f in d["files"]:
            got = _download(by_name[f["path"].rsplit("/", 1)[1]]["url"])
            assert got == (data_dir / "open_data" / f["path"]).read_bytes(), f["path"]
            n += 1
    assert n >= 8


def test_publishing_again_changes_nothing(key_env):
    portal, data_dir = key_env
    manifest = _manifest(data_dir)
    api = _api(portal.url, portal.api_token)
    before = _state(api, manifest)
    report = _publish(portal.url, data_dir)
    assert report.done == [], [s.line() for s in report.done]
    assert set(report.counts()) == {"skip_package", "skip_resource"}
    assert _state(api, manifest) == before


def test_dry_run_shows_the_plan_and_writes_nothing(key_env, tmp_path):
    portal, data_dir = key_env
    manifest = _manifest(data_dir)
    api = _api(portal.url, portal.api_token)
    before = _state(api, manifest)
    csv = next(f["path"] for f in manifest["datasets"][0]["files"] if f["format"] == "CSV")
    other = tmp_path / "dry"  # a copy of the exports with one file changed
    shutil.copytree(data_dir / "open_data", other / "open_data")
    write_gate_results(other / "warehouse.duckdb")
    replace_file(other, csv, (other / "open_data" / csv).read_bytes() + b"extra,row\n")
    lines: list[str] = []
    report = _publish(portal.url, other, dry_run=True, lines=lines)
    assert [s.resource for s in report.steps if s.writes] == [csv.rsplit("/", 1)[1]]
    assert any("update_resource" in line and csv.rsplit("/", 1)[1] in line for line in lines)
    assert report.done == [] and _state(api, manifest) == before
    assert {r["result"] for r in audit.read(other / "warehouse.duckdb", report.run_id)} <= {"ok", "dry_run"}


def test_one_changed_file_updates_exactly_its_resource(key_env):
    portal, data_dir = key_env
    manifest = _manifest(data_dir)
    api = _api(portal.url, portal.api_token)
    d = manifest["datasets"][0]
    csv = next(f["path"] for f in d["files"] if f["period"] == "2022-2023" and f["format"] == "CSV")
    before = _state(api, manifest)
    content = (data_dir / "open_data" / csv).read_bytes().replace(b"1", b"7")
    replace_file(data_dir, csv, content)
    report = _publish(portal.url, data_dir)
    assert [(s.action, s.resource) for s in report.done] == [("update_resource", csv.rsplit("/", 1)[1])]
    after = _state(api, manifest)
    for name in before:
        for b, a in zip(before[name]["resources"], after[name]["resources"], strict=True):
            if b[1] == csv.rsplit("/", 1)[1] and name == d["name"]:
                assert a[0] == b[0] and a[2] == hashlib.sha256(content).hexdigest() and a[3] != b[3]
                assert _download(a[4]) == content
            else:
                assert a == b, (name, b[1])


def test_bad_api_key_is_a_clear_error_and_writes_nothing(key_env, monkeypatch, capsys):
    portal, data_dir = key_env
    manifest = _manifest(data_dir)
    api = _api(portal.url, portal.api_token)
    before = _state(api, manifest)
    bad = "not-a-valid-token-xyz123"
    monkeypatch.setenv("IKMS_CKAN_API_KEY", bad)
    csv = next(f["path"] for f in manifest["datasets"][-1]["files"] if f["period"] == "2021-2022")
    original = (data_dir / "open_data" / csv).read_bytes()
    replace_file(data_dir, csv, original + b"9\n")  # there is something to write
    lines: list[str] = []
    with pytest.raises(P.PublishError, match="refused the API key in IKMS_CKAN_API_KEY") as exc:
        _publish(portal.url, data_dir, lines=lines)
    assert _state(api, manifest) == before
    rows = audit.read(data_dir / "warehouse.duckdb")
    assert rows[-1]["action"] == "check_key" and rows[-1]["result"] == "refused"
    assert bad not in str(exc.value) + "\n".join(lines) + json.dumps(rows, default=str) + capsys.readouterr().out
    # with the key missing altogether: the variable is named
    monkeypatch.delenv("IKMS_CKAN_API_KEY")
    with pytest.raises(P.PublishError, match="IKMS_CKAN_API_KEY is not set"):
        _publish(portal.url, data_dir)
    monkeypatch.setenv("IKMS_CKAN_API_KEY", portal.api_token)
    replace_file(data_dir, csv, original)  # back to the published file
    assert _publish(portal.url, data_dir).done == []


def test_portal_stopped_in_the_middle_then_the_next_publish_completes(tmp_path, monkeypatch):
    """A portal of its own (stopping the shared one would break the other tests): stopped after a few writes of
    the first publish; restarted (new port), the next publish completes it with no duplicate."""
    portal_mod = load_portal_module()
    template = DATA_DIR / "ckan-template"
    shared = Path(tempfile.mkdtemp(prefix="ikms-publish-stop-"))  # not under pytest's 0700 tmp: postgres must reach it
    os.chmod(shared, 0o711)
    state = shared / "portal"
    portal = portal_mod.start_portal(state, venv=portal_mod.default_venv(),
                                     template=template if (template / "state.json").exists() else None)
    try:
        data_dir = tmp_path / "data"
        write_exports(data_dir, datasets=[d.name for d in cat_mod.load().datasets[:3]])  # all 12: see the tests above
        write_gate_results(data_dir / "warehouse.duckdb")
        monkeypatch.setenv("IKMS_CKAN_API_KEY", portal.api_token)
        writes: list = []

        def stop_after_five(step):
            writes.append(step)
            if len(writes) == 5:
                portal_mod.stop_portal(state, keep=True)

        with pytest.raises(P.PublishError, match="publishing again completes the rest"):
            _publish(portal.url, data_dir, on_step=stop_after_five, attempts=2, backoff=0.2, timeout=10)
        assert len(writes) == 5
        portal = portal_mod.start_portal(state, venv=portal_mod.default_venv())
        report = _publish(portal.url, data_dir)
        assert report.counts().get("create_resource", 0) > 0
        assert "delete_duplicate" not in report.counts()
        api = _api(portal.url)
        for d in _manifest(data_dir)["datasets"]:
            resources = _show(api, d["name"])["resources"]
            names = [r["name"] for r in resources]
            assert names == [f["path"].rsplit("/", 1)[1] for f in d["files"]], "each file once, in order"
            for r, f in zip(resources, d["files"]):
                assert r["hash"] == f["sha256"]
                assert _download(r["url"]) == (data_dir / "open_data" / f["path"]).read_bytes()
        assert _publish(portal.url, data_dir).done == []
    finally:
        portal_mod.stop_portal(state)
        shutil.rmtree(shared, ignore_errors=True)
