"""Run by .venv-pyairbyte's Python: one PyAirbyte read of tap-intercom-airbyte (every stream) into
PyAirbyte's default DuckDB cache, then every cached table dumped as JSON for the test to check.

usage: pyairbyte_read.py CONNECTOR CONFIG_JSON OUTPUT_JSON   (AIRBYTE_CACHE_ROOT says where the cache is)
"""

from __future__ import annotations

import json
import os
import sys
import time

os.environ.setdefault("AIRBYTE_OFFLINE_MODE", "1")
os.environ.setdefault("DO_NOT_TRACK", "1")

import airbyte  # noqa: E402


def main(connector: str, config_path: str, output_path: str) -> None:
    config = json.loads(open(config_path).read())
    source = airbyte.get_source("source-intercom", config=config, local_executable=connector)
    source.check()
    source.select_all_streams()
    cache = airbyte.get_default_cache()
    started = time.time()
    result = source.read(cache=cache)
    tables = {}
    with cache.get_sql_engine().connect() as connection:
        for stream in source.get_selected_streams():
            rows = connection.exec_driver_sql(f'SELECT * FROM "{cache.schema_name}"."{stream}"')
            columns = list(rows.keys())
            tables[stream] = [dict(zip(columns, row)) for row in rows]
    modes = {s.stream.name: s.sync_mode.value for s in source.get_configured_catalog().streams}
    with open(output_path, "w") as out:
        json.dump({"started": started, "processed_records": result.processed_records, "sync_modes": modes,
                   "tables": tables}, out, default=str)


if __name__ == "__main__":
    main(*sys.argv[1:])
