"""The Dockerfile follows Airbyte's connector conventions and stays in step with the package
(no Docker daemon in CI: the image itself is built by hand, see the README)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_dockerfile_entrypoint_and_labels_match_the_package():
    dockerfile = (ROOT / "Dockerfile").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert 'ENTRYPOINT ["tap-intercom-airbyte"]' in dockerfile
    assert 'ENV AIRBYTE_ENTRYPOINT="tap-intercom-airbyte"' in dockerfile
    assert project["scripts"]["tap-intercom-airbyte"] == "tap_intercom.airbyte:main"
    labels = dict(re.findall(r"^LABEL (io\.airbyte\.\w+)=(\S+)$", dockerfile, re.M))
    assert labels == {"io.airbyte.name": "tap-intercom-airbyte", "io.airbyte.version": project["version"]}
    assert 'pip install --no-cache-dir ".[airbyte]"' in dockerfile
    # everything the wheel packs is copied in
    for packed in ("tap_intercom", "intercom_sandbox", "schemas"):
        assert f"COPY {packed} ./{packed}" in dockerfile
