"""Shared fixtures: every test gets its own data home and pseudonymisation secret."""

from __future__ import annotations

import pytest

from epicenter.settings import load_settings


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path_factory, monkeypatch):
    secret_dir = tmp_path_factory.mktemp("secret")
    monkeypatch.setenv("EPICENTER_SECRET_FILE", str(secret_dir / "secret"))
    monkeypatch.delenv("EPICENTER_HOME", raising=False)
    monkeypatch.delenv("EPICENTER_ENGINE", raising=False)
    monkeypatch.setenv("EPICENTER_CONFIG", str(secret_dir / "absent.toml"))


@pytest.fixture
def settings(tmp_path):
    return load_settings(home=tmp_path / "home")


@pytest.fixture
def warehouse(settings):
    return settings.warehouse.init()
