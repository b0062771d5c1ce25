"""The CLI is a thin layer: person_keys in, rendered rows out."""

from __future__ import annotations

import json

from click.testing import CliRunner

from epicenter.cli import cli

from .test_queries import _outbreak

KEYS = {name: name.lower() * 64 if name in "ABCDEF" else f"{ord(name):064x}" for name in "PQRSUA"}


def _write(warehouse):
    s = _outbreak()
    for table in ("stays", "case_reports", "person"):
        for row in s.rows[table]:
            row["person_key"] = KEYS[row["person_key"]]
    s.leg(KEYS["Q"], "K1", "10A", "01-15 08:00", "01-15 09:00").leg(KEYS["A"], "K1", "11A", "01-15 08:00", "01-15 09:00")
    s.write(warehouse)


def _run(settings, *args):
    result = CliRunner().invoke(cli, ["--home", str(settings.home), *args])
    assert result.exit_code == 0, result.output
    return result.output


def test_contacts_near_cotravel_source_chains(settings, warehouse):
    _write(warehouse)
    rows = json.loads(_run(settings, "contacts", "--case", KEYS["Q"], "--as-of", "2020-01-30",
                           "--format", "json"))
    assert {(r["contact_key"], r["setting"], r["tier"]) for r in rows} == {
        (KEYS["P"], "household", "close"), (KEYS["R"], "venue", "close"),
        (KEYS["A"], "rail", "close")}
    out = _run(settings, "near", "--venue", "V1", "--from", "2020-01-15 00:00",
               "--to", "2020-01-16 00:00", "--format", "csv")
    assert out.count("\n") == 3 and KEYS["R"] in out
    out = _run(settings, "cotravel", "--train", "K1", "--date", "2020-01-15", "--case", KEYS["Q"],
               "--format", "json")
    assert {r["tier"] for r in json.loads(out)} == {"case", "close"}
    top = json.loads(_run(settings, "source", "--case", KEYS["R"], "--as-of", "2020-01-30",
                          "--format", "json"))
    assert top[0]["candidate_key"] == KEYS["Q"]
    chains = json.loads(_run(settings, "chains", "--as-of", "2020-01-30", "--format", "json"))
    assert chains["clusters"][0]["size"] == 3
    assert "<graphml" in _run(settings, "chains", "--as-of", "2020-01-30", "--format", "graphml")


def test_usage_errors(settings, warehouse):
    _write(warehouse)
    runner = CliRunner()
    r = runner.invoke(cli, ["--home", str(settings.home), "contacts"])
    assert r.exit_code == 2 and "--case" in r.output
    r = runner.invoke(cli, ["--home", str(settings.home), "contacts", "--case", KEYS["U"] * 1,
                            "--reveal"])
    assert r.exit_code == 2 and "--reason" in r.output
    r = runner.invoke(cli, ["--home", str(settings.home), "contacts", "--case", "f" * 64])
    assert r.exit_code == 1 and "no case report" in r.output
    r = runner.invoke(cli, ["--home", str(settings.home), "cotravel", "--date", "2020-01-15"])
    assert r.exit_code == 2
