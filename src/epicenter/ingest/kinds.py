"""Every source kind of the reference templates: its columns, types, checks and target.

One declaration per kind drives reading (which columns must be present), validation
(types, enumerations, references, identifiers) and the accounting. The spec lives in
``shared/spec/sources.md``; this module is its machine-readable form.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from epicenter.schema import AREA_LEVELS, CASE_STATUSES, VENUE_CATEGORIES

# value types a delivered column is parsed as
STR, INT, FLOAT, TIME, DATE, ID_NO, PHONE = "str", "int", "float", "time", "date", "id_no", "phone"
IDENTIFIER_TYPES = (ID_NO, PHONE)
# delivered columns holding clear personal data: never copied outside the vault
CLEAR_COLUMNS = ("id_no", "phone", "name", "home_address", "address")


@dataclass(frozen=True)
class Col:
    name: str
    type: str = STR
    required: bool = True
    enum: tuple[str, ...] | None = None
    ref: tuple[str, str] | None = None  # (reference table, its key column)
    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class Kind:
    name: str
    cols: tuple[Col, ...]
    reference: bool = False
    key: str | None = None  # unique key of a reference kind
    one_of: tuple[str, ...] = ()  # at least one of these must be present (column and value)
    ordered: tuple[tuple[str, str], ...] = ()  # (earlier, later) pairs: later >= earlier
    coords: bool = False  # has lon/lat that must be plausible
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cols)

    def col(self, name: str) -> Col:
        return next(c for c in self.cols if c.name == name)

    @property
    def required_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.cols if c.required and c.name not in self.one_of)


def _lonlat() -> tuple[Col, Col]:
    return Col("lon", FLOAT, min=-180, max=180), Col("lat", FLOAT, min=-90, max=90)


AREA_REF = ("area", "area_code")
MAX_KWH_PER_READING = 50_000.0
MAX_DAILY_COUNT = 1_000_000  # one indicator in one area on one day
_AREA_CODE = Col("area_code", ref=AREA_REF)

KINDS: dict[str, Kind] = {k.name: k for k in (
    # ---- reference data ------------------------------------------------------------------
    Kind("area", (
        Col("area_code"), Col("name"), Col("level", enum=AREA_LEVELS),
        Col("parent_code", required=False, ref=AREA_REF),
        Col("population", INT, required=False, min=0), *_lonlat(),
    ), reference=True, key="area_code", coords=True),
    Kind("area_shape", (Col("area_code", ref=AREA_REF), Col("geometry")),
         reference=True, key="area_code"),
    Kind("person", (
        Col("id_no", ID_NO), Col("phone", PHONE, required=False), Col("name", required=False),
        Col("birth_year", INT, required=False, min=1880, max=2100),
        Col("sex", required=False, enum=("M", "F")),
        Col("home_area_code", required=False, ref=AREA_REF),
        Col("home_address", required=False),
    ), reference=True, key="id_no"),
    Kind("cell_tower", (
        Col("cell_id"), *_lonlat(), Col("radius_m", FLOAT, min=0), _AREA_CODE,
    ), reference=True, key="cell_id", coords=True),
    Kind("venue", (
        Col("venue_code"), Col("name"), Col("category", enum=VENUE_CATEGORIES), *_lonlat(),
        _AREA_CODE, Col("capacity", INT, required=False, min=0),
    ), reference=True, key="venue_code", coords=True),
    Kind("merchant", (
        Col("merchant_id"), Col("name"),
        Col("venue_code", required=False, ref=("venue", "venue_code")), *_lonlat(), _AREA_CODE,
    ), reference=True, key="merchant_id", coords=True),
    Kind("station", (
        Col("station_code"), Col("name"), Col("city_code"), *_lonlat(),
    ), reference=True, key="station_code", coords=True),
    Kind("meter", (
        Col("meter_id"), Col("household_id"), Col("kind", enum=("residential", "enterprise")),
        _AREA_CODE, Col("industry", required=False), Col("address", required=False),
        Col("registered_persons", INT, required=False, min=0),
    ), reference=True, key="meter_id"),
    # ---- events --------------------------------------------------------------------------
    Kind("cell_signaling", (
        Col("phone", PHONE), Col("cell_id", ref=("cell_tower", "cell_id")),
        Col("start_time", TIME), Col("end_time", TIME),
    ), ordered=(("start_time", "end_time"),)),
    Kind("cell_ping", (
        Col("phone", PHONE), Col("cell_id", ref=("cell_tower", "cell_id")),
        Col("event_time", TIME),
    )),
    Kind("venue_scan", (
        Col("id_no", ID_NO, required=False), Col("phone", PHONE, required=False),
        Col("venue_code", ref=("venue", "venue_code")), Col("scan_time", TIME),
        Col("direction", required=False, enum=("in", "out")),
    ), one_of=("id_no", "phone")),
    Kind("rail_ticket", (
        Col("id_no", ID_NO), Col("train_no"), Col("travel_date", DATE), Col("car_no"),
        Col("seat_no"), Col("from_station", ref=("station", "station_code")),
        Col("to_station", ref=("station", "station_code")),
        Col("dep_time", TIME), Col("arr_time", TIME),
    ), ordered=(("dep_time", "arr_time"),)),
    Kind("flight_ticket", (
        Col("id_no", ID_NO), Col("flight_no"), Col("flight_date", DATE), Col("seat_no"),
        Col("from_station", ref=("station", "station_code")),
        Col("to_station", ref=("station", "station_code")),
        Col("dep_time", TIME), Col("arr_time", TIME),
    ), ordered=(("dep_time", "arr_time"),)),
    Kind("hotel_stay", (
        Col("id_no", ID_NO), Col("venue_code", ref=("venue", "venue_code")), Col("room_no"),
        Col("checkin_time", TIME), Col("checkout_time", TIME, required=False),
    ), ordered=(("checkin_time", "checkout_time"),)),
    Kind("payment", (
        Col("id_no", ID_NO, required=False), Col("phone", PHONE, required=False),
        Col("merchant_id", ref=("merchant", "merchant_id")), Col("txn_time", TIME),
        Col("amount", FLOAT, required=False),
    ), one_of=("id_no", "phone")),
    Kind("case_report", (
        Col("id_no", ID_NO), Col("status", enum=CASE_STATUSES), Col("report_time", TIME),
        Col("onset_date", DATE, required=False), Col("isolation_time", TIME, required=False),
        Col("area_code", required=False, ref=AREA_REF),
    )),
    Kind("meter_reading", (
        Col("meter_id", ref=("meter", "meter_id")), Col("read_time", TIME),
        # plausibility: 50 MWh in one reading is a 200 MW draw for 15 minutes or a
        # 2 MW plant for a day; more is a meter or transmission fault
        Col("kwh", FLOAT, min=0, max=MAX_KWH_PER_READING),
    )),
    Kind("syndromic", (
        Col("date", DATE), _AREA_CODE, Col("indicator"),
        Col("count", INT, min=0, max=MAX_DAILY_COUNT),
    )),
    Kind("od_flow", (
        Col("date", DATE), Col("origin_code", ref=AREA_REF),
        Col("destination_code", ref=AREA_REF),
        Col("trips", FLOAT, min=0),
    )),
    Kind("incidence", (
        Col("date", DATE), Col("cases", INT, required=False, min=0),
        Col("local", INT, required=False, min=0), Col("imported", INT, required=False, min=0),
        Col("area_code", required=False, ref=AREA_REF),
    ), one_of=("cases", "local")),
)}

# loading order of a delivery: a kind's references must be loaded before it
REFERENCE_ORDER = ("area", "area_shape", "station", "cell_tower", "venue", "merchant", "meter",
                   "person")
EVENT_KINDS = tuple(k for k in KINDS if not KINDS[k].reference)

# default dwell (minutes) of a venue scan without a matching `out`, by venue category
DEFAULT_DWELL_MINUTES = {
    "market": 30, "supermarket": 30, "restaurant": 60, "hospital": 60, "clinic": 45,
    "school": 360, "office": 480, "factory": 480, "hotel": 600, "transport_hub": 45,
    "entertainment": 120, "residential": 600, "other": 30,
}
PAIRING_HOURS = 24  # an `out` pairs with the previous `in` only within this window


def get_kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise ValueError(f"unknown source kind {name!r}; known kinds: {', '.join(KINDS)}") from None
