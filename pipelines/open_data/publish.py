"""The open-data publisher: the exports of $IKMS_DATA_DIR/open_data (manifest.json + files) and the definitions
(open_data/*.yaml) onto a CKAN portal, idempotently.

- Datasets and the organization are found by their stable names with package_show / organization_show (never
  search: a portal may run without its search index). Missing ones are created; existing ones are changed only
  where they differ (package_revise for metadata, never package_update, which drops resources).
- One resource per exported file, named by the file name; the file's SHA-256 is kept in the resource's `hash`,
  so an unchanged file is never uploaded again and a changed one is replaced in place (resource_patch with the
  upload: same resource id). Duplicates by name (left by an interrupted run) are removed.
- The whole plan is computed from reads before the first write; the API key (only from IKMS_CKAN_API_KEY) is
  checked before the first write, so a bad key or missing rights stop the run with nothing written.
- Timeouts on every request; retries with exponential backoff on timeouts, connection errors and 5xx; a write
  that timed out is reconciled with the portal before it is retried (it may have been carried out).
- Publishes only when the latest quality gates of the marts and indicators passed (--ignore-gates overrides,
  loudly). Every action is recorded in publish.audit_log of the warehouse.

Entry points: `publish(url, ...)` -> Report; `add_command(subparsers)` for `ikms publish`."""
from __future__ import annotations

import hashlib
import json
import os
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
import ckanapi

from pipelines import settings
from pipelines.open_data import catalogue as cat_mod
from pipelines.open_data.audit import AuditLog, AuditRow
from pipelines.open_data.ckan_client import API_KEY_ENV, DEFAULT_TIMEOUT, PortalClient, PortalError

MANIFEST = "manifest.json"
FREQUENCY_URI = "http://publications.europa.eu/resource/authority/frequency/"
SPATIAL_URI = "http://publications.europa.eu/resource/authority/country/LVA"
MIMETYPES = {"CSV": "text/csv", "Parquet": "application/vnd.apache.parquet", "JSON": "application/json",
             "JSON-LD": "application/ld+json"}
GATE_PREFIXES = ("marts/", "indicators/")
# Package fields the publisher owns (compared with the portal's; anything else on the portal is left alone).
PACKAGE_FIELDS = ("title", "notes", "license_id", "url", "owner_org", "author", "maintainer", "maintainer_email",
                  "private")
RESOURCE_FIELDS = ("name", "format", "description")


class PublishError(RuntimeError):
    """Publishing was refused or failed; the message says why (never the API key)."""


# ---------------------------------------------------------------- the exports ----------------------------------
@dataclass(frozen=True)
class ExportFile:
    path: str  # relative to open_data/, posix
    period: str | None  # '2023-2024', None for metadata files
    format: str  # CSV, Parquet, JSON, JSON-LD
    sha256: str
    bytes: int
    rows: int | None = None

    @property
    def name(self) -> str:  # the resource's stable name
        return self.path.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class ExportDataset:
    name: str
    number: int
    files: tuple[ExportFile, ...]


def open_data_dir(data_dir: Path | None = None) -> Path:
    return (data_dir or settings.data_dir()) / "open_data"


def read_manifest(root: Path) -> list[ExportDataset]:
    path = root / MANIFEST
    if not path.exists():
        raise PublishError(f"no exports: {path} is missing (run `ikms export` or `ikms run` first)")
    doc = json.loads(path.read_text(encoding="utf-8"))
    out = []
    for d in doc.get("datasets", []):
        files = tuple(ExportFile(path=f["path"], period=f.get("period"), format=f["format"], sha256=f["sha256"],
                                 bytes=int(f["bytes"]), rows=f.get("rows")) for f in d.get("files", []))
        out.append(ExportDataset(name=d["name"], number=int(d["number"]), files=files))
    return out


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def verify_files(root: Path, datasets: list[ExportDataset]) -> None:
    """Every file of the manifest is there with its size and SHA-256: a stale or half-written export is never
    published."""
    problems = []
    for d in datasets:
        names = [f.name for f in d.files]
        if len(set(names)) != len(names):
            problems.append(f"{d.name}: file names repeat (resource names must be unique)")
        for f in d.files:
            p = root / f.path
            if not p.is_file():
                problems.append(f"{f.path}: missing")
            elif p.stat().st_size != f.bytes or sha256_file(p) != f.sha256:
                problems.append(f"{f.path}: differs from manifest.json (size or SHA-256)")
    if problems:
        raise PublishError("the exports do not match their manifest:\n  " + "\n  ".join(problems))


