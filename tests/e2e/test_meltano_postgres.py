"""End to end: `meltano install` then `meltano run tap-intercom target-postgres` into the local PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MELTANO = str(Path(sys.executable).parent / "meltano")
DSN = {"host": "127.0.0.1", "port": 5432, "user": "postgres", "dbname": "test"}
# Every stream: the sandbox environment of meltano.yml selects the opt-in ones too.
TABLES = ["admins", "teams", "tags", "segments", "company_attributes", "contact_attributes",
          "conversation_attributes", "companies", "company_segments", "contacts", "conversations",
          "conversation_parts", "tickets", "ticket_parts", "ticket_types", "ticket_type_attributes", "ticket_states",
          "deleted_conversations", "conversation_handling_events", "calls", "activity_logs", "away_status_reasons",
          "office_hours_schedules", "brands", "email_settings", "subscription_types", "macros", "articles",
          "internal_articles", "help_centers", "help_center_collections", "news_items", "newsfeeds",
          "content_snippets", "contact_tags", "contact_companies", "contact_segments", "contact_subscriptions",
          "contact_notes", "company_contacts", "company_notes", "data_events", "custom_object_order",
          "custom_object_delivery", "content_data_export"]


@pytest.fixture
def postgres():
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        connection = psycopg2.connect(connect_timeout=3, **DSN)
    except psycopg2.OperationalError as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"PostgreSQL must be reachable on 127.0.0.1:5432 under CI: {exc}")
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432 ({exc})")
    connection.autocommit = True
    yield connection
    connection.close()


def meltano(*args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result


@pytest.mark.slow
def test_meltano_run_loads_the_sandbox_into_postgres(make_sandbox, postgres):
    sandbox = make_sandbox(contacts=150, companies=60, conversations=40, export_job_seconds=0.05)
    schema = f"intercom_e2e_{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "INTERCOM_SANDBOX_URL": sandbox.url, "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
           "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "TAP_INTERCOM_SCROLL_EXISTS_WAIT_SECONDS": "1",
           "TAP_INTERCOM_EXPORT_POLL_SECONDS": "0.05"}
    meltano("install", env=env)
    meltano("--environment=sandbox", "run", "tap-intercom", "target-postgres", "--full-refresh", env=env)
    cursor = postgres.cursor()
    try:
        for table in TABLES:
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            assert cursor.fetchone()[0] == len(sandbox.world.ground_truth(table)), table
        cursor.execute(f'SELECT count(*) FROM "{schema}"."reporting_data_export"')
        assert cursor.fetchone()[0] == len(sandbox.world.ground_truth("reporting_data_export:conversation"))
        cursor.execute("SELECT table_name, column_name, data_type FROM information_schema.columns "
                       "WHERE table_schema = %s AND column_name IN ('created_at', 'updated_at')", (schema,))
        types = {(t, c): d for t, c, d in cursor.fetchall()}
        for table in ("contacts", "conversations", "companies", "conversation_parts"):
            assert types[(table, "updated_at")].startswith("timestamp"), (table, types[(table, "updated_at")])
        cursor.execute(f'SELECT max(updated_at) FROM "{schema}"."contacts"')
        assert cursor.fetchone()[0] is not None

        # An article deleted in Intercom: the next sync's ACTIVATE_VERSION marks its row deleted.
        gone = sandbox.world.ground_truth("articles")[0]["id"]
        sandbox.world.delete("articles", gone)
        meltano("--environment=sandbox", "run", "tap-intercom", "target-postgres", env=env)
        cursor.execute(f'SELECT id FROM "{schema}"."articles" WHERE _sdc_deleted_at IS NOT NULL')
        assert [row[0] for row in cursor.fetchall()] == [str(gone)]
    finally:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
