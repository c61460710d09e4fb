"""The publisher's logic against an in-memory CKAN (the real-portal tests are tests/integration/
test_publish_ckan.py): plan, idempotency, retries with backoff, a timed-out create not sent twice, duplicates
removed, refusals (gates, key, manifest) with nothing written, dry run, audit, the key never printed."""
from __future__ import annotations

import copy
import hashlib
import json
import uuid

import ckanapi
import pytest
import requests

from pipelines.open_data import audit
from pipelines.open_data import catalogue as cat_mod
from pipelines.open_data import publish as P
from pipelines.open_data.ckan_client import PortalClient, PortalError, is_retryable
from tests.open_data_tree import write_gate_results, write_tree

KEY = "secret-token-0123456789abcdef"
SOME = [d.name for d in cat_mod.load().datasets[:3]]  # three datasets are enough here: the real portal gets all
WRITES = {"organization_create", "package_create", "package_revise", "resource_create", "resource_patch",
          "resource_delete", "package_update"}


class FakeCKAN:
    """The few CKAN actions the publisher uses, with CKAN's answers (NotFound, NotAuthorized)."""

    def __init__(self, key: str = KEY):
        self.key, self.orgs, self.packages, self.calls = key, {}, {}, []
        self.fail: list = []  # exceptions to raise, in order, on the next calls (None: pass)
        self.fail_on: dict = {}  # action -> exception raised (once) instead of carrying it out
        self.lose_response: set[str] = set()  # actions carried out whose answer then times out (once each)

    def call_action(self, action, data_dict=None, context=None, apikey=None, files=None, requests_kwargs=None):
        assert requests_kwargs and requests_kwargs.get("timeout"), "every request has a timeout"
        self.calls.append(action)
        if self.fail:
            exc = self.fail.pop(0)
            if exc is not None:
                raise exc
        if action in self.fail_on:
            raise self.fail_on.pop(action)
        data = dict(data_dict or {})
        if files:
            name, f = files["upload"]
            data["_content"] = f.read()
        result = getattr(self, action)(data)
        if action in self.lose_response:
            self.lose_response.discard(action)
            raise requests.exceptions.ReadTimeout("read timed out")
        return copy.deepcopy(result)

    def _auth(self):
        if self._apikey != self.key:
            raise ckanapi.NotAuthorized({"message": "Access denied"})

    # the API key is bound by the client; see make_client
    _apikey: str | None = None

    def organization_show(self, d):
        for o in self.orgs.values():
            if d["id"] in (o["id"], o["name"]):
                return o
        raise ckanapi.NotFound("Not found")

    def organization_create(self, d):
        self._auth()
        o = {"id": uuid.uuid4().hex, "name": d["name"], "title": d.get("title")}
        self.orgs[o["id"]] = o
        return o

    def organization_list_for_user(self, d):
        return list(self.orgs.values()) if self._apikey == self.key else []

    def am_following_group(self, d):
        self._auth()
        return False

    def package_show(self, d):
        for p in self.packages.values():
            if d["id"] in (p["id"], p["name"]):
                return p
        raise ckanapi.NotFound("Not found")

    def package_create(self, d):
        self._auth()
        p = {**d, "id": uuid.uuid4().hex, "resources": [], "state": "active"}
        self.packages[p["id"]] = p
        return p

    def package_revise(self, d):
        self._auth()
        p = self.package_show({"id": d["match"]["name"]})
        p.update(d["update"])
        return {"package": p}

    def resource_create(self, d):
        self._auth()
        p = self.package_show({"id": d.pop("package_id")})
        content = d.pop("_content")
        r = {**d, "id": uuid.uuid4().hex, "url_type": "upload", "size": len(content), "content": content}
        p["resources"].append(r)
        return r

    def _resource(self, rid):
        for p in self.packages.values():
            for r in p["resources"]:
                if r["id"] == rid:
                    return p, r
        raise ckanapi.NotFound("Not found")

    def resource_patch(self, d):
        self._auth()
        _, r = self._resource(d["id"])
        if "_content" in d:
            content = d.pop("_content")
            r.update(content=content, size=len(content), uploads=r.get("uploads", 0) + 1)
        r.update(d)
        return r

    def package_resource_reorder(self, d):
        self._auth()
        p = self.package_show({"id": d["id"]})
        first = [r for i in d["order"] for r in p["resources"] if r["id"] == i]
        p["resources"] = first + [r for r in p["resources"] if r not in first]

    def resource_delete(self, d):
        self._auth()
        p, r = self._resource(d["id"])
        p["resources"].remove(r)


