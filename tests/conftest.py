"""Shared test settings: a fixed pseudonymisation key, and every test's data in its own directory."""
from __future__ import annotations

import os

import pytest

TEST_KEY_HEX = "0f1e2d3c4b5a69788796a5b4c3d2e1f000112233445566778899aabbccddeeff"


@pytest.fixture(autouse=True)
def _fixed_key(monkeypatch):
    monkeypatch.setenv("IKMS_PSEUDONYM_KEY", TEST_KEY_HEX)


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A fresh IKMS_DATA_DIR for one test."""
    d = tmp_path / "data"
    d.mkdir()
    monkeypatch.setenv("IKMS_DATA_DIR", str(d))
    return d


def set_data_dir(path) -> None:
    """For module-scoped fixtures, which cannot use monkeypatch."""
    os.environ["IKMS_DATA_DIR"] = str(path)
    os.environ["IKMS_PSEUDONYM_KEY"] = TEST_KEY_HEX
