"""Query engines. Only this package imports duckdb or pyspark.

``get_engine("duckdb")`` is the embedded default; ``get_engine("spark")`` loads PySpark
lazily and says how to install it when the extra is missing.
"""

from __future__ import annotations

from epicenter.engine.base import Engine
from epicenter.engine.duck import DuckDBEngine, Session

ENGINES = ("duckdb", "spark")


class EngineUnavailable(RuntimeError):
    """The requested engine cannot be loaded here (missing extra or runtime)."""


def get_engine(name: str = "duckdb", **options) -> Engine:
    if name == "duckdb":
        known = ("threads", "memory_limit", "temp_directory")
        return DuckDBEngine(**{k: v for k, v in options.items() if k in known})
    if name == "spark":
        try:
            from epicenter.engine.spark import SparkEngine
        except ImportError as err:
            raise EngineUnavailable(str(err)) from err
        return SparkEngine(**{k: v for k, v in options.items() if k == "master"})
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


def engine_available(name: str) -> tuple[bool, str]:
    """Whether an engine can load, with a version or the reason it cannot."""
    if name == "duckdb":
        import duckdb

        return True, duckdb.__version__
    if name == "spark":
        try:
            import pyspark
        except ImportError:
            return False, "not installed: pip install 'epicenter[spark]'"
        import shutil

        if not shutil.which("java"):
            return False, f"pyspark {pyspark.__version__}, but no java on PATH"
        return True, pyspark.__version__
    return False, "unknown engine"


__all__ = ["ENGINES", "Engine", "EngineUnavailable", "DuckDBEngine", "Session", "get_engine",
           "engine_available"]
