#!/usr/bin/env python3
"""Recurring catch-up: 10,000 daily templates on Postgres, each three days
behind, and one call of the recurring-task service's cron route (it continues
its own backlog through the sidecar). Measures the time until every missed
task exists and until every task.created event is published. In the same
run, a reference: the same number of tasks and outbox rows written by one
bulk INSERT each through psql, with the ratio of the two.

Prints a table and writes benches/results/recurring.json. Numbers, not
assertions. Needs target/release/docket and the components built first:

    cargo build --release -p docket-cli
    scripts/build-components
"""

import argparse
import json
import os
import secrets
import sys
import tempfile
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

from common import (by_mode, create_database, drop_database, free_port, handle_signals, log_tail, psql, start_docket,
                    stop, wait_ready, write_result)

TEMPLATES = by_mode(10_000, 1_000)
USERS = 100
DAYS_BEHIND = 3
TARGET = f"{TEMPLATES:,} templates three days behind caught up within one 5-minute cron period"
TIMEOUT_S = 900

RESOURCES = {
    "pubsub.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\nspec:\n"
                   "  type: pubsub.sqlite\n  version: v1\n  metadata:\n    - name: connectionString\n"
                   "      value: \"pubsub.db\"\n",
    "statestore.yaml": "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\n"
                       "spec:\n  type: state.sqlite\n  version: v1\n  metadata:\n"
                       "    - name: connectionString\n      value: \"state.db\"\n",
}


def stamp(at):
    return at.strftime("%Y-%m-%dT%H:%M:%S+00:00")


def seed(database, now):
    """TEMPLATES daily templates whose next occurrence lies DAYS_BEHIND days back."""
    first = (now - timedelta(days=DAYS_BEHIND) + timedelta(hours=1)).replace(second=0, microsecond=0)
    psql(f"INSERT INTO users (id, username) SELECT 'bench-' || g, 'bench-' || g "
         f"FROM generate_series(1, {USERS}) g", database)
    psql("INSERT INTO recurring_tasks (user_id, title, pattern, every_n, time_of_day, timezone, "
         "starts_at, enabled, next_occurrence) "
         f"SELECT 'bench-' || (1 + g % {USERS}), 'Template ' || g, 'daily', 1, "
         f"'{first:%H:%M}', 'UTC', '{stamp(first - timedelta(days=10))}', true, '{stamp(first)}' "
         f"FROM generate_series(1, {TEMPLATES}) g", database)
    return TEMPLATES * DAYS_BEHIND


def count(sql, database):
    return int(psql(sql, database))


def reference(database, expected):
    """The floor: the same rows written by one bulk statement each."""
    started = time.monotonic()
    psql("BEGIN; "
         "INSERT INTO tasks (user_id, title, due_at, created_at, updated_at) "
         f"SELECT 'bench-' || (1 + g % {USERS}), 'Reference ' || g, now(), now(), now() "
         f"FROM generate_series(1, {expected}) g; "
         "INSERT INTO event_outbox (event_id, topic, event_type, payload, created_at, published_at) "
         "SELECT 'ref-' || g, 'task-events', 'task.created', repeat('x', 900), now(), now() "
         f"FROM generate_series(1, {expected}) g; COMMIT", database)
    return time.monotonic() - started


def wait_for(what, check, deadline):
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.2)
    return time.monotonic()


def run(work):
    env = dict(os.environ, SPIN_VARIABLE_JWT_SECRET=secrets.token_hex(32),
               RUST_LOG=os.environ.get("BENCH_RUST_LOG", "warn"))
    resources = work / "resources"
    resources.mkdir()
    for name, text in RESOURCES.items():
        (resources / name).write_text(text)
    process = None
    database, env["SPIN_VARIABLE_DATABASE_URL"] = create_database(env, work)
    try:
        expected = seed(database, datetime.now(timezone.utc))
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process, log = start_docket(work, env, port, "--dapr-http-port", "0", "--resources-path", str(resources))
        wait_ready(process, base, log)
        print(f"catching up {TEMPLATES} templates, {expected} tasks", flush=True)
        started = time.monotonic()
        deadline = started + TIMEOUT_S
        request = urllib.request.Request(f"{base}/recurring-cron", data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            first_call = json.loads(response.read())
        tasks_at = wait_for("every missed task", lambda: count(
            "SELECT count(*) FROM tasks WHERE recurring_task_id IS NOT NULL", database) >= expected, deadline)
        published_at = wait_for("every event published", lambda: count(
            "SELECT count(*) FROM event_outbox WHERE published_at IS NULL", database) == 0, deadline)
        made = count("SELECT count(*) FROM tasks WHERE recurring_task_id IS NOT NULL", database)
        events = count("SELECT count(DISTINCT event_id) FROM event_outbox WHERE event_type = 'task.created'",
                       database)
        if process.poll() is not None:
            raise RuntimeError(f"docket up exited during the run:\n{log_tail(log)}")
        stop(process)
        process = None
        reference_s = reference(database, expected)
        catch_up_s = tasks_at - started
        return {
            "templates": TEMPLATES,
            "expected_tasks": expected,
            "tasks": made,
            "task_created_events": events,
            "first_call": first_call,
            "all_tasks_s": catch_up_s,
            "all_published_s": published_at - started,
            "tasks_per_s": made / catch_up_s,
            "reference_bulk_insert_s": reference_s,
            "ratio_catch_up_over_reference": catch_up_s / reference_s,
        }
    finally:
        if process is not None:
            stop(process)
        drop_database(database)


def main():
    argparse.ArgumentParser(description=__doc__.split("\n\n")[0]).parse_args()
    handle_signals()
    with tempfile.TemporaryDirectory(prefix="docket-bench-") as work:
        result = run(Path(work))
    result["target"] = TARGET
    result["target_met"] = result["all_tasks_s"] < 300 and result["tasks"] == result["expected_tasks"]
    write_result("recurring", result)
    print(f"\n| templates | tasks made / expected | events | all tasks | all published | tasks/s "
          f"| reference bulk insert | ratio |\n|---|---|---|---|---|---|---|---|\n"
          f"| {result['templates']} | {result['tasks']} / {result['expected_tasks']} "
          f"| {result['task_created_events']} | {result['all_tasks_s']:.1f} s "
          f"| {result['all_published_s']:.1f} s | {result['tasks_per_s']:.0f} "
          f"| {result['reference_bulk_insert_s']:.2f} s | {result['ratio_catch_up_over_reference']:.1f}x |")
    print(f"target: {TARGET}: {'met' if result['target_met'] else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
