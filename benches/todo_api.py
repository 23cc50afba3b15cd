#!/usr/bin/env python3
"""Loads the real todo-api component through `docket up`: create a task, list
100 tasks and toggle a task complete, on the embedded SQLite database and on
Postgres, each at 64 and at 1000 connections. In the same run, a reference:
`GET /api/priorities` (public, one light query), with the ratio of create p99
to reference p99.

Prints a table and writes benches/results/todo_api.json. Numbers, not
assertions. Needs target/release/docket and the todo_api.wasm built first:

    cargo build --release -p docket-cli
    scripts/build-components -p todo-api

Options: --duration (default 10s, or BENCH_DURATION), --only sqlite|postgres.
BENCH_RUST_LOG sets docket's RUST_LOG (default warn; its log stays in the temp dir).
"""

import argparse
import json
import os
import re
import resource
import secrets
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from contextlib import closing
from pathlib import Path

from common import free_port, wrk as run_wrk

ROOT = Path(__file__).resolve().parent.parent
DOCKET = ROOT / "target/release/docket"
TODO_API = ROOT / "components/target/wasm32-wasip2/release/todo_api.wasm"
MANIFEST = ROOT / "spin.toml"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test"]
# As the tests do: the local server's certificate is self-signed.
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"
BACKENDS = ("sqlite", "postgres")
SCENARIOS = ("reference", "create", "list", "complete")
THREADS = 2
CONNECTIONS = (64, 1000)
CREATE_USERS = [f"bench-user-{i}" for i in range(10)]
SEED_USER = "bench-seed"
SEED_TASKS = 100
START_TIMEOUT_S = 60
# wrk's own 2 s timeout would drop the slowest responses from p99 (as socket
# errors); docket answers 504 after its 30 s request timeout anyway.
WRK_TIMEOUT = "30s"
TARGET_CONNECTIONS, TARGET_P99_MS = 1000, 50.0
TARGET = f"create p99 < {TARGET_P99_MS:.0f} ms at {TARGET_CONNECTIONS} connections, 0 errors"
# Docket's per-request log lines at `info` would fill the temp dir under load.
RUST_LOG = os.environ.get("BENCH_RUST_LOG", "warn")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", default=os.environ.get("BENCH_DURATION", "10s"),
                        help="wrk duration of each run, e.g. 10s or 1m (default 10s)")
    parser.add_argument("--only", choices=BACKENDS, help="run one backend only")
    args = parser.parse_args()
    if not re.fullmatch(r"[1-9]\d*[smh]?", args.duration):
        parser.error(f"--duration must look like 10s, 2m or 1h, got {args.duration!r}")
    return args


def missing_prerequisites(backends):
    """What is missing to run, as lines telling how to get it."""
    missing = []
    if not DOCKET.exists():
        missing.append(f"{DOCKET} is missing: cargo build --release -p docket-cli")
    if not TODO_API.exists():
        missing.append(f"{TODO_API} is missing: scripts/build-components -p todo-api")
    if not shutil.which("wrk"):
        missing.append("wrk is missing: apt-get install -y wrk")
    if "postgres" in backends:
        if not shutil.which("psql"):
            missing.append("psql is missing: apt-get install -y postgresql-client (or use --only sqlite)")
        elif subprocess.run(PG_ADMIN + ["-qAtc", "SELECT 1"], capture_output=True).returncode != 0:
            missing.append(f"Postgres does not answer `{' '.join(PG_ADMIN)}` (or use --only sqlite)")
    return missing


def raise_open_files():
    """1000 connections need 1000 sockets in wrk and as many in docket (children inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        except (ValueError, OSError):
            # An unlimited hard limit cannot be the soft one; take what the kernel allows.
            try:
                resource.setrlimit(resource.RLIMIT_NOFILE, (1 << 20, hard))
            except (ValueError, OSError):
                pass
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    needed = 2 * max(CONNECTIONS) + 512
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"warning: open files limit is {soft}, below the {needed} that {max(CONNECTIONS)} "
              "connections need; expect socket errors", file=sys.stderr)
    return soft


def psql(sql, database=None):
    command = PG_ADMIN if database is None else PG_ADMIN[:-1] + [database]
    return subprocess.run(command + ["-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


# --- HTTP against the app (setup only; the load is wrk's) ---------------------------------

def call(method, url, token=None, body=None):
    """Returns (status, parsed JSON body or None)."""
    headers = {}
    data = None
    if token:
        headers["Authorization"] = f"Bearer {token}"
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


def log_tail(log, lines=12):
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def wait_ready(process, base, log):
    url = f"{base}/api/priorities"
    deadline = time.monotonic() + START_TIMEOUT_S
    last = "no answer"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"docket up exited with {process.returncode}:\n{log_tail(log)}")
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            last = f"{error.code} {error.read().decode(errors='replace')[:500]}"
        except OSError as error:
            last = str(error)
        time.sleep(0.05)
    raise RuntimeError(f"GET {url} did not answer 200 within {START_TIMEOUT_S} s (last: {last}):\n{log_tail(log)}")


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=35)  # docket lets in-flight requests finish for up to 30 s
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- wrk scripts ------------------------------------------------------------------------------

def lua_string(text):
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"not a plain ASCII string: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_list(items):
    return "{" + ", ".join(lua_string(item) for item in items) + "}"


# Every script counts response statuses per thread; `done` (in wrk's main
# state) adds them up and writes "STATUS COUNT" lines to STATUS_FILE.
LUA_STATUSES = """\
-- Generated by benches/todo_api.py for one wrk run.
local threads = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local file = assert(io.open(@STATUS_FILE@, "w"))
  for status, count in pairs(total) do
    file:write(status, " ", count, "\\n")
  end
  file:close()
