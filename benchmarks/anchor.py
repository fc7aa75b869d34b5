"""The anchor: a bare Bolt app that only acknowledges, served the way `cdo-hub serve --http`
serves the hub (Bolt's dispatch off the event loop of a Starlette app, under uvicorn), so that
the hub's figures can be read as a ratio to what the stack itself costs on the same machine
at the same moment.

    python benchmarks/anchor.py --port 3100 --signing-secret SECRET --bot-token TOKEN --api-url URL

It has one listener per kind of request the benchmark sends, and each only calls `ack()`.
It copies the shape of bot/slack/web.py instead of importing it, so that a change to the
hub's web layer shows in the ratio rather than moving the anchor with it.
"""

from __future__ import annotations

import argparse
import logging
from typing import Any

import uvicorn
from slack_bolt import Ack, App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_sdk import WebClient
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


def bolt_app(signing_secret: str, bot_token: str, api_url: str) -> App:
    app = App(
        # Bolt checks the token with auth.test on the first request, as it does for the hub.
        client=WebClient(token=bot_token, base_url=api_url),
        signing_secret=signing_secret,
        token_verification_enabled=False,
        logger=logging.getLogger("anchor"),
    )

    def only_ack(ack: Ack) -> None:
        ack()

    app.command("/cdo")(only_ack)
    app.action("commitment_done")(only_ack)
    app.view("commit")(only_ack)
    app.view("propose")(only_ack)

    def nothing(event: dict[str, Any]) -> None:
        """Bolt acknowledges events itself, before the listener runs."""

    app.event("message")(nothing)
    app.event("app_home_opened")(nothing)
    return app


def web_app(app: App) -> Starlette:
    async def slack_events(request: Request) -> Response:
        body = await request.body()
        bolt_response = await run_in_threadpool(app.dispatch, to_bolt_request(request, body))
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/slack/events", slack_events, methods=["POST"]), Route("/healthz", healthz, methods=["GET"])])


def main() -> int:
    parser = argparse.ArgumentParser(description="a bare Bolt app that only acknowledges")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--signing-secret", required=True)
    parser.add_argument("--bot-token", required=True)
    parser.add_argument("--api-url", required=True, help="the Slack Web API base URL (the emulator)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = bolt_app(args.signing_secret, args.bot_token, args.api_url)
    uvicorn.run(web_app(app), host="127.0.0.1", port=args.port, log_level="info", access_log=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
