#!/usr/bin/env python3
"""Checks the deployment scripts in k8s/scripts without a cluster: each
passes shellcheck, runs to the end in dry-run mode with made-up settings,
prints no secret value, and refuses to run without its required settings.

Usage: k8s/check_scripts.py
"""

import os
import subprocess
import sys
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent / "scripts"
SECRET_VALUES = {
    "REDPANDA_PASSWORD": "redpanda-password-42",
    "REDIS_PASSWORD": "redis-password-42",
    "JWT_SECRET": "jwt-secret-42",
    "DATABASE_URL": "postgres://docket:db-password-42@db.example:25060/docket",
    "SENDGRID_API_KEY": "SG.sendgrid-key-42",
    "LLM_API_KEY": "sk-llm-key-42",
}
SETTINGS = {
    **SECRET_VALUES,
    "DO_K8S_VERSION": "1.32.2-do.0",
    "IMAGE": "registry.digitalocean.com/docket/docket-app:1.0.0",
    "REDPANDA_BROKERS": "seed.example.fmc.prd.cloud.redpanda.com:9092",
    "REDPANDA_USERNAME": "docket",
    "REDIS_HOST": "cache.example.db.ondigitalocean.com:25061",
    "REDIS_USERNAME": "default",
}
# What each script refuses to run without.
REQUIRED = {
    "create-cluster.sh": "DO_K8S_VERSION",
    "redpanda-setup.sh": "REDPANDA_PASSWORD",
    "create-secrets.sh": "JWT_SECRET",
    "push-app.sh": "IMAGE",
    "deploy.sh": "IMAGE",
}


def run(script, settings):
    env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/tmp"), "DRY_RUN": "1", **settings}
    return subprocess.run([str(script)], env=env, capture_output=True, text=True, timeout=120)


def main():
    problems = []
    scripts = sorted(p for p in SCRIPTS.glob("*.sh") if p.name != "lib.sh")
    lint = subprocess.run(["shellcheck", "-x", "-P", "SCRIPTDIR", *map(str, scripts + [SCRIPTS / "lib.sh"])],
                          capture_output=True, text=True)
    if lint.returncode != 0:
        problems.append(f"shellcheck:\n{lint.stdout}")
    for script in scripts:
        done = run(script, SETTINGS)
        output = done.stdout + done.stderr
        if done.returncode != 0:
            problems.append(f"{script.name}: the dry run failed ({done.returncode}): {output.strip()}")
        if "dry-run" not in output:
            problems.append(f"{script.name}: the dry run printed no command")
        for name, value in SECRET_VALUES.items():
            if value in output:
                problems.append(f"{script.name}: the dry run printed the value of {name}")
        if script.name in REQUIRED:
            missing = {k: v for k, v in SETTINGS.items() if k != REQUIRED[script.name]}
            refused = run(script, missing)
            if refused.returncode == 0 or REQUIRED[script.name] not in refused.stderr:
                problems.append(f"{script.name}: ran without {REQUIRED[script.name]}")
        print(f"{script.name}: dry run ok" if done.returncode == 0 else f"{script.name}: failed")
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
