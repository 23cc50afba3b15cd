#!/usr/bin/env python3
"""Measures docket's Dapr sidecar: publish-to-delivery latency and messages/s
on the embedded (SQLite), Redis and Kafka brokers, and state save/get through
the sidecar against redis-benchmark on the same Redis (a redis-server of the
bench's own), in the same run.

Kafka is a Tansu of the bench's own, shaped like production (TLS and
SASL/SCRAM-SHA-256, started by dapr/components/kafka/broker), on SQLite
storage, with TOPIC in KAFKA_PARTITIONS partitions.

Prints a table and writes benches/results/sidecar.json. Numbers, not assertions.
"""

import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from common import DOCKET, ROOT, by_mode, free_port, percentile, start_redis, stop_redis, write_result, wrk as run_wrk

MESSAGES = int(os.environ.get("BENCH_MESSAGES", by_mode("2000", "300")))
DURATION = os.environ.get("BENCH_DURATION", by_mode("10s", "3s"))
TOPIC = "bench"
KAFKA_PARTITIONS = int(os.environ.get("KAFKA_PARTITIONS", "6"))
BROKER_SCRIPT = ROOT / "dapr/components/kafka/broker"


class Subscriber(BaseHTTPRequestHandler):
    """The app: subscribes to TOPIC and records each event's latency."""

    protocol_version = "HTTP/1.1"

    latencies = []
    done = threading.Event()
    warmed = threading.Event()
    expected = 0

    def log_message(self, *args):
        pass

    def do_GET(self):
        body = json.dumps([{"pubsubname": "pubsub", "topic": TOPIC, "route": "/events"}]).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        length = int(self.headers.get("content-length", 0))
        event = json.loads(self.rfile.read(length))
        if event["data"].get("warmup"):
            Subscriber.warmed.set()
        else:
            Subscriber.latencies.append(time.perf_counter_ns() - event["data"]["sent"])
            if len(Subscriber.latencies) >= Subscriber.expected:
                Subscriber.done.set()
        self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()


def kafka_pubsub(folder, kafka):
    """dapr/components/kafka's pubsub, its secrets from the bench broker's secrets.json."""
    text = (ROOT / "dapr/components/kafka/pubsub.yaml").read_text()
    store = (ROOT / "dapr/components/kafka/secretstore.yaml").read_text()
    store = store.replace("../../../.docket/kafka/secrets.json", str(Path(kafka["KAFKA_DIR"]) / "secrets.json"))
    (folder / "secretstore.yaml").write_text(store.split("scopes:")[0])
    return text.split("scopes:")[0]


def resources(folder, broker, redis_port, kafka=None):
    folder.mkdir(parents=True, exist_ok=True)
    redis = f"  version: v1\n  metadata:\n    - name: redisHost\n      value: \"127.0.0.1:{redis_port}\"\n"
    if broker == "kafka":
        (folder / "pubsub.yaml").write_text(kafka_pubsub(folder, kafka))
    else:
        pubsub = (
            "  type: pubsub.redis\n" + redis
            if broker == "redis"
            else "  type: pubsub.sqlite\n  version: v1\n"
        )
        (folder / "pubsub.yaml").write_text(f"apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n{pubsub}")
    (folder / "state.yaml").write_text(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.redis\n"
        + redis
    )


