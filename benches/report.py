"""Turns the benches' results (benches/results/*.json) into report rows: each
case with what was measured, the reference measured in the same run and the
ratio; and renders them as Markdown."""


def row(case, measured, reference, ratio, note=""):
    return {"case": case, "measured": measured, "reference": reference,
            "ratio": round(ratio, 2) if ratio is not None else None, "note": note}


def div(a, b):
    return a / b if b else None


def met(ok):
    return "met" if ok else "NOT met"


def host(r):
    d, w = r["load"]["docket"], r["load"]["wasmtime serve"]
    conns = r["load"]["connections"]
    s = r["startup"]
    return [
        row(f"hello component, {conns} conns: throughput", f"{d['rps']:.0f} req/s",
            f"wasmtime serve {w['rps']:.0f} req/s", r["ratio_rps_docket_over_wasmtime"]),
        row(f"hello component, {conns} conns: p99", f"{d['p99_ms']:.2f} ms",
            f"wasmtime serve {w['p99_ms']:.2f} ms", r["ratio_p99_docket_over_wasmtime"]),
        row("start of spin.toml to first answer (median)", f"cold {s['cold_ms']:.0f} ms",
            f"warm (compile cache) {s['warm_ms']:.0f} ms", div(s["cold_ms"], s["warm_ms"])),
    ]


def todo_api(r):
    rows = []
    for backend, result in r["backends"].items():
        for conns, runs in result["connections"].items():
            ref = runs["reference"]
            for scenario in ("create", "list", "complete"):
                x = runs[scenario]
                note = ""
                if scenario == "create" and int(conns) == 1000:
                    note = f"target create p99 < 50 ms, 0 errors: {met(x['p99_ms'] < 50 and x['errors'] == 0)}"
                rows.append(row(f"{backend}, {conns} conns: {scenario}",
                                f"p99 {x['p99_ms']:.1f} ms, p50 {x['p50_ms']:.1f} ms, {x['rps']:.0f} req/s, "
                                f"{x['errors']} errors",
                                f"GET /api/priorities p99 {ref['p99_ms']:.1f} ms", div(x["p99_ms"], ref["p99_ms"]), note))
    return rows


def notifications(r):
    rows = []
    for backend in ("embedded", "redis"):
        if backend in r:
            x = r[backend]
            lat = x["latency"]
            rows.append(row(f"{backend}: publish → email request", f"p50 {lat['p50_ms']:.1f} ms, p99 "
                            f"{lat['p99_ms']:.1f} ms; {x['throughput']['events_per_s']:.0f} events/s",
                            f"direct POST to the mail server p50 {x['reference']['p50_ms']:.2f} ms",
                            x["ratio_p50_over_reference"], f"target p99 < 100 ms: {met(lat['p99_ms'] < 100)}"))
    return rows


def sidecar(r):
    rows = []
    bench = r["redis_benchmark"]
    floor = bench["1"]["get"]
    for broker, x in r["publish_to_delivery"].items():
        rows.append(row(f"{broker} broker: publish → delivery, one publisher",
                        f"p50 {x['p50_ms']:.2f} ms, p99 {x['p99_ms']:.2f} ms, {x['per_second']:.0f} msg/s",
                        f"redis-benchmark GET, 1 conn, p50 {floor['p50_ms']:.3f} ms",
                        div(x["p50_ms"], floor["p50_ms"])))
    for conns, ops in r["state_through_sidecar"].items():
        for op, ref_op in (("save", "set"), ("get", "get")):
            x, ref = ops[op], bench[conns][ref_op]
            rows.append(row(f"state {op} on Redis through the sidecar, {conns} conns",
                            f"{x['ops_per_second']:.0f} ops/s, p99 {x['p99_ms']:.2f} ms",
                            f"redis-benchmark {ref_op.upper()} {ref['ops_per_second']:.0f} ops/s, "
                            f"p99 {ref['p99_ms']:.2f} ms", div(x["ops_per_second"], ref["ops_per_second"]),
                            "ratio of ops/s"))
    return rows


def chat(r):
    refs = {x["connections"]: x for x in r["results"] if x["endpoint"] == "reference"}
    rows = []
    for x in r["results"]:
        if x["endpoint"] == "reference":
            continue
        ref = refs[x["connections"]]
        note = ""
        if x["endpoint"] == "history, 100 messages" and x["connections"] == 1:
            note = f"target p50 < 5 ms: {met(x['p50_ms'] < 5 and x['errors'] == 0)}"
        rows.append(row(f"{x['endpoint']}, {x['connections']} conns",
                        f"p50 {x['p50_ms']:.2f} ms, p99 {x['p99_ms']:.2f} ms, {x['rps']:.0f} req/s, "
                        f"{x['errors']} errors", f"GET /api/priorities p50 {ref['p50_ms']:.2f} ms",
                        div(x["p50_ms"], ref["p50_ms"])))
        rows[-1]["note"] = note
    return rows


