"""dbt-duckdb plugin: registers the project's Python functions on dbt's connection, and
sets the process's thread discipline once, before any model fits a mixture.

Named in profiles.yml, with its configuration (`mixtures_relation`: where gmm_score
finds the stored mixtures). The functions exist only while dbt runs; what users need in
the plain `duckdb` shell is persisted as SQL macros (macros/shell_macros.sql).
"""

from __future__ import annotations

from typing import Any

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from clustering.threads import use_one_blas_thread
from python_udfs import functions


class Plugin(BasePlugin):
    def initialize(self, plugin_config: dict[str, Any]) -> None:
        self.mixtures_relation = plugin_config["mixtures_relation"]
        use_one_blas_thread()

    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        functions.register(conn, self.mixtures_relation)
