"""End-of-run files: hotel stays and case reports (sources), and the ground truth:
infections, cases, trips, outbreak start per district and the dirty-row register."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from epicenter.synth.city import City
from epicenter.synth.disease import SETTINGS, Disease
from epicenter.synth.geography import CITY_CODE, EXTERNAL_CITIES
from epicenter.synth.params import DAY_S
from epicenter.synth.travel import MODES
from epicenter.synth.writer import Delivery, write_truth


def household_table(c: City) -> pa.Table:
    pop = c.pop
    n = len(pop.hh_size)
    return pa.table({
        "household_id": pop.household_ids,
        "meter_id": pa.array(np.char.add("EM", np.char.zfill(np.arange(n).astype("U9"), 9))),
        "area_code": pa.array(c.areas.code[pop.hh_community]),
        "address": pop.hh_address,
        "registered_persons": pa.array(pop.hh_size.astype(np.int64)),
    })


def enterprise_table(c: City) -> pa.Table:
    pl = c.places
    e = pl.ent_venue
    workers = np.bincount(pl.work_venue[pl.work_venue >= 0], minlength=pl.n)[e]
    return pa.table({
        "meter_id": pa.array(np.char.add("EE", np.char.zfill(np.arange(len(e)).astype("U7"), 7))),
        "venue_code": pl.code.take(e),
        "area_code": pa.array(c.areas.code[pl.community[e]]),
        "industry": pa.array(pl.ent_industry),
        "n_workers": pa.array(workers.astype(np.int64)),
        "resumption_date": pa.array(pl.ent_resumption.astype("datetime64[D]"), pa.date32()),
        "closed_from": pa.array(pl.ent_closed_from.astype("datetime64[D]"), pa.date32()),
    })


def new_symptomatic(c: City, dis: Disease) -> np.ndarray:
    """True newly symptomatic residents per day and district."""
    p = c.p
    nd = len(c.areas.districts)
    sel = np.flatnonzero(np.isfinite(dis.onset) & (c.pop.household >= 0))
    day = np.floor(dis.onset[sel] / DAY_S).astype(int)
    ok = (day >= 0) & (day < p.days)
    out = np.zeros((p.days, nd), dtype=np.int64)
    np.add.at(out, (day[ok], c.home_district[sel[ok]]), 1)
    return out


def write_all(c: City, out: Delivery, dis: Disease) -> dict:
    p, pop = c.p, c.pop
    end = p.days * DAY_S
    _hotel_stays(c, out)
    reports = _case_reports(c, out, dis, end)
    ev = {k: np.concatenate([e[k] for e in dis.events]) for k in dis.events[0]}
    order = np.argsort(ev["time"], kind="stable")
    ev = {k: v[order] for k, v in ev.items()}
    inf_ok = ev["time"] < end
    ev = {k: v[inf_ok] for k, v in ev.items()}
    infector = ev["infector"]
    write_truth(out.root, "infections.csv", {
        "infectee_id_no": pop.id_no.take(ev["infectee"]),
        "infector_id_no": pc.if_else(pa.array(infector >= 0), pop.id_no.take(np.maximum(infector, 0)), ""),
        "infection_time": ev["time"], "setting": np.array(SETTINGS)[ev["setting"]],
        "place_id": pa.array(ev["place"].astype(str)),
        "recorded": np.where(ev["recorded"], "true", "false"),
        "unrecorded_reason": pa.array(ev["reason"].astype(str))}, ("infection_time",), p.epoch)
    infected = ev["infectee"]
    hh = pop.household[infected]
    onset = dis.onset[infected]
    detected = dis.report0[infected] < end
    write_truth(out.root, "cases.csv", {
        "id_no": pop.id_no.take(infected), "infection_time": dis.inf_time[infected],
        "onset_date": _dates(onset, p.epoch),
        "asymptomatic": np.where(dis.asymptomatic[infected], "true", "false"),
        "detected": np.where(detected, "true", "false"),
        "first_report_time": np.where(detected, dis.report0[infected], np.nan),
        "isolation_time": np.where(dis.iso0[infected] < end, dis.iso0[infected], np.nan),
        "home_area_code": np.where(hh >= 0, c.areas.code[pop.hh_community[np.maximum(hh, 0)]], "")},
        ("infection_time", "first_report_time", "isolation_time"), p.epoch)
    n_trips = _trips(c, out, dis)
    _outbreak_start(c, out, ev)
    write_truth(out.root, "dirty_rows.csv", {
        k: np.array([r[k] for r in out.dirty], dtype=object).astype(str) if out.dirty
        else np.array([], dtype=str) for k in ("kind", "file", "line", "defect")})
    local = ev["reason"] != "imported"
    return {"persons": p.persons, "visitors": pop.n - pop.n_residents, "days": p.days,
            "infections": int(len(infected)), "local_infections": int(local.sum()),
            "recorded_infections": int(ev["recorded"].sum()),
            "detected_cases": int(detected.sum()), "case_reports": reports, "trips": n_trips,
            "dirty_rows": len(out.dirty), "counts": dict(sorted(out.counts.items())),
            "settings": {s: int((ev["setting"] == i).sum()) for i, s in enumerate(SETTINGS)}}


def _dates(t: np.ndarray, epoch: int) -> pa.Array:
    ok = np.isfinite(t)
    day = np.where(ok, np.floor(np.where(ok, t, 0) / DAY_S), 0).astype(np.int64) + epoch // DAY_S
    return pa.array(day.astype("datetime64[D]"), pa.date32(), mask=~ok).cast(pa.string()).fill_null("")


def _hotel_stays(c: City, out: Delivery) -> None:
    tr, p = c.travel, c.p
    end = p.days * DAY_S
    sel = np.flatnonzero(tr.h_registered & (tr.h_checkin < end))
    sel = sel[np.argsort(tr.h_checkin[sel], kind="stable")]
    checkout = tr.h_checkout[sel]
    out.write("hotel_stay", "hotel_stay.csv", {
        "id_no": c.pop.id_no.take(tr.h_person[sel]), "venue_code": c.places.code.take(tr.h_hotel[sel]),
        "room_no": tr.h_room[sel], "checkin_time": tr.h_checkin[sel],
        "checkout_time": np.where(checkout < end, checkout, np.nan)},
        ("checkin_time", "checkout_time"))


def _case_reports(c: City, out: Delivery, dis: Disease, end: float) -> int:
    """Every report in the window: suspected -> confirmed -> recovered for symptomatic
    cases, asymptomatic -> recovered for cases found by testing, suspected -> excluded."""
    pop, rng = c.pop, c.p.rng("reports")
    who = np.flatnonzero(dis.report0 < end)
    sym = ~dis.asymptomatic[who] & ~dis.excluded[who]
    first_status = np.where(dis.excluded[who], "suspected", np.where(sym, "suspected", "asymptomatic"))
    rows = [(who, first_status, dis.report0[who])]
    conf = who[sym & (dis.confirm[who] < end)]
    rows.append((conf, np.full(len(conf), "confirmed"), dis.confirm[conf]))
    exc = who[dis.excluded[who] & (dis.release[who] < end)]
    rows.append((exc, np.full(len(exc), "excluded"), dis.release[exc]))
    rec = who[~dis.excluded[who] & (dis.release[who] < end)]
    rows.append((rec, np.full(len(rec), "recovered"), dis.release[rec]))
    person = np.concatenate([r[0] for r in rows])
    status = np.concatenate([r[1] for r in rows])
    t = np.concatenate([r[2] for r in rows])
    order = np.lexsort((person, t))
    person, status, t = person[order], status[order], t[order]
    onset = np.where(rng.random(len(person)) < 0.95, dis.onset[person], np.nan)
    hotel_comm = c.places.community[np.maximum(c.travel.h_hotel, 0)] if len(c.travel.h_hotel) else []
    comm = np.zeros(pop.n, dtype=np.int64)
    comm[c.travel.h_person] = hotel_comm
    comm[pop.household >= 0] = pop.hh_community[pop.household[pop.household >= 0]]
    out.write("case_report", "case_report.csv", {
        "id_no": pop.id_no.take(person), "status": status, "report_time": t,
        "onset_date": _dates(onset, c.p.epoch), "isolation_time": dis.iso0[person],
        "area_code": c.areas.code[comm[person]]}, ("report_time", "isolation_time"))
    return int(len(person))


def _trips(c: City, out: Delivery, dis: Disease) -> int:
    tr, tt, p, pop = c.travel, c.tt, c.p, c.pop
    end = p.days * DAY_S
    ext = np.array([e[0] for e in EXTERNAL_CITIES])
    ret = np.where(np.isfinite(tr.t_return) & (tr.t_return < end), tr.t_return, np.nan)
    keep = (tr.t_depart < end) & ~(ret < 0)
    # quarantined households that leave by car
    n_hh = len(pop.hh_size)
    qh = np.flatnonzero(dis.q_left & (dis.q_day0 < p.days))
    members = np.flatnonzero(np.isin(pop.household, qh) & (pop.household >= 0))
    qdep = dis.q_day0[pop.household[members]] * DAY_S + 10 * 3600.0
    day0 = qdep - 10 * 3600.0
    isolated = (dis.iso0[members] < day0 + DAY_S) & (dis.iso1[members] > day0)
    gone = ~(tr.away0[members] <= qdep) & ~isolated  # as in presence: they leave at 10:00
    members, qdep = members[gone], qdep[gone]
    qcity = np.asarray(c.p.rng("qleave").integers(0, len(ext), n_hh))[pop.household[members]]
    k = keep
    vis = tr.t_visitor[k]
    vno = lambda v: np.where(v >= 0, tt.vehicle_no[np.maximum(v, 0)], "")  # noqa: E731
    write_truth(out.root, "trips.csv", {
        "id_no": pop.id_no.take(np.concatenate([tr.t_person[k], members])),
        "depart_time": np.concatenate([tr.t_depart[k], qdep]),
        "mode": np.concatenate([np.array(MODES)[tr.t_mode[k]], np.full(len(members), "car")]),
        "vehicle_no": np.concatenate([vno(tr.t_out_vehicle[k]), np.full(len(members), "")]),
        "origin_city": np.concatenate([np.where(vis, ext[tr.t_city[k]], CITY_CODE),
                                       np.full(len(members), CITY_CODE)]),
        "destination_city": np.concatenate([np.where(vis, CITY_CODE, ext[tr.t_city[k]]),
                                            ext[qcity]]),
        "return_time": np.concatenate([ret[k], np.full(len(members), np.nan)])},
        ("depart_time", "return_time"), p.epoch)
    return int(k.sum() + len(members))


def _outbreak_start(c: City, out: Delivery, ev: dict) -> None:
    """First local (not imported) infection of a resident, per home district."""
    local = (ev["reason"] != "imported") & (c.pop.household[ev["infectee"]] >= 0)
    district = c.home_district[ev["infectee"][local]]
    t = ev["time"][local]
    codes, dates = [], []
    for i, code in enumerate(c.areas.code[c.areas.districts]):
        if (district == i).any():
            codes.append(code)
            dates.append(float(t[district == i].min()))
    write_truth(out.root, "outbreak_start.csv", {
        "area_code": np.array(codes, dtype=str), "date": _dates(np.array(dates), c.p.epoch)})
