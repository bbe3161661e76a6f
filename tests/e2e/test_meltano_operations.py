"""What Meltano users run to operate the tap: `meltano config test tap-intercom` (Meltano 4; Meltano 3 spelled it `meltano config tap-intercom test`)."""

from __future__ import annotations

import subprocess

import pytest

from .test_meltano_postgres import MELTANO, ROOT, meltano, meltano_env


@pytest.mark.slow
def test_meltano_config_test_succeeds_and_a_bad_token_fails_with_one_line(make_sandbox):
    sandbox = make_sandbox()
    env = meltano_env(sandbox)
    meltano("install", "extractor", "tap-intercom", env=env)
    good = meltano("--environment=sandbox", "config", "test", "tap-intercom", env=env)
    assert "Plugin configuration is valid" in good.stdout + good.stderr

    bad = subprocess.run([MELTANO, "--environment=sandbox", "config", "test", "tap-intercom"], cwd=ROOT,
                         env={**env, "TAP_INTERCOM_ACCESS_TOKEN": "not-a-token"}, capture_output=True, text=True,
                         timeout=600)
    assert bad.returncode != 0
    output = bad.stdout + bad.stderr
    assert "tap-intercom: error: Intercom answered 401: access token invalid or revoked" in output
    assert "Traceback" not in output and "not-a-token" not in output
