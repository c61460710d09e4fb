#!/usr/bin/env python3
"""A real CKAN 2.12 portal on loopback, for the open-data publisher's tests and for demos.

    python ckan/portal.py setup                 # the CKAN venv (.venv-ckan) from ckan/requirements.lock
    python ckan/portal.py start [--state-dir D]  # initialise D if new, then serve; prints the portal JSON
    python ckan/portal.py status [--state-dir D] # the portal JSON, liveness and memory
    python ckan/portal.py stop [--state-dir D] [--keep]

The state directory (default $IKMS_DATA_DIR/ckan, i.e. ./data/ckan) holds everything of one portal: a private
PostgreSQL cluster (pg/), the CKAN config (ckan.ini), uploaded files (storage/), logs, the sysadmin's API token
(api_token) and, while it runs, portal.json (url, token file, pids, ports). `stop` kills CKAN, stops PostgreSQL
and removes the directory, or keeps it with --keep so that the next `start` serves the same portal again.

PostgreSQL runs from the machine's binaries (/usr/lib/postgresql/<v>/bin, or $IKMS_PG_BIN) as the invoking user,
or as the `postgres` user when invoked as root (initdb refuses root). It listens on 127.0.0.1 only, on a free
port chosen at each start, with password authentication. CKAN runs `ckan run` (the Werkzeug server) on
127.0.0.1:<free port>. Solr is not available on the project's machines: the ikms_nosolr plugin
(ckan/ckanext-ikms-nosolr) replaces the search index, see its docstring.

Standard library only, so it runs under any Python 3.11; the test fixture imports it (start_portal/stop_portal).
"""
from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import inspect
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
LOCK = HERE / "requirements.lock"
PLUGIN_SRC = HERE / "ckanext-ikms-nosolr"
PLUGIN_NAME = "ikms_nosolr"
STAMP_NAME = ".ikms-ckan-venv"
SYSADMIN = "ikms_admin"
DB_NAME = DB_USER = "ckan"
# Nothing listens here: CKAN requires a solr_url, and the ikms_nosolr plugin never calls it. The same closed
# port keeps CKAN off any Redis that happens to run on the machine (CKAN logs one critical line and carries on).
CLOSED_LOOPBACK = "127.0.0.1:9"
MAX_RESOURCE_SIZE_MB = 500
# Appended to postgresql.conf at initdb: loopback only, no Unix socket (paths of temp dirs can be too long for
# one), small memory; synchronous_commit=off loses at most the last moments of a crash, never consistency.
PG_SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "unix_socket_directories": "''",
    "shared_buffers": "16MB",
    "max_connections": "30",
    "synchronous_commit": "off",
    "log_min_messages": "warning",
}


class PortalError(RuntimeError):
    """A portal operation failed; the message says why and what to do."""


