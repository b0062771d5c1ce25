"""Identity: one pseudonymous key per person across sources, clear identifiers in the vault.

``person_key`` is the HMAC of the id_no; a phone that the person registry (real-name
registration) links to an id_no maps to that person's key; any other phone gets the
HMAC of the phone. Distinct identifiers are hashed once in Python and the keys joined
in DuckDB, never hashed row by row. The vault (``identity_vault``, stored in the
warehouse's ``vault/`` zone, outside ``curated/``) is the only place clear identifiers
live; :func:`reveal` reads it back and records why in an append-only audit table.
"""

from __future__ import annotations

import datetime as dt
import getpass
import re
from collections.abc import Iterable

import pyarrow as pa

from epicenter.engine import Session
from epicenter.ingest.validate import id_number_sql, lit
from epicenter.privacy import Pseudonymizer
from epicenter.settings import Settings

VAULT = "identity_vault"
AUDIT = "reveal_audit"
_KEY_RE = re.compile(r"[0-9a-f]{64}")
_ID_RE = re.compile(r"[0-9]{17}[0-9Xx]")
_PHONE_RE = re.compile(r"1[0-9]{10}")


def parquet_list(paths: Iterable[str]) -> str:
    return "[" + ", ".join(lit(p) for p in paths) + "]"


def vault_relation(files: dict[str, list[str]]) -> str:
    """SQL relation over the vault (empty, typed, when nothing is stored yet)."""
    vault = files.get(VAULT, [])
    if vault:
        return f"read_parquet({parquet_list(vault)}, union_by_name = true)"
    return ("(SELECT NULL::VARCHAR AS person_key, NULL::VARCHAR AS id_no, NULL::VARCHAR AS phone, "
            "NULL::VARCHAR AS name, NULL::VARCHAR AS home_address WHERE false)")


def hash_into(session: Session, table: str, column: str, values: pa.Array | list[str], fn,
              key_column: str = "person_key") -> None:
    """Temp table ``table(column, key_column)``: each distinct value hashed once.

    Values and keys go in as two list parameters, zipped by ``unnest``: handing DuckDB an
    Arrow table instead makes its Python client import pandas, a second per process."""
    plain = values.to_pylist() if isinstance(values, pa.Array) else list(values)
    session.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT "
                    f"unnest(CAST($v AS VARCHAR[])) AS {column}, "
                    f"unnest(CAST($k AS VARCHAR[])) AS {key_column}",
                    {"v": plain, "k": [fn(v) for v in plain]})


def _values(session: Session, sql: str) -> list[str]:
    # through Arrow (much faster than row tuples); never pa.array([]): building an Arrow
    # array from a Python list makes pyarrow import pandas, one to two seconds
    col = session.arrow(sql).column("v")
    return col.to_pylist() if col.num_chunks else []


