"""The CLI through click's in-process runner: every command has --help; doctor reports."""

import json

import click
from click.testing import CliRunner

from epicenter.cli import cli


def _walk(group: click.Group, prefix: tuple[str, ...] = ()):
    for name, command in group.commands.items():
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _walk(command, (*prefix, name))


def test_every_command_has_help():
    runner = CliRunner()
    names = []
    for path, command in _walk(cli):
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)
        assert command.help or command.short_help, f"{' '.join(path)} has no help text"
        names.append(" ".join(path))
    assert "doctor" in names


def test_doctor_json_reports_engines_and_empty_warehouse(tmp_path):
    result = CliRunner().invoke(cli, ["--home", str(tmp_path / "h"), "doctor", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["engines"]["duckdb"]["available"] is True
    assert report["warehouse"].startswith("empty")
    assert report["home"].endswith("/h")


def test_version():
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and "epicenter" in result.output


def test_python_dash_m(tmp_path):
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "epicenter", "--help"], capture_output=True,
                         text=True, check=True)
    assert "doctor" in out.stdout
