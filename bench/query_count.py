"""Counting a process's database queries by kind and table, split at the
moment a job's ticket list is complete."""

import re
from collections import Counter
from collections.abc import Callable
from typing import Any

_TABLE = re.compile(r'\b(?:FROM|INTO|UPDATE)\s+"?(\w+)"?', re.IGNORECASE)
WRITES = {"INSERT", "UPDATE", "DELETE"}


class QueryCounter:
    """A database execute wrapper (see Django's `connection.execute_wrapper`).

    Queries are counted under the phase they ran in: "collect" until the
    job's row is moved to the updating phase, "update" after that.
    """

    def __init__(self) -> None:
        self.phase = "collect"
        self.counts: Counter[tuple[str, str, str]] = Counter()

    def __call__(
        self, execute: Callable, sql: str, params: Any, many: bool, context: dict
    ) -> Any:
        kind = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "?"
        match = _TABLE.search(sql)
        table = match.group(1) if match else "-"
        self.counts[(self.phase, kind, table)] += 1

        result = execute(sql, params, many, context)
        if kind == "UPDATE" and table == "jobs_job" and _names_updating(params):
            self.phase = "update"
        return result

    def summary(self) -> dict[str, Any]:
        """Counts per phase: all queries, writes, and writes by table."""
        phases: dict[str, Any] = {}
        for (phase, kind, table), count in self.counts.items():
            figures = phases.setdefault(
                phase, {"queries": 0, "writes": 0, "writes_by_table": {}}
            )
            figures["queries"] += count
            if kind in WRITES:
                figures["writes"] += count
                by_table = figures["writes_by_table"]
                by_table[table] = by_table.get(table, 0) + count
        return phases


def _names_updating(params: Any) -> bool:
    # The engine moves the job to its updating phase with an UPDATE whose
    # parameters hold the phase's value.
    return isinstance(params, list | tuple) and "updating" in params
