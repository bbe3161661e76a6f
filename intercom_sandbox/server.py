"""The HTTP side of the sandbox: a threaded HTTP/1.1 server with Intercom's request policy.

Order of checks for an API request, as Intercom does it: bearer token (401, no rate-limit
headers), Intercom-Version (400 for a version not served), rate limit (429), then the endpoint
(404 when the requested version's description lacks it). Injected faults and latency are
applied around that. `/_sandbox/…` is the private control API.
"""

from __future__ import annotations

import hmac
import json
import socket
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from .api import IntercomApi, Reply, Request, error_reply
from .controls import Faults, RateLimiter, Stats
from .domains.exports import ExportsDomain
from .jsonio import decode, encode
from .scale import SCALES, Scale
from .versions import DEFAULT_VERSION, VERSIONS, serves
from .world import DRIFT_FIELD, World


def asked_per_page(query: dict[str, str], body: bytes) -> int:
    """The page size a request asks for (`per_page` in the query, or a search's pagination)."""
    if query.get("per_page", "").isdigit():
        return int(query["per_page"])
    if body and b"per_page" in body:
        try:
            return int(decode(body)["pagination"]["per_page"])
        except (ValueError, KeyError, TypeError):
            return 0
    return 0


@dataclass
class SandboxConfig:
    token: str = "sandbox-token"
    seed: int = 42
    scale: Scale = SCALES["small"]
    timezone: str = "UTC"
    rate_limit: int = 0  # requests per window, 0 = off
    rate_window_seconds: int = 10  # Intercom's window; shorter only to keep tests quick
    search_delay: int = 0  # seconds before a new contact shows up in search
    scroll_page_size: int = 50
    scroll_expiry: float = 60.0
    export_job_seconds: float = 0.5  # wall time an export job takes to finish (Intercom's take minutes)


