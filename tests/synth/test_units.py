"""Small pieces of the generator on hand-built inputs."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from epicenter.synth.dirty import inject
from epicenter.synth.idcard import is_valid_id, make_ids, make_phones
from epicenter.synth.params import SynthParams
from epicenter.synth.transport import assign_seats, build_timetable


def test_inject_inserts_defective_copies_after_their_rows():
    rng = np.random.default_rng(0)
    table = pa.table({"id_no": ["11010519491231002X"] * 200, "phone": ["13800000000"] * 200,
                      "scan_time": [f"2020-01-10 08:{m:02d}:00" for m in range(60)] * 3 + ["2020-01-10 09:00:00"] * 20,
                      "direction": ["in"] * 200})
    out, found = inject(table, 0.05, rng, force=True)
    assert out.num_rows == 200 + len(found) and len(found) >= 1
    rows = out.to_pylist()
    positions = {p for p, _ in found}
    clean = [r for i, r in enumerate(rows) if i not in positions]
    assert clean == table.to_pylist()  # real rows intact and in order
    for pos, defect in found:
        if defect == "duplicate":
            assert rows[pos] == rows[pos - 1]
        else:
            assert rows[pos] != rows[pos - 1]


def test_ids_and_phones_are_unique_and_valid():
    rng = np.random.default_rng(1)
    n = 5000
    birth = np.datetime64("1990-05-01") + rng.integers(0, 3, n).astype("timedelta64[D]")
    male = rng.random(n) < 0.5
    ids = make_ids(np.full(n, "420102"), birth, male, rng).to_pylist()
    assert len(set(ids)) == n and all(is_valid_id(i) for i in ids)  # more than 3 days hold
    assert all(int(i[16]) % 2 == m for i, m in zip(ids, male, strict=True))  # odd: men
    phones = make_phones(n, rng).to_pylist()
    assert len(set(phones)) == n and all(len(p) == 11 and p[0] == "1" for p in phones)


def test_seats_never_collide_and_parties_sit_together():
    tt = build_timetable(SynthParams(persons=50_000, days=1, seed=2))
    rng = np.random.default_rng(3)
    g = int(np.flatnonzero(np.char.startswith(tt.vehicle_no.astype(str), "G"))[0])
    vehicle = np.full(300, g)
    party = np.repeat(np.arange(100), 3)
    car, row, seat = assign_seats(tt, vehicle, party, rng)
    labels = list(zip(car.tolist(), seat.to_pylist(), strict=True))
    assert len(set(labels)) == 300
    for p in range(100):
        sel = party == p
        assert len(set(car[sel])) == 1 and np.ptp(row[sel]) <= 1
