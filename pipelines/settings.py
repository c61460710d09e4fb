"""Where things live. Every generated file goes under one data directory (IKMS_DATA_DIR, default ./data)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
CONTRACTS_DIR = PROJECT_ROOT / "models" / "contracts"
SEEDS_DIR = PROJECT_ROOT / "seeds"
REFERENCE_DIR = PROJECT_ROOT / "reference"

KEY_ENV = "IKMS_PSEUDONYM_KEY"


def data_dir() -> Path:
    return Path(os.environ.get("IKMS_DATA_DIR", PROJECT_ROOT / "data")).resolve()


def landing_dir() -> Path:
    return data_dir() / "landing"


def warehouse_path() -> Path:
    return data_dir() / "warehouse.duckdb"


def pseudonym_key() -> bytes:
    """The HMAC key for personal codes: from IKMS_PSEUDONYM_KEY (hex), else the demo key file in the
    data directory. A real deployment sets the variable; the key is never stored in the warehouse."""
    value = os.environ.get(KEY_ENV)
    if value:
        return bytes.fromhex(value.strip())
    key_file = data_dir() / "pseudonym.key"
    if key_file.exists():
        return bytes.fromhex(key_file.read_text().strip())
    raise RuntimeError(
        f"No pseudonymisation key: set {KEY_ENV} (64 hex characters) or run the demo generator, "
        f"which writes {key_file}"
    )


def ensure_demo_key() -> Path:
    """Create the demo key file (once) so that the demo country can be ingested without set-up."""
    key_file = data_dir() / "pseudonym.key"
    if not key_file.exists():
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_hex(32) + "\n")
        key_file.chmod(0o600)
    return key_file
