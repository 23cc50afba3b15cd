#!/usr/bin/env python3
"""1000 concurrent users for 60 s through `docket up` with the repo's
spin.toml: a mix of listing tasks, creating, completing and chat messages,
each request type from its own wrk process (connections split by the mix,
each request cycling through 1000 users' tokens). Once on the embedded
defaults (SQLite, the embedded sidecar) and once on a fresh Postgres
database with a Redis of the bench's own (dapr/components/redis).

Two scenarios, each on a fresh `docket up` and database:
- realistic: every connection is one user who thinks between requests
  (uniform 1-3 s, mean 2 s, wrk's `delay()`); the target applies here;
- saturation: no think time, 1000 closed-loop clients sending as fast as
  docket answers; it shows where the machine's capacity ends.

Reports, per request type and overall, p50/p95/p99, requests/s and errors
(non-2xx answers and socket errors), and docket's peak memory (VmHWM). In
the same run, a reference: the same scenario (same think time) at 64 users,
with the ratios.

Prints a table and writes benches/results/load.json. Numbers, not
assertions. Needs target/release/docket and the components built first:

    cargo build --release -p docket-cli
    scripts/build-components

Options: --duration (default 60s; BENCH_QUICK=1: 10s), --only sqlite|postgres,
--scenarios realistic,saturation, --max-concurrent N (passed to docket up),
--result NAME (writes benches/results/NAME.json; default load).
"""

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from common import (LUA_STATUS_COUNTS, fill, lua_list, lua_string, PG_ADMIN, by_mode, call, create_database, drop_database, free_port,
                    handle_signals, log_tail, memory_kb, missing_builds, postgres_answers, psql, raise_open_files, redis_resources,
                    start_docket, start_redis, stop, stop_redis, token, wait_ready, write_result)

BACKENDS = ("sqlite", "postgres")
# Think time between a user's requests, in ms (uniform; None: no think time).
SCENARIOS = {"realistic": (1000, 3000), "saturation": None}
USERS = 1000
TASKS_PER_USER = 3
# Share of the connections (users) each request type gets.
MIX = {"list": 0.5, "create": 0.2, "complete": 0.2, "chat": 0.1}
CONNECTIONS = 1000
REFERENCE_CONNECTIONS = 64
LIST_LIMIT = 20
CHAT_MESSAGE = "what's due this week?"
# wrk's own 2 s timeout would drop the slowest responses from the percentiles
# (as socket errors); docket answers 504 after its 30 s request timeout anyway.
WRK_TIMEOUT = "30s"
TARGET_P99_MS = 50.0
TARGET_SCENARIO = "realistic"
TARGET = f"{CONNECTIONS} {TARGET_SCENARIO} users: 0 errors and create p99 < {TARGET_P99_MS:.0f} ms"
RUST_LOG = os.environ.get("BENCH_RUST_LOG", "warn")
SEED_WORKERS = 32
QUANTILES = 1000


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default=os.environ.get("BENCH_LOAD_DURATION", by_mode("60s", "10s")),
                        help="wrk duration of the 1000-user run, e.g. 60s (default 60s)")
    parser.add_argument("--reference-duration", default=by_mode("20s", "5s"),
                        help="wrk duration of the 64-user reference (default 20s)")
    parser.add_argument("--only", choices=BACKENDS, help="run one backend only")
    parser.add_argument("--scenarios", default=",".join(SCENARIOS),
                        help=f"comma-separated, of {', '.join(SCENARIOS)} (default both)")
    parser.add_argument("--max-concurrent", type=int, help="docket up --max-concurrent (default: docket's own)")
    parser.add_argument("--result", default="load", help="name of the results file (default load)")
    args = parser.parse_args()
    args.scenarios = args.scenarios.split(",")
    unknown = [name for name in args.scenarios if name not in SCENARIOS]
    if unknown:
        parser.error(f"unknown scenarios {unknown}; known: {', '.join(SCENARIOS)}")
    if not re.fullmatch(r"[A-Za-z0-9_-]+", args.result):
        parser.error(f"--result is a file name without extension, got {args.result!r}")
    for value in (args.duration, args.reference_duration):
        if not re.fullmatch(r"[1-9]\d*[smh]?", value):
            parser.error(f"durations look like 10s, 2m or 1h, got {value!r}")
    return args


