"""The one HTTP policy of the tap: where requests go, how they are authenticated,
paced, retried, and how Intercom's errors become the tap's errors.

Every stream sends through one `IntercomHttp` per tap, so the rate-limit budget read
from `X-RateLimit-*` headers is shared by everything the tap does.
"""

from __future__ import annotations

import ipaddress
import logging
import os
import random
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import msgspec
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
decode_json = msgspec.json.Decoder().decode  # a few times faster than the json module
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
    """Paces every request of the process by Intercom's headers, so that concurrent workers
    share one budget and a window's budget is spread evenly over the window.

    Intercom allows a fixed number of requests per 10-second window and says how many are
    left (`X-RateLimit-Remaining`) and when the window resets (`X-RateLimit-Reset`). A header
    counts only the requests Intercom had seen when it answered, so requests still in flight
    are taken off it. Starts are spaced by the time left over the budget left; with nothing
    left, everyone waits for the reset. Before the first answer (budget unknown) one request
    goes at a time. No wait is ever longer than one window, whatever the clocks say.
    """

    WINDOW_SECONDS = 10.0

    def __init__(self, clock=time.time, sleep=time.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self.limit: int | None = None  # the window's budget, once Intercom has said it
        self.remaining: int | None = None  # requests left in the window, our own starts counted
        self.reset_at: float = 0.0
        self.in_flight = 0
        self.unmetered = False  # answers came back without rate-limit headers
        self._next_start = 0.0
        self.waited_seconds = 0.0

    def _reserve(self, now: float) -> tuple[float, bool]:
        """(seconds to wait, whether a start was reserved); without one, wait and ask again."""
        if now >= self.reset_at and self.limit is not None:
            # A new window: the full budget, less what is still in flight (until an answer says).
            self.reset_at = now + self.WINDOW_SECONDS
            self.remaining = self.limit - self.in_flight
            self._next_start = now
        if self.remaining is None or now >= self.reset_at:
            # Budget unknown: one request at a time until the first answer tells it (or shows
            # that nobody is counting: answers without rate-limit headers).
            return (0.0, True) if self.in_flight == 0 or self.unmetered else (0.02, False)
        if self.remaining <= 0:
            return min(self.reset_at - now, self.WINDOW_SECONDS) + random.uniform(0.05, 0.25), False
        spacing = min(self.reset_at - now, self.WINDOW_SECONDS) / self.remaining
        start = max(now, self._next_start)
        self._next_start = start + spacing
        self.remaining -= 1
        return start - now, True

    def acquire(self) -> None:
        while True:
            with self._lock:
                wait, reserved = self._reserve(self._clock())
                if reserved:
                    self.in_flight += 1
            if wait > 0:
                self.waited_seconds += wait
                self._sleep(wait)
            if reserved:
                return

    def observe(self, headers: Any) -> None:
        """An answer arrived (headers may be None when none came back): it is no longer in flight."""
        with self._lock:
            self.in_flight = max(0, self.in_flight - 1)
            try:
                limit = int(headers["X-RateLimit-Limit"])
                remaining = int(headers["X-RateLimit-Remaining"])
                reset_at = float(headers["X-RateLimit-Reset"])
            except (KeyError, TypeError, ValueError):
                self.unmetered = headers is not None and self.limit is None
                return
            self.limit = limit
            if reset_at <= self._clock():
                return  # an answer from a window that has ended
            left = remaining - self.in_flight  # requests Intercom has not counted yet will use these
            if self.remaining is None or abs(reset_at - self.reset_at) > 0.5:
                # Intercom's window, not our estimate of it
                self.reset_at, self.remaining = reset_at, left
                self._next_start = 0.0
            else:
                self.remaining = min(self.remaining, left)

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
        # requests reads proxy and CA-bundle variables from the environment on every request;
        # the host never changes, so read them once here and stop it looking again.
        self.session.proxies.update(requests.utils.get_environ_proxies(self.base_url))
        self.session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
        self.session.trust_env = False
        self.requests_sent = 0
        self.rate_limited = 0

    def check_origin(self, url: str) -> str:
        """A `pages.next` URL is followed only on the API's own origin (the token goes with it)."""
        if origin(url) != self._origin:
            raise TransientError(f"refusing to follow a next-page URL on another host: {urlsplit(url).hostname}")
        return url

    def get(self, path: str, params: dict | None = None, *, retry_errors: bool = True) -> Any:
        request = requests.Request("GET", self.base_url + path, params=params)
        return self.send(self.session.prepare_request(request), retry_errors=retry_errors).intercom_json

    def post(self, path: str, body: dict) -> Any:
        request = requests.Request("POST", self.base_url + path, json=body)
        return self.send(self.session.prepare_request(request)).intercom_json

    def download(self, url: str) -> bytes:
        """The body of an export file (an absolute URL on the API's origin), retried when cut off."""
        request = requests.Request("GET", self.check_origin(url), headers={"Accept": "application/octet-stream"})
        return self.send(self.session.prepare_request(request), expect_json=False).content

    def send(self, request: requests.PreparedRequest, *, retry_errors: bool = True,
             expect_json: bool = True) -> requests.Response:
        """The response, its JSON body parsed as `response.intercom_json`; raises the tap's errors.

        With retry_errors=False a 5xx, a lost answer or a broken body raises ServerError at
        once: a scroll page whose answer was lost may have been served already (the scroll moved
        on), so it cannot be asked for again, only the scroll restarted. 429s are still waited
        out: Intercom serves nothing with them.
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
                self.limiter.observe(None)
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
                if status >= 500 and not retry_errors:
                    raise ServerError(f"Intercom answered {status} on {path}: {error_text(response)}")
                if status < 300 and not expect_json:
                    return response
                if status < 300:
                    try:
                        response.intercom_json = decode_json(response.content)  # type: ignore[attr-defined]
                        return response
                    except ValueError:  # msgspec.DecodeError is one
                        problem = f"a 200 whose body is not JSON on {path}"
                else:
                    problem = f"{status} on {request.method} {path}"
            if not retry_errors:
                raise ServerError(f"{problem} (not retried)")
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
