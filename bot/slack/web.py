"""The HTTP face of the hub: POST /slack/events for Slack, GET /healthz for operators."""

from __future__ import annotations

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.app.hub import Hub
from bot.db import ping

EVENTS_PATH = "/slack/events"


def create_web_app(app: App, hub: Hub) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        # Bolt's dispatch blocks until the listener acks; keep it off the event loop.
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

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

    return Starlette(
        routes=[
            Route(EVENTS_PATH, slack_events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
        ]
    )
