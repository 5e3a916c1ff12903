"""A Responses API on 127.0.0.1 for the real Codex CLI (`codex exec`), configured as its model
provider: it streams (SSE) one assistant message and the turn's usage, or answers 401 as the API
does for a bad key. Codex prints its real `exec --json` events for it. `provider_setup` is the
shell that writes the provider into the maker's own ~/.codex/config.toml (loopgate gives the
maker a home of its own, inside its sandbox), to run before the command."""

from __future__ import annotations

import json
import shlex
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

USAGE = {"input_tokens": 1000, "input_tokens_details": {"cached_tokens": 200}, "output_tokens": 50,
         "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 1050}


def _sse(events: list[dict[str, Any]]) -> bytes:
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in events).encode()


PATCH = ("*** Begin Patch\n*** Update File: docs/guide.md\n@@\n-Read [the index](missing.md).\n"
         "+Read [the index](index.md).\n*** End Patch\n")


class _Handler(BaseHTTPRequestHandler):
    refuse = False
    patches = 0  # how many apply_patch calls to make (one per reply) before the closing message

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", "0"))))
        inputs = [i for i in body.get("input", []) if isinstance(i, dict)]
        answered = sum(1 for i in inputs if str(i.get("type", "")).endswith("_output"))  # tool outputs so far
        if type(self).refuse:
            status, kind = 401, "application/json"
            data = json.dumps({"error": {"message": "Incorrect API key provided", "type": "invalid_request_error",
                                         "code": "invalid_api_key"}}).encode()
        else:
            status, kind = 200, "text/event-stream"
            data = _sse([
                {"type": "response.created", "response": {"id": "resp_1", "object": "response",
                                                          "status": "in_progress", "output": []}},
                {"type": "response.output_item.done", "output_index": 0, "item": {
                    "type": "custom_tool_call", "id": f"ctc_{answered}", "call_id": f"call_{answered}",
                    "name": "apply_patch", "input": PATCH, "status": "completed"}
                 if answered < type(self).patches else {
                    "type": "message", "role": "assistant", "id": "msg_1", "status": "completed",
                    "content": [{"type": "output_text", "text": "Done.", "annotations": []}]}},
                {"type": "response.completed", "response": {"id": "resp_1", "object": "response",
                                                            "status": "completed", "output": [], "usage": USAGE}},
            ])
        self.send_response(status)
        self.send_header("content-type", kind)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def provider_setup(url: str) -> str:
    config = (f'model_provider = "local"\n\n[model_providers.local]\nname = "local"\nbase_url = "{url}"\n'
              'env_key = "OPENAI_API_KEY"\nwire_api = "responses"\n')
    return f'mkdir -p "$HOME/.codex" && printf %s {shlex.quote(config)} > "$HOME/.codex/config.toml"'


@contextmanager
def fake_openai(refuse: bool = False, patches: int = 0) -> Iterator[str]:
    """Serve; yields the base URL (see provider_setup)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("Handler", (_Handler,), {"refuse": refuse,
                                                                                  "patches": patches}))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