def recurring(r):
    return [row(f"{r['templates']:,} daily templates {r['expected_tasks'] // r['templates']} days behind: catch-up",
                f"{r['tasks']:,} / {r['expected_tasks']:,} tasks in {r['all_tasks_s']:.1f} s "
                f"({r['tasks_per_s']:.0f}/s), all published in {r['all_published_s']:.1f} s",
                f"one bulk INSERT of as many tasks and outbox rows {r['reference_bulk_insert_s']:.2f} s",
                r["ratio_catch_up_over_reference"], f"target {r['target']}: {met(r['target_met'])}")]


def think_time(think_ms):
    if not think_ms:
        return "no think time"
    return f"think time {think_ms[0] / 1000:g}-{think_ms[1] / 1000:g} s"


def load(r):
    rows = []
    users, ref_users = r["connections"], r["reference_connections"]
    for scenario, run in r["scenarios"].items():
        for backend, x in run["backends"].items():
            for kind in ("overall", "list", "create", "complete", "chat"):
                a, b = x["load"][kind], x["reference"][kind]
                note = ""
                if kind == "overall":
                    note = (f"target {r['target']}: {met(x['target_met'])}" if scenario == r["target_scenario"]
                            else f"capacity test; the target applies to {r['target_scenario']}")
                rows.append(row(f"{scenario} ({think_time(run['think_time_ms'])}), {backend}, {users} users: "
                                f"{kind} ({a['connections']} conns)",
                                f"p50 {a['p50_ms']:.1f} / p95 {a['p95_ms']:.1f} / p99 {a['p99_ms']:.1f} ms, "
                                f"{a['rps']:.0f} req/s, {a['errors']} errors ({100 * a['error_rate']:.2f} %)",
                                f"{ref_users} users, same think time: p99 {b['p99_ms']:.1f} ms, {b['rps']:.0f} req/s",
                                div(a["p99_ms"], b["p99_ms"]), note))
            m = x["memory_kb"]
            rows.append(row(f"{scenario}, {backend}: docket peak memory (VmHWM)", f"{m['peak_vm_hwm'] / 1024:.0f} MiB",
                            f"after the {ref_users}-user run {m['peak_after_reference'] / 1024:.0f} MiB",
                            div(m["peak_vm_hwm"], m["peak_after_reference"])))
    return rows


def web(r):
    ref = r["runs"]["reference"]
    rows = []
    for name, x in r["runs"].items():
        if name == "reference":
            continue
        rows.append(row(f"{name} (GET {x['path']}), {r['connections']} conns",
                        f"{x['rps']:.0f} req/s, p50 {x['p50_ms']:.2f} ms, p99 {x['p99_ms']:.2f} ms, "
                        f"{x['errors']} errors",
                        f"GET /api/priorities {ref['rps']:.0f} req/s, p99 {ref['p99_ms']:.2f} ms",
                        x["ratio_rps_over_reference"], "ratio of req/s"))
    total = r["page_weight"]["total"]
    files = len(r["page_weight"]["files"])
    rows.append(row(f"page weight ({files} files: index, scripts, stylesheets)",
                    f"br {total['br']:,} B, gzip {total['gzip']:,} B", f"uncompressed {total['identity']:,} B",
                    div(total["br"], total["identity"]), "ratio of br to uncompressed"))
    return rows


SUMMARIES = {"host": host, "todo_api": todo_api, "notifications": notifications, "sidecar": sidecar,
             "chat": chat, "recurring": recurring, "load": load, "web": web}


def summarize(name, result):
    return SUMMARIES[name](result)


def cell(text):
    return str(text).replace("|", "\\|")


LOAD_SCENARIOS = {
    "realistic": "each of the users waits a think time between its requests, as people do; the headline "
                 "scenario, and the one the target applies to",
    "saturation": "no think time: every connection sends its next request as soon as the answer arrives, so "
                  "the users queue for the 2 cores; it shows the capacity, not what users see",
}