# ---------------------------------------------------------------- what the portal should hold -----------------
def _school_year_dates(periods: list[str]) -> tuple[str, str]:
    first, last = min(periods), max(periods)
    return f"{first[:4]}-09-01", f"{last[-4:]}-08-31"


def package_dict(cat: cat_mod.Catalogue, ds: cat_mod.Dataset, export: ExportDataset, org_id: str | None) -> dict:
    """The package as the portal should hold it (publisher-owned fields only; no resources)."""
    uri = cat.uri(ds)
    periods = sorted({f.period for f in export.files if f.period})
    extras = {
        "title_en": ds.title_en,
        "description_en": ds.description_en,
        "uri": uri,
        "identifier": uri,
        "update_frequency": FREQUENCY_URI + ds.update_frequency,
        "spatial": SPATIAL_URI,
        "contact_name": cat.contact_name,
        "contact_email": cat.contact_email,
        "publisher_uri": cat.publisher_uri,
        "keywords_en": ", ".join(ds.keywords_en),
        "disclosure_rule": ds.disclosure.rule_lv,
        "disclosure_rule_en": ds.disclosure.rule_en,
        "disclosure_threshold": str(ds.disclosure.threshold),
        "dataset_number": str(ds.number),
    }
    if periods:
        extras["temporal_start"], extras["temporal_end"] = _school_year_dates(periods)
    notes = "\n\n".join(x.strip() for x in (ds.description_lv, ds.disclosure.rule_lv, "---", ds.description_en,
                                             ds.disclosure.rule_en) if x)
    return {
        "name": ds.name, "title": ds.title_lv, "notes": notes, "license_id": cat.licence, "url": uri,
        "owner_org": org_id, "author": cat.publisher_lv, "maintainer": cat.contact_name,
        "maintainer_email": cat.contact_email, "private": False,
        "tags": [{"name": t} for t in ds.keywords_lv],
        "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
    }


def resource_dict(f: ExportFile) -> dict:
    if f.period:
        year = f.period.replace("-", "/")
        description = f"Mācību gads {year}, {f.format} / School year {year}, {f.format}"
    elif f.name == "datapackage.json":
        description = "Frictionless datu pakete (tabulu shēmas) / Frictionless Data Package (table schemas)"
    else:
        description = "DCAT-AP metadati (JSON-LD) / DCAT-AP metadata (JSON-LD)"
    return {"name": f.name, "format": f.format, "description": description, "hash": f.sha256,
            "mimetype": MIMETYPES.get(f.format, "application/octet-stream")}


_TAG = re.compile(r"^[\w .-]{2,100}$")


def package_problems(want: dict) -> list[str]:
    """What CKAN's validation would refuse, checked before the first write (so a 4xx cannot stop a publish
    half-way): tag length and characters, title length, string extras."""
    out = [f"{want['name']}: tag {t['name']!r} (2-100 letters, digits, space, - _ .)" for t in want["tags"]
           if not _TAG.match(t["name"])]
    if not 0 < len(want["title"]) <= 500:
        out.append(f"{want['name']}: title length {len(want['title'])}")
    out += [f"{want['name']}: extra {e['key']!r} is not a non-empty string" for e in want["extras"]
            if not isinstance(e["value"], str) or not e["value"]]
    return out


def _package_differences(want: dict, have: dict) -> list[str]:
    diff = [k for k in PACKAGE_FIELDS if (have.get(k) or None) != (want.get(k) or None) and
            not (k == "private" and bool(have.get(k)) == bool(want.get(k)))]
    if sorted(t["name"] for t in have.get("tags") or []) != sorted(t["name"] for t in want["tags"]):
        diff.append("tags")
    if {e["key"]: e["value"] for e in have.get("extras") or []} != {e["key"]: e["value"] for e in want["extras"]}:
        diff.append("extras")
    if have.get("state", "active") != "active":
        diff.append("state")
    return diff