end
"""

# Requests are built once per thread; each request takes the next one round-robin,
# threads starting at different offsets. Path i goes with token i (or the only token).
LUA_ROUND_ROBIN = """
local method = @METHOD@
local paths = @PATHS@
local tokens = @TOKENS@
local body = @BODY@
local prepared = {}
local n = 0

function init(args)
  for i = 1, #paths do
    local headers = {["Authorization"] = "Bearer " .. tokens[(i - 1) % #tokens + 1]}
    if body then
      headers["Content-Type"] = "application/json"
    end
    prepared[i] = wrk.format(method, paths[i], headers, body)
  end
  n = (thread_index or 0) * math.floor(#prepared / @THREADS@)
end

function request()
  local r = prepared[n % #prepared + 1]
  n = n + 1
  return r
end
"""

LUA_STATIC_AUTH = """
wrk.headers["Authorization"] = "Bearer " .. @TOKEN@
"""


def fill(template, **values):
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", template)
    if left:
        raise ValueError(f"unfilled placeholders in a wrk script: {left}")
    return template


class Plan:
    """What each scenario sends: a path for wrk's URL and a Lua script."""

    def __init__(self, tokens, seed_ids):
        self.tokens = tokens
        self.seed_ids = seed_ids

    def path(self, scenario):
        return {
            "reference": "/api/priorities",
            "create": f"/api/{CREATE_USERS[0]}/tasks",
            "list": f"/api/{SEED_USER}/tasks?limit={SEED_TASKS}",
            "complete": f"/api/{SEED_USER}/tasks/{self.seed_ids[0]}/complete",
        }[scenario]

    def script(self, scenario, status_file):
        text = fill(LUA_STATUSES, STATUS_FILE=lua_string(str(status_file)))
        if scenario == "create":
            body = json.dumps({"title": "bench task", "priority": "High"})
            text += fill(LUA_ROUND_ROBIN, METHOD=lua_string("POST"),
                         PATHS=lua_list(f"/api/{user}/tasks" for user in CREATE_USERS),
                         TOKENS=lua_list(self.tokens[user] for user in CREATE_USERS),
                         BODY=lua_string(body), THREADS=str(THREADS))
        elif scenario == "complete":
            text += fill(LUA_ROUND_ROBIN, METHOD=lua_string("PATCH"),
                         PATHS=lua_list(f"/api/{SEED_USER}/tasks/{i}/complete" for i in self.seed_ids),
                         TOKENS=lua_list([self.tokens[SEED_USER]]),
                         BODY="nil", THREADS=str(THREADS))
        elif scenario == "list":
            text += fill(LUA_STATIC_AUTH, TOKEN=lua_string(self.tokens[SEED_USER]))
        return text


def read_statuses(status_file):
    statuses = {}
    if status_file.exists():
        for line in status_file.read_text().splitlines():
            status, count = line.split()
            statuses[status] = statuses.get(status, 0) + int(count)
    return dict(sorted(statuses.items()))


def measure(work, base, plan, scenario, connections, duration):
    tag = f"{scenario}-{connections}-{duration}"
    status_file, script = work / f"{tag}.statuses", work / f"{tag}.lua"
    status_file.unlink(missing_ok=True)
    script.write_text(plan.script(scenario, status_file))
    try:
        result = run_wrk(base + plan.path(scenario), THREADS, connections, duration, script, timeout=WRK_TIMEOUT)
    except subprocess.CalledProcessError as error:
        raise RuntimeError(f"wrk failed for {scenario} at {connections} connections:\n{error.stderr}") from error
    result["statuses"] = read_statuses(status_file)
    # Fast error answers inflate req/s: the share of it that succeeded.
    answered = sum(result["statuses"].values())
    ok = sum(count for status, count in result["statuses"].items() if status.startswith("2"))
    result["ok_rps"] = result["rps"] * ok / answered if answered else 0.0
    return result


# --- one backend --------------------------------------------------------------------------

def mint_tokens(env, data_dir, work):
    tokens = {}
    for user in CREATE_USERS + [SEED_USER]:
        out = subprocess.run([str(DOCKET), "token", "--user", user, "-f", str(MANIFEST), "--data-dir", str(data_dir)],
                             env=env, cwd=work, check=True, capture_output=True, text=True).stdout
        tokens[user] = out.strip()
        if tokens[user].count(".") != 2:
            raise RuntimeError(f"docket token printed {out!r}, not a JWT")
    return tokens


def seed(base, token):
    """Creates SEED_TASKS tasks for SEED_USER; returns their ids."""
    ids = []
    for i in range(SEED_TASKS):
        priority = ("Low", "Medium", "High", "Critical")[i % 4]
        status, task = call("POST", f"{base}/api/{SEED_USER}/tasks", token,
                            {"title": f"seeded task {i}", "priority": priority})
        if status != 201 or not isinstance(task, dict) or "id" not in task:
            raise RuntimeError(f"seeding: POST answered {status}: {task}")
        ids.append(task["id"])
    status, listed = call("GET", f"{base}/api/{SEED_USER}/tasks?limit={SEED_TASKS}", token)
    if status != 200 or not isinstance(listed, list) or len(listed) != SEED_TASKS:
        count = len(listed) if isinstance(listed, list) else listed
        raise RuntimeError(f"seeding: GET tasks answered {status} with {count}, expected {SEED_TASKS} tasks")
    status, task = call("PATCH", f"{base}/api/{SEED_USER}/tasks/{ids[0]}/complete", token)
    if status != 200:
        raise RuntimeError(f"seeding: PATCH complete answered {status}: {task}")
    return ids


def seeded_rows(backend, data_dir, database):
    """The seed user's tasks as the backend itself counts them: proves the app used it."""
    if backend == "postgres":
        return int(psql(f"SELECT count(*) FROM tasks WHERE user_id = '{SEED_USER}'", database))
    path = data_dir / "sqlite/default.db"
    if not path.exists():
        return 0
    with closing(sqlite3.connect(path, timeout=10)) as db:
        return db.execute("SELECT count(*) FROM tasks WHERE user_id = ?", (SEED_USER,)).fetchone()[0]


def run_backend(backend, work, duration, cache_from=None):
    data_dir = work / "data"
    data_dir.mkdir(parents=True)
    if cache_from and (cache_from / "cache").is_dir():
        # wasmtime's compile cache is keyed by content: saves compiling the component again.
        shutil.copytree(cache_from / "cache", data_dir / "cache")
    env = dict(os.environ, SPIN_VARIABLE_JWT_SECRET=secrets.token_hex(32), RUST_LOG=RUST_LOG)
    env.pop("SPIN_VARIABLE_DATABASE_URL", None)
    database = None
    process = None
    log = work / "docket.log"
    try:
        if backend == "postgres":
            database = f"docket_bench_{secrets.token_hex(4)}"
            psql(f"CREATE DATABASE {database}")
            env["SPIN_VARIABLE_DATABASE_URL"] = PG_URL.format(name=database)
            # `docket up` migrates only the embedded SQLite database; Postgres gets its schema here.
            subprocess.run([str(DOCKET), "migrate", "--database", env["SPIN_VARIABLE_DATABASE_URL"],
                            "--dir", str(ROOT / "migrations/postgres")],
                           env=env, cwd=work, check=True, capture_output=True)
        tokens = mint_tokens(env, data_dir, work)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        with log.open("wb") as log_file:
            started = time.monotonic()
            process = subprocess.Popen(
                [str(DOCKET), "up", "-f", str(MANIFEST), "--listen", f"127.0.0.1:{port}",
                 "--data-dir", str(data_dir), "--no-watch", "--dapr-http-port", "0"],
                env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
                start_new_session=True)  # Ctrl-C reaches this script, which stops docket itself
        wait_ready(process, base, log)
        ready_s = time.monotonic() - started
        print(f"[{backend}] docket up ready in {ready_s:.1f} s; seeding {SEED_TASKS} tasks", flush=True)
        seed_ids = seed(base, tokens[SEED_USER])
        rows = seeded_rows(backend, data_dir, database)
        if rows != SEED_TASKS:
            raise RuntimeError(f"the {backend} database holds {rows} tasks of {SEED_USER}, expected {SEED_TASKS}: "
                               "the app is not using this backend (check spin.toml's database_url variable "
                               "and allowed_outbound_hosts)")
        plan = Plan(tokens, seed_ids)
        for scenario in ("reference", "list"):
            measure(work, base, plan, scenario, 64, "2s")  # warm-up, not reported
        results = {}
        for connections in CONNECTIONS:
            runs = {}
            for scenario in SCENARIOS:
                print(f"[{backend}] {scenario} at {connections} connections for {duration}", flush=True)
                runs[scenario] = measure(work, base, plan, scenario, connections, duration)
                time.sleep(1)  # let closed connections and in-flight work drain
            ref_p99 = runs["reference"]["p99_ms"]
            runs["ratio_create_p99_over_reference_p99"] = runs["create"]["p99_ms"] / ref_p99 if ref_p99 else None
            results[str(connections)] = runs
        if process.poll() is not None:
            raise RuntimeError(f"docket up exited during the run with {process.returncode}:\n{log_tail(log)}")
        return {"ready_s": ready_s, "connections": results}
    finally:
        if process is not None:
            stop(process)
        if database:
            try:
                psql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            except subprocess.CalledProcessError as error:
                print(f"warning: could not drop database {database}: {error.stderr}", file=sys.stderr)


# --- report -------------------------------------------------------------------------------

def target_note(result):
    met = result["p99_ms"] < TARGET_P99_MS and result["errors"] == 0
    return f"target: {TARGET} ({'met' if met else 'NOT met'})"


def print_table(report):
    print(f"\ntodo-api through docket up, wrk -t{THREADS} -d{report['duration']} per row; "
          f"create over {len(CREATE_USERS)} users, list/complete over {SEED_TASKS} seeded tasks")
    print(f"{'backend':<10}{'conns':>6}  {'endpoint':<10}{'req/s':>10}{'2xx/s':>10}{'p50 ms':>10}{'p99 ms':>10}"
          f"{'errors':>8}  statuses")
    for backend, result in report["backends"].items():
        for connections, runs in result["connections"].items():
            for scenario in SCENARIOS:
                r = runs[scenario]
                statuses = " ".join(f"{s}:{n}" for s, n in r["statuses"].items())
                line = (f"{backend:<10}{connections:>6}  {scenario:<10}{r['rps']:>10.0f}{r['ok_rps']:>10.0f}"
                        f"{r['p50_ms']:>10.2f}{r['p99_ms']:>10.2f}{r['errors']:>8}  {statuses}")
                if scenario == "create" and int(connections) == TARGET_CONNECTIONS:
                    line += f"   <- {target_note(r)}"
                print(line)
    print("\ncreate p99 / reference (GET /api/priorities) p99:")
    for backend, result in report["backends"].items():
        ratios = []
        for connections, runs in result["connections"].items():
            ratio = runs["ratio_create_p99_over_reference_p99"]
            text = f"{connections} conns " + (f"{ratio:.2f}x" if ratio is not None else "n/a")
            create = runs["create"]
            if create["ok_rps"] < create["rps"] / 2:
                text += " (most creates failed)"
            ratios.append(text)
        print(f"  {backend:<10}" + ", ".join(ratios))


def main():
    args = parse_args()
    # Cleanup (stop docket, drop the database, remove temp dirs) runs in `finally`
    # blocks: make SIGINT (even when started in the background) and SIGTERM reach them.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    backends = [args.only] if args.only else list(BACKENDS)
    missing = missing_prerequisites(backends)
    if missing:
        print("cannot run the todo-api benchmark:", *missing, sep="\n  ", file=sys.stderr)
        return 2
    open_files = raise_open_files()
    report = {
        "duration": args.duration,
        "threads": THREADS,
        "wrk_timeout": WRK_TIMEOUT,
        "connections": list(CONNECTIONS),
        "create_users": len(CREATE_USERS),
        "seed_tasks": SEED_TASKS,
        "target": TARGET,
        "rust_log": RUST_LOG,
        "backends": {},
        "machine": {"cpus": os.cpu_count(), "kernel": os.uname().release, "open_files": open_files},
    }
    with tempfile.TemporaryDirectory(prefix="docket-todo-bench-") as tmp:
        previous = None
        for backend in backends:
            work = Path(tmp) / backend
            report["backends"][backend] = run_backend(backend, work, args.duration, cache_from=previous)
            previous = work / "data"
    print_table(report)
    out = ROOT / "benches/results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "todo_api.json").write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {out / 'todo_api.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
