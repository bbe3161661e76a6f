"""After `meltano run tap-intercom target-duckdb`: check the load, then answer a support lead.

    .venv/bin/python scripts/demo_report.py --log RUN.log --db output/intercom.duckdb [--incremental]

Per stream it prints the records the tap sent (from its run summary in the Meltano log) next
to the rows in the DuckDB table. After a full run they must be equal: any difference is an
error and the exit code is 1 (a loader can drop rows without a word). After an incremental
run the table holds what it had plus what changed, so each table must hold at least the
records sent. Then it answers, in SQL over the loaded tables, five questions a support or
revenue lead asks.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import duckdb

# a row of the tap's run summary, as Meltano logs it: "tap-intercom   contacts   complete   4,000 …"
SUMMARY_ROW = re.compile(r"tap-intercom\s{3}(\w+)\s+(complete|failed|not synced \(parent failed\)|"
                         r"skipped for permission)\s+([\d,]+)")

QUESTIONS = {
    "Conversations opened per week (latest 6 weeks with any)": """
        SELECT strftime(date_trunc('week', created_at), '%Y-%m-%d') AS week_of, count(*) AS opened
        FROM conversations GROUP BY 1 ORDER BY 1 DESC LIMIT 6""",
    "Median time to first admin reply": """
        SELECT round(median(CAST(statistics->>'time_to_admin_reply' AS DOUBLE)) / 60, 1) AS minutes,
               count(statistics->>'time_to_admin_reply') AS conversations_replied
        FROM conversations""",
    "Open conversations by team": """
        SELECT coalesce(t.name, '(no team)') AS team, count(*) AS open_conversations
        FROM conversations c LEFT JOIN teams t ON t.id = c.team_assignee_id
        WHERE c.open GROUP BY 1 ORDER BY 2 DESC, 1""",
    "Top tags on conversations": """
        SELECT tag->>'name' AS tag, count(*) AS conversations
        FROM (SELECT unnest(from_json(tags->'$.tags', '["json"]')) AS tag FROM conversations)
        GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 5""",
    "Contacts by plan (custom attribute), with their average MRR": """
        SELECT custom_attributes->>'plan' AS plan, count(*) AS contacts,
               round(avg(CAST(custom_attributes->>'mrr' AS DOUBLE)), 2) AS avg_mrr
        FROM contacts GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 6""",
}


def records_sent(log: str) -> dict[str, int]:
    return {m.group(1): int(m.group(3).replace(",", "")) for m in SUMMARY_ROW.finditer(log)}


def table_rows(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    tables = [name for (name,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'main'").fetchall()]
    return {name: con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in tables}


def check(sent: dict[str, int], rows: dict[str, int], incremental: bool) -> list[str]:
    """Print the load check; the problems found (empty: every record landed)."""
    problems = []
    print(f"  {'stream':30} {'records sent':>12} {'rows in table':>14}")
    for stream in sorted(sent):
        count, held = sent[stream], rows.get(stream)
        bad = held is None and count > 0 or held is not None and (held < count if incremental else held != count)
        print(f"  {stream:30} {count:>12,} {format(held, ',') if held is not None else '-':>14}{'   ← MISMATCH' if bad else ''}")
        if bad:
            problems.append(f"{stream}: the tap sent {count:,} records, the table holds {held}")
    return problems


def answer(con: duckdb.DuckDBPyConnection) -> None:
    for title, sql in QUESTIONS.items():
        result = con.execute(sql)
        header = [column[0] for column in result.description]
        rows = result.fetchall()
        widths = [max(len(str(v)) for v in [name, *(row[i] for row in rows)]) for i, name in enumerate(header)]
        print(f"\n{title}")
        print("  " + "  ".join(f"{name:>{w}}" for name, w in zip(header, widths)))
        for row in rows:
            print("  " + "  ".join(f"{str(value):>{w}}" for value, w in zip(row, widths)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--log", required=True, help="the Meltano run's log (info level); - reads stdin")
    parser.add_argument("--db", type=Path, required=True, help="the DuckDB file")
    parser.add_argument("--incremental", action="store_true", help="the run resumed from state")
    args = parser.parse_args(argv)
    sent = records_sent(sys.stdin.read() if args.log == "-" else Path(args.log).read_text())
    if not sent:
        print(f"demo: error: no run summary of tap-intercom in {args.log}", file=sys.stderr)
        return 1
    con = duckdb.connect(str(args.db), read_only=True)
    print("records sent by the tap this run, rows in DuckDB:" if args.incremental
          else "every record the tap sent, and the rows that landed in DuckDB:")
    problems = check(sent, table_rows(con), args.incremental)
    if problems:
        for problem in problems:
            print(f"demo: error: {problem}", file=sys.stderr)
        return 1
    answer(con)
    return 0


if __name__ == "__main__":
    sys.exit(main())
