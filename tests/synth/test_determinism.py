"""Same arguments, same bytes; another seed, another city. Also the command line."""

from __future__ import annotations

import hashlib
import json

from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.synth import generate


def _digest(root) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_other_seed_differs(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    generate(a, 400, 3, 5)
    generate(b, 400, 3, 5)
    generate(c, 400, 3, 6)
    da, db, dc = _digest(a), _digest(b), _digest(c)
    assert len(da) > 40
    assert da == db
    assert set(da) == set(dc)
    assert da["person.csv"] != dc["person.csv"] and da["venue_scan/2020-01-10.csv"] != dc["venue_scan/2020-01-10.csv"]
    params = json.loads((a / "truth" / "params.json").read_text())
    assert params["params"]["seed"] == 5 and params["counts"]["person"] >= 400


def test_cli_writes_a_city(tmp_path):
    out = tmp_path / "city"
    result = CliRunner().invoke(cli, ["synth", "--out", str(out), "--persons", "300", "--days", "2",
                                      "--seed", "3", "--start", "2021-02-01", "--dirty-rate", "0.01"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[: result.output.rindex("}") + 1])
    assert summary["persons"] == 300 and summary["days"] == 2
    assert (out / "cell_ping" / "2021-02-02.csv").exists()
    assert (out / "manifest.yaml").exists()