def _resource_unchanged_file(f: ExportFile, have: dict) -> bool:
    size = have.get("size")
    return (have.get("hash") == f.sha256 and have.get("url_type") == "upload"
            and (size in (None, "") or int(size) == f.bytes))


def _resource_differences(want: dict, have: dict) -> list[str]:
    return [k for k in RESOURCE_FIELDS if str(have.get(k) or "").lower() != str(want.get(k) or "").lower()]


# ---------------------------------------------------------------- the plan -------------------------------------
@dataclass
class Step:
    action: str  # create_organization, create_package, update_package, skip_package, create_resource,
    # update_resource (new file), patch_resource (metadata only), skip_resource, delete_duplicate, keep_resource,
    # reorder_resources
    dataset: str | None = None
    resource: str | None = None
    sha256: str | None = None
    reason: str = ""
    data: dict = field(default_factory=dict)
    file: Path | None = None
    resource_id: str | None = None

    @property
    def writes(self) -> bool:
        return not self.action.startswith(("skip", "keep"))

    def line(self) -> str:
        what = self.resource or self.dataset or ""
        return f"{self.action:<20} {what}" + (f"  ({self.reason})" if self.reason else "")


def plan(client: PortalClient, cat: cat_mod.Catalogue, exports: list[ExportDataset], root: Path) -> list[Step]:
    """Read the portal and say what to do. Reads only."""
    steps: list[Step] = []
    org = client.show("organization_show", id=cat.organization)
    if org is None:
        steps.append(Step("create_organization", reason=cat.organization,
                          data={"name": cat.organization, "title": cat.organization_title}))
    org_id = org["id"] if org else None
    problems = [p for e in exports for p in package_problems(package_dict(cat, cat.dataset(e.name), e, org_id))]
    if problems:
        raise PublishError("the portal would refuse these definitions (nothing was written):\n  "
                           + "\n  ".join(problems))
    for export in exports:
        ds = cat.dataset(export.name)
        want = package_dict(cat, ds, export, org_id)
        have = client.show("package_show", id=ds.name)
        if have is None:
            steps.append(Step("create_package", ds.name, data=want))
            existing: list[dict] = []
        else:
            diff = _package_differences(want, have)
            if org_id is None:
                diff.append("owner_org")
            steps.append(Step("update_package", ds.name, reason="changed: " + ", ".join(diff), data=want)
                         if diff else Step("skip_package", ds.name, reason="unchanged"))
            existing = have.get("resources") or []
        by_name: dict[str, list[dict]] = {}
        for r in existing:
            by_name.setdefault(r.get("name") or "", []).append(r)
        for f in export.files:
            rwant = resource_dict(f)
            same = by_name.pop(f.name, [])
            if not same:
                steps.append(Step("create_resource", ds.name, f.name, f.sha256, f"{f.bytes:,} bytes", rwant,
                                  root / f.path))
                continue
            keep = next((r for r in same if _resource_unchanged_file(f, r)), same[0])
            for dup in same:
                if dup is not keep:
                    steps.append(Step("delete_duplicate", ds.name, f.name, dup.get("hash"), "same name twice",
                                      resource_id=dup["id"]))
            if not _resource_unchanged_file(f, keep):
                steps.append(Step("update_resource", ds.name, f.name, f.sha256, "file changed", rwant,
                                  root / f.path, keep["id"]))
            elif diff := _resource_differences(rwant, keep):
                steps.append(Step("patch_resource", ds.name, f.name, f.sha256, "changed: " + ", ".join(diff),
                                  rwant, resource_id=keep["id"]))
            else:
                steps.append(Step("skip_resource", ds.name, f.name, f.sha256, "unchanged", resource_id=keep["id"]))
        for name, rs in sorted(by_name.items()):
            for r in rs:
                steps.append(Step("keep_resource", ds.name, name, r.get("hash"), "not in the exports: left as is",
                                  resource_id=r["id"]))
        # new files are appended by CKAN: put the exported files first, in the manifest's order (e.g. a new
        # school year among the others), when they would not be
        wanted = [f.name for f in export.files]
        deleted = {s.resource_id for s in steps if s.action == "delete_duplicate" and s.dataset == ds.name}
        final = [r.get("name") for r in existing if r["id"] not in deleted]
        final += [s.resource for s in steps if s.action == "create_resource" and s.dataset == ds.name]
        if final[:len(wanted)] != wanted:
            steps.append(Step("reorder_resources", ds.name, reason="exported files first, in the exports' order",
                              data={"order": wanted}))
    return steps


