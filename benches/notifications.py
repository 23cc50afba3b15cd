#!/usr/bin/env python3
"""Event published → email request received: task.created events published
on `task-events` through `docket up`'s sidecar reach the notification
service, which sends each through SendGrid's v3 API to a local server that
records when each request arrived. On the embedded broker and state store
and on Redis (a redis-server of the bench's own). Latency one event at a
time (p50/p99), then throughput with many publishers. In the same run, a
reference: the same mail request posted straight to the local server.

Prints a table and writes benches/results/notifications.json. Numbers, not
assertions. Needs target/release/docket and the components built first:

    cargo build --release -p docket-cli
    scripts/build-components
"""

import argparse
import json
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import (by_mode, free_port, log_tail, percentile, start_docket, start_redis, stop, stop_redis, token,
                    wait_ready, write_result)

USERS = 20
LATENCY_EVENTS = by_mode(300, 50)
LATENCY_GAP_S = 0.01
THROUGHPUT_EVENTS = by_mode(3000, 300)
PUBLISHERS = 16
TARGET_P99_MS = 100.0
TARGET = f"event published → email request received: p99 < {TARGET_P99_MS:.0f} ms"
SENDGRID_KEY = "SG.bench-key"
BACKENDS = ("embedded", "redis")


class FakeSendGrid:
    """Answers POST /v3/mail/send with 202 and notes when each event's mail arrived."""

    def __init__(self):
        self.arrivals = {}
        self.lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                arrived = time.monotonic()
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                event_id = json.loads(body).get("custom_args", {}).get("event_id")
                with owner.lock:
                    owner.arrivals.setdefault(event_id, arrived)
                self.send_response(202)
                self.send_header("x-message-id", secrets.token_hex(8))
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def arrived(self, event_id):
        with self.lock:
            return self.arrivals.get(event_id)