class Sandbox:
    """A running local Intercom: `url`, `world` (control API), `faults`, `stats`."""

    def __init__(self, config: SandboxConfig | None = None, *, host: str = "127.0.0.1", port: int = 0,
                 faults: Faults | None = None) -> None:
        self.config = config or SandboxConfig()
        self.world = World(self.config.scale, seed=self.config.seed, timezone=self.config.timezone,
                           search_delay=self.config.search_delay)
        self.api = IntercomApi(self.world, scroll_page_size=self.config.scroll_page_size,
                               scroll_expiry=self.config.scroll_expiry)
        self.faults = faults or Faults(seed=self.config.seed)
        for domain in self.world.domains:
            if isinstance(domain, ExportsDomain):
                domain.job_seconds = self.config.export_job_seconds
        self.limiter = RateLimiter(self.config.rate_limit, window_seconds=self.config.rate_window_seconds)
        self.stats = Stats()
        # Paths the token may not read (403), to imitate an app without a permission.
        self.forbidden_paths: set[str] = set()
        self.httpd = _Server((host, port), _Handler)
        self.httpd.sandbox = self
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Sandbox:
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="intercom-sandbox", daemon=True)
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self.httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def set_rate_limit(self, limit: int) -> None:
        self.limiter.limit = limit

    def drift(self, kinds: tuple[str, ...] | list[str] = ("contacts", "conversations"), field: str = DRIFT_FIELD,
              share: float = 0.5) -> dict[str, list[str]]:
        """Schema drift mid-sync: the later `share` of each kind's records (by updated_at) get `field`,
        a number no description declares (world.drift). Kind → ids of the records that got it."""
        return {kind: self.world.drift(kind, field, share) for kind in kinds}

    # The whole request policy ----------------------------------------------------------------

    def answer(self, method: str, target: str, headers: Any, body: bytes) -> Reply | None:
        """The reply to one request, or None to drop the connection."""
        if target.startswith("/_sandbox/"):
            return self._answer(method, target, headers, body)
        self.stats.started()
        try:
            return self._answer(method, target, headers, body)
        finally:
            self.stats.finished()

    def _answer(self, method: str, target: str, headers: Any, body: bytes) -> Reply | None:
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        if path.startswith("/_sandbox/"):
            return self.control(method, path, query, body)
        found = self.api.route(method, path)
        route = found[0] if found else path
        token = (headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(token.encode(), self.config.token.encode()):
            self.stats.record(route, 401)
            return error_reply(401, "unauthorized", "Access Token Invalid")
        version = headers.get("Intercom-Version")
        version = DEFAULT_VERSION if version is None else version
        if version not in VERSIONS:
            reply = error_reply(400, "intercom_version_invalid",
                                f"Requested version {version!r} is not served here; this sandbox serves "
                                f"{', '.join(VERSIONS)}")
            self.stats.record(route, 400)
            return reply
        if any(path.startswith(p) for p in self.forbidden_paths):
            self.stats.record(route, 403)
            return error_reply(403, "token_unauthorized", "Not authorized to access resource")
        allowed, limit_headers = self.limiter.take()
        self.stats.count_window(int(limit_headers["X-RateLimit-Reset"]) - self.limiter.window_seconds)
        delay = self.faults.delay_seconds()
        fault = self.faults.pick(method, path, ("5xx", "429", "404", "slow", "malformed", "drop"),
                                 per_page=lambda: asked_per_page(query, body))
        if fault == "slow":
            delay += self.faults.slow_ms / 1000
        if delay:
            time.sleep(delay)
        if fault == "drop":
            self.stats.record(route, 0, fault)
            return None
        if not allowed or fault == "429":
            reply = error_reply(429, "rate_limit_exceeded",
                                f"Exceeded rate limit of {limit_headers['X-RateLimit-Limit']} in "
                                f"{self.limiter.window_seconds}_seconds")
            if fault == "429":
                limit_headers["X-RateLimit-Remaining"] = "0"
        elif fault == "404":
            reply = error_reply(404, "not_found", "Resource Not Found")
        elif fault == "5xx":
            if path == "/companies/scroll" and query.get("scroll_param"):
                self.api.abort_scroll()
                reply = error_reply(500, "server_error", "Request failed due to an internal network error. "
                                                         "Please restart the scroll operation.")
            else:
                status = (500, 502, 503)[self.stats.requests % 3]
                reply = error_reply(status, "server_error", "The server encountered an internal error")
        elif found is None:
            reply = error_reply(404, "not_found", f"No route for {method} {path}") if not self.api.path_exists(path) \
                else error_reply(405, "method_not_allowed", f"{method} is not allowed on {path}")
        elif not serves(version, method, found[0]):
            reply = error_reply(404, "not_found", f"{method} {path} is not part of API version {version}")
        else:
            parsed: Any = None
            if body:
                try:
                    parsed = decode(body)
                except ValueError:
                    parsed = ValueError
            if parsed is ValueError:
                reply = error_reply(400, "parameter_invalid", "The request body is not valid JSON")
            else:
                # URLs the sandbox hands out (download_url) use the origin the client called.
                base_url = f"http://{headers['Host']}" if headers.get("Host") else self.url
                request = Request(method, path, query, parsed, headers=headers, base_url=base_url, faults=self.faults,
                                  version=version)
                reply = self.api.handle(found[1], request, found[2])
                fault = fault or next(iter(request.fired), None)
                if fault == "malformed" and reply.status == 200:
                    reply = Reply(200, reply.body[: max(1, len(reply.body) // 2)])
                if reply.served_ids and path == "/conversations/search" and self.faults.pick(method, path,
                                                                                              ("vanish",)):
                    self.world.delete("conversations", reply.served_ids[0])
                    self.stats.faults["vanish"] += 1
        reply.headers.update(limit_headers)
        self.stats.record(route, reply.status, fault)
        return reply

    def control(self, method: str, path: str, query: dict[str, str], body: bytes) -> Reply:
        """The private control API: change the world, read the ground truth, set faults."""
        payload = json.loads(body) if body else {}
        world = self.world
        action = path.removeprefix("/_sandbox/")
        try:
            if method == "GET" and action.startswith("ground_truth/"):
                result: Any = world.ground_truth(action.removeprefix("ground_truth/"),
                                                 query.get("api_version") or DEFAULT_VERSION)
            elif method == "GET" and action == "stats":
                result = self.stats.snapshot()
            elif method == "POST" and action == "stats/reset":
                self.stats.reset()
                result = {}
            elif method == "POST" and action == "update":
                result = world.update(payload["kind"], payload["id"], payload.get("fields"), at=payload.get("at"))
            elif method == "POST" and action == "create":
                result = world.create(payload["kind"], payload.get("fields"), at=payload.get("at"))
            elif method == "POST" and action == "delete":
                world.delete(payload["kind"], payload["id"], at=payload.get("at"))
                result = {}
            elif method == "POST" and action == "add_parts":
                result = world.add_parts(payload["conversation_id"], payload.get("count", 1), at=payload.get("at"))
            elif method == "POST" and action == "drift":
                result = self.drift(payload.get("kinds", ("contacts", "conversations")),
                                    payload.get("field", DRIFT_FIELD), float(payload.get("share", 0.5)))
            elif method == "POST" and action == "faults":
                self.faults.configure(latency_ms=payload.get("latency_ms"), jitter_ms=payload.get("jitter_ms"),
                                      slow_ms=payload.get("slow_ms"), rules=payload.get("rules"),
                                      clear=payload.get("clear", False))
                if "rate_limit" in payload:
                    self.set_rate_limit(int(payload["rate_limit"]))
                result = self.faults.describe()
            elif method == "POST" and action == "clock":
                world.clock.offset = int(payload.get("offset", 0))
                result = {"now": world.clock.now()}
            else:
                try:
                    result = world.domain_control(action, payload)
                except KeyError:
                    return error_reply(404, "not_found", f"No control action {method} {path}")
        except (KeyError, TypeError, ValueError) as exc:
            return error_reply(400, "parameter_invalid", str(exc))
        return Reply(200, encode(result))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    sandbox: Sandbox


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, like the real API
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Small JSON answers must not wait for Nagle's algorithm.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        pass  # quiet: the sandbox serves thousands of requests a second

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            reply = self.server.sandbox.answer(self.command, self.path, self.headers, body)
        except Exception as exc:  # a sandbox bug must show up as a 500, not a hung client
            reply = error_reply(500, "sandbox_error", f"{type(exc).__name__}: {exc}")
        if reply is None:
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.end_headers()
        if reply.cut_after is None:
            self.wfile.write(reply.body)
            return
        # An interrupted download: the full length was promised, part of the body comes, the connection ends.
        self.wfile.write(reply.body[:reply.cut_after])
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_POST = do_PUT = do_DELETE = _serve