def missing_prerequisites(backends):
    missing = missing_builds()
    if "postgres" in backends:
        if not shutil.which("redis-server"):
            missing.append("redis-server is missing: apt-get install -y redis-server (or use --only sqlite)")
        if not shutil.which("psql") or not postgres_answers():
            missing.append(f"Postgres does not answer `{' '.join(PG_ADMIN)}` (or use --only sqlite)")
    return missing


def split(total):
    """Connections per request type, MIX's shares of `total` (largest remainder)."""
    exact = {kind: total * share for kind, share in MIX.items()}
    counts = {kind: max(1, int(value)) for kind, value in exact.items()}
    for kind in sorted(exact, key=lambda k: exact[k] - counts[k], reverse=True):
        if sum(counts.values()) >= total:
            break
        counts[kind] += 1
    return counts


# --- wrk scripts ------------------------------------------------------------------------------


# Each request type's requests are built once per thread and sent round-robin.
# With a think time, `delay` makes each connection wait before every request,
# its first one included, so the users' starts spread over the think time;
# wrk starts a request's latency clock when it writes it, after the delay.
# `done` writes the run's summary, statuses and latency quantiles (at every
# 0.1 %, in µs) as JSON, so that the types can be merged into overall
# percentiles (Debian's wrk does not hand its raw histogram to Lua). A request
# still unanswered when wrk stops (at most one per connection) is in no count.
LUA = """\
local method, body = @METHOD@, @BODY@
local paths, tokens = @PATHS@, @TOKENS@
local threads, prepared, n = {}, {}, 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(@SEED@)
  for i = 1, #paths do
    local headers = {["Authorization"] = "Bearer " .. tokens[i]}
    if body then headers["Content-Type"] = "application/json" end
    prepared[i] = wrk.format(method, paths[i], headers, body)
  end
  n = math.random(#prepared)
end

function request()
  n = n % #prepared + 1
  return prepared[n]
end

@DELAY@
@STATUS_COUNTS@
function done(summary, latency, requests)
  local total = total_statuses()
  local out = {}
  for status, count in pairs(total) do table.insert(out, string.format('"%d": %d', status, count)) end
  local quantiles = {}
  if summary.requests > 0 then
    for i = 1, @QUANTILES@ do
      table.insert(quantiles, string.format("%d", latency:percentile((i - 0.5) * 100 / @QUANTILES@)))
    end
  end
  local e = summary.errors
  local file = assert(io.open(@OUT@, "w"))
  file:write(string.format(
    '{"duration_us": %d, "requests": %d, "socket_errors": {"connect": %d, "read": %d, "write": %d, "timeout": %d}, ' ..
    '"wrk_status_errors": %d, "statuses": {%s}, "quantiles_us": [%s], ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d}',
    summary.duration, summary.requests, e.connect, e.read, e.write, e.timeout, e.status,
    table.concat(out, ", "), table.concat(quantiles, ", "),
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
  file:close()
end
"""


DELAY_LUA = """\
function delay()
  return math.random(@THINK_MIN@, @THINK_MAX@)
end
"""


class Plan:
    """Each request type's requests over every user: paths, tokens, method and body."""

    def __init__(self, tokens, task_ids):
        self.tokens = tokens  # user -> JWT
        self.task_ids = task_ids  # user -> seeded task ids

    def requests(self, kind):
        users = list(self.tokens)
        if kind == "list":
            return "GET", None, [(f"/api/{u}/tasks?limit={LIST_LIMIT}", u) for u in users]
        if kind == "create":
            body = json.dumps({"title": "load task", "priority": "Medium"})
            return "POST", body, [(f"/api/{u}/tasks", u) for u in users]
        if kind == "complete":
            return "PATCH", None, [(f"/api/{u}/tasks/{i}/complete", u) for u in users for i in self.task_ids[u]]
        if kind == "chat":
            return "POST", json.dumps({"message": CHAT_MESSAGE}), [(f"/api/{u}/chat", u) for u in users]
        raise ValueError(kind)

    def script(self, kind, out, think_ms):
        method, body, pairs = self.requests(kind)
        delay = fill(DELAY_LUA, THINK_MIN=str(think_ms[0]), THINK_MAX=str(think_ms[1])) if think_ms else ""
        return fill(LUA, METHOD=lua_string(method), BODY=lua_string(body) if body else "nil",
                    PATHS=lua_list(p for p, _ in pairs), TOKENS=lua_list(self.tokens[u] for _, u in pairs),
                    OUT=lua_string(str(out)), QUANTILES=str(QUANTILES), DELAY=delay, STATUS_COUNTS=LUA_STATUS_COUNTS,
                    SEED=str(secrets.randbelow(2**31)))


