"""Change the local Intercom as a day of work would, before the demo's incremental run:
new contacts and conversations, contacts edited, replies added to conversations, a ticket
updated. Prints what it changed.

    .venv/bin/python scripts/demo_changes.py http://127.0.0.1:PORT
"""

from __future__ import annotations

import sys

import requests


def main(url: str) -> int:
    def control(action: str, payload: dict) -> object:
        answer = requests.post(f"{url}/_sandbox/{action}", json=payload, timeout=30)
        answer.raise_for_status()
        return answer.json()

    def truth(stream: str) -> list[dict]:
        return requests.get(f"{url}/_sandbox/ground_truth/{stream}", timeout=60).json()

    contacts, conversations, tickets = truth("contacts"), truth("conversations"), truth("tickets")
    for _ in range(5):
        control("create", {"kind": "contacts"})
    for contact in contacts[:10]:
        control("update", {"kind": "contacts", "id": contact["id"], "fields": {"name": f"{contact['name']} (edited)"}})
    for _ in range(3):
        control("create", {"kind": "conversations"})
    for conversation in conversations[:4]:
        control("add_parts", {"conversation_id": conversation["id"], "count": 2})
    if tickets:
        control("update", {"kind": "tickets", "id": tickets[0]["id"]})
    print("changed the local Intercom: 5 new contacts, 10 contacts edited, 3 new conversations, "
          "2 replies in each of 4 conversations" + (", 1 ticket updated" if tickets else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
