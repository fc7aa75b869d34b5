"""Input checks Slack makes: Block Kit blocks, views, and request arguments.

block_problems and view problems lean on slack_sdk's Block Kit models;
parse_args merges query-string, form and JSON arguments as the Web API does.
"""

from __future__ import annotations

import contextlib
import json
from typing import Any
from urllib.parse import parse_qsl

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.emulator.records import ApiError, Args

JSON_FIELDS = ("blocks", "view", "attachments", "metadata")
MESSAGE_BLOCK_LIMIT = 50
VIEW_BLOCK_LIMIT = 100


def block_problems(blocks: Any, limit: int) -> list[str]:
    """Why Slack would reject these blocks; empty when they are fine."""
    if not isinstance(blocks, list):
        return ["blocks must be a JSON array"]
    if len(blocks) > limit:
        return [f"no more than {limit} items allowed [json-pointer:/blocks]"]
    problems: list[str] = []
    for i, raw in enumerate(blocks):
        problems += [f"{p} [json-pointer:/blocks/{i}]" for p in _one_block_problems(raw)]
    return problems


def _one_block_problems(raw: Any) -> list[str]:
    if not isinstance(raw, dict) or "type" not in raw:
        return ["block must be an object with a type"]
    try:
        block = Block.parse(raw)
        if block is None:
            return [f"unsupported block type: {raw['type']}"]
        block.validate_json()
        block.to_dict()  # to_dict also validates nested elements and text objects
    except SlackObjectFormationError as e:
        return [str(e)]
    except (TypeError, ValueError, AttributeError, KeyError) as e:
        # Malformed input can break slack_sdk's constructors; Slack would reject it.
        return [f"malformed block: {e}"]
    return []


def view_problems(view: Any, kind: str) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be a JSON object [json-pointer:/view]"]
    if view.get("type") != kind:
        return [f"view type must be {kind} [json-pointer:/view/type]"]
    problems = block_problems(view.get("blocks", []), VIEW_BLOCK_LIMIT)
    if kind == "modal" and not view.get("title"):
        problems.append("missing required field: title [json-pointer:/view/title]")
    if problems:
        return problems
    try:
        View(**view).validate_json()
    except (SlackObjectFormationError, TypeError, ValueError, AttributeError) as e:
        return [f"{e} [json-pointer:/view]"]
    return []


def parse_args(query: str, content_type: str, body: bytes) -> Args:
    """Merge query-string and body arguments; decode JSON-valued form fields."""
    args: Args = dict(parse_qsl(query, keep_blank_values=True))
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == "application/json" and body:
        try:
            data = json.loads(body)
        except ValueError:
            raise ApiError("invalid_json") from None
        if not isinstance(data, dict):
            raise ApiError("invalid_json")
        args.update(data)
    elif body:
        try:
            args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True))
        except (UnicodeDecodeError, ValueError):
            raise ApiError("invalid_form_data") from None
    for key in JSON_FIELDS:
        if isinstance(args.get(key), str):
            # Left as a string when it is not JSON: the method reports it (e.g. invalid_blocks_format).
            with contextlib.suppress(ValueError):
                args[key] = json.loads(args[key])
    return args