# --- one run of the mix -----------------------------------------------------------------------

def merged_percentiles(raws, ps=(50, 95, 99)):
    """Overall percentiles in ms: each type's quantiles weighted by its share of the requests."""
    points = sorted((us, raw["requests"] / len(raw["quantiles_us"]))
                    for raw in raws if raw["quantiles_us"] for us in raw["quantiles_us"])
    total = sum(weight for _, weight in points)
    result = {}
    for p in ps:
        rank, seen, value = p / 100 * total, 0.0, points[-1][0] if points else 0
        for us, weight in points:
            seen += weight
            if seen >= rank:
                value = us
                break
        result[f"p{p}_ms"] = value / 1000
    return result


def summarize(raw, duration_s, percentiles):
    errors = sum(raw["socket_errors"].values()) + sum(
        count for status, count in raw["statuses"].items() if not status.startswith("2"))
    answered = sum(raw["statuses"].values())
    attempts = answered + sum(raw["socket_errors"].values())
    return {
        "requests": raw["requests"],
        "rps": raw["requests"] / duration_s,
        "ok_rps": (answered - sum(c for s, c in raw["statuses"].items() if not s.startswith("2"))) / duration_s,
        **percentiles,
        "errors": errors,
        "error_rate": errors / attempts if attempts else 0.0,
        "statuses": dict(sorted(raw["statuses"].items())),
        "socket_errors": raw["socket_errors"],
    }


