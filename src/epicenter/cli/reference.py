"""Render the CLI reference (docs/cli.md) from the commands' own --help texts.

`python -m epicenter.cli.reference > docs/cli.md` regenerates it; a test fails when the
file and the commands disagree, so the reference cannot go stale.
"""

from __future__ import annotations

import click

HEADER = """# CLI reference

Generated from `--help` by `python -m epicenter.cli.reference > docs/cli.md`;
`tests/test_docs.py` fails when it is out of date.
"""


def _commands(group: click.Group, prefix: tuple[str, ...] = ()):
    for name in sorted(group.commands):
        command = group.commands[name]
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from _commands(command, (*prefix, name))


def render(cli: click.Group) -> str:
    parts = [HEADER]
    # subcommand contexts hang below the root one, as when run, so that they inherit its
    # settings (e.g. ``-h`` as a help option) whatever ran before in this process
    root = click.Context(cli, info_name="epicenter", terminal_width=100, **cli.context_settings)
    parts.append("## epicenter\n\n```\n" + cli.get_help(root) + "\n```\n")
    for path, command in _commands(cli):
        info = "epicenter " + " ".join(path)
        ctx = click.Context(command, info_name=info, parent=root)
        parts.append(f"## {info}\n\n```\n{command.get_help(ctx)}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    from epicenter.cli import cli

    click.echo(render(cli), nl=False)
