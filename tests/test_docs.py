"""Docs are checked: the CLI reference matches the commands, the README's commands exist."""

import re
from pathlib import Path

from epicenter.cli import cli
from epicenter.cli.reference import render

ROOT = Path(__file__).resolve().parents[1]


def test_cli_reference_is_current():
    doc = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert doc == render(cli), "docs/cli.md is stale: python -m epicenter.cli.reference > docs/cli.md"


def test_readme_names_only_real_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    used = set(re.findall(r"^epicenter (?:--\S+ \S+ )*([a-z][a-z-]*)", readme, re.M))
    assert used, "the README tours no command"
    assert used <= set(cli.commands), used - set(cli.commands)


def test_readme_gives_the_two_setup_commands():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "make demo" in readme and "make test" in readme
    ci = (ROOT / ".ci" / "run").read_text()
    assert "make test" in ci
