"""A Messages API on 127.0.0.1 for the real Claude Code CLI: it streams (SSE) what a model would
answer to repair the test repository's link, so the real agent reads and edits files in its
working directory and prints its real stream-json. Scripted by how many tool results the request
carries: Read docs/guide.md, then Edit it, then a closing text. `stall_on` makes one reply wait,
as an overloaded API does, so an attempt can be stopped mid-way."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MODEL = "claude-sonnet-4-5"
USAGE = {"input_tokens": 1200, "cache_read_input_tokens": 800, "cache_creation_input_tokens": 0}
OUTPUT_TOKENS = 40


def _sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


def _message(message_id: str, block: dict[str, Any], stop: str) -> bytes:
    events: list[dict[str, Any]] = [{"type": "message_start", "message": {
        "id": message_id, "type": "message", "role": "assistant", "model": MODEL, "content": [],
        "stop_reason": None, "stop_sequence": None, "usage": {**USAGE, "output_tokens": 1}}}]
    if block["type"] == "text":
        events += [{"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
                   {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": block["text"]}}]
    else:
        events += [{"type": "content_block_start", "index": 0, "content_block": {
                        "type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}},
                   {"type": "content_block_delta", "index": 0, "delta": {
                       "type": "input_json_delta", "partial_json": json.dumps(block["input"])}}]
    events += [{"type": "content_block_stop", "index": 0},
               {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": OUTPUT_TOKENS}},
               {"type": "message_stop"}]
    return _sse(events)


class _Handler(BaseHTTPRequestHandler):
    stall_on: int | None = None  # the tool-result count whose reply hangs

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length", "0"))).decode()
        body = json.loads(raw)
        done = raw.count('"tool_result"')
        cwd = re.search(r"[Ww]orking directory: (/[^\s\"\\]+)", raw)
        guide = f"{cwd.group(1) if cwd else '/nonexistent'}/docs/guide.md"
        if not body.get("tools"):  # a side call (a title, a quota probe): answer briefly
            data = _message("msg_side", {"type": "text", "text": "ok"}, "end_turn")
        elif done == 0:
            data = _message("msg_read", {"type": "tool_use", "id": "toolu_read", "name": "Read",
                                         "input": {"file_path": guide}}, "tool_use")
        elif done == 1:
            data = _message("msg_edit", {"type": "tool_use", "id": "toolu_edit", "name": "Edit", "input": {
                "file_path": guide, "old_string": "missing.md", "new_string": "index.md"}}, "tool_use")
        else:
            data = _message("msg_done", {"type": "text", "text": "Fixed the link."}, "end_turn")
        if type(self).stall_on == done and body.get("tools"):
            time.sleep(30)  # the attempt is stopped before this answer comes
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@contextmanager
def fake_anthropic(stall_on: int | None = None) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"stall_on": stall_on})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
