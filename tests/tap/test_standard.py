"""The Singer SDK's standard tap tests, run against a sandbox started for this module."""

from __future__ import annotations

import atexit
import os

from singer_sdk.testing import SuiteConfig, get_tap_test_class

from intercom_sandbox import SCALES, Sandbox, SandboxConfig
from tap_intercom.tap import TapIntercom

# The SDK builds its test class at import time from a config, so the sandbox starts here.
_sandbox = Sandbox(SandboxConfig(scale=SCALES["small"].with_counts(contacts=80, companies=40, conversations=30,
                                                                     long_conversations=0),
                                  export_job_seconds=0.02)).start()
atexit.register(_sandbox.stop)
os.environ["TAP_INTERCOM_EXPORT_POLL_SECONDS"] = "0.02"

_config = {"access_token": _sandbox.config.token, "api_url": _sandbox.url, "start_date": "2021-01-01T00:00:00Z",
           "custom_object_types": ["Order"], "reporting_datasets": ["conversation"], "export_window_days": 365}
# Every stream, the opt-in ones too, so each is held to the standard tests.
_catalog = TapIntercom(config=_config, parse_env_config=False).catalog_dict
for _entry in _catalog["streams"]:
    for _metadata in _entry["metadata"]:
        _metadata["metadata"]["selected"] = True

TestTapIntercom = get_tap_test_class(
    TapIntercom,
    config=_config,
    catalog=_catalog,
    suite_config=SuiteConfig(max_records_limit=500),
)