def log(msg: str) -> None:
    print(f"[ckan-portal] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# the CKAN venv
# ---------------------------------------------------------------------------------------------------------------
def default_venv() -> Path:
    return Path(os.environ.get("IKMS_CKAN_VENV") or REPO / ".venv-ckan")


def venv_fingerprint() -> str:
    """What the venv is built from: the lock, the plugin's files, the Python version and the install recipe."""
    h = hashlib.sha256()
    h.update(inspect.getsource(ensure_venv).encode())
    h.update(f"python{sys.version_info.major}.{sys.version_info.minor}\n".encode())
    h.update(LOCK.read_bytes())
    for p in sorted(PLUGIN_SRC.rglob("*")):
        if p.is_file() and "__pycache__" not in p.parts and ".egg-info" not in str(p):
            h.update(str(p.relative_to(PLUGIN_SRC)).encode() + b"\0" + p.read_bytes())
    return h.hexdigest()


def _find_uv() -> str | None:
    beside = Path(sys.executable).parent / "uv"  # the pipeline's .venv carries a pinned uv
    if beside.exists():
        return str(beside)
    return shutil.which("uv")


def _run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    kw.setdefault("check", True)
    return subprocess.run([str(c) for c in cmd], **kw)


def ensure_venv(venv: Path | None = None, force: bool = False) -> dict:
    """Create or refresh the CKAN venv from the lock; skipped when its stamp matches. Returns timing info."""
    venv = Path(venv or default_venv())
    t0 = time.monotonic()
    fp = venv_fingerprint()
    stamp = venv / STAMP_NAME
    ckan_bin = venv / "bin" / "ckan"
    if not force and ckan_bin.exists() and stamp.exists() and stamp.read_text().strip() == fp:
        secs = round(time.monotonic() - t0, 2)
        log(f"CKAN environment {venv} is up to date (checked in {secs} s)")
        return {"venv": str(venv), "action": "up to date", "seconds": secs}
    uv = _find_uv()
    py = venv / "bin" / "python"
    fresh = not py.exists()
    log(f"{'creating' if fresh else 'updating'} the CKAN environment {venv} from {LOCK.relative_to(REPO)}")
    with tempfile.TemporaryDirectory(prefix="ikms-ckan-plugin-") as tmp:
        # build the plugin from a copy so that no build/ or egg-info lands in the source tree
        plugin_copy = Path(tmp) / PLUGIN_SRC.name
        shutil.copytree(PLUGIN_SRC, plugin_copy, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info", "build"))
        if uv:
            if fresh:
                _run([uv, "venv", "--quiet", "--python", sys.executable, venv])
            # exactly the lock, nothing else; bytecode compiled now, as the CLI may run with PYTHONDONTWRITEBYTECODE
            _run([uv, "pip", "sync", "--quiet", "--compile-bytecode", "--python", py, LOCK])
            # the plugin, built with the lock's setuptools (no build isolation: nothing unpinned is fetched)
            _run([uv, "pip", "install", "--quiet", "--compile-bytecode", "--python", py, "--no-deps",
                  "--no-build-isolation", "--reinstall-package", "ckanext-ikms-nosolr", plugin_copy])
        else:  # plain pip (compiles bytecode by default): slower, same result
            if fresh:
                _run([getattr(sys, "_base_executable", sys.executable), "-m", "venv", venv])
            _run([py, "-m", "pip", "install", "--quiet", "--no-deps", "-r", LOCK])
            _run([py, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation",
                  "--force-reinstall", plugin_copy])
    stamp.write_text(fp + "\n")
    secs = round(time.monotonic() - t0, 1)
    log(f"CKAN environment ready in {secs} s ({'fresh' if fresh else 'updated'})")
    return {"venv": str(venv), "action": "created" if fresh else "updated", "seconds": secs}


# ---------------------------------------------------------------------------------------------------------------
# config writing (pure functions: unit-tested)
# ---------------------------------------------------------------------------------------------------------------
def set_ini_options(text: str, options: dict[str, str], section: str = "app:main") -> str:
    """Set `key = value` in one section of an ini text: replace the active line (or a commented-out
    `#key = ...` line when there is no active one), else append to the section. Other lines are unchanged."""
    lines = text.splitlines()
    start = next((i for i, ln in enumerate(lines) if ln.strip() == f"[{section}]"), None)
    if start is None:
        raise ValueError(f"no [{section}] section in the config")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    pending = dict(options)
    for key in list(pending):
        active = re.compile(rf"^\s*{re.escape(key)}\s*=")
        commented = re.compile(rf"^\s*#\s*{re.escape(key)}\s*=")
        idx = next((i for i in range(start + 1, end) if active.match(lines[i])), None)
        if idx is None:
            idx = next((i for i in range(start + 1, end) if commented.match(lines[i])), None)
        if idx is not None:
            lines[idx] = f"{key} = {pending.pop(key)}"
    # append what is left at the end of the section, before its trailing blank lines
    insert_at = end
    while insert_at > start + 1 and not lines[insert_at - 1].strip():
        insert_at -= 1
    lines[insert_at:insert_at] = [f"{k} = {v}" for k, v in pending.items()]
    return "\n".join(lines) + "\n"


def portal_options(*, pg_port: int, pg_password: str, ckan_port: int, storage_path: Path) -> dict[str, str]:
    """Everything the portal sets in the generated ckan.ini (all of it, at every start: ports change)."""
    return {
        "sqlalchemy.url": f"postgresql://{DB_USER}:{pg_password}@127.0.0.1:{pg_port}/{DB_NAME}",
        "ckan.site_url": f"http://127.0.0.1:{ckan_port}",
        "ckan.site_title": "IKMS test portal",
        "solr_url": f"http://{CLOSED_LOOPBACK}/solr/ckan",
        "ckan.redis.url": f"redis://{CLOSED_LOOPBACK}/0",
        "ckan.plugins": f"{PLUGIN_NAME} activity",
        "ckan.storage_path": str(storage_path),
        "ckan.max_resource_size": str(MAX_RESOURCE_SIZE_MB),
        "ckan.devserver.host": "127.0.0.1",
        "ckan.devserver.port": str(ckan_port),
    }


# ---------------------------------------------------------------------------------------------------------------
# PostgreSQL
# ---------------------------------------------------------------------------------------------------------------
def pg_bindir() -> Path:
    if os.environ.get("IKMS_PG_BIN"):
        return Path(os.environ["IKMS_PG_BIN"])
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name)
                   if p.parent.parent.name.isdigit() else 0)
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise PortalError("PostgreSQL server binaries not found (initdb): run `make system-deps`, or set IKMS_PG_BIN")