def build_keys(session: Session, pseudo: Pseudonymizer, files: dict[str, list[str]],
               has_id: bool, has_phone: bool, links_from_batch: bool = False,
               person_ids: bool = False) -> None:
    """Temp tables ``keys_id(n, person_key)`` and ``keys_phone(n, person_key)`` for the
    identifiers of the valid rows of ``t``, keyed by the identifier as an integer
    (``n_id_no``: its 17 digits, which fix the check digit of a valid id_no; ``n_phone``:
    the 11 digits), so that the joins with the batch's rows compare integers, not text.
    Phones linked by the registry take the person's key.

    Identifiers the vault already holds take their stored key (a join); only new ones
    are hashed, once each, and land in ``new_ids`` / ``new_phones`` for the vault.
    ``person_ids``: also ``persons(pid, person_key)`` with a ``pid`` column in both key
    tables, one integer per distinct person_key (for sorting a batch by person)."""
    valid = "FROM t WHERE ok AND NOT dup"
    # read the vault once; its identifiers were validated when they were loaded
    session.execute(f"CREATE OR REPLACE TEMP TABLE vault_keys AS SELECT person_key, id_no, phone, "
                    f"{id_number_sql('id_no')} AS n_id, TRY_CAST(phone AS BIGINT) AS n_phone "
                    f"FROM {vault_relation(files)}")
    vault = "vault_keys"
    if has_id:  # the batch's distinct id numbers, then their stored or new keys
        session.execute(f"CREATE OR REPLACE TEMP TABLE batch_ids AS SELECT n_id_no AS n, "
                        f"any_value(v_id_no) AS id_no {valid} AND n_id_no IS NOT NULL GROUP BY 1")
        session.execute(f"CREATE OR REPLACE TEMP TABLE known_ids AS SELECT n_id AS n, min(person_key) "
                        f"AS person_key FROM {vault} WHERE n_id IN (SELECT n FROM batch_ids) GROUP BY 1")
        ids = _values(session, "SELECT id_no AS v FROM batch_ids WHERE n NOT IN "
                                       "(SELECT n FROM known_ids)")
    else:
        session.execute("CREATE OR REPLACE TEMP TABLE known_ids AS SELECT NULL::BIGINT AS n, "
                        "NULL::VARCHAR AS person_key WHERE false")
        ids = []
    hash_into(session, "new_ids", "id_no", ids, pseudo.id_key)
    session.execute(f"CREATE OR REPLACE TEMP TABLE keys_id AS SELECT {id_number_sql('id_no')} AS n, "
                    "person_key FROM new_ids UNION ALL SELECT * FROM known_ids")
    if has_phone:
        # a valid phone is its number's decimal text: no need to carry the text along
        session.execute(f"CREATE OR REPLACE TEMP TABLE batch_phones AS SELECT DISTINCT n_phone AS n "
                        f"{valid} AND n_phone IS NOT NULL")
        if links_from_batch:  # the person registry itself: its own rows are the links
            links = ("SELECT t.n_phone AS n, min(k.person_key) AS person_key FROM t "
                     "JOIN keys_id k ON k.n = t.n_id_no WHERE ok AND NOT dup AND n_phone IS NOT "
                     "NULL GROUP BY 1")
        else:
            links = (f"SELECT n_phone AS n, min(person_key) AS person_key FROM {vault} WHERE "
                     "n_phone IN (SELECT n FROM batch_phones) AND id_no IS NOT NULL GROUP BY 1")
        session.execute(f"CREATE OR REPLACE TEMP TABLE phone_links AS {links}")
        session.execute(f"CREATE OR REPLACE TEMP TABLE vault_phones AS SELECT n_phone AS n, "
                        f"min(person_key) AS person_key FROM {vault} WHERE id_no IS NULL AND "
                        "n_phone IN (SELECT n FROM batch_phones) AND n_phone NOT IN "
                        "(SELECT n FROM phone_links) GROUP BY 1")
        phones = _values(session, "SELECT CAST(n AS VARCHAR) AS v FROM batch_phones WHERE n NOT IN "
                                          "(SELECT n FROM phone_links) AND n NOT IN "
                                          "(SELECT n FROM vault_phones)")
    else:
        phones = []
    hash_into(session, "new_phones", "phone", phones, pseudo.phone_key)
    known = "SELECT * FROM phone_links UNION ALL SELECT * FROM vault_phones" if has_phone else \
        "SELECT NULL::BIGINT, NULL::VARCHAR WHERE false"
    session.execute("CREATE OR REPLACE TEMP TABLE keys_phone AS SELECT TRY_CAST(phone AS BIGINT) "
                    f"AS n, person_key FROM new_phones UNION ALL {known}")
    if person_ids:
        # one table for both identifier kinds (ids even, phones odd: see person_id_sql)
        # and one integer per distinct person_key
        session.execute("CREATE OR REPLACE TEMP TABLE keys_person AS SELECT n * 2 AS k, person_key "
                        "FROM keys_id UNION ALL SELECT n * 2 + 1, person_key FROM keys_phone")
        session.execute("CREATE OR REPLACE TEMP TABLE persons AS SELECT person_key, row_number() "
                        "OVER () AS pid FROM (SELECT DISTINCT person_key FROM keys_person)")
        session.execute("CREATE OR REPLACE TEMP TABLE keys_person AS SELECT k.k, p.pid "
                        "FROM keys_person k JOIN persons p USING (person_key)")


