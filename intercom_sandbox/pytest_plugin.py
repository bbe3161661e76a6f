"""pytest fixtures that start a sandbox on a free loopback port (registered as a pytest11 plugin)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from .scale import SCALES
from .server import Sandbox, SandboxConfig


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., Sandbox]]:
    """Start sandboxes with chosen options: make_sandbox(scale="small", contacts=50, rate_limit=20, …)."""
    started: list[Sandbox] = []

    def make(scale: str = "small", **options) -> Sandbox:
        counts = {k: options.pop(k) for k in list(options) if k in SCALES[scale].__dataclass_fields__}
        config = SandboxConfig(scale=SCALES[scale].with_counts(**counts), **options)
        sandbox = Sandbox(config).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def intercom_sandbox(make_sandbox) -> Sandbox:
    """A small sandbox with default options, new for each test."""
    return make_sandbox()
