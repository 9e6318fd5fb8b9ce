#!/usr/bin/env python3
"""MCP sessions for bench/mcp_http.sh: opens them before a load run, closes them after, and
captures the read_document call the load repeats. Standard library only.

  sessions.py open  --url URL [--token-file F] [--cacert F] --count N --out FILE
      initialize + notifications/initialized N times; writes one Mcp-Session-Id per line.
  sessions.py probe --url URL [--token-file F] [--cacert F] --session ID --request-out F --result-out F
      list_documents, picks the first interviews/ document, calls read_document on it (limit 20);
      writes the tools/call request body (the load's body) and the CallToolResult.
  sessions.py check --url URL [--token-file F] [--cacert F] --session ID --request F --result F
      sends the request F and fails unless the answer's result equals the JSON in F.
  sessions.py close --url URL [--token-file F] [--cacert F] --sessions FILE
      DELETE for every session in FILE (a server holds a bounded number of them); a 429 is
      retried after its Retry-After.

Every answer must be 200 (202 for the notification, 204 or 200 for DELETE); anything else is
an error with the status and the first bytes of the body, exit status 1.
"""
import argparse
import http.client
import json
import ssl
import sys
import time
import urllib.parse

PROTOCOL_VERSION = "2025-11-25"
DOC_PAGE = 20


class Endpoint:
    """One keep-alive connection to an MCP Streamable HTTP endpoint."""

    def __init__(self, url, token, cacert):
        parts = urllib.parse.urlsplit(url)
        self.path = parts.path or "/"
        if parts.scheme == "https":
            context = ssl.create_default_context(cafile=cacert)
            self.conn = http.client.HTTPSConnection(parts.hostname, parts.port, context=context, timeout=30)
        else:
            self.conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        self.token = token

    def request(self, method, body, session=None, expect=(200,)):
        headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if session:
            headers["Mcp-Session-Id"] = session
            headers["MCP-Protocol-Version"] = PROTOCOL_VERSION
        data = json.dumps(body).encode() if body is not None else None
        self.conn.request(method, self.path, body=data, headers=headers)
        response = self.conn.getresponse()
        payload = response.read()
        if response.status not in expect:
            raise RuntimeError(f"{method} {body.get('method') if body else ''}: HTTP {response.status}: {payload[:300]!r}")
        return response, payload

    def call(self, session, request_id, method, params):
        body = {"jsonrpc": "2.0", "id": request_id, "method": method, "params": params}
        response, payload = self.request("POST", body, session)
        if not response.getheader("Content-Type", "").startswith("application/json"):
            raise RuntimeError(f"{method}: expected a JSON answer, got {response.getheader('Content-Type')}")
        message = json.loads(payload)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message["result"]

    def open_session(self):
        body = {"jsonrpc": "2.0", "id": 0, "method": "initialize",
                "params": {"protocolVersion": PROTOCOL_VERSION, "capabilities": {},
                           "clientInfo": {"name": "cqda-bench", "version": "1"}}}
        response, payload = self.request("POST", body)
        session = response.getheader("Mcp-Session-Id")
        if not session:
            raise RuntimeError(f"initialize: no Mcp-Session-Id header: {payload[:300]!r}")
        self.request("POST", {"jsonrpc": "2.0", "method": "notifications/initialized"}, session, expect=(202,))
        return session


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["open", "probe", "check", "close"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--token-file", help="file holding the bearer token")
    parser.add_argument("--cacert")
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--out")
    parser.add_argument("--session")
    parser.add_argument("--sessions")
    parser.add_argument("--request-out")
    parser.add_argument("--result-out")
    parser.add_argument("--request")
    parser.add_argument("--result")
    args = parser.parse_args()
    token = None
    if args.token_file:
        with open(args.token_file) as f:
            token = f.read().strip()
    endpoint = Endpoint(args.url, token, args.cacert)

    if args.command == "open":
        ids = [endpoint.open_session() for _ in range(args.count)]
        with open(args.out, "w") as f:
            f.write("".join(i + "\n" for i in ids))
    elif args.command == "probe":
        listing = endpoint.call(args.session, 1, "tools/call", {"name": "list_documents", "arguments": {}})
        docs = [d for d in listing["structuredContent"]["documents"] if d["path"].startswith("interviews/")]
        if not docs:
            raise RuntimeError("list_documents: no interviews/ document")
        params = {"name": "read_document", "arguments": {"id": docs[0]["id"], "limit": DOC_PAGE}}
        result = endpoint.call(args.session, 2, "tools/call", params)
        if result.get("isError"):
            raise RuntimeError(f"read_document: {result}")
        with open(args.request_out, "w") as f:
            json.dump({"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": params}, f, separators=(",", ":"))
        with open(args.result_out, "w") as f:
            json.dump(result, f, separators=(",", ":"))
        print(f"read_document on {docs[0]['path']} ({docs[0]['id']}): "
              f"{len(result['structuredContent']['segments'])} segments", file=sys.stderr)
    elif args.command == "check":
        with open(args.request) as f:
            request = json.load(f)
        with open(args.result) as f:
            expected = json.load(f)
        if endpoint.call(args.session, request["id"], request["method"], request["params"]) != expected:
            raise RuntimeError(f"{args.url}: the read_document result differs from {args.result}")
    else:
        with open(args.sessions) as f:
            for session in filter(None, (line.strip() for line in f)):
                # A session the load has just used may be out of its request budget: DELETE
                # counts against it too, so a 429 is retried after the server's Retry-After.
                for _ in range(10):
                    response, _ = endpoint.request("DELETE", None, session, expect=(200, 202, 204, 429))
                    if response.status != 429:
                        break
                    time.sleep(min(float(response.getheader("Retry-After", "1")), 5))
                else:
                    raise RuntimeError(f"DELETE {session[:8]}…: still 429 after 10 tries")


if __name__ == "__main__":
    try:
        main()
    except (RuntimeError, OSError, KeyError, ValueError) as e:
        print(f"sessions.py: {e}", file=sys.stderr)
        sys.exit(1)