def make_client(fake: FakeCKAN, key: str | None, sleeps: list | None = None) -> PortalClient:
    client = PortalClient("http://portal.test", key, attempts=4, backoff=0.5,
                          sleep=(sleeps.append if sleeps is not None else lambda s: None))
    fake._apikey = key
    client._api = fake
    return client


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("IKMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IKMS_CKAN_API_KEY", KEY)
    write_tree(tmp_path, datasets=SOME)
    write_gate_results(tmp_path / "warehouse.duckdb")
    return tmp_path


def run(fake, key=KEY, lines=None, **kw):
    client = make_client(fake, key, kw.pop("sleeps", None))
    return P.publish("http://portal.test", client=client, progress=(lines.append if lines is not None else
                                                                     lambda m: None), **kw)


def writes(fake) -> list[str]:
    return [c for c in fake.calls if c in WRITES]


def test_first_publish_creates_everything_then_nothing_changes(env):
    fake = FakeCKAN()
    manifest = json.loads((env / "open_data" / "manifest.json").read_text())
    report = run(fake)
    n_files = sum(len(d["files"]) for d in manifest["datasets"])
    assert report.counts()["create_resource"] == n_files
    assert report.counts()["create_package"] == len(manifest["datasets"])
    for d in manifest["datasets"]:
        pkg = fake.package_show({"id": d["name"]})
        assert [r["name"] for r in pkg["resources"]] == [f["path"].rsplit("/", 1)[1] for f in d["files"]]
        for r, f in zip(pkg["resources"], d["files"]):
            assert r["hash"] == f["sha256"] == hashlib.sha256(r["content"]).hexdigest()
        extras = {e["key"]: e["value"] for e in pkg["extras"]}
        assert extras["uri"].endswith("/" + d["name"]) and extras["temporal_start"] == "2021-09-01"
        assert extras["temporal_end"] == "2024-08-31" and extras["title_en"]
    assert "package_update" not in fake.calls

    fake.calls.clear()
    again = run(fake)
    assert writes(fake) == [], "a second publish writes nothing"
    assert set(again.counts()) == {"skip_package", "skip_resource"}


def test_one_changed_year_updates_exactly_its_resources(env):
    fake = FakeCKAN()
    run(fake)
    before = {r["name"]: r["id"] for p in fake.packages.values() for r in p["resources"]}
    write_tree(env, datasets=SOME, variant=3, variant_period="2022-2023")
    fake.calls.clear()
    report = run(fake)
    updated = {s.resource for s in report.done}
    assert updated and all("2022-2023" in name for name in updated)
    assert len(updated) == 2 * len(fake.packages)  # CSV + Parquet of that year, in every dataset
    assert set(writes(fake)) == {"resource_patch"}
    after = {r["name"]: r["id"] for p in fake.packages.values() for r in p["resources"]}
    assert after == before, "same resources, replaced in place"


def test_retries_with_backoff_then_succeeds(env):
    fake = FakeCKAN()
    fake.fail = [requests.exceptions.ConnectTimeout("t"), ckanapi.CKANAPIError(repr(["u", 503, "busy"])),
                 requests.exceptions.ConnectionError("refused")]
    sleeps: list = []
    run(fake, sleeps=sleeps)
    assert sleeps == [0.5, 1.0, 2.0]
    assert fake.packages


