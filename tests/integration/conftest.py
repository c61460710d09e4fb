"""Integration fixtures: a real CKAN portal (ckan/portal.py) for the open-data tests.

Every test that uses `ckan_portal` must carry `pytest.mark.xdist_group("ckan")`: with `-n 2 --dist loadgroup`
the whole group then runs on one worker, which is the only one to start a portal.
"""
from __future__ import annotations

import atexit
import contextlib
import fcntl
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
# Read once, at collection: some module fixtures later point IKMS_DATA_DIR at their own temp dirs for good.
DATA_DIR = Path(os.environ.get("IKMS_DATA_DIR") or REPO / "data")


def load_portal_module():
    """ckan/portal.py as a module (it is a script folder, not a package: `ckan` is CKAN's own package name)."""
    name = "ikms_ckan_portal"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "ckan" / "portal.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@contextlib.contextmanager
def _locked(path: Path):
    """An exclusive lock on `path`, created with its folder if missing. The last user removes the folder, so
    a lock taken on a file that has been unlinked meanwhile is retried on the new one."""
    while True:
        path.parent.mkdir(exist_ok=True)
        os.chmod(path.parent, 0o711)  # run as root, the cluster belongs to `postgres`, who must traverse it
        with open(path, "a") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                current = os.stat(path).st_ino == os.fstat(f.fileno()).st_ino
            except FileNotFoundError:
                current = False
            if current:
                yield
                return


@pytest.fixture(scope="session")
def ckan_portal():
    """A real CKAN 2.12 + PostgreSQL on loopback for this test run, stopped and removed at the end.

    Its state lives in a temp dir, copied from a prepared template ($IKMS_DATA_DIR/ckan-template, built once
    and rebuilt when the CKAN lock, the plugin or portal.py change); IKMS_CKAN_TEST_FRESH=1 initialises from
    nothing instead. IKMS_CKAN_TEST_STATE_DIR=<dir of a portal started with `make ckan-start`> uses that
    running portal and leaves it running (for iterating on tests).

    Under xdist the workers of one run share one portal (keyed by PYTEST_XDIST_TESTRUNUID, reference-counted
    under a file lock; the last worker to finish stops it), so one portal is started even when the
    `xdist_group("ckan")` grouping is not honoured (pytest 9.2 with pytest-xdist 3.8 silently ignores it)."""
    portal_mod = load_portal_module()
    external = os.environ.get("IKMS_CKAN_TEST_STATE_DIR")
    if external:
        info = portal_mod.status(Path(external))
        if not info.get("running"):
            pytest.fail(f"IKMS_CKAN_TEST_STATE_DIR={external}: no running portal there")
        fields = portal_mod.Portal.__dataclass_fields__
        yield portal_mod.Portal(**{k: v for k, v in info.items() if k in fields})
        return

    venv = portal_mod.default_venv()
    template = DATA_DIR / "ckan-template"
    if os.environ.get("IKMS_CKAN_TEST_FRESH") == "1" or portal_mod._blocking_parent(template.parent.resolve()):
        template = None  # initialise from nothing (also when the postgres user could not reach the template)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid{os.getpid()}"
    me = os.environ.get("PYTEST_XDIST_WORKER", "main")
    shared = Path(tempfile.gettempdir()) / f"ikms-ckan-test-{run_id}"
    state, users, lock = shared / "portal", shared / "users.json", shared / "lock"
    released = False

    def release() -> None:
        nonlocal released
        if released:
            return
        released = True
        with _locked(lock):
            left = [u for u in json.loads(users.read_text() or "[]") if u != me] if users.exists() else []
            users.write_text(json.dumps(left))
            if not left:
                try:
                    portal_mod.stop_portal(state)
                finally:
                    shutil.rmtree(shared, ignore_errors=True)

    with _locked(lock):
        portal_mod.ensure_venv(venv)  # a no-op (≈0.3 s) after `make ckan-setup`
        atexit.register(release)  # also when the session ends without running fixture teardown
        current = json.loads(users.read_text() or "[]") if users.exists() else []
        users.write_text(json.dumps([*current, me]))
        try:
            # start_portal returns the running portal when a sibling worker already started it
            portal = portal_mod.start_portal(state, venv=venv, template=template)
        except BaseException:
            released = True
            users.write_text(json.dumps(current))
            if not current:
                portal_mod.stop_portal(state)
            raise
    try:
        yield portal
    finally:
        release()
