"""End to end into DuckDB, the demo's warehouse: `meltano run tap-intercom target-duckdb`, then
every table holds exactly the ground truth's primary keys (a loader that drops or doubles a
row fails here), and an incremental run after changes leaves exactly the new ground truth."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid
from collections import Counter
from pathlib import Path

import duckdb
import pytest

from ..tap.conftest import discovered_catalog
from ..tap.test_every_stream import full_config, stream_keys
from .test_meltano_postgres import ROOT, meltano, meltano_env


# Streams whose sync is incremental, with their children: after changes they must hold exactly
# the new truth. (Full-table streams would also keep rows deleted in Intercom: target-duckdb
# ignores ACTIVATE_VERSION.)
INCREMENTAL = ["contacts", "contact_tags", "contact_companies", "conversations", "conversation_parts", "tickets",
               "ticket_parts", "deleted_conversations", "macros"]


def keys_in_table(con, table: str, keys: list[str]) -> list[tuple]:
    types = dict(con.execute("SELECT column_name, data_type FROM information_schema.columns "
                             "WHERE table_name = ?", [table]).fetchall())
    columns = ", ".join(f"strftime(\"{k}\", '%Y-%m-%dT%H:%M:%SZ')" if types.get(k, "").startswith("TIMESTAMP")
                        else f'CAST("{k}" AS VARCHAR)' for k in keys)
    return [tuple(row) for row in con.execute(f'SELECT {columns} FROM "{table}"').fetchall()]


def as_key(value) -> str:
    if isinstance(value, int) and value > 100_000_000 and not isinstance(value, bool):  # unix seconds
        return dt.datetime.fromtimestamp(value, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def truth(sandbox, stream: str, keys: list[str]) -> set[tuple]:
    return {tuple(as_key(r.get(k)) for k in keys) for r in sandbox.world.ground_truth(stream)}


def mismatches(db: Path, sandbox, keys: dict[str, list[str]], streams) -> list[str]:
    """Per stream: rows missing, rows that should not be there, rows doubled."""
    found = []
    con = duckdb.connect(str(db), read_only=True)
    try:
        for stream in streams:
            if stream == "reporting_data_export":  # keyed by window and row number: count only
                (count,) = con.execute('SELECT count(*) FROM "reporting_data_export"').fetchone()
                expected = len(sandbox.world.ground_truth("reporting_data_export:conversation"))
                if count != expected:
                    found.append(f"{stream}: {count} rows, {expected} in the truth")
                continue
            rows = keys_in_table(con, stream, keys[stream])
            have, want = set(rows), truth(sandbox, stream, keys[stream])
            if len(rows) != len(have):
                found.append(f"{stream}: {len(rows) - len(have)} rows doubled")
            if have != want:
                found.append(f"{stream}: {len(want - have)} missing (e.g. {sorted(want - have)[:2]}), "
                             f"{len(have - want)} not in the truth")
    finally:
        con.close()
    return found


@pytest.mark.slow
def test_meltano_run_lands_exactly_the_ground_truth_in_duckdb(tmp_path, make_sandbox):
    sandbox = make_sandbox(contacts=300, companies=80, conversations=120, export_job_seconds=0.05)
    keys = stream_keys(discovered_catalog(tmp_path, full_config(sandbox)))
    db = tmp_path / "intercom.duckdb"
    env = meltano_env(sandbox, TARGET_DUCKDB_FILEPATH=str(db), TAP_INTERCOM_EXPORT_POLL_SECONDS="0.05",
                      MELTANO_RUN_STATE_ID_SUFFIX=f"test-{uuid.uuid4().hex[:8]}")
    meltano("install", env=env)
    first = meltano("--environment=sandbox", "run", "tap-intercom", "target-duckdb", "--full-refresh", env=env)
    assert mismatches(db, sandbox, keys, sorted(keys)) == []
    report = subprocess.run([sys.executable, "scripts/demo_report.py", "--log", "-", "--db", str(db)], cwd=ROOT,
                            input=first.stdout + first.stderr, capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert "Median time to first admin reply" in report.stdout and "MISMATCH" not in report.stdout

    # a day of work in Intercom, then the nightly incremental run resumes from Meltano's state
    world = sandbox.world
    for _ in range(4):
        world.create("contacts")
        world.create("conversations")
    edited = {}
    for contact in world.ground_truth("contacts")[:6]:
        edited[contact["id"]] = f"{contact['name']} (edited)"
        world.update("contacts", contact["id"], {"name": edited[contact["id"]]})
    # (short threads: a thread past Intercom's 500-part cap would push its oldest parts out of view)
    counts = Counter(p["conversation_id"] for p in world.ground_truth("conversation_parts"))
    for conversation_id in [c for c, n in sorted(counts.items()) if n < 50][:3]:
        world.add_parts(conversation_id, 2)
    gone = world.ground_truth("conversations")[-1]["id"]
    world.delete("conversations", gone)  # Intercom keeps a tombstone (deleted_conversations)
    meltano("--environment=sandbox", "run", "tap-intercom", "target-duckdb", env=env)
    assert mismatches(db, sandbox, keys, [s for s in INCREMENTAL if not s.startswith("conversation")]) == []
    con = duckdb.connect(str(db), read_only=True)
    names = dict(con.execute('SELECT id, name FROM "contacts"').fetchall())
    conversations = {row[0] for row in con.execute('SELECT id FROM "conversations"').fetchall()}
    parts = con.execute('SELECT id FROM "conversation_parts" WHERE conversation_id <> ?', [gone]).fetchall()
    con.close()
    assert {cid: names[cid] for cid in edited} == edited
    # the deleted conversation's rows stay (its tombstone says so); every other row is the truth
    assert conversations - {gone} == {c["id"] for c in world.ground_truth("conversations")}
    assert sorted(p for (p,) in parts) == sorted(p["id"] for p in world.ground_truth("conversation_parts"))


def test_the_load_check_reads_the_tap_summary_and_fails_on_a_missing_row(tmp_path):
    """The demo's check: equal counts pass; a table one row short fails with a non-zero exit."""
    db = tmp_path / "check.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE contacts (id VARCHAR, custom_attributes JSON)")
    con.execute("""INSERT INTO contacts VALUES ('1', '{"plan": "pro", "mrr": 10}'), ('2', '{"plan": "free"}')""")
    con.execute("CREATE TABLE conversations (id VARCHAR, created_at TIMESTAMP, open BOOLEAN, statistics JSON, "
                "tags JSON, team_assignee_id VARCHAR, custom_attributes JSON)")
    con.execute("CREATE TABLE teams (id VARCHAR, name VARCHAR)")
    con.close()
    summary = ("2026-12-05T08:16:18Z [info     ] tap-intercom   contacts                     complete"
               "                             {n}         1        0          0       0.0\n")
    log = tmp_path / "run.log"
    for sent, code in ((2, 0), (3, 1)):
        log.write_text(summary.format(n=sent))
        result = subprocess.run([sys.executable, "scripts/demo_report.py", "--log", str(log), "--db", str(db)],
                                cwd=ROOT, capture_output=True, text=True, timeout=60)
        assert result.returncode == code, result.stdout + result.stderr
    assert "contacts: the tap sent 3 records, the table holds 2" in result.stderr
