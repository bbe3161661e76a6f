from __future__ import annotations

from pathlib import Path

import pytest
import requests
import yaml

from intercom_sandbox import Sandbox


OPENAPI = Path(__file__).resolve().parents[2] / "openapi"  # Intercom's descriptions, in the repo


def load_description(version: str) -> dict:
    path = OPENAPI / version / "api.intercom.io.yaml"
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@pytest.fixture(scope="session")
def spec_dict():
    """The official 2.16 description, parsed once (conformance tests deep-copy it)."""
    return load_description("2.16")


class Client:
    """A plain HTTP client for the sandbox, as any Intercom client would call it."""

    def __init__(self, sandbox: Sandbox, token: str | None = None, version: str | None = "2.16") -> None:
        self.sandbox = sandbox
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or sandbox.config.token}"
        if version:
            self.session.headers["Intercom-Version"] = version

    def get(self, path: str, **params) -> requests.Response:
        return self.session.get(self.sandbox.url + path, params=params, timeout=30)

    def post(self, path: str, body: dict) -> requests.Response:
        return self.session.post(self.sandbox.url + path, json=body, timeout=30)

    def ok(self, method: str, path: str, body: dict | None = None, **params) -> dict:
        response = self.post(path, body or {}) if method == "POST" else self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def client(intercom_sandbox) -> Client:
    return Client(intercom_sandbox)


def walk_search(client: Client, path: str, query: dict, list_key: str, per_page: int, sort: dict | None = None):
    """Every record of a search, following pages.next.starting_after in the body."""
    records, pages = [], 0
    pagination: dict = {"per_page": per_page}
    while True:
        body = {"query": query, "pagination": pagination}
        if sort:
            body["sort"] = sort
        page = client.ok("POST", path, body)
        pages += 1
        records.extend(page[list_key])
        nxt = (page.get("pages") or {}).get("next")
        if not nxt:
            return records, pages
        pagination = {"per_page": per_page, "starting_after": nxt["starting_after"]}
