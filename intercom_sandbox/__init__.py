"""A local imitation of Intercom's REST API (2.16, and 2.11, 2.14, 2.15), for tests, benchmarks and the demo.

It never imports the tap, and the tap never imports it.
"""

from .controls import FaultRule, Faults
from .scale import SCALES, Scale
from .server import Sandbox, SandboxConfig

__all__ = ["SCALES", "FaultRule", "Faults", "Sandbox", "SandboxConfig", "Scale"]