def run_mix(work, base, plan, connections, duration, tag, think_ms):
    """One wrk process per request type, all at once; returns per type and overall."""
    counts = split(connections)
    processes = {}
    for kind, conns in counts.items():
        out = work / f"{tag}-{kind}.json"
        out.unlink(missing_ok=True)
        script = work / f"{tag}-{kind}.lua"
        script.write_text(plan.script(kind, out, think_ms))
        command = ["wrk", "-t1", f"-c{conns}", f"-d{duration}", "--timeout", WRK_TIMEOUT, "-s", str(script), base]
        processes[kind] = (subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True), out)
    raws = {}
    for kind, (process, out) in processes.items():
        stdout, stderr = process.communicate()
        if process.returncode != 0 or not out.exists():
            raise RuntimeError(f"wrk for {kind} failed ({process.returncode}):\n{stderr}\n{stdout}")
        raws[kind] = json.loads(out.read_text())
    duration_s = max(raw["duration_us"] for raw in raws.values()) / 1e6
    result = {kind: dict(connections=counts[kind], **summarize(raw, raw["duration_us"] / 1e6, {
                  f"p{p}_ms": raw[f"p{p}_us"] / 1000 for p in (50, 95, 99)})) for kind, raw in raws.items()}
    merged = {"requests": 0, "statuses": {},
              "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0}}
    for raw in raws.values():
        merged["requests"] += raw["requests"]
        for status, count in raw["statuses"].items():
            merged["statuses"][status] = merged["statuses"].get(status, 0) + count
        for name, count in raw["socket_errors"].items():
            merged["socket_errors"][name] += count
    result["overall"] = dict(connections=connections,
                             **summarize(merged, duration_s, merged_percentiles(raws.values())))
    return result


# --- one backend ------------------------------------------------------------------------------

def seed(base, tokens):
    """TASKS_PER_USER tasks for every user; returns user -> task ids."""
    def one(user):
        ids = []
        for i in range(TASKS_PER_USER):
            status, task = call("POST", f"{base}/api/{user}/tasks", tokens[user],
                                {"title": f"seeded task {i}", "priority": ("Low", "High", "Critical")[i % 3]})
            if status != 201 or not isinstance(task, dict):
                raise RuntimeError(f"seeding: POST answered {status}: {task}")
            ids.append(task["id"])
        return user, ids
    with ThreadPoolExecutor(SEED_WORKERS) as pool:
        return dict(pool.map(one, tokens))


def check_one_of_each(base, plan):
    """Each request type answers 2xx once before the load: a broken setup fails here, not as 'errors'."""
    user = next(iter(plan.tokens))
    for kind in MIX:
        method, body, pairs = plan.requests(kind)
        path = next(p for p, u in pairs if u == user)
        status, answer = call(method, base + path, plan.tokens[user], json.loads(body) if body else None)
        if not 200 <= status < 300:
            raise RuntimeError(f"{kind}: {method} {path} answered {status}: {answer}")


class PostgresSampler:
    """Samples the bench database's connections (pg_stat_activity) once a second."""

    def __init__(self, database):
        self.database, self.peak, self.stopped = database, 0, threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stopped.wait(1.0):
            try:
                self.peak = max(self.peak, int(psql(
                    f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{self.database}'")))
            except subprocess.CalledProcessError:
                pass

    def stop(self):
        self.stopped.set()
        self.thread.join()
        return self.peak


def log_problems(log, limit=8):
    """Docket's WARN/ERROR lines during the run, grouped by message without numbers."""
    groups = {}
    for line in log.read_text(errors="replace").splitlines():
        if " WARN " in line or " ERROR " in line or "panicked" in line:
            message = re.sub(r"^\S+\s+", "", line)  # without the timestamp
            key = re.sub(r"\b[0-9a-f-]*\d[0-9a-f-]*\b", "N", message)[:240]
            groups[key] = groups.get(key, 0) + 1
    return [{"count": count, "line": key} for key, count in sorted(groups.items(), key=lambda kv: -kv[1])[:limit]]


def run_backend(backend, scenario, work, args):
    """One scenario on one backend, on a fresh `docket up` and database: the reference, then the load."""
    think_ms = SCENARIOS[scenario]
    work.mkdir(parents=True)
    jwt_secret = secrets.token_hex(32)
    env = dict(os.environ, SPIN_VARIABLE_JWT_SECRET=jwt_secret, RUST_LOG=RUST_LOG)
    env.pop("SPIN_VARIABLE_DATABASE_URL", None)
    database = redis = process = sampler = None
    extra = ["--dapr-http-port", str(free_port())]
    if args.max_concurrent:
        extra += ["--max-concurrent", str(args.max_concurrent)]
    name = f"{backend}, {scenario}"
    try:
        if backend == "postgres":
            database, env["SPIN_VARIABLE_DATABASE_URL"] = create_database(env, work)
            redis, redis_port = start_redis(work)
            extra += ["--resources-path", str(redis_resources(work / "resources", redis_port))]
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process, log = start_docket(work, env, port, *extra)
        wait_ready(process, base, log)
        tokens = {f"load-user-{i}": token(jwt_secret, f"load-user-{i}") for i in range(USERS)}
        print(f"[{name}] seeding {USERS} users x {TASKS_PER_USER} tasks", flush=True)
        plan = Plan(tokens, seed(base, tokens))
        check_one_of_each(base, plan)
        if database:
            sampler = PostgresSampler(database)
        print(f"[{name}] reference: {REFERENCE_CONNECTIONS} users for {args.reference_duration}", flush=True)
        reference = run_mix(work, base, plan, REFERENCE_CONNECTIONS, args.reference_duration, "reference", think_ms)
        reference_memory = memory_kb(process.pid)
        time.sleep(2)  # let the reference's connections close
        print(f"[{name}] load: {CONNECTIONS} users for {args.duration}", flush=True)
        load = run_mix(work, base, plan, CONNECTIONS, args.duration, "load", think_ms)
        if process.poll() is not None:
            raise RuntimeError(f"docket up exited during the load with {process.returncode}:\n{log_tail(log)}")
        memory = memory_kb(process.pid)
        result = {
            "reference": reference,
            "load": load,
            "memory_kb": {"peak_vm_hwm": memory["VmHWM"], "rss_after_load": memory["VmRSS"],
                          "peak_after_reference": reference_memory["VmHWM"]},
            "ratios": ratios(load, reference),
            "log_problems": log_problems(log),
        }
        if sampler:
            result["postgres_peak_connections"] = sampler.stop()
            sampler = None
            result["postgres_max_connections"] = int(psql("SHOW max_connections"))
        result["target_met"] = load["overall"]["errors"] == 0 and load["create"]["p99_ms"] < TARGET_P99_MS
        return result
    finally:
        if sampler:
            sampler.stop()
        if process is not None:
            stop(process)
        if redis is not None:
            stop_redis(redis)
        if database:
            drop_database(database)


def ratios(load, reference):
    def ratio(a, b):
        return a / b if b else None
    return {
        "p99_overall": ratio(load["overall"]["p99_ms"], reference["overall"]["p99_ms"]),
        "p50_overall": ratio(load["overall"]["p50_ms"], reference["overall"]["p50_ms"]),
        "throughput_overall": ratio(load["overall"]["rps"], reference["overall"]["rps"]),
        "create_p99": ratio(load["create"]["p99_ms"], reference["create"]["p99_ms"]),
    }


# --- report -----------------------------------------------------------------------------------

def print_table(report):
    for scenario, run in report["scenarios"].items():
        think = run["think_time_ms"]
        print(f"\n{scenario}: " + (f"each user thinks {think[0] / 1000:g}-{think[1] / 1000:g} s (uniform) "
                                   "between requests" if think else "no think time (closed loop)")
              + f"; {CONNECTIONS} users for {report['duration']}, reference {REFERENCE_CONNECTIONS} users "
              f"for {report['reference_duration']}")
        print(f"{'backend':<10}{'users':>6}  {'type':<9}{'conns':>6}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}"
              f"{'p99 ms':>9}{'errors':>8}{'err %':>7}  statuses")
        for backend, result in run["backends"].items():
            for part, users in (("reference", REFERENCE_CONNECTIONS), ("load", CONNECTIONS)):
                for kind in (*MIX, "overall"):
                    r = result[part][kind]
                    statuses = " ".join(f"{s}:{n}" for s, n in r["statuses"].items())
                    sock = sum(r["socket_errors"].values())
                    if sock:
                        statuses += f" socket:{sock}"
                    print(f"{backend:<10}{users:>6}  {kind:<9}{r['connections']:>6}{r['rps']:>9.0f}"
                          f"{r['p50_ms']:>9.1f}{r['p95_ms']:>9.1f}{r['p99_ms']:>9.1f}{r['errors']:>8}"
                          f"{100 * r['error_rate']:>7.2f}  {statuses}")
            m, q = result["memory_kb"], result["ratios"]
            print(f"  {backend}: peak memory (VmHWM) {m['peak_vm_hwm'] / 1024:.0f} MiB "
                  f"(after the {REFERENCE_CONNECTIONS}-user reference {m['peak_after_reference'] / 1024:.0f} MiB); "
                  f"{CONNECTIONS} vs {REFERENCE_CONNECTIONS} users: p99 {q['p99_overall']:.1f}x, "
                  f"throughput {q['throughput_overall']:.2f}x, create p99 {q['create_p99']:.1f}x")
            if "postgres_peak_connections" in result:
                print(f"  {backend}: Postgres connections of the bench database, peak "
                      f"{result['postgres_peak_connections']} (max_connections {result['postgres_max_connections']})")
            if scenario == TARGET_SCENARIO:
                print(f"  {backend}: target {TARGET}: {'met' if result['target_met'] else 'NOT met'}")
            for problem in result["log_problems"]:
                print(f"  {backend} log: {problem['count']} x {problem['line']}")


def main():
    args = parse_args()
    handle_signals()
    backends = [args.only] if args.only else list(BACKENDS)
    missing = missing_prerequisites(backends)
    if missing:
        print("cannot run the load benchmark:", *missing, sep="\n  ", file=sys.stderr)
        return 2
    open_files = raise_open_files(CONNECTIONS)
    report = {
        "duration": args.duration,
        "reference_duration": args.reference_duration,
        "users": USERS,
        "tasks_per_user": TASKS_PER_USER,
        "mix": MIX,
        "connections": CONNECTIONS,
        "reference_connections": REFERENCE_CONNECTIONS,
        "wrk_timeout": WRK_TIMEOUT,
        "max_concurrent": args.max_concurrent,
        "target": TARGET,
        "target_scenario": TARGET_SCENARIO,
        "rust_log": RUST_LOG,
        "open_files": open_files,
        "scenarios": {name: {"think_time_ms": SCENARIOS[name], "backends": {}} for name in args.scenarios},
    }
    with tempfile.TemporaryDirectory(prefix="docket-load-bench-") as tmp:
        for scenario in args.scenarios:
            for backend in backends:
                report["scenarios"][scenario]["backends"][backend] = run_backend(
                    backend, scenario, Path(tmp) / scenario / backend, args)
    print_table(report)
    write_result(args.result, report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
