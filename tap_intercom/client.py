"""The one HTTP policy of the tap: where requests go, how they are authenticated,
paced, retried, and how Intercom's errors become the tap's errors.

Every stream sends through one `IntercomHttp` per tap, so the rate-limit budget read
from `X-RateLimit-*` headers is shared by everything the tap does.
"""

from __future__ import annotations

import copy
import ipaddress
import json
import logging
import os
import random
import threading
import time
from typing import Any
from urllib.parse import urlencode, urlsplit

import certifi
import msgspec
import requests
import urllib3

from .errors import (AuthError, ConfigError, ForbiddenError, NotFoundError, PageFailedError, RequestError, ServerError,
                     TransientError)

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

    def __init__(self, clock=time.time, sleep=time.sleep, share: float = 1.0) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        # `rate_limit_share`: the part of each window's budget this process may spend; the rest
        # is left to the workspace's other clients (another pipeline, the company's own app)
        self.share = share
        self.started_in_window = 0  # our own starts since Intercom's window began
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
            # A new window: our budget, less what is still in flight (until an answer says).
            self.reset_at = now + self.WINDOW_SECONDS
            self.started_in_window = self.in_flight
            self.remaining = self.allowed - self.in_flight
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
        self.started_in_window += 1
        return start - now, True

    @property
    def allowed(self) -> int:
        """The requests this process may start per window: its share of Intercom's limit."""
        return max(1, int((self.limit or 0) * self.share))

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
                # Intercom's window, not our estimate of it: what is in flight counts in it
                self.reset_at, self.started_in_window = reset_at, self.in_flight
                self.remaining = min(left, self.allowed - self.in_flight)
                self._next_start = 0.0
            else:
                self.remaining = min(self.remaining, left, self.allowed - self.started_in_window)

    def exhausted_until(self, reset_at: float | None) -> float:
        """After a 429: no budget left until the reset; returns the seconds to wait."""
        with self._lock:
            now = self._clock()
            wait = min(reset_at - now, self.WINDOW_SECONDS) if reset_at and reset_at > now else self.WINDOW_SECONDS
            self.reset_at, self.remaining = now + wait, 0
            return wait


class RequestStats:
    """Requests, error retries and 429 waits, per stream (None: the tap's own, e.g. discovery)."""

    KINDS = ("requests", "retries", "rate_limit_waits")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_stream: dict[str | None, dict[str, int]] = {}

    def count(self, stream: str | None, kind: str) -> None:
        with self._lock:
            counts = self.by_stream.setdefault(stream, dict.fromkeys(self.KINDS, 0))
            counts[kind] += 1

    def of(self, stream: str | None) -> dict[str, int]:
        with self._lock:
            return dict(self.by_stream.get(stream) or dict.fromkeys(self.KINDS, 0))

    def total(self, kind: str) -> int:
        with self._lock:
            return sum(counts[kind] for counts in self.by_stream.values())


