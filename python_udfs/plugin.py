"""dbt-duckdb plugin: registers the project's Python functions on dbt's connection.

Named in profiles.yml. The functions exist only while dbt runs; what users need
in the plain `duckdb` shell is persisted as SQL macros (macros/shell_macros.sql).
"""

from __future__ import annotations

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from python_udfs import functions


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        functions.register(conn)
