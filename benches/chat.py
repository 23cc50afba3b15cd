#!/usr/bin/env python3
"""Chat benchmark through `docket up` with the real todo-api and the embedded
state store: a chat turn with the built-in understanding, and reading the
history of a 100- and a 1000-message conversation, each next to a reference
(GET /api/priorities) measured in the same run.

Prints a table and writes benches/results/chat.json. Numbers, not assertions.
"""

import argparse
import json
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from common import (DOCKET, MANIFEST, TODO_API, by_mode, call, free_port, raise_open_files, start_docket, stop, wait_ready,
                    write_result, wrk)

USER = "chat-bench"
# One connection: the latency of a request alone; 16: under concurrent load.
CONNECTIONS = (1, 16)
THREADS = 2
TARGET = "history of 100 messages: p50 < 5 ms"


def lua_post(token, body):
    return (f'wrk.method = "POST"\nwrk.body = {json.dumps(json.dumps(body))}\n'
            f'wrk.headers["Content-Type"] = "application/json"\n'
            f'wrk.headers["Authorization"] = "Bearer {token}"\n')


def lua_get(token):
    return f'wrk.headers["Authorization"] = "Bearer {token}"\n'


def conversation_of(base, token, messages):
    """A conversation with `messages` messages (two per turn)."""
    status, first = call("POST", f"{base}/api/{USER}/chat", token, {"message": "help"})
    if status != 200:
        raise RuntimeError(f"chat answered {status}: {first}")
    conversation = first["conversation_id"]
    for _ in range(messages // 2 - 1):
        status, answer = call("POST", f"{base}/api/{USER}/chat", token,
                              {"conversation_id": conversation, "message": "what's due this week?"})
        if status != 200:
            raise RuntimeError(f"chat answered {status}: {answer}")
    status, history = call("GET", f"{base}/api/{USER}/chat/{conversation}", token)
    if status != 200 or len(history["messages"]) != messages:
        raise RuntimeError(f"expected {messages} messages, got {status} {history}")
    return conversation


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default=os.environ.get("BENCH_DURATION", by_mode("10s", "3s")), help="per row (wrk -d)")
    args = parser.parse_args()
    for needed in (DOCKET, TODO_API):
        if not needed.exists():
            print(f"missing {needed}: run cargo build --release -p docket-cli and scripts/build-components",
                  file=sys.stderr)
            return 2
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    raise_open_files()
    work = Path(tempfile.mkdtemp(prefix="docket-chat-bench-"))
    env = dict(os.environ, SPIN_VARIABLE_JWT_SECRET=secrets.token_hex(32), RUST_LOG="warn")
    env.pop("SPIN_VARIABLE_DATABASE_URL", None)
    process = None
    try:
        data_dir = work / "data"
        token = subprocess.run([str(DOCKET), "token", "--user", USER, "-f", str(MANIFEST), "--data-dir", str(data_dir)],
                               env=env, check=True, capture_output=True, text=True).stdout.strip()
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process, log = start_docket(work, env, port, "--dapr-http-port", "0", data_dir=data_dir)
        wait_ready(process, base, log)
        print("building a 100- and a 1000-message conversation", flush=True)
        short = conversation_of(base, token, 100)
        long = conversation_of(base, token, 1000)

        scripts = {}
        for name, text in {"turn": lua_post(token, {"message": "what's due this week?"}), "get": lua_get(token)}.items():
            scripts[name] = work / f"{name}.lua"
            scripts[name].write_text(text)
        rows = [
            ("reference", f"{base}/api/priorities", None),
            ("chat turn (built-in)", f"{base}/api/{USER}/chat", scripts["turn"]),
            ("history, 100 messages", f"{base}/api/{USER}/chat/{short}", scripts["get"]),
            ("history, 1000 messages", f"{base}/api/{USER}/chat/{long}", scripts["get"]),
        ]
        results = {}
        for connections in CONNECTIONS:
            for name, url, script in rows:
                print(f"{name} at {connections} connections for {args.duration}", flush=True)
                threads = min(THREADS, connections)
                results[(name, connections)] = wrk(url, threads, connections, args.duration, script=script)
    finally:
        if process is not None:
            stop(process)
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nchat through docket up (embedded state store), wrk -d{args.duration}")
    print(f"{'endpoint':<26}{'conns':>6}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'p50 / ref':>11}")
    for (name, connections), row in results.items():
        reference = results[("reference", connections)]["p50_ms"]
        note = ""
        if name == "history, 100 messages" and connections == 1:
            met = row["p50_ms"] < 5 and row["errors"] == 0
            note = f"   <- target: {TARGET} ({'met' if met else 'NOT met'})"
        ratio = row["p50_ms"] / reference if reference else float("nan")
        print(f"{name:<26}{connections:>6}{row['rps']:>10.0f}{row['p50_ms']:>10.2f}{row['p99_ms']:>10.2f}"
              f"{row['errors']:>8}{ratio:>10.1f}x{note}")
    rows_out = [dict(endpoint=name, connections=connections, **row) for (name, connections), row in results.items()]
    write_result("chat", {"duration": args.duration, "target": TARGET, "results": rows_out})
    return 0


if __name__ == "__main__":
    sys.exit(main())
