"""Personal identifiers: resident identity numbers (GB 11643-1999), mobile numbers, names.

The identity number is 6 digits of the registering county, 8 digits of birth date, a
3-digit sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# ISO 7064 MOD 11-2 weights for the 17 leading digits: 2^(17-i) mod 11.
WEIGHTS = np.array([pow(2, 17 - i, 11) for i in range(17)], dtype=np.int64)
CHECK_CHARS = "10X98765432"  # indexed by (weighted sum mod 11)

# Counties that register the city's migrant workers and visitors (real county codes).
ORIGIN_COUNTIES = ("411502", "421002", "430102", "341102", "360102", "500101", "510104",
                   "110105", "310104", "440106", "410105", "420902")

SURNAMES = list("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘")
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玉兰飞鹏辉宇浩然欣怡子涵梓轩")
PHONE_PREFIXES = ("130", "131", "132", "135", "136", "137", "138", "139", "150", "151", "152",
                  "155", "157", "158", "159", "176", "177", "180", "182", "185", "186", "187",
                  "188", "189", "199")


def check_char(first17: str) -> str:
    """The GB 11643 check character for 17 leading digits."""
    total = sum(int(c) * int(w) for c, w in zip(first17, WEIGHTS, strict=True))
    return CHECK_CHARS[total % 11]


def is_valid_id(id_no: str) -> bool:
    """18 characters, 17 digits, a valid birth date and the right check character."""
    if len(id_no) != 18 or not id_no[:17].isdigit() or id_no[17] not in "0123456789X":
        return False
    try:
        dt.date(int(id_no[6:10]), int(id_no[10:12]), int(id_no[12:14]))
    except ValueError:
        return False
    return check_char(id_no[:17]) == id_no[17]


def _check_chars(digits: np.ndarray) -> np.ndarray:
    """Vectorised check characters for an [n, 17] matrix of digits."""
    idx = (digits.astype(np.int64) @ WEIGHTS) % 11
    return np.array(list(CHECK_CHARS))[idx]


def make_ids(county: np.ndarray, birth: np.ndarray, male: np.ndarray,
             rng: np.random.Generator) -> pa.Array:
    """Unique identity numbers for people with these counties (6-digit strings), birth
    dates (numpy datetime64[D]) and sexes."""
    n = len(county)
    seq = rng.integers(0, 500, n) * 2 + male.astype(np.int64)  # parity encodes sex
    birth = np.asarray(birth, dtype="datetime64[D]").copy()
    for attempt in range(10_000):  # resolve collisions with another sequence of the same sex
        ymd = np.char.replace(np.datetime_as_string(birth, unit="D").astype("U10"), "-", "")
        first17 = np.char.add(np.char.add(county.astype("U6"), ymd),
                              np.char.zfill(seq.astype("U3"), 3))
        _, first = np.unique(first17, return_index=True)
        dup = np.ones(n, dtype=bool)
        dup[first] = False
        if not dup.any():
            break
        seq = np.where(dup, rng.integers(0, 500, n) * 2 + male, seq)  # keeps the sex parity
        if attempt % 20 == 19:  # that day's sequences are (nearly) all taken: the next day
            birth = np.where(dup, birth + np.timedelta64(1, "D"), birth)
    digits = first17.view("U1").reshape(n, 17).astype(np.int64)
    return pa.array(np.char.add(first17, _check_chars(digits)))


def make_phones(n: int, rng: np.random.Generator) -> pa.Array:
    """n distinct 11-digit mobile numbers: an affine map of the index modulo 10^8 is a
    bijection, so suffixes never collide."""
    a = 48_271_001  # odd and not divisible by 5: invertible modulo 10^8
    b = int(rng.integers(0, 10**8))
    suffix = (np.arange(n, dtype=np.int64) * a + b) % 10**8
    prefix = np.array(PHONE_PREFIXES)[rng.integers(0, len(PHONE_PREFIXES), n)]
    return pa.array(np.char.add(prefix, np.char.zfill(suffix.astype("U8"), 8)))


def make_names(n: int, rng: np.random.Generator) -> pa.Array:
    sur = np.array(SURNAMES)[rng.integers(0, len(SURNAMES), n)]
    g1 = np.array(GIVEN)[rng.integers(0, len(GIVEN), n)]
    g2 = np.where(rng.random(n) < 0.6, np.array(GIVEN)[rng.integers(0, len(GIVEN), n)], "")
    return pc.binary_join_element_wise(pa.array(sur), pa.array(g1), pa.array(g2), "")