def person_key_sql(has_id: bool, has_phone: bool) -> tuple[str, str]:
    """(expression, joins) giving each row of ``t`` its person_key (id_no first)."""
    exprs, joins = [], []
    if has_id:
        exprs.append("ki.person_key")
        joins.append("LEFT JOIN keys_id ki ON ki.n = t.n_id_no")
    if has_phone:
        exprs.append("kp.person_key")
        joins.append("LEFT JOIN keys_phone kp ON kp.n = t.n_phone")
    return f"coalesce({', '.join(exprs)})", " ".join(joins)


def person_id_sql(has_id: bool, has_phone: bool) -> str:
    """The key of a valid row of ``t`` in ``keys_person`` (after ``build_keys(person_ids=
    True)``): one join instead of one per identifier. A valid row has an id number
    exactly when it has an id_no, and the id_no decides its person (as in
    :func:`person_key_sql`); otherwise its phone does."""
    if has_id and has_phone:
        return "CASE WHEN t.n_id_no IS NOT NULL THEN t.n_id_no * 2 ELSE t.n_phone * 2 + 1 END"
    return "t.n_id_no * 2" if has_id else "t.n_phone * 2 + 1"


def new_identities_sql() -> str:
    """Identifiers this batch saw that the vault does not hold yet (one row per key)."""
    return """
    SELECT person_key, id_no, NULL::VARCHAR AS phone, NULL::VARCHAR AS name,
           NULL::VARCHAR AS home_address FROM new_ids
    UNION ALL
    SELECT person_key, NULL, phone, NULL, NULL FROM new_phones
    """


def _session(settings: Settings) -> Session:
    return Session(threads=settings.threads)


def resolve_key(settings: Settings, identifier: str) -> str:
    """person_key of an id_no, a phone (registry link first) or a person_key itself."""
    value = identifier.strip()
    if _KEY_RE.fullmatch(value):
        return value
    pseudo = Pseudonymizer.from_settings(settings)
    if _ID_RE.fullmatch(value):
        return pseudo.id_key(value)
    if _PHONE_RE.fullmatch(value):
        warehouse = settings.warehouse
        with _session(settings) as s:
            linked = s.scalar(f"SELECT min(person_key) FROM {vault_relation(warehouse.files())} "
                              "WHERE phone = $p AND id_no IS NOT NULL", {"p": value})
        return linked or pseudo.phone_key(value)
    raise ValueError(f"{identifier!r} is neither an id_no (18 characters), a phone "
                     "(11 digits starting with 1) nor a person_key (64 hex digits)")


def reveal(settings: Settings, person_keys: Iterable[str], reason: str) -> pa.Table:
    """Clear id_no and phone of these persons; the reason is recorded in the audit log."""
    keys = sorted({k for k in person_keys if k})
    if not reason or not reason.strip():
        raise ValueError("reveal needs a reason (it is recorded in the audit log)")
    warehouse = settings.warehouse
    with _session(settings) as s:
        s.register("wanted", pa.table({"person_key": pa.array(keys, pa.string())}))
        found = s.arrow(
            f"SELECT w.person_key, max(v.id_no) AS id_no, "
            f"coalesce(max(v.phone) FILTER (WHERE v.id_no IS NOT NULL), max(v.phone)) AS phone "
            f"FROM wanted w LEFT JOIN {vault_relation(warehouse.files())} v USING (person_key) "
            f"GROUP BY 1 ORDER BY 1")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    try:
        user = getpass.getuser()
    except OSError:
        user = "unknown"
    audit = pa.table({
        "revealed_at": pa.array([now] * len(keys), pa.timestamp("us")),
        "user": pa.array([user] * len(keys), pa.string()),
        "reason": pa.array([reason.strip()] * len(keys), pa.string()),
        "person_key": pa.array(keys, pa.string()),
    })
    with warehouse.batch("reveal") as b:
        b.write(AUDIT, audit)
        b.details = {"reason": reason.strip(), "user": user, "persons": len(keys)}
        b.commit()
    return found