def test_gives_up_after_the_attempts_and_the_next_run_completes_without_duplicates(env):
    fake = FakeCKAN()
    client = make_client(fake, KEY)
    done: list = []

    def portal_goes_away(step):
        done.append(step)
        if len(done) == 4:
            fake.fail = [requests.exceptions.ConnectionError("down")] * 10
    with pytest.raises(P.PublishError, match="publishing again completes"):
        P.publish("http://portal.test", client=client, progress=lambda m: None, on_step=portal_goes_away)
    fake.fail = []
    run(fake)
    manifest = json.loads((env / "open_data" / "manifest.json").read_text())
    for d in manifest["datasets"]:
        names = [r["name"] for r in fake.package_show({"id": d["name"]})["resources"]]
        assert sorted(names) == sorted(f["path"].rsplit("/", 1)[1] for f in d["files"])


def test_a_create_whose_answer_was_lost_is_not_sent_twice(env):
    fake = FakeCKAN()
    fake.lose_response = {"resource_create", "package_create", "organization_create"}
    run(fake)
    assert len(fake.orgs) == 1
    for p in fake.packages.values():
        names = [r["name"] for r in p["resources"]]
        assert len(names) == len(set(names))
    assert fake.calls.count("package_create") == len(fake.packages)


def test_duplicate_resources_are_removed(env):
    fake = FakeCKAN()
    run(fake)
    pkg = next(iter(fake.packages.values()))
    dup = {**pkg["resources"][0], "id": "dup", "hash": "0" * 64}
    pkg["resources"].append(dup)
    report = run(fake)
    assert [s.resource_id for s in report.done if s.action == "delete_duplicate"] == ["dup"]
    assert "dup" not in {r["id"] for r in pkg["resources"]}


def test_dry_run_prints_the_plan_and_writes_nothing(env, monkeypatch):
    monkeypatch.delenv("IKMS_CKAN_API_KEY")
    fake = FakeCKAN()
    lines: list[str] = []
    report = run(fake, key=None, lines=lines, dry_run=True)
    assert writes(fake) == [] and not fake.packages
    assert any("create_package" in line for line in lines) and any("create_resource" in line for line in lines)
    assert report.counts()["create_organization"] == 1
    assert {r["result"] for r in audit.read(env / "warehouse.duckdb", report.run_id)} <= {"ok", "dry_run"}


def test_missing_key_names_the_variable(env, monkeypatch):
    monkeypatch.delenv("IKMS_CKAN_API_KEY")
    fake = FakeCKAN()
    with pytest.raises(P.PublishError, match="IKMS_CKAN_API_KEY is not set"):
        run(fake, key=None)
    assert fake.calls == []


@pytest.mark.parametrize("org_exists", [True, False])
def test_bad_key_is_refused_before_any_write(env, monkeypatch, org_exists, capsys):
    fake = FakeCKAN()
    if org_exists:
        run(fake)
    state = copy.deepcopy((fake.orgs, fake.packages))
    bad = "bad-key-which-must-never-be-printed"
    monkeypatch.setenv("IKMS_CKAN_API_KEY", bad)
    write_tree(env, datasets=SOME, variant=5, variant_period="2021-2022")  # there would be something to write
    fake.calls.clear()
    lines: list[str] = []
    with pytest.raises(P.PublishError, match="not a valid key|not authorized") as exc:
        run(fake, key=bad, lines=lines)
    assert [c for c in fake.calls if c in WRITES] in ([], ["organization_create"])  # refused by the portal
    assert (fake.orgs, fake.packages) == state, "nothing written"
    rows = audit.read(env / "warehouse.duckdb")
    text = str(exc.value) + "\n".join(lines) + json.dumps(rows, default=str) + capsys.readouterr().out
    assert bad not in text and KEY not in text
    assert rows[-1]["result"] in ("refused", "failed")


def test_validation_error_is_not_retried_and_named(env):
    fake = FakeCKAN()
    fake.fail_on = {"organization_create": ckanapi.ValidationError({"name": ["bad"], "__type": "Validation Error"})}
    with pytest.raises(P.PublishError, match="validation error"):
        run(fake)
    assert fake.calls.count("organization_create") == 1