def load_detail(r):
    """The load scenario's full tables: every request type at both user counts, per scenario."""
    lines = [f"Users have {r['tasks_per_user']} tasks each; the connections split "
             + ", ".join(f"{share * 100:.0f} % {kind}" for kind, share in r["mix"].items())
             + ", each request type from its own `wrk -t1`, every request with the next user's token"
             + (f"; `docket up --max-concurrent {r['max_concurrent']}`" if r.get("max_concurrent") else "")
             + f". {r['connections']} users for {r['duration']}, the reference {r['reference_connections']} users "
             f"for {r['reference_duration']}; each scenario on each backend on a fresh `docket up` and database.", ""]
    for scenario, run in r["scenarios"].items():
        lines += [f"### {scenario}: {think_time(run['think_time_ms'])}"
                  + (" (uniform, per request)" if run["think_time_ms"] else ""), "",
                  f"{LOAD_SCENARIOS.get(scenario, '')}.", "",
                  "| backend | users | type | conns | req/s | p50 ms | p95 ms | p99 ms | errors | error rate | statuses |",
                  "|---|---|---|---|---|---|---|---|---|---|---|"]
        for backend, x in run["backends"].items():
            for part, users in (("reference", r["reference_connections"]), ("load", r["connections"])):
                for kind in ("list", "create", "complete", "chat", "overall"):
                    a = x[part][kind]
                    statuses = " ".join(f"{s}:{n}" for s, n in a["statuses"].items())
                    sockets = sum(a["socket_errors"].values())
                    if sockets:
                        statuses += f" socket errors:{sockets}"
                    lines.append(f"| {backend} | {users} | {kind} | {a['connections']} | {a['rps']:.0f} "
                                 f"| {a['p50_ms']:.1f} | {a['p95_ms']:.1f} | {a['p99_ms']:.1f} | {a['errors']} "
                                 f"| {100 * a['error_rate']:.2f} % | {statuses} |")
        lines.append("")
        for backend, x in run["backends"].items():
            extra = ""
            if "postgres_peak_connections" in x:
                extra = (f"; Postgres connections of the bench database: peak {x['postgres_peak_connections']} "
                         f"(max_connections {x['postgres_max_connections']})")
            target = f"; target {r['target']}: {met(x['target_met'])}" if scenario == r["target_scenario"] else ""
            lines.append(f"- {backend}: peak memory {x['memory_kb']['peak_vm_hwm'] / 1024:.0f} MiB{extra}{target}.")
            for problem in x["log_problems"]:
                lines.append(f"  - log, {problem['count']} x: `{problem['line']}`")
        lines.append("")
    return "\n".join(lines)


def earlier_run(ran, machine):
    """The note of a scenario kept from an earlier `benches/run` than the report's."""
    if not ran or (ran["date"], ran["commit"]) == (machine["date"], machine["commit"]):
        return ""
    changes = " with uncommitted changes" if ran["uncommitted_changes"] else ""
    mode = ", quick mode" if ran["quick"] else ""
    return f"; from the earlier run of {ran['date']} at commit {ran['commit']}{changes}{mode}"


def markdown(data, descriptions):
    m = data["machine"]
    out = ["# Benchmark report", "",
           "Written by `benches/run` from the JSON each bench writes into `benches/results/`. Every ratio "
           "compares with a reference measured in the same run, on the same machine. The machine is shared: "
           "other work may have run at the same time (see the load averages). A scenario that ran at "
           "another date or commit than the one below says so under its heading.", "",
           "| machine | |", "|---|---|",
           f"| date | {m['date']} |",
           f"| commit | {m['commit']}{' (with uncommitted changes)' if m['uncommitted_changes'] else ''} |",
           f"| cores | {m['cores']} ({cell(m['cpu'])}) |",
           f"| memory | {m['memory_gib']} GiB |",
           f"| kernel | {m['kernel']} |",
           f"| mode | {'quick (BENCH_QUICK=1)' if m['quick'] else 'full'} |", ""]
    for name, run in data["scenarios"].items():
        load_avg = "/".join(f"{x:.1f}" for x in run["load_average_before"])
        out += [f"## {name}: {descriptions[name]}", "",
                f"`{run['script']}`, {run['seconds']} s; load average (1/5/15 min) before: {load_avg}, after: "
                + "/".join(f"{x:.1f}" for x in run["load_average_after"]) + earlier_run(run.get("ran"), m), ""]
        if "failed" in run:
            out += [f"**Failed**: {run['failed']}.", ""]
            continue
        out += ["| case | measured | reference (same run) | ratio | note |", "|---|---|---|---|---|"]
        for r in data["summary"][name]:
            ratio = f"{r['ratio']:.2f}x" if r["ratio"] is not None else "n/a"
            out.append(f"| {cell(r['case'])} | {cell(r['measured'])} | {cell(r['reference'])} | {ratio} "
                       f"| {cell(r['note'])} |")
        out.append("")
        if name == "load":
            out += ["Every request type and both user counts, per scenario:", "", load_detail(run["result"])]
    return "\n".join(out).rstrip() + "\n"