class IntercomHttp:
    """Sends every request of the tap. Thread-safe: workers share it. `for_stream(name)` is the
    same policy (one pool, one rate-limit budget) counting its requests for that stream."""

    stream: str | None = None

    def __init__(self, config: dict, logger: logging.Logger) -> None:
        self.base_url = resolve_base_url(config)
        self._origin = origin(self.base_url)
        self.logger = logger
        self.timeout = float(config.get("request_timeout") or 120)
        self.limiter = RateLimiter(share=float(config.get("rate_limit_share") or 1.0))
        self.stats = RequestStats()
        # requests builds the requests (the SDK hands them over that way); urllib3, under it,
        # sends them: requests' own sending costs twice the CPU per request, and a sync makes
        # one request per conversation.
        self.session = requests.Session()
        self.session.trust_env = False  # the environment is read once, below
        self.headers = {
            "Authorization": f"Bearer {config['access_token']}",
            "Intercom-Version": str(config.get("api_version") or "2.16"),
            "Accept": "application/json",
            "User-Agent": config.get("user_agent") or "tap-intercom",
            "Accept-Encoding": "gzip, deflate",
        }
        self.session.headers.update(self.headers)
        proxy = requests.utils.get_environ_proxies(self.base_url).get(urlsplit(self.base_url).scheme)
        pool_options = {
            "maxsize": 80, "block": False, "timeout": urllib3.Timeout(self.timeout),
            "ca_certs": os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or certifi.where(),
            # Failures are retried here, by the policy; redirects are followed (without the
            # token when they leave the host).
            "retries": urllib3.Retry(total=None, connect=0, read=0, status=0, other=0, redirect=5,
                                     raise_on_redirect=False),
        }
        self.pool = urllib3.ProxyManager(proxy, **pool_options) if proxy else urllib3.PoolManager(**pool_options)

    def for_stream(self, name: str) -> IntercomHttp:
        view = copy.copy(self)  # shares the pool, the limiter and the stats
        view.stream = name
        return view

    @property
    def requests_sent(self) -> int:
        return self.stats.total("requests")

    def check_origin(self, url: str) -> str:
        """A `pages.next` URL is followed only on the API's own origin (the token goes with it)."""
        if origin(url) != self._origin:
            raise TransientError(f"refusing to follow a next-page URL on another host: {urlsplit(url).hostname}")
        return url

    def get(self, path: str, params: dict | None = None, *, retry_errors: bool = True) -> Any:
        return self.request("GET", self.base_url + path, params=params, retry_errors=retry_errors).intercom_json

    def post(self, path: str, body: dict, *, tries: int | None = None) -> Any:
        return self.request("POST", self.base_url + path, body=json.dumps(body).encode(),
                            headers={"Content-Type": "application/json"}, tries=tries).intercom_json

    def download(self, url: str) -> bytes:
        """The body of an export file (an absolute URL on the API's origin), retried when cut off."""
        return self.request("GET", self.check_origin(url), headers={"Accept": "application/octet-stream"},
                            expect_json=False).content

    def send(self, prepared: requests.PreparedRequest, **options: Any) -> Answer:
        """A request the SDK prepared."""
        return self.request(prepared.method or "GET", prepared.url or "", body=prepared.body,
                            headers=prepared.headers, **options)

    def request(self, method: str, url: str, *, params: dict | None = None, body: bytes | str | None = None,
                headers: Any = None, retry_errors: bool = True, expect_json: bool = True,
                tries: int | None = None) -> Answer:
        """The answer, its JSON body parsed as `answer.intercom_json`; raises the tap's errors.

        With retry_errors=False a 5xx, a lost answer or a broken body raises ServerError at
        once: a scroll page whose answer was lost may have been served already (the scroll moved
        on), so it cannot be asked for again, only the scroll restarted. 429s are still waited
        out: Intercom serves nothing with them. With `tries`, the request fails with
        PageFailedError after that many failures, for the caller to ask differently.
        """
        if params:
            url += ("&" if "?" in url else "?") + urlencode(params)
        headers = {**self.headers, **headers} if headers else self.headers
        path = urlsplit(url).path
        errors = rate_waits = 0
        while True:
            self.limiter.acquire()
            problem: str
            try:
                response = Answer(self.pool.urlopen(method, url, body=body, headers=headers))
            except urllib3.exceptions.HTTPError as exc:  # connection, timeout, cut-off answer
                self.limiter.observe(None)
                problem = f"{connection_problem(exc)} on {method} {urlsplit(url).netloc}{path}"
            else:
                self.stats.count(self.stream, "requests")
                self.limiter.observe(response.headers)
                status = response.status_code
                if status == 429 and "export job" in error_text(response):
                    # Too many export jobs pending: waiting for the rate-limit window would not help.
                    raise RequestError(f"Intercom answered 429 on {path}: {error_text(response)}", 429,
                                       error_codes(response))
                if status == 429:
                    rate_waits += 1
                    self.stats.count(self.stream, "rate_limit_waits")
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
                    raise RequestError(f"Intercom answered {status} on {method} {path}: "
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
                    problem = f"{status} on {method} {path}"
            if not retry_errors:
                raise ServerError(f"{problem} (not retried)")
            errors += 1
            if tries is not None and errors >= tries:  # the caller changes the request (a smaller page)
                raise PageFailedError(f"{problem}, {errors} times")
            if errors >= MAX_ERROR_TRIES:
                raise TransientError(f"giving up after {errors} tries: {problem}")
            self.stats.count(self.stream, "retries")
            wait = random.uniform(0, min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (errors - 1)))
            self.logger.warning("Retrying in %.1fs (try %d of %d): %s", wait, errors + 1, MAX_ERROR_TRIES, problem)
            time.sleep(wait)


class Answer:
    """What the tap reads of an HTTP answer (the parts of requests' Response it uses)."""

    __slots__ = ("status_code", "headers", "content", "reason", "intercom_json")

    def __init__(self, raw: urllib3.BaseHTTPResponse) -> None:
        self.status_code, self.headers, self.reason = raw.status, raw.headers, raw.reason or ""
        self.content = raw.data
        self.intercom_json: Any = None

    def json(self) -> Any:
        return decode_json(self.content)


def connection_problem(exc: Exception) -> str:
    """What went wrong on the wire, in a few words ("connection refused", "read timed out")."""
    reason = getattr(exc, "reason", None) or exc
    text = str(reason).split(": ")[-1].strip() or type(reason).__name__
    return f"{type(reason).__name__} ({text})" if text != type(reason).__name__ else text


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def error_codes(response: Answer) -> tuple[str, ...]:
    try:
        return tuple(str(e.get("code")) for e in response.json().get("errors", []))
    except (ValueError, AttributeError):
        return ()


def error_text(response: Answer) -> str:
    """Intercom's own error codes and messages (never the request's headers)."""
    try:
        body = response.json()
        return "; ".join(f"{e.get('code')}: {e.get('message')}" for e in body.get("errors", [])) or response.reason
    except (ValueError, AttributeError):  # not JSON, or not Intercom's error list
        return response.reason or "no details"