def _as_pg_user(cmd: list) -> list[str]:
    cmd = [str(c) for c in cmd]
    return ["runuser", "-u", "postgres", "--", *cmd] if os.geteuid() == 0 else cmd


def _chown_pg(path: Path) -> None:
    if os.geteuid() == 0:
        shutil.chown(path, "postgres", "postgres")


def _blocking_parent(path: Path) -> Path | None:
    """As root the cluster belongs to `postgres`, who must be able to reach it: the first directory on the way
    that other users cannot traverse, if any."""
    if os.geteuid() != 0:
        return None
    for parent in [path, *path.parents]:
        if parent.exists() and not (parent.stat().st_mode & 0o001):
            return parent
    return None


def _check_traversable(path: Path) -> None:
    blocked = _blocking_parent(Path(path).resolve())
    if blocked:
        raise PortalError(f"{blocked} is not traversable by other users, so the postgres user cannot reach the "
                          f"cluster under {path}; choose another --state-dir (or chmod o+x {blocked})")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------------------------
# the portal
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Portal:
    url: str
    api_token_file: str
    state_dir: str
    ckan_ini: str
    sysadmin: str
    pids: dict = field(default_factory=dict)
    ports: dict = field(default_factory=dict)
    logs: dict = field(default_factory=dict)
    seconds: dict = field(default_factory=dict)
    venv: str = ""
    started_at: str = ""

    @property
    def api_token(self) -> str:
        return Path(self.api_token_file).read_text().strip()


def default_state_dir() -> Path:
    return Path(os.environ.get("IKMS_DATA_DIR") or REPO / "data") / "ckan"


class Paths:
    def __init__(self, state_dir: Path):
        s = self.state = Path(state_dir).resolve()
        self.marker = s / "state.json"  # written when initialisation completed
        self.portal_json = s / "portal.json"  # written while it runs
        self.ini = s / "ckan.ini"
        self.token = s / "api_token"
        self.admin_password = s / "sysadmin_password"
        self.pg_password = s / "pg_password"
        self.storage = s / "storage"
        self.pg = s / "pg"
        self.pgdata = self.pg / "data"
        self.pg_log = self.pg / "postgres.log"
        self.ckan_log = s / "ckan.log"


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)