# ---------------------------------------------------------------- checks ---------------------------------------
def gate_failures(warehouse: Path | None = None) -> list[str]:
    """Why the latest quality gates do not allow publishing: error-severity failures of the marts/indicators
    suites in their latest run, or no gate results for them at all. Empty: publishing is allowed."""
    from pipelines.ingest.load import connect
    from pipelines.quality import gates

    path = warehouse or settings.warehouse_path()
    if not path.exists():
        return [f"no warehouse at {path}: no quality-gate results"]
    with connect(path, read_only=True) as con:
        if "gates.results" not in gates.existing_tables(con):
            return ["no quality-gate results (gates.results): run `ikms build` or `ikms check`"]
        have = {p: con.execute("SELECT count(*) FROM gates.results WHERE asset_key LIKE ?", [p + "%"]).fetchone()[0]
                for p in GATE_PREFIXES}
    out = [f"no quality-gate results for {p}* (run `ikms check`)" for p, n in have.items() if not n]
    for p in GATE_PREFIXES:
        out += gates.latest_blocking_failures(asset_prefix=p, warehouse=path)
    return out


def check_key(client: PortalClient, organization: str, org: dict | None) -> None:
    """Before any write: the key is valid and may create and edit datasets of the organization. When the
    organization does not exist yet, creating it is the first write and fails cleanly with a bad key."""
    if org is None:
        return
    ids = {o.get("id") for o in client.call("organization_list_for_user", {"permission": "create_dataset"})}
    if org["id"] in ids:
        return
    try:
        client.call("am_following_group", {"id": org["id"]})  # needs a logged-in user: tells a bad key apart
    except PortalError:
        raise PublishError(f"the portal refused the API key in {API_KEY_ENV}: it is not a valid key "
                           "(nothing was written)") from None
    raise PublishError(f"the user of the API key in {API_KEY_ENV} may not create or edit datasets of organization "
                       f"'{organization}' (make it an editor or admin there; nothing was written)")


def api_key_from_env(required: bool) -> str | None:
    key = os.environ.get(API_KEY_ENV, "").strip()
    if not key and required:
        raise PublishError(f"the environment variable {API_KEY_ENV} is not set: it must hold the API token of a "
                           "portal user who may edit the organization's datasets (nothing was written)")
    return key or None


# ---------------------------------------------------------------- doing it -------------------------------------
def _find_resource(client: PortalClient, dataset: str, name: str) -> dict | None:
    pkg = client.show("package_show", id=dataset)
    return next((r for r in (pkg or {}).get("resources") or [] if r.get("name") == name), None)


def _execute(client: PortalClient, step: Step, org_id: str | None) -> str:
    """One write. Returns a short message."""
    a = step.action
    if a == "create_organization":
        def created_org():
            return client.show("organization_show", id=step.data["name"])
        org = client.call("organization_create", step.data, reconcile=created_org)
        return org["id"]
    if a in ("create_package", "update_package"):
        data = {**step.data, "owner_org": org_id}
        if a == "create_package":
            def created_pkg():
                return client.show("package_show", id=data["name"])
            pkg = client.call("package_create", data, reconcile=created_pkg)
            return f"id {pkg['id']}"
        update = {k: v for k, v in data.items() if k != "name"}
        update["state"] = "active"
        client.call("package_revise", {"match": {"name": data["name"]}, "update": update})
        return "metadata revised"
    if a == "create_resource":
        def created_res():  # a create that timed out may have happened: then it is not sent twice
            r = _find_resource(client, step.dataset, step.resource)
            return r if r and r.get("hash") == step.sha256 and r.get("url_type") == "upload" else None
        r = client.call("resource_create", {"package_id": step.dataset, **step.data}, upload=step.file,
                        reconcile=created_res)
        return f"id {r['id']}, uploaded"
    if a == "update_resource":
        r = client.call("resource_patch", {"id": step.resource_id, **step.data}, upload=step.file)
        return f"id {r['id']}, uploaded"
    if a == "patch_resource":
        client.call("resource_patch", {"id": step.resource_id, **step.data})
        return "metadata patched"
    if a == "reorder_resources":
        pkg = client.call("package_show", {"id": step.dataset})
        ids = {}
        for r in pkg.get("resources") or []:
            ids.setdefault(r.get("name"), r["id"])
        order = [ids[n] for n in step.data["order"] if n in ids]
        if [r["id"] for r in pkg["resources"]][:len(order)] != order:
            client.call("package_resource_reorder", {"id": pkg["id"], "order": order})
        return f"{len(order)} resources ordered"
    if a == "delete_duplicate":
        try:
            client.call("resource_delete", {"id": step.resource_id})
        except ckanapi.NotFound:
            return "already gone"
        return f"deleted id {step.resource_id}"
    raise ValueError(a)


