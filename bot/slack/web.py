"""The HTTP face of the hub: POST /slack/events for Slack, GET /healthz for operators.

Before Bolt sees a request, its signature is checked here (401, with no side effect, for a
missing or malformed timestamp or signature, a stale one, or a wrong one), its body is parsed
(400 when it is not a Slack payload) and its shape is checked by `guard`: Bolt does not check
the signature again (bot/slack/app.py), and what it would have raised on (a body that is not
JSON) is refused here with one log line instead of a 500 and a traceback.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import threading
import time
from collections.abc import Mapping

from slack_bolt import BoltRequest
from slack_bolt.adapter.starlette.handler import to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from bot.app.hub import Hub
from bot.db import ping
from bot.metrics import CONTENT_TYPE, request_kind
from bot.slack import guard
from bot.slack.app import HubApp

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
MAX_BODY = 1024 * 1024  # Slack's payloads are a few kilobytes; a modal's state stays far below this
SIGNATURE_WINDOW = 300  # seconds, as Slack documents
TIMESTAMP = re.compile(r"[0-9]{1,12}")
SIGNATURE = re.compile(r"v0=[0-9a-f]{64}")


class Malformed(Exception):
    """A request body that is not a Slack payload."""


def signature_problem(headers: Mapping[str, str], body: bytes, secret: str, now: float) -> str | None:
    """Why the request is not signed by Slack with `secret`, or None when it is."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not secret:
        return "no signing secret is configured"
    if not TIMESTAMP.fullmatch(timestamp):
        return "no timestamp, or one that is not a number"
    if abs(now - int(timestamp)) > SIGNATURE_WINDOW:
        return "a stale timestamp"
    if not SIGNATURE.fullmatch(signature):
        return "no signature, or a malformed one"
    expected = "v0=" + hmac.new(secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    return None if hmac.compare_digest(expected, signature) else "a wrong signature"


def bolt_request(request: Request, body: bytes) -> BoltRequest:
    """The request as Bolt reads it (Bolt parses the body as it is built: once); `Malformed`
    when Bolt could not."""
    try:
        text = body.decode("utf-8")
    except ValueError:
        raise Malformed("the body is not UTF-8") from None
    try:
        bolt = BoltRequest(body=text, query=request.url.query, headers=dict(request.headers))
    except (ValueError, RecursionError) as error:  # not JSON, nested too deep
        raise Malformed(f"the body cannot be parsed ({type(error).__name__})") from None
    except Exception as error:  # Bolt reads fields of the body as it builds its context
        raise Malformed(f"Bolt cannot read the body ({type(error).__name__}: {error})") from None
    if not isinstance(bolt.body, dict):
        raise Malformed("the body is not a JSON object")
    return bolt


DRAIN_AT_MOST = 16 * MAX_BODY  # read past the limit this far, so the sender sees the 413, not a reset


async def read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than any Slack payload. An oversized body is read
    on (up to a bound) and dropped, so that the 413 reaches a sender still sending it."""
    declared = request.headers.get("content-length", "")
    chunks: list[bytes] = []
    size = 0
    too_large = declared.isdigit() and int(declared) > MAX_BODY
    async for chunk in request.stream():
        size += len(chunk)
        too_large = too_large or size > MAX_BODY
        if too_large:
            chunks.clear()
            if size > DRAIN_AT_MOST:
                break
            continue
        chunks.append(chunk)
    return None if too_large else b"".join(chunks)


def create_web_app(app: HubApp, hub: Hub) -> Starlette:
    screen = guard.Guard.for_app(app, hub.settings)

    def refused() -> None:
        hub.metrics.request("other", "refused")

    async def slack_events(request: Request) -> Response:
        # Answering from the moment the request arrives, not only while Bolt dispatches it:
        # work after earlier answers does not take its turn while this body is read and checked.
        # Not a request without Slack's signature header (work waits GIVE_WAY at most anyway).
        if "x-slack-signature" not in request.headers:
            return await answer(request)
        with app.turns.answering():
            return await answer(request)

    async def answer(request: Request) -> Response:
        body = await read_body(request)
        if body is None:
            refused()
            log.warning("refused a request to %s: the body is over %d bytes", EVENTS_PATH, MAX_BODY)
            return JSONResponse({"error": "request too large"}, status_code=413)
        problem = signature_problem(request.headers, body, hub.settings.slack.signing_secret or "", time.time())
        if problem:
            refused()
            log.info("refused a request to %s: %s", EVENTS_PATH, problem)
            return JSONResponse({"error": "invalid request"}, status_code=401)
        try:
            bolt = bolt_request(request, body)
        except Malformed as error:
            refused()
            log.warning("refused a signed request to %s: %s", EVENTS_PATH, error)
            return JSONResponse({"error": "malformed request"}, status_code=400)
        refusal = guard.inspect(bolt.body)
        if refusal:
            hub.metrics.request(request_kind(refusal.kind), "refused")
            return to_starlette_response(screen.refuse(refusal, bolt.body))
        bolt.context[guard.SCREENED] = True
        try:
            # Bolt's dispatch blocks until the listener acks; keep it off the event loop.
            bolt_response = await run_in_threadpool(app.dispatch, bolt)
        except Exception as error:  # Bolt answers its own failures; this is a failure of Bolt itself
            log.error("dispatching a %s failed: %s: %s", guard.kind_of(bolt.body), type(error).__name__, error)
            return JSONResponse({"error": "internal error"}, status_code=500)
        return to_starlette_response(bolt_response)

    return Starlette(routes=[Route(EVENTS_PATH, slack_events, methods=["POST"]), *operator_routes(hub)])


def operator_routes(hub: Hub) -> list[Route]:
    """GET /healthz and GET /metrics: served next to /slack/events, or alone in Socket Mode."""

    async def healthz(_request: Request) -> Response:
        database = await run_in_threadpool(ping, hub.engine)
        # Asks Slack only while the token fails, and then at most every half minute.
        slack = await run_in_threadpool(hub.gateway.check_install)
        healthy = database and slack is None
        payload = {
            "status": "ok" if healthy else "unavailable",
            "database": "ok" if database else "unreachable",
            "slack": "ok" if slack is None else f"install error: {slack}",
        }
        return JSONResponse(payload, status_code=200 if healthy else 503)

    async def metrics(_request: Request) -> Response:
        # The shared-state gauges read the database: off the event loop.
        exposition = await run_in_threadpool(hub.metrics.exposition)
        return PlainTextResponse(exposition, media_type=CONTENT_TYPE)

    return [Route("/healthz", healthz, methods=["GET"]), Route("/metrics", metrics, methods=["GET"])]


def create_operator_app(hub: Hub) -> Starlette:
    """Only /healthz and /metrics: what Socket Mode serves on its health port."""
    return Starlette(routes=operator_routes(hub))


class OperatorServer:
    """`create_operator_app` served by uvicorn in a daemon thread (port 0: any free port)."""

    def __init__(self, hub: Hub, *, host: str, port: int) -> None:
        import uvicorn

        config = uvicorn.Config(
            create_operator_app(hub), host=host, port=port, log_level="warning", access_log=False, lifespan="off", log_config=None
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="health", daemon=True)
        self.port = port

    def start(self, timeout: float = 15.0) -> OperatorServer:
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the health port {self.port} could not be served (is it taken?)")
            time.sleep(0.02)
        self.port = self._server.servers[0].sockets[0].getsockname()[1]
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
