"""`intercom-sandbox` on the command line: URL line first, answers, clean stop.

How fast it starts is measured by benchmarks/sandbox_throughput.py, not here."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests


def test_small_scale_answers_and_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "intercom_sandbox", "--scale", "small", "--port", "0", "--token", "t0ken",
         "--seed", "3", "--contacts", "250"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        line = process.stdout.readline().strip()
        assert line.startswith("URL http://127.0.0.1:")
        url = line.split(" ", 1)[1]
        response = requests.get(url + "/contacts", headers={"Authorization": "Bearer t0ken"}, timeout=5)
        assert response.status_code == 200
        assert response.json()["total_count"] == 250
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0


def test_bad_fault_option_is_one_clear_line():
    result = subprocess.run([sys.executable, "-m", "intercom_sandbox", "--fault", "boom:1"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("intercom-sandbox: bad --fault")
