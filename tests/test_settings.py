from pathlib import Path

from epicenter.settings import Settings, load_settings


def test_defaults():
    s = load_settings()
    assert s.home == Path("./epicenter-data")
    assert s.engine == "duckdb"


def test_precedence_flag_over_env_over_toml_over_default(tmp_path, monkeypatch):
    toml = tmp_path / "epicenter.toml"
    toml.write_text('home = "/from/toml"\nthreads = 7\nmin_cell_count = 9\n')
    monkeypatch.setenv("EPICENTER_CONFIG", str(toml))
    s = load_settings()
    assert s.home == Path("/from/toml") and s.threads == 7 and s.min_cell_count == 9

    monkeypatch.setenv("EPICENTER_HOME", "/from/env")
    monkeypatch.setenv("EPICENTER_THREADS", "3")
    s = load_settings()
    assert s.home == Path("/from/env") and s.threads == 3 and s.min_cell_count == 9

    s = load_settings(home=Path("/from/flag"), threads=None)
    assert s.home == Path("/from/flag") and s.threads == 3


def test_every_setting_has_help():
    for name, field in Settings.model_fields.items():
        assert field.description, f"setting {name} has no help text"
