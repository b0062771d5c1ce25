"""Every close-contact rule of the default profile, at its boundaries, on tiny scenarios.

Case X: onset 01-22, so the window opens 01-20 00:00; isolated 01-23 12:00.
"""

from __future__ import annotations

from .conftest import tier
from .scenario import Scenario


def world() -> Scenario:
    return (Scenario().venue("V1", "Noodle shop")
            .case("X", "01-23 10:00", onset="01-22", isolation="01-23 12:00"))


def test_venue_exactly_15_minutes_is_close_14_is_general(trace):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00")
    s.stay("A", "V1", "01-21 12:45", "01-21 14:00")  # 15 min
    s.stay("B", "V1", "01-21 12:46", "01-21 14:00")  # 14 min
    s.stay("C", "V1", "01-21 13:00", "01-21 14:00")  # touches only
    rows = trace(s, "X")
    assert tier(rows, "A", "venue") == "close"
    assert rows[("A", "venue")]["overlap_minutes"] == 15
    assert tier(rows, "B", "venue") == "general"
    assert ("C", "venue") not in rows
    assert rows[("A", "venue")]["place_name"] == "Noodle shop"
    assert rows[("A", "venue")]["rule"] == "default@2020.7.1:venue"
    assert "venue_scan:b-stays:" in rows[("A", "venue")]["evidence"]


def test_venue_overlap_is_summed_within_one_day_only(trace):
    s = world()
    for day in ("01-20", "01-21"):
        s.stay("X", "V1", f"{day} 08:00", f"{day} 08:08").stay("X", "V1", f"{day} 18:00", f"{day} 18:08")
    s.stay("A", "V1", "01-21 08:00", "01-21 08:08").stay("A", "V1", "01-21 18:00", "01-21 18:08")
    s.stay("B", "V1", "01-20 08:00", "01-20 08:08").stay("B", "V1", "01-21 18:00", "01-21 18:08")
    rows = trace(s, "X")
    assert tier(rows, "A", "venue") == "close"  # 8 + 8 = 16 minutes on one day
    assert rows[("A", "venue")]["overlap_minutes"] == 16
    assert tier(rows, "B", "venue") == "general"  # 8 minutes on each of two days


def test_missing_out_scan_uses_the_default_dwell_the_stay_carries(trace):
    # ingestion turns an `in` scan without `out` at a market into [scan, scan + 30 min]
    s = world().venue("M", "Market", "market")
    s.stay("X", "M", "01-21 09:00", "01-21 09:30").stay("A", "M", "01-21 09:10", "01-21 09:40")
    rows = trace(s, "X")
    assert tier(rows, "A", "venue") == "close"
    assert rows[("A", "venue")]["overlap_minutes"] == 20


def test_flight_rows_within_3_are_close_row_4_is_cabin_general(trace):
    s = world().leg("X", "CA100", "23C", "01-21 14:00", "01-21 16:00", mode="flight", car=None)
    for who, seat in (("A", "20A"), ("B", "26K"), ("C", "19A"), ("D", "27B")):
        s.leg(who, "CA100", seat, "01-21 14:00", "01-21 16:00", mode="flight", car=None)
    rows = trace(s, "X")
    assert [tier(rows, p, "flight") for p in "ABCD"] == ["close", "close", "general", "general"]
    assert rows[("A", "flight")]["rule"] == "default@2020.7.1:flight"


def test_ordinary_train_rows_within_2_close_rest_of_car_general_other_car_nothing(trace):
    s = world().leg("X", "K511", "10F", "01-21 08:00", "01-21 12:00")
    s.leg("A", "K511", "12A", "01-21 08:00", "01-21 12:00")
    s.leg("B", "K511", "13A", "01-21 08:00", "01-21 12:00")
    s.leg("C", "K511", "10A", "01-21 08:00", "01-21 12:00", car="06")
    rows = trace(s, "X")
    assert tier(rows, "A", "rail") == "close"
    assert tier(rows, "B", "rail") == "general"
    assert ("C", "rail") not in rows
    assert rows[("A", "rail")]["rule"] == "default@2020.7.1:rail"


def test_sealed_trains_make_the_whole_car_close(trace):
    s = world()
    for train in ("G7", "D3", "C9"):
        s.leg("X", train, "01A", "01-21 08:00", "01-21 12:00")
        s.leg(f"A{train}", train, "20F", "01-21 08:00", "01-21 12:00")  # far away, same car
        s.leg(f"B{train}", train, "01B", "01-21 08:00", "01-21 12:00", car="06")
    rows = trace(s, "X")
    for train in ("G7", "D3", "C9"):
        assert tier(rows, f"A{train}", "rail") == "close"
        assert rows[(f"A{train}", "rail")]["rule"] == "default@2020.7.1:rail_sealed"
        assert (f"B{train}", "rail") not in rows


def test_hard_seat_numbers_lie_in_row_ceil_n_over_5(trace):
    s = world().leg("X", "K8", "12", "01-21 08:00", "01-21 12:00")  # row 3
    s.leg("A", "K8", "25", "01-21 08:00", "01-21 12:00")  # row 5: +2
    s.leg("B", "K8", "26", "01-21 08:00", "01-21 12:00")  # row 6: +3
    s.leg("C", "K8", "1", "01-21 08:00", "01-21 12:00")  # row 1: -2
    rows = trace(s, "X")
    assert [tier(rows, p, "rail") for p in "ABC"] == ["close", "general", "close"]


