#!/usr/bin/env python3
"""Serves one tiny hello component with `docket up` and with `wasmtime serve`
(wasmtime-cli 48.x, the reference wasi:http host), loads both with wrk in the
same run, and measures docket's cold and warm start for the repo's spin.toml.

Prints a table and writes benches/results/host.json. Numbers, not assertions.
"""

import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import COMPONENTS, DOCKET, MANIFEST, ROOT, by_mode, free_port, write_result, wrk as run_wrk

HELLO = COMPONENTS / "hello.wasm"
WASMTIME_VERSION = "48.0.8"
WASMTIME_ROOT = Path(os.environ.get("WASMTIME_ROOT", Path.home() / ".cache/docket/wasmtime-48"))
DURATION = os.environ.get("BENCH_DURATION", by_mode("10s", "3s"))
THREADS, CONNECTIONS = 2, 64
ROUNDS = int(os.environ.get("BENCH_ROUNDS", by_mode("2", "1")))
STARTS = int(os.environ.get("BENCH_STARTS", by_mode("5", "2")))


def run(*cmd, **kw):
    return subprocess.run(cmd, check=True, **kw)


def wait_http(url, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"{url} did not answer")


def ensure_tools():
    # benches/run builds once for every bench; alone, build what is missing.
    if not DOCKET.exists():
        run("cargo", "build", "--release", "-p", "docket-cli", cwd=ROOT)
    if not HELLO.exists():
        run(str(ROOT / "scripts/build-components"), cwd=ROOT)
    if not shutil.which("wrk"):
        run("apt-get", "install", "-y", "-q", "wrk")
    wasmtime = WASMTIME_ROOT / "bin/wasmtime"
    if not wasmtime.exists():
        print(f"installing wasmtime-cli {WASMTIME_VERSION} into {WASMTIME_ROOT} (about 20 minutes)", flush=True)
        run("cargo", "install", "--locked", f"wasmtime-cli@{WASMTIME_VERSION}", "--root", str(WASMTIME_ROOT))
    return wasmtime


def hello_manifest(folder):
    shutil.copy(HELLO, folder / "hello.wasm")
    (folder / "spin.toml").write_text(
        'spin_manifest_version = 2\n[application]\nname = "bench"\n'
        '[[trigger.http]]\nroute = "/..."\ncomponent = "hello"\n'
        '[component.hello]\nsource = "hello.wasm"\n'
    )
    return folder / "spin.toml"


def wrk(url):
    return run_wrk(url, THREADS, CONNECTIONS, DURATION)


def throughput(wasmtime, work):
    manifest = hello_manifest(work)
    docket_port, wasmtime_port = free_port(), free_port()
    env = dict(os.environ, RUST_LOG="info")
    servers = [
        subprocess.Popen(
            [str(DOCKET), "up", "-f", str(manifest), "--listen", f"127.0.0.1:{docket_port}",
             "--data-dir", str(work / "data"), "--no-watch", "--dapr-http-port", "0"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
        subprocess.Popen(
            [str(wasmtime), "serve", "-Scli", "--addr", f"127.0.0.1:{wasmtime_port}", str(work / "hello.wasm")],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL),
    ]
    try:
        urls = {"docket": f"http://127.0.0.1:{docket_port}/", "wasmtime serve": f"http://127.0.0.1:{wasmtime_port}/"}
        for url in urls.values():
            wait_http(url)
            subprocess.run(["wrk", "-t2", "-c64", "-d2s", url], check=True, capture_output=True)
        results = {name: [] for name in urls}
        for _ in range(ROUNDS):
            for name, url in urls.items():
                results[name].append(wrk(url))
        return {
            name: {
                "rps": statistics.mean(r["rps"] for r in runs),
                "p50_ms": statistics.mean(r["p50_ms"] for r in runs),
                "p99_ms": statistics.mean(r["p99_ms"] for r in runs),
                "errors": sum(r["errors"] for r in runs),
                "runs": runs,
            }
            for name, runs in results.items()
        }
    finally:
        for server in servers:
            server.terminate()
            server.wait()


def start_time(data_dir, manifest):
    port = free_port()
    started = time.monotonic()
    server = subprocess.Popen(
        [str(DOCKET), "up", "-f", str(manifest), "--listen", f"127.0.0.1:{port}",
         "--data-dir", str(data_dir), "--no-watch", "--dapr-http-port", "0"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_http(f"http://127.0.0.1:{port}/.well-known/spin/health")
        return (time.monotonic() - started) * 1000
    finally:
        server.terminate()
        server.wait()


def startup(work):
    manifest = MANIFEST
    run(str(DOCKET), "build", "-f", str(manifest), cwd=ROOT, stdout=subprocess.DEVNULL)
    cold, warm = [], []
    for i in range(STARTS):
        data = work / f"start-{i}"
        cold.append(start_time(data, manifest))
        warm.append(start_time(data, manifest))
    return {"cold_ms": statistics.median(cold), "warm_ms": statistics.median(warm), "cold_runs": cold, "warm_runs": warm}


def main():
    wasmtime = ensure_tools()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        load = throughput(wasmtime, work)
        starts = startup(work)
    d, w = load["docket"], load["wasmtime serve"]
    report = {
        "load": {"threads": THREADS, "connections": CONNECTIONS, "duration": DURATION, "rounds": ROUNDS, **load},
        "ratio_rps_docket_over_wasmtime": d["rps"] / w["rps"],
        "ratio_p99_docket_over_wasmtime": d["p99_ms"] / w["p99_ms"],
        "startup": starts,
        "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release},
    }
    print(f"\nhello component, wrk -t{THREADS} -c{CONNECTIONS} -d{DURATION}, mean of {ROUNDS} alternating rounds")
    print(f"{'host':<16}{'req/s':>12}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}")
    for name, r in load.items():
        print(f"{name:<16}{r['rps']:>12.0f}{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8}")
    print(f"ratio docket/wasmtime: throughput {report['ratio_rps_docket_over_wasmtime']:.2f}x, "
          f"p99 {report['ratio_p99_docket_over_wasmtime']:.2f}x")
    print(f"startup of spin.toml (median of {STARTS}): cold {starts['cold_ms']:.0f} ms, warm {starts['warm_ms']:.0f} ms")
    write_result("host", report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