@dataclass
class Report:
    run_id: str
    url: str
    dry_run: bool
    steps: list[Step]
    done: list[Step] = field(default_factory=list)
    gate_failures: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for s in self.steps:
            out[s.action] = out.get(s.action, 0) + 1
        return dict(sorted(out.items()))


def publish(url: str, *, datasets: list[str] | None = None, dry_run: bool = False, ignore_gates: bool = False,
            data_dir: Path | None = None, warehouse: Path | None = None, definitions: Path | None = None,
            timeout: float = DEFAULT_TIMEOUT, attempts: int | None = None, backoff: float | None = None,
            progress: Callable[[str], None] = print, on_step: Callable[[Step], None] | None = None,
            client: PortalClient | None = None) -> Report:
    """Publish the exports to the CKAN portal at `url` (the API key from IKMS_CKAN_API_KEY). `datasets`: names
    (default: every dataset of the manifest). Raises PublishError when refused (nothing written) or when the
    portal failed part-way (what was done is in the audit log; running again completes it)."""
    run_id = uuid.uuid4().hex
    audit = AuditLog(run_id, url, warehouse)
    root = open_data_dir(data_dir)
    cat = cat_mod.load(definitions) if definitions else cat_mod.load()

    def refuse(action: str, message: str, dataset: str | None = None) -> PublishError:
        audit.record(AuditRow(dataset, None, action, None, "refused", message))
        return PublishError(message)

    try:
        key = api_key_from_env(required=not dry_run)
    except PublishError as exc:
        raise refuse("check_key", str(exc)) from None

    exports = read_manifest(root)
    if datasets:
        unknown = sorted(set(datasets) - {e.name for e in exports})
        if unknown:
            raise refuse("publish", f"not in {root / MANIFEST}: {', '.join(unknown)}")
        exports = [e for e in exports if e.name in set(datasets)]
    for e in exports:
        try:
            cat.dataset(e.name)
        except KeyError:
            raise refuse("publish", f"{e.name}: in the manifest but not among the definitions (open_data/)") from None
    try:
        verify_files(root, exports)
    except PublishError as exc:
        raise refuse("verify_files", str(exc)) from None

    failures = gate_failures(warehouse)
    if failures:
        if ignore_gates or dry_run:
            loud = "IGNORING failed quality gates (--ignore-gates)" if ignore_gates else \
                "the quality gates do not allow publishing (a real publish would be refused)"
            progress(f"!!! {loud}:")
            for f in failures:
                progress(f"!!!   {f}")
            audit.record(AuditRow(None, None, "check_gates", None, "overridden" if ignore_gates else "dry_run",
                                  "; ".join(failures)[:2000]))
        else:
            audit.record(AuditRow(None, None, "check_gates", None, "refused", "; ".join(failures)[:2000]))
            raise PublishError("REFUSED to publish: the latest quality gates of the marts/indicators failed "
                               "(`ikms publish --ignore-gates` to override):\n  " + "\n  ".join(failures))
    else:
        audit.record(AuditRow(None, None, "check_gates", None, "ok", "latest marts/indicators gates passed"))

    own_client = client is None
    if client is None:
        kw = {k: v for k, v in (("attempts", attempts), ("backoff", backoff)) if v is not None}
        client = PortalClient(url, key, timeout=timeout, **kw)
    report = Report(run_id, url, dry_run, [], gate_failures=failures)
    try:
        progress(f"==> {'DRY RUN: the plan for' if dry_run else 'publishing to'} {url}: "
                 f"{len(exports)} dataset(s), {sum(len(e.files) for e in exports)} file(s)")
        stage = "check_key"
        try:
            org = client.show("organization_show", id=cat.organization)
            if not dry_run:
                check_key(client, cat.organization, org)
            stage = "plan"
            steps = plan(client, cat, exports, root)
        except PublishError as exc:
            raise refuse(stage, str(exc)) from None
        except PortalError as exc:
            audit.record(AuditRow(None, None, "plan", None, "failed", str(exc)))
            raise PublishError(f"could not read the portal: {exc} (nothing was written)") from None
        report.steps = steps
        if not dry_run:
            audit.record(AuditRow(None, None, "check_key", None, "ok", "API key accepted"))
        org_id = org["id"] if org else None
        current = None
        for step in steps:
            if step.dataset != current and step.dataset:
                current = step.dataset
                progress(f"  {current}")
            progress(f"    {step.line()}")
            if dry_run or not step.writes:
                audit.record(AuditRow(step.dataset, step.resource, step.action, step.sha256,
                                      "dry_run" if dry_run else "skipped", step.reason))
                continue
            try:
                message = _execute(client, step, org_id)
            except (PortalError, ckanapi.CKANAPIError) as exc:
                done = sum(1 for s in report.done if s.writes)
                if not done and "not authorized" in str(exc):  # the first write (the organization) refused
                    raise refuse(step.action, f"the portal refused the API key in {API_KEY_ENV} ({exc}): it is not "
                                 "valid, or its user may not create the organization (nothing was written)") from None
                audit.record(AuditRow(step.dataset, step.resource, step.action, step.sha256, "failed", str(exc)))
                raise PublishError(f"{step.action} {step.resource or step.dataset or ''}: {exc} "
                                   f"({done} write(s) done before; publishing again completes the rest)") from None
            if step.action == "create_organization":
                org_id = message
            audit.record(AuditRow(step.dataset, step.resource, step.action, step.sha256, "ok", message))
            report.done.append(step)
            if on_step:
                on_step(step)
        c = report.counts()
        progress(f"==> {'planned' if dry_run else 'done'}: " + ", ".join(f"{k} {v}" for k, v in c.items()))
        audit.record(AuditRow(None, None, "publish", None, "dry_run" if dry_run else "ok",
                              json.dumps(c, sort_keys=True)))
        return report
    finally:
        audit.flush()
        if own_client:
            client.close()