def test_legs_on_different_segments_do_not_meet(trace):
    s = world().leg("X", "K9", "10A", "01-21 08:00", "01-21 09:00", frm="A", to="B")
    s.leg("A", "K9", "10B", "01-21 09:00", "01-21 10:00", frm="B", to="C")
    s.leg("B", "K9", "10C", "01-21 08:30", "01-21 10:00", frm="M", to="C")
    rows = trace(s, "X")
    assert ("A", "rail") not in rows
    assert tier(rows, "B", "rail") == "close"
    assert rows[("B", "rail")]["overlap_minutes"] == 30


def test_exposure_window_edges(trace):
    s = world()
    s.stay("X", "V1", "01-19 23:40", "01-20 00:20")
    s.stay("A", "V1", "01-19 23:40", "01-20 00:20")  # 20 min, only 20 inside the window
    s.stay("X", "V1", "01-19 20:00", "01-19 23:59").stay("B", "V1", "01-19 20:00", "01-19 23:59")
    s.stay("X", "V1", "01-23 11:50", "01-23 13:00").stay("C", "V1", "01-23 11:50", "01-23 13:00")
    rows = trace(s, "X")
    assert tier(rows, "A", "venue") == "close"
    assert rows[("A", "venue")]["first_exposure"].isoformat() == "2020-01-20T00:00:00"
    assert ("B", "venue") not in rows  # entirely before 00:00 two days before onset
    assert tier(rows, "C", "venue") == "general"  # 10 min before isolation at 12:00


def test_asymptomatic_window_runs_from_first_positive_until_its_report(trace):
    s = Scenario().venue("V1", "Noodle shop").case("Y", "01-22 15:00", status="asymptomatic")
    s.stay("Y", "V1", "01-20 08:00", "01-20 09:00").stay("A", "V1", "01-20 08:00", "01-20 09:00")
    s.stay("Y", "V1", "01-19 08:00", "01-19 09:00").stay("B", "V1", "01-19 08:00", "01-19 09:00")
    s.stay("Y", "V1", "01-22 14:30", "01-22 16:00").stay("C", "V1", "01-22 14:30", "01-22 16:00")
    rows = trace(s, "Y")
    assert tier(rows, "A", "venue") == "close"
    assert ("B", "venue") not in rows
    assert rows[("C", "venue")]["overlap_minutes"] == 30  # window ends at the report at 15:00


def test_hotel_room_open_checkout_lasts_until_as_of(trace):
    s = world().venue("H1", "Lakeside Hotel", "hotel")
    s.stay("X", "H1/305", "01-20 20:00", None, kind="hotel_room")
    s.stay("A", "H1/305", "01-23 11:00", None, kind="hotel_room")
    s.stay("B", "H1/306", "01-20 20:00", None, kind="hotel_room")
    rows = trace(s, "X", as_of="01-23 11:30")
    assert tier(rows, "A", "hotel_room") == "close"
    assert rows[("A", "hotel_room")]["overlap_minutes"] == 30  # until as-of, before isolation
    assert rows[("A", "hotel_room")]["place_name"] == "Lakeside Hotel room 305"
    assert ("B", "hotel_room") not in rows


def test_payment_within_30_minutes_is_general(trace):
    s = world().pay("X", "M1", "01-21 12:00")
    s.pay("A", "M1", "01-21 12:30").pay("B", "M1", "01-21 11:30").pay("C", "M1", "01-21 12:31")
    s.pay("D", "M2", "01-21 12:00")
    rows = trace(s, "X")
    assert tier(rows, "A", "payment") == "general"
    assert tier(rows, "B", "payment") == "general"
    assert ("C", "payment") not in rows and ("D", "payment") not in rows


def test_cell_companion_needs_more_than_10_minutes(trace):
    s = world().stay("X", "cell7", "01-21 08:00", "01-21 09:00", kind="cell")
    s.stay("A", "cell7", "01-21 08:49", "01-21 10:00", kind="cell")  # 11 min
    s.stay("B", "cell7", "01-21 08:50", "01-21 10:00", kind="cell")  # 10 min
    rows = trace(s, "X")
    assert tier(rows, "A", "cell") == "companion"
    assert ("B", "cell") not in rows


def test_household_members_are_close(trace):
    s = world().person("X", "h1").person("W", "h1").person("Z", "h2").person("N", None)
    rows = trace(s, "X")
    assert tier(rows, "W", "household") == "close"
    assert ("Z", "household") not in rows and ("N", "household") not in rows


def test_highest_tier_per_setting_and_one_row_per_setting(trace):
    s = world().stay("X", "V1", "01-21 12:00", "01-21 13:00").venue("V2", "Cafe")
    s.stay("A", "V1", "01-21 12:55", "01-21 14:00")  # 5 min: general
    s.stay("X", "V2", "01-21 15:00", "01-21 16:00").stay("A", "V2", "01-21 15:00", "01-21 16:00")
    s.stay("X", "cell1", "01-21 15:00", "01-21 16:00", kind="cell")
    s.stay("A", "cell1", "01-21 15:00", "01-21 16:00", kind="cell")
    rows = trace(s, "X")
    assert rows[("A", "venue")]["tier"] == "close" and rows[("A", "venue")]["place_id"] == "V2"
    assert tier(rows, "A", "cell") == "companion"
    assert len([k for k in rows if k[0] == "A"]) == 2
