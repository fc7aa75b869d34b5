"""The emulator's external uploads, as Slack takes them: an upload URL, exactly the bytes
announced, then the completion that shares the file in a channel (or a thread)."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox import Emulator

TOKEN = "xoxb-sandbox"
PNG = b"\x89PNG\r\n\x1a\n" + b"picture" * 20


@pytest.fixture
def emu() -> Iterator[Emulator]:
    with Emulator() as emulator:
        yield emulator


@pytest.fixture
def client(emu: Emulator) -> WebClient:
    return WebClient(token=TOKEN, base_url=emu.base_url, retry_handlers=[])


def post_bytes(url: str, data: bytes) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method="POST"), timeout=5) as answer:
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def error_of(call, **kwargs) -> str:
    with pytest.raises(SlackApiError) as info:
        call(**kwargs)
    return str(info.value.response["error"])


def test_files_upload_v2_shares_the_file_in_the_channel_with_its_alt_text(emu: Emulator, client: WebClient) -> None:
    done = client.files_upload_v2(channel="C0HUB", content=PNG, filename="matrix.png", title="Matrix", alt_txt="Who works with whom")
    assert done["file"]["name"] == "matrix.png" and done["file"]["title"] == "Matrix"
    [message] = [m for m in emu.messages("C0HUB") if m.files]
    assert message.files[0]["alt_txt"] == "Who works with whom" and message.user == emu.workspace.bot_user_id
    [stored] = emu.uploads("C0HUB")
    assert stored.data == PNG and stored.length == len(PNG)
    listed = client.files_list(channel="C0HUB")
    assert [f["name"] for f in listed["files"]] == ["matrix.png"]
    assert client.files_list(channel="C0MKT")["files"] == []


def test_a_file_can_be_shared_as_a_reply_in_a_thread(emu: Emulator, client: WebClient) -> None:
    parent = client.chat_postMessage(channel="C0HUB", text="Digest")["ts"]
    client.files_upload_v2(channel="C0HUB", content=PNG, filename="m.png", thread_ts=parent)
    assert [m.files[0]["name"] for m in emu.thread("C0HUB", parent)] == ["m.png"]
    assert error_of(client.files_upload_v2, channel="C0HUB", content=PNG, filename="m.png", thread_ts="1.000001") == "thread_not_found"


def test_bytes_of_the_wrong_length_are_refused_and_the_file_never_completes(emu: Emulator, client: WebClient) -> None:
    started = client.files_getUploadURLExternal(filename="m.png", length=len(PNG))
    assert post_bytes(started["upload_url"], PNG[:-1]) == 400
    assert error_of(client.files_completeUploadExternal, files=[{"id": started["file_id"]}], channel_id="C0HUB") == "file_not_found"
    assert post_bytes(started["upload_url"], PNG) == 200
    client.files_completeUploadExternal(files=[{"id": started["file_id"], "title": "M"}], channel_id="C0HUB")
    assert post_bytes(started["upload_url"], PNG) == 404  # an upload URL serves one file, once shared
    assert emu.uploads("C0HUB")[0].title == "M"


def test_an_unknown_file_a_missing_channel_and_bad_arguments_are_refused(emu: Emulator, client: WebClient) -> None:
    assert error_of(client.files_completeUploadExternal, files=[{"id": "F0NOPE"}], channel_id="C0HUB") == "file_not_found"
    started = client.files_getUploadURLExternal(filename="m.png", length=len(PNG))
    assert post_bytes(started["upload_url"], PNG) == 200
    assert error_of(client.files_completeUploadExternal, files=[{"id": started["file_id"]}], channel_id="C0GONE") == "channel_not_found"
    assert error_of(client.files_getUploadURLExternal, filename="m.png", length=0) == "invalid_arguments"
    assert error_of(client.files_getUploadURLExternal, filename="", length=10) == "invalid_arguments"
    assert emu.uploads() == []
    # Without a channel the file stays private: completed, shared nowhere.
    assert client.files_completeUploadExternal(files=[{"id": started["file_id"]}])["files"][0]["channels"] == []
    assert emu.uploads() == []


def test_a_dm_takes_a_file_once_opened(emu: Emulator, client: WebClient) -> None:
    dm = client.conversations_open(users="U0CEO")["channel"]["id"]
    client.files_upload_v2(channel=dm, content=PNG, filename="m.png", alt_txt="words")
    assert [m.files[0]["alt_txt"] for m in emu.dms("U0CEO") if m.files] == ["words"]