def _ckan(venv: Path, paths: Paths, *args, with_config: bool = True, timeout: float = 300) -> str:
    env = {**os.environ, "CKAN_INI": str(paths.ini)}
    env.pop("PYTHONPATH", None)
    config = ["-c", str(paths.ini)] if with_config else []
    r = subprocess.run([str(venv / "bin" / "ckan"), *config, *map(str, args)], cwd=paths.state,
                       env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise PortalError(f"`ckan {' '.join(map(str, args))}` failed ({r.returncode}):\n{r.stdout[-3000:]}\n"
                           f"{r.stderr[-3000:]}")
    return r.stdout


def _pg_ctl(paths: Paths, *args, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(_as_pg_user([pg_bindir() / "pg_ctl", "-D", paths.pgdata, *args]),
                          stdin=subprocess.DEVNULL, capture_output=True, text=True, check=check)


def _pg_start(paths: Paths, attempts: int = 3) -> int:
    last = ""
    for _ in range(attempts):
        port = free_port()
        r = _pg_ctl(paths, "-l", paths.pg_log, "-w", "-t", "60", "-o", f"-p {port}", "start", check=False)
        if r.returncode == 0:
            return port
        last = r.stdout + r.stderr + _tail(paths.pg_log)
    raise PortalError(f"PostgreSQL did not start:\n{last}")


def _pg_stop(paths: Paths) -> None:
    if paths.pgdata.exists() and _pg_ctl(paths, "status", check=False).returncode == 0:
        _pg_ctl(paths, "-m", "fast", "-w", "-t", "60", "stop")


def _pg_pid(paths: Paths) -> int | None:
    try:
        return int((paths.pgdata / "postmaster.pid").read_text().split("\n", 1)[0])
    except (OSError, ValueError):
        return None


def _tail(path: Path, n: int = 4000, log_offset: int = 0) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(log_offset)
            return f.read().decode(errors="replace")[-n:]
    except OSError:
        return ""


def initialise(paths: Paths, venv: Path) -> dict:
    """A new portal in an empty state dir: cluster, database, config, schema, sysadmin and API token.
    Leaves PostgreSQL stopped and writes state.json last (a dir without it is incomplete)."""
    t = {}
    t0 = time.monotonic()
    bindir = pg_bindir()
    paths.state.mkdir(parents=True, exist_ok=True)
    os.chmod(paths.state, 0o711)  # postgres may traverse it; secrets inside are 0600
    _check_traversable(paths.state)
    paths.storage.mkdir(exist_ok=True)
    paths.pg.mkdir(mode=0o700)
    _chown_pg(paths.pg)
    pg_password = secrets.token_urlsafe(24)
    _write_private(paths.pg_password, pg_password + "\n")
    pwfile = paths.pg / "initdb.pw"
    _write_private(pwfile, pg_password + "\n")
    _chown_pg(pwfile)
    try:
        subprocess.run(_as_pg_user([bindir / "initdb", "-D", paths.pgdata, "-U", DB_USER, f"--pwfile={pwfile}",
                                    "--auth=scram-sha-256", "-E", "UTF8", "--locale=C", "--no-sync"]),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True, check=True)
    except subprocess.CalledProcessError as e:
        raise PortalError(f"initdb failed:\n{e.stdout}\n{e.stderr}") from None
    finally:
        pwfile.unlink(missing_ok=True)
    conf = "".join(f"{k} = {v}\n" for k, v in PG_SETTINGS.items())
    subprocess.run(_as_pg_user(["sh", "-c", f"cat >> '{paths.pgdata}/postgresql.conf'"]), input=conf, text=True,
                   check=True)
    t["initdb"] = round(time.monotonic() - t0, 1)
    pg_port = _pg_start(paths)
    try:
        t1 = time.monotonic()
        subprocess.run([bindir / "createdb", "-h", "127.0.0.1", "-p", str(pg_port), "-U", DB_USER, "-E", "UTF8",
                        "-T", "template0", DB_NAME], env={**os.environ, "PGPASSWORD": pg_password},
                       stdin=subprocess.DEVNULL, check=True)
        _ckan(venv, paths, "generate", "config", paths.ini, with_config=False)
        os.chmod(paths.ini, 0o600)
        configure_ini(paths, pg_port=pg_port, ckan_port=free_port())
        t["config"] = round(time.monotonic() - t1, 1)
        t1 = time.monotonic()
        _ckan(venv, paths, "db", "init")
        t["db_init"] = round(time.monotonic() - t1, 1)
        t1 = time.monotonic()
        admin_password = secrets.token_urlsafe(18)
        _write_private(paths.admin_password, admin_password + "\n")
        # create the user first: `sysadmin add` on a missing user prompts, and aborts without a terminal
        _ckan(venv, paths, "user", "add", SYSADMIN, f"email={SYSADMIN}@example.invalid",
              f"password={admin_password}", "fullname=IKMS test sysadmin")
        _ckan(venv, paths, "sysadmin", "add", SYSADMIN)
        token = _ckan(venv, paths, "user", "token", "add", SYSADMIN, "ikms-tests", "-q").strip()
        if not re.fullmatch(r"[A-Za-z0-9._\-]+", token):
            raise PortalError(f"unexpected token output: {token[:80]!r}")
        _write_private(paths.token, token + "\n")
        t["sysadmin_token"] = round(time.monotonic() - t1, 1)
    finally:
        _pg_stop(paths)
    paths.marker.write_text(json.dumps({"initialised": time.strftime("%Y-%m-%dT%H:%M:%S"),
                                        "fingerprint": state_fingerprint(), "sysadmin": SYSADMIN,
                                        "seconds": t}, indent=2) + "\n")
    t["total"] = round(time.monotonic() - t0, 1)
    log(f"initialised {paths.state} in {t['total']} s {t}")
    return t


def configure_ini(paths: Paths, *, pg_port: int, ckan_port: int) -> None:
    pg_password = paths.pg_password.read_text().strip()
    opts = portal_options(pg_port=pg_port, pg_password=pg_password, ckan_port=ckan_port,
                          storage_path=paths.storage)
    _write_private(paths.ini, set_ini_options(paths.ini.read_text(), opts))


def state_fingerprint() -> str:
    """A state dir is reusable as a template only by the same CKAN venv inputs and the same portal script."""
    return hashlib.sha256((venv_fingerprint() + Path(__file__).read_text()).encode()).hexdigest()


def _copy_state(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    # cp -a keeps the cluster's owner (postgres) and modes
    subprocess.run(["cp", "-a", f"{src}/.", str(dst)], check=True)
    os.chmod(dst, 0o711)
    for name in ("portal.json", "ckan.log"):
        (dst / name).unlink(missing_ok=True)
    # the copied storage_path points into the template: configure_ini rewrites it at start


def init_from_template(template: Path, dst: Path, venv: Path) -> None:
    """Initialise dst as a copy of an initialised, stopped state dir (seconds instead of a full initialisation),
    building the template first when it is missing or stale (the CKAN venv inputs or this script changed).
    A lock file serialises builders and copiers, so a template is never copied while being rebuilt."""
    template = Path(template).resolve()
    template.parent.mkdir(parents=True, exist_ok=True)
    with open(template.parent / f".{template.name}.lock", "w") as lockf:
        fcntl.flock(lockf, fcntl.LOCK_EX)
        fresh = False
        with contextlib.suppress(ValueError, OSError):
            fresh = json.loads((template / "state.json").read_text()).get("fingerprint") == state_fingerprint()
        if not fresh:
            if template.exists():
                _remove_state(Paths(template))
            log(f"building the portal template {template}")
            tmp = template.with_name(template.name + f".building-{os.getpid()}")
            shutil.rmtree(tmp, ignore_errors=True)
            try:
                initialise(Paths(tmp), venv)
                tmp.rename(template)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                raise
        _copy_state(template, dst)


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _api_ok(url: str, timeout: float = 2.0) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/3/action/status_show", timeout=timeout) as r:
            return r.status == 200 and json.load(r).get("success") is True
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _spawn_ckan(venv: Path, paths: Paths, port: int) -> subprocess.Popen:
    env = {**os.environ, "CKAN_INI": str(paths.ini)}
    env.pop("PYTHONPATH", None)
    logf = open(paths.ckan_log, "ab")
    try:
        # -r no reloader (one process), -t a thread per request, -D no Werkzeug debugger (errors stay JSON)
        return subprocess.Popen(
            [str(venv / "bin" / "ckan"), "-c", str(paths.ini), "run", "-H", "127.0.0.1", "-p", str(port),
             "-r", "-t", "-D"],
            cwd=paths.state, env=env, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            start_new_session=True)  # its own process group: stop kills exactly it
    finally:
        logf.close()


def start_portal(state_dir: Path | None = None, *, venv: Path | None = None, template: Path | None = None,
                 timeout: float = 180) -> Portal:
    """Serve the portal of state_dir (initialising it first when new, from `template` when given)."""
    t0 = time.monotonic()
    venv = Path(venv or default_venv())
    paths = Paths(state_dir or default_state_dir())
    seconds: dict = {}
    if paths.portal_json.exists():
        info = json.loads(paths.portal_json.read_text())
        if _alive(info["pids"].get("ckan")) and _api_ok(info["url"]):
            log(f"already running at {info['url']}")
            return Portal(**info)
        stop_portal(paths.state, keep=True)  # stale: clean up what is left, keep the data
    if not (venv / "bin" / "ckan").exists():
        raise PortalError(f"no CKAN environment at {venv}: run `make ckan-setup` (python ckan/portal.py setup)")
    if not paths.marker.exists():
        if paths.state.exists() and any(paths.state.iterdir()):
            raise PortalError(f"{paths.state} exists but holds no initialised portal (no state.json): remove it")
        t1 = time.monotonic()
        try:
            if template:
                init_from_template(Path(template), paths.state, venv)
                seconds["from_template"] = round(time.monotonic() - t1, 1)
            else:
                seconds["initialise"] = initialise(paths, venv)["total"]
        except BaseException:
            shutil.rmtree(paths.state, ignore_errors=True)  # a half-initialised dir is of no use
            raise
    _check_traversable(paths.state)
    t1 = time.monotonic()
    pg_port = _pg_start(paths)
    seconds["postgres_start"] = round(time.monotonic() - t1, 1)
    proc: subprocess.Popen | None = None
    try:
        t1 = time.monotonic()
        url = ""
        for _attempt in range(3):
            ckan_port = free_port()
            configure_ini(paths, pg_port=pg_port, ckan_port=ckan_port)
            url = f"http://127.0.0.1:{ckan_port}"
            log_offset = paths.ckan_log.stat().st_size if paths.ckan_log.exists() else 0
            proc = _spawn_ckan(venv, paths, ckan_port)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and proc.poll() is None and not _api_ok(url):
                time.sleep(0.25)
            if proc.poll() is None and _api_ok(url):
                break
            if proc.poll() is None:  # alive but not answering within the timeout
                _kill_group(proc.pid)
                raise PortalError(f"CKAN did not answer within {timeout} s:\n{_tail(paths.ckan_log)}")
            if "Address already in use" not in _tail(paths.ckan_log, log_offset=log_offset):
                raise PortalError(f"CKAN exited with {proc.returncode}:\n{_tail(paths.ckan_log)}")
        else:
            raise PortalError(f"CKAN could not bind a port:\n{_tail(paths.ckan_log)}")
        seconds["ckan_start"] = round(time.monotonic() - t1, 1)
    except BaseException:
        if proc is not None:
            _kill_group(proc.pid)
        _pg_stop(paths)
        raise
    seconds["total"] = round(time.monotonic() - t0, 1)
    portal = Portal(url=url, api_token_file=str(paths.token), state_dir=str(paths.state), ckan_ini=str(paths.ini),
                    sysadmin=SYSADMIN, pids={"ckan": proc.pid, "postgres": _pg_pid(paths)},
                    ports={"ckan": ckan_port, "postgres": pg_port},
                    logs={"ckan": str(paths.ckan_log), "postgres": str(paths.pg_log)}, seconds=seconds,
                    venv=str(venv), started_at=time.strftime("%Y-%m-%dT%H:%M:%S"))
    _write_private(paths.portal_json, json.dumps(asdict(portal), indent=2) + "\n")
    log(f"serving {url} (started in {seconds['total']} s: {seconds})")
    return portal


def _kill_group(pid: int, grace: float = 10) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while _alive(pid) and time.monotonic() < deadline:
        _reap(pid)
        time.sleep(0.05)
    if _alive(pid):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)


def _remove_state(paths: Paths) -> None:
    if not paths.state.exists():
        return
    if not (paths.marker.exists() or paths.pg.exists() or paths.ini.exists()):
        raise PortalError(f"refusing to remove {paths.state}: it does not look like a portal state dir")
    shutil.rmtree(paths.state)


def stop_portal(state_dir: Path | None = None, *, keep: bool = False) -> dict:
    """Kill CKAN, stop PostgreSQL (fast shutdown: clean, no recovery at next start) and remove the state dir
    unless keep. Safe to call on a half-started or already stopped portal."""
    t0 = time.monotonic()
    paths = Paths(state_dir or default_state_dir())
    if paths.portal_json.exists():
        with contextlib.suppress(ValueError, OSError, KeyError):
            pid = json.loads(paths.portal_json.read_text())["pids"].get("ckan")
            if pid:
                _kill_group(int(pid))
        paths.portal_json.unlink(missing_ok=True)
    _pg_stop(paths)
    if not keep:
        _remove_state(paths)
    secs = round(time.monotonic() - t0, 1)
    log(f"stopped{'' if keep else ' and removed'} {paths.state} in {secs} s")
    return {"seconds": secs, "removed": not keep}


def _descendants(root: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                ppid = int((d / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(d.name))
    out, todo = set(), [root]
    while todo:
        p = todo.pop()
        if p not in out and _alive(p):
            out.add(p)
            todo.extend(children.get(p, []))
    return out


def memory_mb(pids: set[int]) -> dict:
    """RSS and PSS (shared pages split between processes: the honest total) in MB."""
    rss = pss = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
                if line.startswith("Rss:"):
                    rss += int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss += int(line.split()[1])
    return {"rss_mb": round(rss / 1024, 1), "pss_mb": round(pss / 1024, 1), "processes": len(pids)}


def status(state_dir: Path | None = None) -> dict:
    paths = Paths(state_dir or default_state_dir())
    if not paths.portal_json.exists():
        return {"state_dir": str(paths.state), "running": False, "initialised": paths.marker.exists()}
    info = json.loads(paths.portal_json.read_text())
    ckan_pids = _descendants(info["pids"]["ckan"]) if info["pids"].get("ckan") else set()
    pg_pids = _descendants(info["pids"]["postgres"]) if info["pids"].get("postgres") else set()
    info.update(running=_alive(info["pids"].get("ckan")) and _api_ok(info["url"]),
                memory={"ckan": memory_mb(ckan_pids), "postgres": memory_mb(pg_pids),
                        "total": memory_mb(ckan_pids | pg_pids)})
    return info


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="ckan/portal.py", description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("setup", help="create or refresh the CKAN venv from ckan/requirements.lock")
    p.add_argument("--venv", type=Path)
    p.add_argument("--force", action="store_true", help="reinstall even when the venv is up to date")
    for name, helptext in (("start", "initialise (when new) and serve the portal"),
                           ("stop", "stop the portal and remove its state"), ("status", "print the portal's JSON")):
        p = sub.add_parser(name, help=helptext)
        p.add_argument("--state-dir", type=Path, help="default: $IKMS_DATA_DIR/ckan")
        if name == "start":
            p.add_argument("--venv", type=Path)
            p.add_argument("--template", type=Path, help="initialise by copying this prepared state (built once)")
            p.add_argument("--timeout", type=float, default=180)
        if name == "stop":
            p.add_argument("--keep", action="store_true", help="keep the state: the next start serves it again")
    a = ap.parse_args(argv)
    try:
        return _main(a)
    except PortalError as e:
        log(f"error: {e}")
        return 1


def _main(a: argparse.Namespace) -> int:
    if a.cmd == "setup":
        ensure_venv(a.venv, force=a.force)  # logs what it did and its time
    elif a.cmd == "start":
        venv = a.venv or default_venv()
        ensure_venv(venv)
        print(json.dumps(asdict(start_portal(a.state_dir, venv=venv, template=a.template, timeout=a.timeout)),
                         indent=2))
    elif a.cmd == "stop":
        print(json.dumps(stop_portal(a.state_dir, keep=a.keep)))
    else:
        info = status(a.state_dir)
        print(json.dumps(info, indent=2))
        return 0 if info.get("running") else 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