def start_sidecar(work, broker, app_port, redis_port, kafka=None):
    folder = work / broker
    resources(folder / "resources", broker, redis_port, kafka)
    dapr_port = free_port()
    process = subprocess.Popen(
        [str(DOCKET), "sidecar", "--app-id", f"bench-{broker}-{os.getpid()}", "--app-port", str(app_port),
         "--dapr-http-port", str(dapr_port), "--resources-path", str(folder / "resources"),
         "--data-dir", str(folder / "data")],
        env=dict(os.environ, RUST_LOG="warn"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", dapr_port, timeout=1)
            conn.request("GET", "/v1.0/healthz")
            if conn.getresponse().status == 204:
                return process, dapr_port
        except OSError:
            pass
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("sidecar did not become ready")


def publish(conn, data):
    conn.request("POST", f"/v1.0/publish/pubsub/{TOPIC}", json.dumps(data), {"content-type": "application/json"})
    response = conn.getresponse()
    response.read()
    if response.status != 204:
        raise RuntimeError(f"publish failed: {response.status}")


def publish_to_delivery(work, broker, redis_port, kafka=None):
    Subscriber.latencies, Subscriber.expected = [], MESSAGES
    Subscriber.done, Subscriber.warmed = threading.Event(), threading.Event()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    process, dapr_port = start_sidecar(work, broker, server.server_address[1], redis_port, kafka)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", dapr_port)
        # Timing starts once one message has gone round: the subscription
        # (for Kafka, the consumer group join) is settled.
        publish(conn, {"warmup": True})
        if not Subscriber.warmed.wait(60):
            raise RuntimeError(f"{broker}: the warm-up message was not delivered")
        started = time.perf_counter()
        for _ in range(MESSAGES):
            publish(conn, {"sent": time.perf_counter_ns()})
        Subscriber.done.wait(120)
        elapsed = time.perf_counter() - started
        ms = [ns / 1e6 for ns in Subscriber.latencies]
        return {"messages": len(ms), "per_second": len(ms) / elapsed, "p50_ms": percentile(ms, 50), "p99_ms": percentile(ms, 99)}
    finally:
        process.terminate()
        process.wait()
        server.shutdown()
        if broker == "redis":
            subprocess.run(["redis-cli", "-p", str(redis_port), "DEL", TOPIC], stdout=subprocess.DEVNULL)


def start_kafka(work):
    """A TLS + SCRAM Tansu on free ports with TOPIC; returns the script's environment."""
    env = dict(os.environ, KAFKA_DIR=str(work / "kafka"), KAFKA_PORT=str(free_port()), TANSU_PORT=str(free_port()),
               KAFKA_TOPICS=TOPIC, PARTITIONS=str(KAFKA_PARTITIONS))
    subprocess.run([str(BROKER_SCRIPT), "start"], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


def stop_kafka(env):
    subprocess.run([str(BROKER_SCRIPT), "stop"], env=env, check=True)


def wrk(url, connections, script=None):
    result = run_wrk(url, min(2, connections), connections, DURATION, script)
    return {"ops_per_second": result["rps"], "p50_ms": result["p50_ms"], "p99_ms": result["p99_ms"]}


def redis_benchmark(connections, redis_port):
    requests = str(by_mode(100000, 20000) if connections > 1 else by_mode(20000, 5000))
    out = subprocess.run(["redis-benchmark", "-h", "127.0.0.1", "-p", str(redis_port), "-t", "set,get", "-n", requests, "-c", str(connections), "--csv"],
                         check=True, capture_output=True, text=True).stdout
    results = {}
    for line in out.splitlines()[1:]:
        fields = [f.strip('"') for f in line.split(",")]
        results[fields[0].lower()] = {"ops_per_second": float(fields[1]), "p50_ms": float(fields[5]), "p99_ms": float(fields[7])}
    return results


def state_operations(work, redis_port):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Subscriber)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    process, dapr_port = start_sidecar(work, "state", server.server_address[1], redis_port)
    try:
        base = f"http://127.0.0.1:{dapr_port}/v1.0/state/statestore"
        script = work / "save.lua"
        script.write_text('wrk.method = "POST"\nwrk.body = \'[{"key":"bench","value":{"n":1}}]\'\nwrk.headers["Content-Type"] = "application/json"\n')
        return {
            connections: {"save": wrk(base, connections, script), "get": wrk(f"{base}/bench", connections)}
            for connections in (1, 16)
        }
    finally:
        process.terminate()
        process.wait()
        server.shutdown()


def main():
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        redis, redis_port = start_redis(work)
        kafka = None
        try:
            kafka = start_kafka(work)
            delivery = {broker: publish_to_delivery(work, broker, redis_port, kafka) for broker in ("embedded", "redis", "kafka")}
            state = state_operations(work, redis_port)
            reference = {connections: redis_benchmark(connections, redis_port) for connections in (1, 16)}
        finally:
            stop_redis(redis)
            if kafka:
                stop_kafka(kafka)
    report = {"publish_to_delivery": delivery, "state_through_sidecar": state, "redis_benchmark": reference}
    print(f"\npublish → delivery ({MESSAGES} messages, one publisher; kafka: Tansu, TLS + SCRAM-SHA-256, {KAFKA_PARTITIONS} partitions)")
    print(f"{'broker':<10}{'msg/s':>10}{'p50 ms':>10}{'p99 ms':>10}")
    for broker, r in delivery.items():
        print(f"{broker:<10}{r['per_second']:>10.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}")
    print("\nstate on Redis: through the sidecar (wrk) vs redis-benchmark, same connection count")
    print(f"{'op':<6}{'conns':>6}{'sidecar ops/s':>15}{'p50 ms':>9}{'p99 ms':>9}{'redis ops/s':>13}{'p50 ms':>9}{'p99 ms':>9}{'added p99':>11}")
    for connections in (1, 16):
        for op, ref_op in (("save", "set"), ("get", "get")):
            r, ref = state[connections][op], reference[connections][ref_op]
            print(f"{op:<6}{connections:>6}{r['ops_per_second']:>15.0f}{r['p50_ms']:>9.3f}{r['p99_ms']:>9.3f}"
                  f"{ref['ops_per_second']:>13.0f}{ref['p50_ms']:>9.3f}{ref['p99_ms']:>9.3f}{r['p99_ms'] - ref['p99_ms']:>11.3f}")
    write_result("sidecar", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
