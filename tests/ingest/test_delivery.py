"""Deliveries and commands: manifest or file names, reference data first, quality report."""

from __future__ import annotations

import json

from click.testing import CliRunner

from epicenter.cli import cli
from epicenter.ingest.delivery import plan_delivery
from tests.ingest.builders import id_no, phone, reference_delivery, write_csv


def _events(root):
    write_csv(root / "cell_signaling" / "2024-01-01.csv", ["phone", "cell_id", "start_time", "end_time"], [
        [phone(0), "T1", "2024-01-01 08:00", "2024-01-01 09:00"],
        [phone(1), "T9", "2024-01-01 08:00", "2024-01-01 09:00"]])
    write_csv(root / "venue_scan.csv", ["id_no", "phone", "venue_code", "scan_time", "direction"], [
        [id_no(0), "", "V1", "2024-01-01 10:00", "in"]])
    (root / "truth").mkdir()
    write_csv(root / "truth" / "notes.csv", ["a"], [["b"]])


def test_files_are_recognised_by_name_and_references_load_first(tmp_path):
    root = reference_delivery(tmp_path / "d")
    _events(root)
    items, ignored = plan_delivery(root)
    kinds = [i.kind for i in items]
    assert kinds[:7] == ["area", "station", "cell_tower", "venue", "merchant", "meter", "person"]
    assert kinds[7:] == ["cell_signaling", "venue_scan"]
    assert [p.name for p in ignored] == ["truth"]


def test_manifest_lists_files_with_mappings(tmp_path):
    root = reference_delivery(tmp_path / "d")
    write_csv(root / "exports" / "scans_gbk.csv", ["证件号", "场所码", "扫码时间"],
              [[id_no(0), "V1", "2024/01/01 10:00"]], encoding="gbk")
    (root / "maps").mkdir()
    (root / "maps" / "scan.yaml").write_text(
        "kind: venue_scan\nencoding: gbk\ntime_format: '%Y/%m/%d %H:%M'\n"
        "columns: {id_no: 证件号, venue_code: 场所码, scan_time: 扫码时间}\n", encoding="utf-8")
    (root / "manifest.yaml").write_text(
        "files:\n  - {path: exports/scans_gbk.csv, kind: venue_scan, mapping: maps/scan.yaml}\n"
        "  - {path: person.csv, kind: person}\n  - {path: venue.csv, kind: venue}\n"
        "  - {path: area.csv, kind: area}\n", encoding="utf-8")
    items, _ = plan_delivery(root)
    assert [i.kind for i in items] == ["area", "venue", "person", "venue_scan"]
    assert items[-1].mapping.encoding == "gbk"


def test_cli_ingest_dir_then_quality(tmp_path):
    root = reference_delivery(tmp_path / "d")
    _events(root)
    home = tmp_path / "home"
    runner = CliRunner()
    res = runner.invoke(cli, ["--home", str(home), "ingest-dir", str(root)])
    assert res.exit_code == 0, res.output
    assert "cell_signaling" in res.output and "quarantined 1" in res.output
    again = runner.invoke(cli, ["--home", str(home), "ingest-dir", str(root)])
    assert again.output.count("already ingested") == 9
    res = runner.invoke(cli, ["--home", str(home), "quality", "--format", "json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    by = {s["source"]: s for s in report["sources"]}
    sig = by["cell_signaling"]
    assert (sig["rows_read"], sig["rows_loaded"], sig["rows_quarantined"]) == (2, 1, 1)
    assert sig["invariant_holds"] and sig["unresolved_references"] == {"cell_id": 1}
    assert sig["volume_by_day"] == {"2024-01-01": 1}
    assert sig["coverage"] == 0.25 and sig["identity_linkage"] == 1.0
    assert sig["quarantine_reasons"][0]["reason"] == "cell_id: unknown cell_tower #"
    assert sig["delivery_lag_hours"]["p50"] > 0
    assert by["area"]["completeness"]["parent_code"] == round(2 / 3, 4)
    html = runner.invoke(cli, ["--home", str(home), "quality", "--format", "html"])
    assert html.exit_code == 0 and "<h2>cell_signaling</h2>" in html.output
    table = runner.invoke(cli, ["--home", str(home), "quality"])
    assert table.exit_code == 0 and "cell_signaling" in table.output


def test_cli_ingest_reports_a_broken_file_and_continues(tmp_path):
    root = reference_delivery(tmp_path / "d")
    bad = write_csv(tmp_path / "bad.csv", ["phone", "cell"], [[phone(0), "T1"]])
    home = tmp_path / "home"
    runner = CliRunner()
    runner.invoke(cli, ["--home", str(home), "ingest", "cell_tower", str(root / "cell_tower.csv")])
    good = write_csv(tmp_path / "good" / "a.csv", ["phone", "cell_id", "start_time", "end_time"],
                     [[phone(0), "T1", "2024-01-01 08:00", "2024-01-01 09:00"]])
    res = runner.invoke(cli, ["--home", str(home), "ingest", "cell_signaling", str(bad),
                              str(good.parent)])
    assert res.exit_code == 1
    assert "missing required column(s) for cell_signaling: cell_id, start_time, end_time" in res.output
    assert "read 1 = loaded 1" in res.output


def test_parquet_delivery_with_typed_columns(tmp_path, loaded):
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq

    from epicenter.ingest.pipeline import ingest_file
    from tests.ingest.conftest import quarantine, query

    path = tmp_path / "cell_signaling.parquet"
    pq.write_table(pa.table({
        "phone": [phone(0), phone(1), "bad"],
        "cell_id": ["T1", "T2", "T1"],
        "start_time": [dt.datetime(2024, 1, 1, 8), dt.datetime(2024, 1, 1, 9, 0, 0, 500000), None],
        "end_time": [dt.datetime(2024, 1, 1, 9), dt.datetime(2024, 1, 1, 10), dt.datetime(2024, 1, 1, 10)],
        "operator": ["cmcc", "cmcc", "cmcc"],
    }), path)
    rec = ingest_file(loaded, "cell_signaling", path)
    assert (rec["rows_read"], rec["rows_loaded"], rec["rows_quarantined"]) == (3, 2, 1)
    assert quarantine(loaded) == {3: ["phone malformed: expected 11 digits starting with 1",
                                      "missing start_time"]}
    starts = [r["start_time"] for r in query(loaded, "SELECT start_time FROM stays ORDER BY 1")]
    assert starts == [dt.datetime(2024, 1, 1, 8), dt.datetime(2024, 1, 1, 9, 0, 0, 500000)]