def post(url, body, headers=None, method="POST"):
    data = json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method,
                                     headers={"content-type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def task_created(user):
    event_id = str(uuid.uuid4())
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    task = {"id": 1, "user_id": user, "title": "Benchmark task", "description": "", "completed": False,
            "completed_at": None, "priority": "Medium", "due_at": None, "remind_at": None, "tags": [],
            "recurring_task_id": None, "occurrence_at": None, "created_at": stamp, "updated_at": stamp,
            "version": 1}
    data = {"version": 1, "event_id": event_id, "event_type": "task.created", "task_id": 1,
            "task_data": task, "user_id": user, "timestamp": stamp}
    envelope = {"specversion": "1.0", "id": event_id, "type": "task.created", "source": "bench",
                "time": stamp, "datacontenttype": "application/json", "data": data}
    return event_id, json.dumps(envelope).encode()


def publish(dapr, body):
    request = urllib.request.Request(f"{dapr}/v1.0/publish/pubsub/task-events", data=body, method="POST",
                                     headers={"content-type": "application/cloudevents+json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        if response.status != 204:
            raise RuntimeError(f"publish answered {response.status}")


def wait_arrivals(sendgrid, ids, timeout_s=120):
    deadline = time.monotonic() + timeout_s
    while any(sendgrid.arrived(i) is None for i in ids):
        if time.monotonic() > deadline:
            missing = sum(1 for i in ids if sendgrid.arrived(i) is None)
            raise RuntimeError(f"{missing} of {len(ids)} emails never arrived")
        time.sleep(0.01)


def latency(dapr, sendgrid):
    samples = []
    for n in range(LATENCY_EVENTS):
        event_id, body = task_created(f"bench-{n % USERS}")
        started = time.monotonic()
        publish(dapr, body)
        wait_arrivals(sendgrid, [event_id], timeout_s=30)
        samples.append((sendgrid.arrived(event_id) - started) * 1000)
        time.sleep(LATENCY_GAP_S)
    return {"p50_ms": statistics.median(samples), "p99_ms": percentile(samples, 99), "events": len(samples)}


def throughput(dapr, sendgrid):
    events = [task_created(f"bench-{n % USERS}") for n in range(THROUGHPUT_EVENTS)]
    started = time.monotonic()
    with ThreadPoolExecutor(PUBLISHERS) as pool:
        list(pool.map(lambda event: publish(dapr, event[1]), events))
    ids = [event_id for event_id, _ in events]
    wait_arrivals(sendgrid, ids)
    elapsed = max(sendgrid.arrived(i) for i in ids) - started
    return {"events": len(ids), "seconds": elapsed, "events_per_s": len(ids) / elapsed}


def reference(sendgrid):
    """The same mail request posted straight to the local server."""
    mail = {"personalizations": [{"to": [{"email": "bench@example.com"}]}], "from": {"email": "b@docket.local"},
            "subject": "s", "content": [{"type": "text/plain", "value": "v"}], "custom_args": {"event_id": "ref"}}
    samples = []
    for _ in range(LATENCY_EVENTS):
        started = time.monotonic()
        post(f"{sendgrid.url}/v3/mail/send", mail)
        samples.append((time.monotonic() - started) * 1000)
    return {"p50_ms": statistics.median(samples), "p99_ms": percentile(samples, 99)}


def resources(backend, redis_port):
    if backend == "embedded":
        pubsub = "  type: pubsub.sqlite\n  version: v1\n  metadata:\n    - name: connectionString\n      value: \"pubsub.db\"\n"
        state = "  type: state.sqlite\n  version: v1\n  metadata:\n    - name: connectionString\n      value: \"state.db\"\n"
    else:
        redis = f"  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:{redis_port}\"\n"
        pubsub, state = "  type: pubsub.redis\n" + redis, "  type: state.redis\n" + redis
    head = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: {}\nspec:\n"
    return {"pubsub.yaml": head.format("pubsub") + pubsub, "statestore.yaml": head.format("statestore") + state}


def run_backend(backend, work):
    work.mkdir()
    redis, redis_port = start_redis(work) if backend == "redis" else (None, None)
    sendgrid = FakeSendGrid()
    jwt_secret = secrets.token_hex(32)
    folder = work / "resources"
    folder.mkdir()
    for name, text in resources(backend, redis_port).items():
        (folder / name).write_text(text)
    port, dapr_port = free_port(), free_port()
    base, dapr = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{dapr_port}"
    env = dict(os.environ, SPIN_VARIABLE_JWT_SECRET=jwt_secret, SPIN_VARIABLE_SENDGRID_API_KEY=SENDGRID_KEY,
               SPIN_VARIABLE_SENDGRID_BASE_URL=sendgrid.url, RUST_LOG=os.environ.get("BENCH_RUST_LOG", "warn"))
    log = work / "docket.log"
    process = None
    try:
        process, log = start_docket(work, env, port, "--dapr-http-port", str(dapr_port), "--resources-path", str(folder))
        wait_ready(process, base, log)
        preferences = {"email": None, "channels": {"email": True, "push": False},
                       "events": {"task.created": True, "task.completed": True, "task.due": True},
                       "device_tokens": []}
        for n in range(USERS):
            user = f"bench-{n}"
            preferences["email"] = f"{user}@example.com"
            post(f"{base}/api/notifications/preferences", preferences,
                 {"authorization": f"Bearer {token(jwt_secret, user)}"}, method="PUT")
        time.sleep(1)  # the sidecar has subscribed
        print(f"[{backend}] latency, {LATENCY_EVENTS} events one at a time", flush=True)
        result = {"latency": latency(dapr, sendgrid)}
        print(f"[{backend}] throughput, {THROUGHPUT_EVENTS} events from {PUBLISHERS} publishers", flush=True)
        result["throughput"] = throughput(dapr, sendgrid)
        result["reference"] = reference(sendgrid)
        result["ratio_p50_over_reference"] = result["latency"]["p50_ms"] / result["reference"]["p50_ms"]
        if process.poll() is not None:
            raise RuntimeError(f"docket up exited during the run:\n{log_tail(log)}")
        return result
    except RuntimeError as error:
        raise RuntimeError(f"{error}\n{log_tail(log, 20)}") from error
    finally:
        if process is not None:
            stop(process)
        if redis is not None:
            stop_redis(redis)
        sendgrid.server.shutdown()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=BACKENDS)
    args = parser.parse_args()
    report = {"target": TARGET}
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as work:
        for backend in BACKENDS:
            if args.only in (None, backend):
                report[backend] = run_backend(backend, Path(work) / backend)
    write_result("notifications", report)
    print("\n| backend | p50 | p99 | events/s | reference p50 (direct POST) | ratio p50 |\n|---|---|---|---|---|---|")
    for backend in BACKENDS:
        if backend in report:
            r = report[backend]
            print(f"| {backend} | {r['latency']['p50_ms']:.1f} ms | {r['latency']['p99_ms']:.1f} ms "
                  f"| {r['throughput']['events_per_s']:.0f} | {r['reference']['p50_ms']:.2f} ms "
                  f"| {r['ratio_p50_over_reference']:.1f}x |")
            met = r["latency"]["p99_ms"] < TARGET_P99_MS
            print(f"target ({backend}): {TARGET}: {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
