"""Identity: one key per person across sources; clear identifiers only in the vault."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from epicenter.ingest.identity import resolve_key, reveal
from epicenter.ingest.pipeline import ingest_file
from epicenter.privacy import Pseudonymizer
from tests.ingest.builders import id_no, persons, phone, write_csv
from tests.ingest.conftest import query


def _events(settings, tmp_path):
    write = lambda name, header, rows: write_csv(tmp_path / f"{name}.csv", header, rows)  # noqa: E731
    ingest_file(settings, "cell_signaling", write("cell_signaling", [
        "phone", "cell_id", "start_time", "end_time"], [
        [phone(0), "T1", "2024-01-01 08:00", "2024-01-01 09:00"],
        [phone(77), "T2", "2024-01-01 08:00", "2024-01-01 09:00"],    # not in the registry
        ["138000", "T2", "2024-01-01 08:00", "2024-01-01 09:00"]]))   # malformed: quarantined
    ingest_file(settings, "venue_scan", write("venue_scan", [
        "id_no", "phone", "venue_code", "scan_time", "direction"], [
        [id_no(0), "", "V1", "2024-01-01 10:00", "in"],
        ["", phone(0), "V1", "2024-01-01 10:40", "out"],
        [id_no(55), "", "V2", "2024-01-01 10:00", ""]]))              # unregistered id_no
    ingest_file(settings, "rail_ticket", write("rail_ticket", [
        "id_no", "train_no", "travel_date", "car_no", "seat_no", "from_station", "to_station",
        "dep_time", "arr_time"], [
        [id_no(0), "G1", "2024-01-02", "3", "7A", "BJP", "SHH", "2024-01-02 08:00",
         "2024-01-02 12:00"]]))


def test_phone_and_id_no_meet_under_one_key(loaded, tmp_path):
    _events(loaded, tmp_path)
    pseudo = Pseudonymizer.from_settings(loaded)
    key = pseudo.id_key(id_no(0))
    by_source = query(loaded, "SELECT source, list(DISTINCT person_key) AS keys FROM ("
                              "SELECT source, person_key FROM stays UNION ALL "
                              "SELECT source, person_key FROM legs) GROUP BY source ORDER BY source")
    keys = {r["source"]: set(r["keys"]) for r in by_source}
    assert key in keys["cell_signaling"] and key in keys["rail_ticket"]
    assert keys["venue_scan"] == {key, pseudo.id_key(id_no(55))}  # in by id, out by phone: paired
    assert pseudo.phone_key(phone(77)) in keys["cell_signaling"]
    registered = {r["person_key"]: r["registered"] for r in query(loaded, "SELECT * FROM person")}
    assert registered[key] is True
    assert registered[pseudo.phone_key(phone(77))] is False
    assert registered[pseudo.id_key(id_no(55))] is False
    household = query(loaded, "SELECT count(DISTINCT household_key) AS n FROM person "
                              "WHERE registered")[0]["n"]
    assert household == len(persons()) - 1  # persons 0 and 1 share a home


def test_resolve_key_accepts_id_no_phone_or_key(loaded, tmp_path):
    _events(loaded, tmp_path)
    pseudo = Pseudonymizer.from_settings(loaded)
    key = pseudo.id_key(id_no(0))
    assert resolve_key(loaded, id_no(0)) == key
    assert resolve_key(loaded, phone(0)) == key                      # linked by the registry
    assert resolve_key(loaded, phone(77)) == pseudo.phone_key(phone(77))
    assert resolve_key(loaded, key) == key
    with pytest.raises(ValueError, match="neither an id_no"):
        resolve_key(loaded, "Zhang San")


def test_reveal_returns_identifiers_and_audits_the_reason(loaded, tmp_path):
    _events(loaded, tmp_path)
    pseudo = Pseudonymizer.from_settings(loaded)
    keys = [pseudo.id_key(id_no(0)), pseudo.phone_key(phone(77))]
    with pytest.raises(ValueError, match="reason"):
        reveal(loaded, keys, "  ")
    found = {r["person_key"]: (r["id_no"], r["phone"])
             for r in reveal(loaded, keys, "case 12 contact tracing").to_pylist()}
    assert found == {keys[0]: (id_no(0), phone(0)), keys[1]: (None, phone(77))}
    audit = [f for f in loaded.home.rglob("*.parquet") if "reveal_audit" in str(f)]
    rows = pq.read_table(audit[0]).to_pylist()
    assert sorted(r["person_key"] for r in rows) == sorted(keys)
    assert {r["reason"] for r in rows} == {"case 12 contact tracing"}
    assert all("vault" in str(f.relative_to(loaded.home)).split("/")[0] for f in audit)


def test_no_clear_identifier_in_any_analytic_parquet_column(loaded, tmp_path):
    _events(loaded, tmp_path)
    clear = {v for p in persons() for v in (p[0], p[1], p[2], p[6])}
    clear |= {phone(77), id_no(55), "138000"}
    analytic = [f for zone in ("curated", "quarantine")
                for f in (loaded.home / zone).rglob("*.parquet")]
    assert len(analytic) > 10
    seen = set()
    for f in analytic:
        table = pq.read_table(f)
        for name in table.column_names:
            column = table.column(name).combine_chunks()
            if str(column.type).startswith("list"):
                column = column.flatten()  # quarantine reasons
            for value in column.cast("string").to_pylist():
                if value is None:
                    continue
                leaks = {c for c in clear if c in value}
                assert not leaks, f"{f}: column {name} holds {leaks}"
                seen.add(value)
    assert seen  # the scan did read values
    vault = list((loaded.home / "vault" / "identity_vault").rglob("*.parquet"))
    assert any(id_no(0) in pq.read_table(f).column("id_no").to_pylist() for f in vault)
    assert not (loaded.home / "curated" / "identity_vault").exists()


def test_hash_into_pairs_each_value_with_its_key(settings):
    from epicenter.engine import Session
    from epicenter.ingest.identity import hash_into

    pseudo = Pseudonymizer.from_settings(settings)
    values = pa.array([phone(3), phone(1), phone(2)], pa.string())
    with Session(threads=2) as s:
        hash_into(s, "k", "phone", values, pseudo.phone_key)
        rows = s.rows("SELECT phone, person_key FROM k ORDER BY phone")
        hash_into(s, "empty", "phone", pa.array([], pa.string()), pseudo.phone_key)
        types = s.rows("SELECT column_name, column_type FROM (DESCRIBE empty)")
        assert s.scalar("SELECT count(*) FROM empty") == 0
    assert rows == [(phone(i), pseudo.phone_key(phone(i))) for i in (1, 2, 3)]
    assert types == [("phone", "VARCHAR"), ("person_key", "VARCHAR")]
