"""The Singer SDK's standard tap tests, run against a sandbox started for this module."""

from __future__ import annotations

import atexit

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from intercom_sandbox import SCALES, Sandbox, SandboxConfig
from tap_intercom.tap import TapIntercom

# The SDK builds its test class at import time from a config, so the sandbox starts here.
_sandbox = Sandbox(SandboxConfig(scale=SCALES["small"].with_counts(contacts=80, companies=40, conversations=30,
                                                                     long_conversations=0))).start()
atexit.register(_sandbox.stop)

TestTapIntercom = get_tap_test_class(
    TapIntercom,
    config={"access_token": _sandbox.config.token, "api_url": _sandbox.url, "start_date": "2021-01-01T00:00:00Z"},
    suite_config=SuiteConfig(max_records_limit=500),
)
