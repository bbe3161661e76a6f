"""The one HTTP policy of the tap: where requests go, how they are authenticated,
paced, retried, and how Intercom's errors become the tap's errors.

Every stream sends through one `IntercomHttp` per tap, so the rate-limit budget read
from `X-RateLimit-*` headers is shared by everything the tap does.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import random
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import requests

from .errors import AuthError, ConfigError, ForbiddenError, NotFoundError, RequestError, ServerError, TransientError

REGION_HOSTS = {
    "us": "https://api.intercom.io",
    "eu": "https://api.eu.intercom.io",
    "au": "https://api.au.intercom.io",
}

# Error retries (5xx, timeouts, dropped connections, a 200 that is not JSON): exponential
# backoff with full jitter. Waits for a 429 are separate and do not use these up. The base
# can be shortened through the environment (the test suite does).
MAX_ERROR_TRIES = 8
BACKOFF_BASE_SECONDS = float(os.environ.get("TAP_INTERCOM_BACKOFF_BASE_SECONDS", "1.0"))
BACKOFF_CAP_SECONDS = 60.0
MAX_RATE_LIMIT_WAITS = 60  # consecutive 429s on one request before giving up (~10 minutes)
RETRIABLE_EXCEPTIONS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_base_url(config: dict) -> str:
    """The API origin from `api_url` or `region`; plain http only to a loopback host."""
    api_url = config.get("api_url")
    if api_url:
        parts = urlsplit(api_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ConfigError(f"api_url must be an http(s) URL, got {api_url!r}")
        if parts.scheme == "http" and not is_loopback(parts.hostname):
            raise ConfigError(
                f"api_url {api_url!r} uses plain http to a non-loopback host; "
                "the access token is only sent over https (http is allowed for 127.0.0.1/localhost)"
            )
        return api_url.rstrip("/")
    region = config.get("region") or "us"
    if region not in REGION_HOSTS:
        raise ConfigError(f"region must be one of {', '.join(REGION_HOSTS)}, got {region!r}")
    return REGION_HOSTS[region]


def origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


class RateLimiter:
    """Paces requests by Intercom's headers so that a window's budget is spread evenly.

    Intercom allows a fixed number of requests per 10-second window and says how many
    are left (`X-RateLimit-Remaining`) and when the window resets (`X-RateLimit-Reset`).
    Requests start no faster than the remaining budget over the remaining time allows,
    and wait for the reset when nothing is left, so 429s stay rare even when several
    workers share the budget.
    """

    WINDOW_SECONDS = 10.0  # no wait is ever longer than one window, whatever the clocks say

    def __init__(self, clock=time.time, sleep=time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.remaining: int | None = None  # requests left in the window, counting our own starts
        self.reset_at: float = 0.0
        self._next_start = 0.0
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        with self._lock:
            now = self._clock()
            if self.remaining is None or now >= self.reset_at:
                self.remaining = None  # a new window: unknown budget until the next answer
                start = now
            elif self.remaining <= 0:
                start = now + min(self.reset_at - now, self.WINDOW_SECONDS) + random.uniform(0.05, 0.25)
                self.remaining = None
            else:
                spacing = min(self.reset_at - now, self.WINDOW_SECONDS) / self.remaining
                start = max(now, self._next_start)
                self._next_start = start + spacing
                self.remaining -= 1
        wait = start - now
        if wait > 0:
            self.waited_seconds += wait
            self._sleep(wait)

    def observe(self, headers: Any) -> None:
        try:
            remaining = int(headers["X-RateLimit-Remaining"])
            reset_at = float(headers["X-RateLimit-Reset"])
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            if reset_at > self.reset_at or self.remaining is None:
                self.reset_at, self.remaining = reset_at, remaining
                self._next_start = 0.0
            else:
                self.remaining = min(self.remaining, remaining)

    def exhausted_until(self, reset_at: float | None) -> float:
        """After a 429: no budget left until the reset; returns the seconds to wait."""
        with self._lock:
            now = self._clock()
            wait = min(reset_at - now, self.WINDOW_SECONDS) if reset_at and reset_at > now else self.WINDOW_SECONDS
            self.reset_at, self.remaining = now + wait, 0
            return wait


class IntercomHttp:
    """Sends every request of the tap. Thread-safe: workers share it."""

    def __init__(self, config: dict, logger: logging.Logger) -> None:
        self.base_url = resolve_base_url(config)
        self._origin = origin(self.base_url)
        self.logger = logger
        self.timeout = float(config.get("request_timeout") or 120)
        self.limiter = RateLimiter()
        self.session = requests.Session()
        adapter = requests.adapters.HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self.session.mount("https://", adapter)
        self.session.mount("http://", adapter)
        self.session.headers.update({
            "Authorization": f"Bearer {config['access_token']}",
            "Intercom-Version": str(config.get("api_version") or "2.16"),
            "Accept": "application/json",
            "User-Agent": config.get("user_agent") or "tap-intercom",
        })
        self.requests_sent = 0
        self.rate_limited = 0

    def check_origin(self, url: str) -> str:
        """A `pages.next` URL is followed only on the API's own origin (the token goes with it)."""
        if origin(url) != self._origin:
            raise TransientError(f"refusing to follow a next-page URL on another host: {urlsplit(url).hostname}")
        return url

    def get(self, path: str, params: dict | None = None, *, retry_server_errors: bool = True) -> Any:
        request = requests.Request("GET", self.base_url + path, params=params)
        return self.send(self.session.prepare_request(request), retry_server_errors=retry_server_errors).intercom_json

    def post(self, path: str, body: dict) -> Any:
        request = requests.Request("POST", self.base_url + path, json=body)
        return self.send(self.session.prepare_request(request)).intercom_json

    def download(self, url: str) -> bytes:
        """The body of an export file (an absolute URL on the API's origin), retried when cut off."""
        request = requests.Request("GET", self.check_origin(url), headers={"Accept": "application/octet-stream"})
        return self.send(self.session.prepare_request(request), expect_json=False).content

    def send(self, request: requests.PreparedRequest, *, retry_server_errors: bool = True,
             expect_json: bool = True) -> requests.Response:
        """The response, its JSON body parsed as `response.intercom_json`; raises the tap's errors.

        With retry_server_errors=False a 5xx raises ServerError at once (a broken scroll
        cannot be retried, only restarted).
        """
        request.headers.update({k: v for k, v in self.session.headers.items() if k not in request.headers})
        path = urlsplit(request.url or "").path
        errors = rate_waits = 0
        while True:
            self.limiter.acquire()
            problem: str
            try:
                response = self.session.send(request, timeout=self.timeout)
            except RETRIABLE_EXCEPTIONS as exc:
                problem = f"{type(exc).__name__} on {request.method} {path}"
            else:
                self.requests_sent += 1
                self.limiter.observe(response.headers)
                status = response.status_code
                if status == 429 and "export job" in error_text(response):
                    # Too many export jobs pending: waiting for the rate-limit window would not help.
                    raise RequestError(f"Intercom answered 429 on {path}: {error_text(response)}", 429,
                                       error_codes(response))
                if status == 429:
                    rate_waits += 1
                    self.rate_limited += 1
                    if rate_waits > MAX_RATE_LIMIT_WAITS:
                        raise TransientError(f"still rate limited after {MAX_RATE_LIMIT_WAITS} waits on {path}")
                    # The next acquire() waits for the window to reset.
                    wait = self.limiter.exhausted_until(_float(response.headers.get("X-RateLimit-Reset")))
                    self.logger.info("Rate limited on %s; waiting %.1fs for the window to reset", path, wait)
                    continue
                if status == 401:
                    raise AuthError("Intercom answered 401: access token invalid or revoked")
                if status == 403:
                    raise ForbiddenError(f"Intercom answered 403 on {path}: {error_text(response)}")
                if status == 404:
                    raise NotFoundError(f"Intercom answered 404 on {path}: {error_text(response)}")
                if 400 <= status < 500:
                    raise RequestError(f"Intercom answered {status} on {request.method} {path}: "
                                       f"{error_text(response)}", status, error_codes(response))
                if status >= 500 and not retry_server_errors:
                    raise ServerError(f"Intercom answered {status} on {path}: {error_text(response)}")
                if status < 300 and not expect_json:
                    return response
                if status < 300:
                    try:
                        response.intercom_json = json.loads(response.content)  # type: ignore[attr-defined]
                        return response
                    except ValueError:
                        problem = f"a 200 whose body is not JSON on {path}"
                else:
                    problem = f"{status} on {request.method} {path}"
            errors += 1
            if errors >= MAX_ERROR_TRIES:
                raise TransientError(f"giving up after {errors} tries: {problem}")
            wait = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (errors - 1)))
            self.logger.warning("Retrying in %.1fs (try %d of %d): %s", wait, errors + 1, MAX_ERROR_TRIES, problem)
            time.sleep(wait)


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_codes(response: requests.Response) -> tuple[str, ...]:
    try:
        return tuple(str(e.get("code")) for e in response.json().get("errors", []))
    except (ValueError, AttributeError):
        return ()


def error_text(response: requests.Response) -> str:
    """Intercom's own error codes and messages (never the request's headers)."""
    try:
        body = response.json()
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in body.get("errors", [])) or response.reason
    except ValueError:
        return response.reason or "no details"
