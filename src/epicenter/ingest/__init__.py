"""Data integration: delivered files of every source kind -> validated, pseudonymised,
canonical warehouse tables, with every row accounted for (see ``docs/ingest.md``).

- :func:`ingest_file` one file as one atomic batch; :func:`plan_delivery` and
  :func:`ingest_items` a whole delivery folder, reference data first;
- :func:`load_mapping` a department's template mapping (YAML);
- :func:`quality_report` the data-quality figures per source;
- :func:`resolve_key` / :func:`reveal` person keys and audited access to clear identifiers.
"""

from epicenter.ingest.delivery import Item, ingest_items, plan_delivery
from epicenter.ingest.errors import IngestError
from epicenter.ingest.identity import resolve_key, reveal
from epicenter.ingest.kinds import KINDS
from epicenter.ingest.mapping import Mapping, load_mapping
from epicenter.ingest.pipeline import ingest_file
from epicenter.ingest.quality import quality_report

__all__ = ["KINDS", "IngestError", "Item", "Mapping", "ingest_file", "ingest_items",
           "load_mapping", "plan_delivery", "quality_report", "resolve_key", "reveal"]
