"""Bad input: one clear line on stderr and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

GOOD = {"access_token": "x-token-123", "api_url": "http://127.0.0.1:9"}


def run_cli(tmp_path, config: dict | None, *extra: str, state_text: str | None = None):
    args = [sys.executable, "-m", "tap_intercom"]
    if config is not None:
        (tmp_path / "config.json").write_text(json.dumps(config))
        args += ["--config", str(tmp_path / "config.json")]
    if state_text is not None:
        (tmp_path / "state.json").write_text(state_text)
        args += ["--state", str(tmp_path / "state.json")]
    return subprocess.run([*args, *extra], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("config", "state_text", "expected"), [
    ({}, None, "access_token setting is missing"),
    ({**GOOD, "region": "mars", "api_url": None}, None, "region must be one of us, eu, au, got 'mars'"),
    ({**GOOD, "start_date": "last tuesday"}, None, "start_date is not an ISO 8601 date-time: 'last tuesday'"),
    ({**GOOD, "api_url": "http://intercom.example.com"}, None, "uses plain http to a non-loopback host"),
    ({**GOOD, "page_size": 500}, None, "page_size must be an integer from 1 to 150"),
    ({**GOOD, "max_concurrency": 0}, None, "max_concurrency must be a whole number from 1 to 64, got 0"),
    ({**GOOD, "max_concurrency": "many"}, None, "max_concurrency must be a whole number from 1 to 64"),
    ({**GOOD, "custom_object_types": "Order"}, None, "custom_object_types must be a list of names"),
    ({**GOOD, "custom_object_types": ["Order", "order"]}, None, "gives two streams the same name"),
    ({**GOOD, "reporting_datasets": [""]}, None, "reporting_datasets must be a list of names"),
    ({**GOOD, "export_window_days": 0}, None, "export_window_days must be a whole number of days"),
    ({**GOOD, "export_job_timeout_minutes": -1}, None, "export_job_timeout_minutes must be a positive number"),
    (GOOD, "{not json", "is not valid JSON"),
])
def test_bad_input_is_one_clear_line(tmp_path, config, state_text, expected):
    config = {k: v for k, v in config.items() if v is not None}
    result = run_cli(tmp_path, config, state_text=state_text)
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert expected in lines[0]
    assert "Traceback" not in result.stderr
    assert "x-token-123" not in result.stderr


def test_revoked_token_is_one_clear_line(intercom_sandbox, tmp_path):
    config = {"access_token": "revoked-token-456", "api_url": intercom_sandbox.url}
    result = run_cli(tmp_path, config)
    assert result.returncode != 0
    assert "access token invalid or revoked" in result.stderr
    assert "Traceback" not in result.stderr
    assert "revoked-token-456" not in result.stderr
    final = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert final == "tap-intercom: error: Intercom answered 401: access token invalid or revoked"


def test_forbidden_stream_is_skipped_and_others_go_on(make_sandbox, tmp_path):
    sandbox = make_sandbox()
    sandbox.forbidden_paths = {"/teams"}
    config = {"access_token": sandbox.config.token, "api_url": sandbox.url}
    result = run_cli(tmp_path, config)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Skipping stream 'teams': the access token lacks the 'Read admins' permission" in result.stderr
    streams = {json.loads(line).get("stream") for line in result.stdout.splitlines()}
    assert "admins" in streams and "contacts" in streams


def test_unknown_custom_object_type_is_one_clear_line(make_sandbox, tmp_path):
    sandbox = make_sandbox()
    config = {"access_token": sandbox.config.token, "api_url": sandbox.url, "custom_object_types": ["Nope"]}
    catalog_run = run_cli(tmp_path, config, "--discover")
    catalog = json.loads(catalog_run.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            metadata["metadata"]["selected"] = entry["tap_stream_id"] == "custom_object_nope"
    (tmp_path / "catalog.json").write_text(json.dumps(catalog))
    result = run_cli(tmp_path, config, "--catalog", str(tmp_path / "catalog.json"))
    assert result.returncode != 0
    final = [line for line in result.stderr.splitlines() if line.strip()][-1]
    assert final.startswith("tap-intercom: error: 1 stream(s) failed: custom_object_nope (Intercom answered 404 "
                            "on /custom_object_instances/Nope")
    assert "Traceback" not in result.stderr
