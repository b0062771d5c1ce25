"""Contact tracing: close contacts, co-travellers, presence near a place, source and chains.

Rules are data (``profiles/*.yaml``); each rule class turns its settings into one SQL
query that runs unchanged on DuckDB and (transpiled) Spark.
"""

from epicenter.trace.contacts import find_contacts
from epicenter.trace.profile import Profile, available_profiles, load_profile
from epicenter.trace.windows import UnknownCase, exposure_windows

__all__ = ["find_contacts", "Profile", "available_profiles", "load_profile", "UnknownCase",
           "exposure_windows"]