def test_failed_gates_refuse_unless_ignored(env):
    write_gate_results(env / "warehouse.duckdb", failing=True)
    fake = FakeCKAN()
    with pytest.raises(P.PublishError, match="REFUSED.*quality gates"):
        run(fake)
    assert fake.calls == []
    lines: list[str] = []
    run(fake, lines=lines, ignore_gates=True)
    assert any("IGNORING failed quality gates" in line for line in lines) and fake.packages
    assert any(r["action"] == "check_gates" and r["result"] == "overridden"
               for r in audit.read(env / "warehouse.duckdb"))


def test_no_gate_results_refuses(tmp_path, monkeypatch):
    monkeypatch.setenv("IKMS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("IKMS_CKAN_API_KEY", KEY)
    write_tree(tmp_path, datasets=SOME)
    assert P.gate_failures(tmp_path / "warehouse.duckdb")
    with pytest.raises(P.PublishError, match="quality gates"):
        run(FakeCKAN())


def test_export_not_matching_its_manifest_is_refused(env):
    csv = next((env / "open_data").rglob("*.csv"))
    csv.write_bytes(csv.read_bytes() + b"1\n")
    fake = FakeCKAN()
    with pytest.raises(P.PublishError, match="differs from manifest"):
        run(fake)
    assert fake.calls == []


def test_only_the_named_datasets(env):
    manifest = json.loads((env / "open_data" / "manifest.json").read_text())
    name = manifest["datasets"][0]["name"]
    fake = FakeCKAN()
    run(fake, datasets=[name])
    assert [p["name"] for p in fake.packages.values()] == [name]
    with pytest.raises(P.PublishError, match="not in"):
        run(fake, datasets=["no-such-dataset"])


def test_retry_classification():
    assert is_retryable(requests.exceptions.ReadTimeout())
    assert is_retryable(ckanapi.CKANAPIError(repr(["u", 502, "<html>"])))
    assert not is_retryable(ckanapi.CKANAPIError(repr(["u", 409, "{}"])))
    assert not is_retryable(ckanapi.NotAuthorized({"message": "x"}))
    assert not is_retryable(ckanapi.ValidationError({"name": ["x"]}))


def test_client_raises_portal_error_after_attempts():
    fake = FakeCKAN()
    fake.fail = [requests.exceptions.ConnectionError()] * 4
    sleeps: list = []
    client = make_client(fake, KEY, sleeps)
    with pytest.raises(PortalError, match="after 4 attempts"):
        client.call("organization_list_for_user", {})
    assert sleeps == [0.5, 1.0, 2.0]


def test_cli_publish_wired(env, capsys):
    from pipelines import cli

    with pytest.raises(SystemExit):
        cli.main(["publish", "--url", "http://127.0.0.1:9", "--dataset", "no-such-dataset"])
    assert "publish FAILED" in capsys.readouterr().out


def test_definitions_the_portal_would_refuse_stop_before_any_write(env, monkeypatch):
    real = P.package_dict

    def bad_tag(*a, **k):
        d = real(*a, **k)
        return {**d, "tags": d["tags"] + [{"name": "a,b"}]}
    monkeypatch.setattr(P, "package_dict", bad_tag)
    fake = FakeCKAN()
    with pytest.raises(P.PublishError, match="tag 'a,b'"):
        run(fake)
    assert writes(fake) == []


def test_a_new_school_year_is_added_in_its_place(env):
    fake = FakeCKAN()
    write_tree(env, datasets=SOME, periods=("2021-2022", "2023-2024"))
    first = run(fake)
    assert "reorder_resources" not in first.counts()
    write_tree(env, datasets=SOME, periods=("2021-2022", "2022-2023", "2023-2024"))
    report = run(fake)
    assert report.counts()["create_resource"] == 2 * len(SOME) and report.counts()["reorder_resources"] == len(SOME)
    manifest = json.loads((env / "open_data" / "manifest.json").read_text())
    for d in manifest["datasets"]:
        names = [r["name"] for r in fake.package_show({"id": d["name"]})["resources"]]
        assert names == [f["path"].rsplit("/", 1)[1] for f in d["files"]]
    fake.calls.clear()
    assert run(fake).done == [] and writes(fake) == []