# ---------------------------------------------------------------- ikms publish ---------------------------------
HELP = (f"publish the open-data exports to a CKAN portal (API key from ${API_KEY_ENV}); "
        "only when the quality gates passed")


def add_command(sub) -> None:
    p = sub.add_parser("publish", help=HELP, description=HELP)
    p.add_argument("--url", required=True, help="the portal's base URL, e.g. https://data.gov.lv/dati")
    p.add_argument("--dry-run", action="store_true", help="print the plan (create/update/skip); write nothing")
    p.add_argument("--dataset", action="append", metavar="NAME", help="only this dataset (repeatable)")
    p.add_argument("--ignore-gates", action="store_true",
                   help="publish even though the latest quality gates of the marts/indicators failed")
    p.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per request (default 60)")
    p.set_defaults(handler=cmd_publish)


def cmd_publish(args) -> None:
    try:
        publish(args.url, datasets=args.dataset, dry_run=args.dry_run, ignore_gates=args.ignore_gates,
                timeout=args.timeout, progress=lambda m: print(m, flush=True))
    except PublishError as exc:
        print(f"==> publish FAILED: {exc}", flush=True)
        raise SystemExit(1)


__all__ = ["publish", "plan", "Report", "Step", "PublishError", "read_manifest", "gate_failures", "add_command",
           "package_dict", "resource_dict", "ExportDataset", "ExportFile"]
