"""End to end: `meltano install` then `meltano run tap-intercom target-postgres` into the local PostgreSQL."""

from __future__ import annotations

import json
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


def meltano_env(sandbox, **settings: str) -> dict:
    """The environment of a Meltano run against `sandbox` (its `sandbox` environment), plus `settings`."""
    return {**os.environ, "INTERCOM_SANDBOX_URL": sandbox.url, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            **settings}


def meltano(*args: str, env: dict) -> subprocess.CompletedProcess:
    result = subprocess.run([MELTANO, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
    assert result.returncode == 0, f"meltano {' '.join(args)} failed:\n{result.stderr[-4000:]}"
    return result


@pytest.mark.slow
def test_meltano_run_loads_the_sandbox_into_postgres(make_sandbox, postgres):
    sandbox = make_sandbox(contacts=150, companies=60, conversations=40, export_job_seconds=0.05)
    schema = f"intercom_e2e_{uuid.uuid4().hex[:8]}"
    env = meltano_env(sandbox, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema, TAP_INTERCOM_SCROLL_EXISTS_WAIT_SECONDS="1",
                      TAP_INTERCOM_EXPORT_POLL_SECONDS="0.05")
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


def columns(cursor, schema: str, table: str) -> dict[str, str]:
    cursor.execute("SELECT column_name, data_type FROM information_schema.columns "
                   "WHERE table_schema = %s AND table_name = %s", (schema, table))
    return dict(cursor.fetchall())


@pytest.mark.slow
def test_flattened_custom_attributes_are_typed_columns_and_drift_becomes_a_column(make_sandbox, postgres):
    sandbox = make_sandbox(contacts=120, companies=40, conversations=40)
    drifted = sandbox.drift(kinds=("contacts",))["contacts"]
    schema = f"intercom_e2e_{uuid.uuid4().hex[:8]}"
    env = meltano_env(sandbox, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema, TAP_INTERCOM_FLATTENING_ENABLED="true",
                      TAP_INTERCOM_FLATTENING_MAX_DEPTH="1",
                      TAP_INTERCOM__SELECT='["admins.*", "contacts.*", "companies.*", "conversations.*"]')
    meltano("install", env=env)
    meltano("--environment=sandbox", "run", "tap-intercom", "target-postgres", "--full-refresh", env=env)
    cursor = postgres.cursor()
    try:
        contacts = columns(cursor, schema, "contacts")
        assert contacts["custom_attributes__seats"] == "bigint"
        assert contacts["custom_attributes__mrr"] == "numeric"
        assert contacts["custom_attributes__vip"] == "boolean"
        assert contacts["custom_attributes__trial_ends_at"].startswith("timestamp")
        assert contacts["custom_attributes__plan"] in ("text", "character varying")
        companies = columns(cursor, schema, "companies")
        assert (companies["custom_attributes__employees"], companies["custom_attributes__arr"],
                companies["custom_attributes__churn_risk"]) == ("bigint", "numeric", "boolean")
        assert companies["custom_attributes__renewal_at"].startswith("timestamp")
        # conversation attributes named as teammates name them: spaces, dots, capitals
        conversations = columns(cursor, schema, "conversations")
        assert (conversations["custom_attributes__Refund.Amount"], conversations["custom_attributes__Is VIP"],
                conversations["custom_attributes__Order No."]) == ("numeric", "boolean", "bigint")
        assert conversations["custom_attributes__Promised By"].startswith("timestamp")
        assert conversations["custom_attributes__Issue Type"] in ("text", "character varying")

        # a date attribute holds the moment Intercom sent as unix seconds
        truth = {c["id"]: c for c in sandbox.world.ground_truth("contacts")}
        cursor.execute(f'SELECT id, extract(epoch from custom_attributes__trial_ends_at)::bigint, '
                       f'custom_attributes__seats, x_drift_score FROM "{schema}"."contacts"')
        rows = cursor.fetchall()
        assert len(rows) == len(truth)
        for contact_id, trial_ends_at, seats, drift_score in rows:
            custom = truth[contact_id]["custom_attributes"]
            assert trial_ends_at == custom.get("trial_ends_at"), contact_id
            assert seats == custom.get("seats"), contact_id
            expected = truth[contact_id].get("x_drift_score")
            assert (drift_score is None) == (expected is None) and (
                expected is None or float(drift_score) == expected), contact_id
        # the field that appeared mid-sync became a column in the same run
        assert contacts["x_drift_score"] == "numeric"
        assert sum(1 for row in rows if row[3] is not None) == len(drifted)

        # admins whose avatar is an object and admins whose avatar is a URL load together
        admins = sandbox.world.ground_truth("admins")
        assert {type(a["avatar"]) for a in admins} >= {dict, str}
        cursor.execute(f'SELECT id, avatar FROM "{schema}"."admins"')
        loaded = dict(cursor.fetchall())
        assert set(loaded) == {a["id"] for a in admins}
        for admin in admins:  # an object lands as its JSON text beside the URLs (`avatar::jsonb` reads it)
            value = loaded[admin["id"]]
            assert (json.loads(value) if isinstance(admin["avatar"], dict) else value) == admin["avatar"], admin["id"]
    finally:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
