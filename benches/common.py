"""What the benchmark scripts share: paths, quick mode, free ports, wrk runs,
Postgres and Redis of the bench's own, `docket up` start and stop, tokens."""

import base64
import hashlib
import hmac
import json
import os
import re
import resource
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Where `cargo build --release -p docket-cli` puts it (CARGO_TARGET_DIR as cargo reads it).
DOCKET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release/docket"
MANIFEST = ROOT / "spin.toml"
COMPONENTS = ROOT / "components/target/wasm32-wasip2/release"
TODO_API = COMPONENTS / "todo_api.wasm"
RESULTS = ROOT / "benches/results"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-d", "test"]
# As the tests do: the local server's certificate is self-signed.
PG_URL = "postgres://postgres@127.0.0.1:5432/{name}?sslmode=disable"
START_TIMEOUT_S = 60

_SCALE = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def quick():
    """BENCH_QUICK=1: shorter runs and smaller data sets, for trying a bench out."""
    return os.environ.get("BENCH_QUICK", "") not in ("", "0")


def by_mode(full, quick_value):
    return quick_value if quick() else full


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def write_result(name, report):
    """Writes benches/results/NAME.json, which benches/run reads."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {path}")
    return path


def wrk(url, threads, connections, duration, script=None, timeout=None):
    """Runs wrk with --latency; returns requests/s, p50/p99 in ms and error count.

    `timeout` (like "30s") replaces wrk's 2 s: slower responses count as
    socket timeouts and stay out of the percentiles.
    """
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
    if timeout:
        command += ["--timeout", str(timeout)]
    if script:
        command += ["-s", str(script)]
    out = subprocess.run(command + [url], check=True, capture_output=True, text=True).stdout
    pct = {k: float(v) * _SCALE[u] for k, v, u in re.findall(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)}
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
        "p50_ms": pct["50"],
        "p99_ms": pct["99"],
        "errors": (int(non_2xx.group(1)) if non_2xx else 0)
        + (sum(map(int, socket_errors.groups())) if socket_errors else 0),
    }


def missing_builds():
    """What loading `docket up` on spin.toml with wrk needs and is not there (docket, every
    component's .wasm, wrk), as lines telling how to get each."""
    missing = []
    if not DOCKET.exists():
        missing.append(f"{DOCKET} is missing: cargo build --release -p docket-cli")
    for component in tomllib.loads(MANIFEST.read_text())["component"].values():
        source = ROOT / component["source"]
        if not source.exists():
            missing.append(f"{source} is missing: scripts/build-components")
    if not shutil.which("wrk"):
        missing.append("wrk is missing: apt-get install -y wrk")
    return missing


def raise_open_files(connections=1000):
    """Many connections need as many sockets in wrk and in docket (children inherit the limit)."""
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
    needed = 2 * connections + 512
    if soft != resource.RLIM_INFINITY and soft < needed:
        print(f"warning: open files limit is {soft}, below the {needed} that {connections} "
              "connections need; expect socket errors", file=sys.stderr)
    return soft


def handle_signals():
    """Cleanup (stop docket, drop databases, remove temp dirs) runs in `finally`
    blocks: make SIGINT (even when started in the background) and SIGTERM reach them."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))


# --- Postgres -----------------------------------------------------------------------------

def psql(sql, database=None):
    command = PG_ADMIN if database is None else PG_ADMIN[:-1] + [database]
    return subprocess.run(command + ["-v", "ON_ERROR_STOP=1", "-qAtc", sql],
                          check=True, capture_output=True, text=True).stdout.strip()


def postgres_answers():
    return subprocess.run(PG_ADMIN + ["-qAtc", "SELECT 1"], capture_output=True).returncode == 0


def create_database(env, work):
    """A fresh database migrated with `docket migrate`; returns (name, url)."""
    name = f"docket_bench_{secrets.token_hex(4)}"
    psql(f"CREATE DATABASE {name}")
    url = PG_URL.format(name=name)
    # `docket up` migrates only the embedded SQLite database; Postgres gets its schema here.
    subprocess.run([str(DOCKET), "migrate", "--database", url, "--dir", str(ROOT / "migrations/postgres")],
                   env=env, cwd=work, check=True, capture_output=True)
    return name, url


def drop_database(name):
    try:
        psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    except subprocess.CalledProcessError as error:
        print(f"warning: could not drop database {name}: {error.stderr}", file=sys.stderr)


# --- Redis --------------------------------------------------------------------------------

def start_redis(work):
    """A redis-server of the bench's own on a free port; returns (process, port)."""
    port = free_port()
    process = subprocess.Popen(["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                                "--appendonly", "no", "--dir", str(work), "--maxclients", "10000"],
                               stdout=subprocess.DEVNULL)
    for _ in range(100):
        if subprocess.run(["redis-cli", "-p", str(port), "PING"], capture_output=True, text=True).stdout.strip() == "PONG":
            return process, port
        time.sleep(0.05)
    process.kill()
    raise RuntimeError("redis-server did not answer")


def stop_redis(process):
    process.terminate()
    process.wait()


def redis_resources(folder, port):
    """The repository's Redis resource set (dapr/components/redis), pointed at 127.0.0.1:PORT."""
    folder.mkdir(parents=True, exist_ok=True)
    for path in sorted((ROOT / "dapr/components/redis").glob("*.yaml")):
        text = path.read_text().replace("127.0.0.1:6379", f"127.0.0.1:{port}")
        (folder / path.name).write_text(text)
    return folder


# --- docket up ----------------------------------------------------------------------------

def token(secret, user, lifetime_s=3600):
    """An HS256 JWT for `user`, as `docket token` signs with the jwt_secret variable."""
    def b64(data):
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": user, "iat": now, "exp": now + lifetime_s}).encode())
    signature = hmac.new(secret.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{b64(signature)}"


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


def start_docket(work, env, port, *args, data_dir=None):
    """`docket up` on the repo's spin.toml, its log in work/docket.log; returns (process, log)."""
    log = work / "docket.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [str(DOCKET), "up", "-f", str(MANIFEST), "--listen", f"127.0.0.1:{port}",
             "--data-dir", str(data_dir or work / "data"), "--no-watch", *args],
            env=env, cwd=work, stdin=subprocess.DEVNULL, stdout=log_file, stderr=log_file,
            start_new_session=True)  # Ctrl-C reaches the bench, which stops docket itself
    return process, log


def stop(process):
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=35)  # docket lets in-flight requests finish for up to 30 s
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def memory_kb(pid):
    """VmHWM (peak resident) and VmRSS of a process, in kB, from /proc."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmHWM", "VmRSS"):
            fields[name] = int(value.split()[0])
    return fields


# --- wrk scripts ------------------------------------------------------------------------------

# wrk Lua: each thread counts the statuses it got; `total_statuses()`, for
# `done`, adds up those of the threads the script keeps in `threads`.
LUA_STATUS_COUNTS = """\
statuses = {}

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

local function total_statuses()
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  return total
end
"""


def lua_string(text):
    """A Lua string literal of plain ASCII `text`."""
    if not text.isascii() or not text.isprintable():
        raise ValueError(f"not a plain ASCII string: {text!r}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def lua_list(items):
    return "{" + ", ".join(lua_string(item) for item in items) + "}"


def fill(template, **values):
    """Replaces each @NAME@ of a wrk script; every placeholder must be filled."""
    for name, value in values.items():
        template = template.replace(f"@{name}@", value)
    left = re.findall(r"@[A-Z_]+@", template)
    if left:
        raise ValueError(f"unfilled placeholders in a wrk script: {left}")
    return template
