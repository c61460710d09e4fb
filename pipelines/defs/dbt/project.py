"""The dbt project as Dagster sees it, and the preparation of its manifest.

Kept in its own module (no assets here): `@dbt_assets` reads target/<ikms>/manifest.json at import, so whatever
prepares the manifest must not import the assets.

The manifest is prepared only when it is missing or stale: a fingerprint of everything that shapes it (the
indicator catalogue and its generator, the dbt models, macros, tests, seeds and project files) is stored beside
it, and `ensure_manifest()` regenerates the indicator models and runs `dbt parse` only when the fingerprint
changed. Never on every step (DAGSTER_IS_DEV_CLI would make `prepare_if_dev` re-parse in every process).
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

from dagster_dbt import DbtProject

from pipelines import settings

# dagster-dbt's own target folder inside the dbt project: apart from target/ (people running dbt by hand), so
# their runs never overwrite the manifest Dagster reads.
TARGET = Path("target") / "dagster"
STAMP = "ikms_fingerprint.txt"
# What the manifest depends on (relative to the dbt project); generated/ is derived from the catalogue.
_INPUT_DIRS = ("models", "macros", "tests", "snapshots", "analyses")
_INPUT_FILES = ("dbt_project.yml", "profiles.yml", "packages.yml", "dependencies.yml")


def project_dir() -> Path:
    """dbt_project/ of the repository; IKMS_DBT_PROJECT_DIR points elsewhere (tests on a temporary copy)."""
    return Path(os.environ.get("IKMS_DBT_PROJECT_DIR", settings.PROJECT_ROOT / "dbt_project")).resolve()


def dbt_executable() -> str:
    """The venv's dbt by full path: a venv python called without activation has no dbt on PATH."""
    exe = Path(sys.executable).parent / "dbt"
    return str(exe) if exe.exists() else "dbt"


def _catalogue_dir() -> Path:
    """models/indicators/; IKMS_CATALOGUE_DIR points elsewhere (tests on a temporary copy)."""
    return Path(os.environ.get("IKMS_CATALOGUE_DIR", settings.PROJECT_ROOT / "models" / "indicators")).resolve()


def _generator_dir() -> Path:
    return settings.PROJECT_ROOT / "pipelines" / "indicators"


def _files(root: Path, skip: Path | None = None):
    if not root.exists():
        return
    for p in sorted(root.rglob("*")):
        if p.is_file() and (skip is None or skip not in p.parents) and "__pycache__" not in p.parts:
            yield p


def fingerprint(dbt_dir: Path | None = None) -> str:
    """sha256 over the paths and contents of every manifest input (generated indicator models excluded: they
    follow from the catalogue and the generator, which are included)."""
    dbt_dir = dbt_dir or project_dir()
    generated = dbt_dir / "models" / "indicators" / "generated"
    h = hashlib.sha256()
    roots = [(dbt_dir / d, dbt_dir) for d in _INPUT_DIRS] + [(_catalogue_dir(), _catalogue_dir()),
                                                              (_generator_dir(), settings.PROJECT_ROOT),
                                                              (settings.SEEDS_DIR, settings.PROJECT_ROOT)]
    for root, base in roots:
        for p in _files(root, skip=generated):
            h.update(p.relative_to(base).as_posix().encode() + b"\0" + p.read_bytes() + b"\0")
    for name in _INPUT_FILES:
        p = dbt_dir / name
        if p.exists():
            h.update(name.encode() + b"\0" + p.read_bytes() + b"\0")
    return h.hexdigest()


def generate_indicator_models() -> None:
    """Write dbt_project/models/indicators/generated/ from the catalogue (pipelines.indicators.generate)."""
    try:
        from pipelines.indicators import generate
    except ImportError:  # no catalogue generator: the dbt project is used as it is
        return
    catalogue = _catalogue_dir()
    if not any(catalogue.glob("[0-9]_*/*.yaml")):  # an empty catalogue: nothing to generate
        return
    generate(catalogue_dir=catalogue, out_dir=project_dir() / "models" / "indicators" / "generated")


def ensure_manifest(force: bool = False, progress=None) -> Path:
    """Make target/dagster/manifest.json current; returns its path. Cheap when nothing changed (a hash of a few
    hundred small files). A file lock keeps concurrent processes (pytest workers, a code server) from parsing
    into the same folder at once."""
    dbt_dir = project_dir()
    target = dbt_dir / TARGET
    target.mkdir(parents=True, exist_ok=True)
    manifest = target / "manifest.json"
    stamp = target / STAMP
    with open(target / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            generated = dbt_dir / "models" / "indicators" / "generated"
            if (not force and manifest.exists() and stamp.exists() and stamp.read_text().strip() == fingerprint(dbt_dir)
                    and (generated.exists() or not any(_catalogue_dir().glob("[0-9]_*/*.yaml")))):
                return manifest
            if progress:
                progress("  dbt: the models or the indicator catalogue changed: regenerating and parsing")
            generate_indicator_models()
            digest = fingerprint(dbt_dir)  # after generation (the generator may have touched nothing we hash)
            env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
            env.setdefault("IKMS_DATA_DIR", str(settings.data_dir()))  # profiles.yml renders it even to parse
            proc = subprocess.run(
                [dbt_executable(), "parse", "--quiet", "--project-dir", str(dbt_dir), "--profiles-dir", str(dbt_dir),
                 "--target-path", str(target)],
                cwd=dbt_dir, env=env, capture_output=True, text=True)
            if proc.returncode != 0:
                raise RuntimeError(f"dbt parse failed in {dbt_dir}:\n{proc.stdout[-4000:]}\n{proc.stderr[-2000:]}")
            stamp.write_text(digest + "\n")
            return manifest
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


PARTIAL_PARSE = "partial_parse.msgpack"


def _kept_partial_parse() -> Path:
    return settings.data_dir() / "dbt_target" / PARTIAL_PARSE


def seed_partial_parse(target: Path, prepared: Path) -> None:
    """Start a dbt invocation in `target` from this data directory's last partial-parse file, else from the
    prepared one (`prepared`: the folder of ensure_manifest's manifest). dbt checks the file itself (project
    files, --vars, and the profile, i.e. the warehouse path): the prepared file, parsed for another data
    directory, made every invocation parse the whole project (6.5 s against 2.6 s); a stale file only costs
    what it changed."""
    source = _kept_partial_parse()
    if not source.exists():
        source = prepared / PARTIAL_PARSE
    if source.exists():
        shutil.copyfile(source, target / PARTIAL_PARSE)


def keep_partial_parse(target: Path) -> None:
    """After a dbt invocation in `target`: its partial-parse file becomes the data directory's (atomically)."""
    produced = target / PARTIAL_PARSE
    if not produced.exists():
        return
    kept = _kept_partial_parse()
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = kept.with_name(f".{PARTIAL_PARSE}.{os.getpid()}")
    shutil.copyfile(produced, tmp)
    os.replace(tmp, kept)


def dbt_project() -> DbtProject:
    return DbtProject(project_dir=project_dir(), profiles_dir=project_dir(), target_path=TARGET)
