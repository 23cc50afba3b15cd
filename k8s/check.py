#!/usr/bin/env python3
"""Offline checks of the Kubernetes files: renders every overlay with
`kubectl kustomize` and checks what a cluster would get against what the code
and spin.toml use. Exits non-zero with one line per problem.

- every overlay renders;
- every component of spin.toml has a SpinApp; every SpinApp selects one
  component of spin.toml, takes secret variables only from Secrets and, if
  that component calls Dapr (`{{ dapr_url }}` in its allowed_outbound_hosts),
  carries the Dapr annotations in `spec.podAnnotations` (enabled, its app-id,
  port 80, a Configuration the overlay defines); one that does not gets no
  sidecar;
- every Dapr Component has scopes naming deployed app-ids, credentials only
  through `secretKeyRef`, and the names the code uses (`pubsub`,
  `statestore`, cron bindings whose routes the services serve);
- no overlay holds a Secret with data;
- k8s/scripts/redpanda-setup.sh creates the topics the code uses and grants
  each deployed app-id its consumer group;
- every rendered object is valid against its schema, offline: built-in
  kinds against the OpenAPI schemas of Kubernetes KUBERNETES_VERSION that
  kubernetes-validate bundles (strict, so an unknown field is an error; the
  first error of each object is reported), custom resources against the
  openAPIV3Schema of their version in the CRDs vendored in k8s/crds (every
  error; a field the schema does not declare, which the API server would
  silently prune, is an error) and their metadata against ObjectMeta; a kind
  with no schema is a problem;
- the migration Job's script, run against a fresh local Postgres database,
  applies migrations/postgres and records them so `docket migrate` finds
  nothing to do, and a second run changes nothing.

Usage: k8s/check.py [--skip-database]
"""

import argparse
import os
import re
import secrets
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import jsonschema
import kubernetes_validate
import yaml

ROOT = Path(__file__).resolve().parent.parent
OVERLAYS = ("doks", "minikube")
SECRET_VARIABLES = {"jwt_secret", "database_url", "llm_api_key", "sendgrid_api_key", "fcm_service_account"}
CREDENTIAL_FIELDS = {"saslUsername", "saslPassword", "redisPassword", "redisUsername", "password",
                     "connectionString", "caCert", "clientKey", "brokers", "redisHost"}
# Credentials an in-cluster development backend may give in plain text.
PLAIN_IN_DEVELOPMENT = {"brokers", "redisHost"}
# The Kubernetes minor whose schemas (bundled by kubernetes-validate) the
# built-in kinds are checked against: keep it at the minor the DOKS cluster
# runs (DO_K8S_VERSION in k8s/scripts/create-cluster.sh). The kubectl on these
# machines is 1.32.
KUBERNETES_VERSION = "1.32"
CRDS = ROOT / "k8s/crds"
PG_ADMIN = ["psql", "-h", "127.0.0.1", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-qAt"]


def render(overlay):
    out = subprocess.run(["kubectl", "kustomize", str(ROOT / "k8s/overlays" / overlay)],
                         check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def manifest():
    return tomllib.loads((ROOT / "spin.toml").read_text())


def routes(spin):
    return {trigger["route"]: trigger["component"] for trigger in spin["trigger"]["http"]}


def serves(spin, component, path):
    """Whether Spin routes `path` to `component` (exact or `/...` prefix)."""
    for route, owner in routes(spin).items():
        if owner != component:
            continue
        if route == path or (route.endswith("/...") and path.startswith(route[:-3])):
            return True
    return False


def spin_owner(spin, path):
    """The component Spin routes `path` to: an exact route, else the longest `/...` prefix."""
    best, best_len = None, -1
    for route, owner in routes(spin).items():
        if route == path:
            return owner
        if route.endswith("/..."):
            prefix = route[:-4]
            if (path == prefix or path.startswith(prefix + "/")) and len(prefix) > best_len:
                best, best_len = owner, len(prefix)
    return best


def ingress_backend(ingress, path):
    """The Service an Ingress sends `path` to: the longest matching Prefix path, by whole segments."""
    best, best_len = None, -1
    for rule in ingress["spec"].get("rules", []):
        for entry in rule.get("http", {}).get("paths", []):
            prefix = entry["path"].rstrip("/")
            if entry.get("pathType") == "Exact":
                matched = path == entry["path"]
            else:
                matched = path == prefix or path.startswith(prefix + "/") or prefix == ""
            if matched and len(prefix) > best_len:
                best, best_len = entry["backend"]["service"]["name"], len(prefix)
    return best


def sample_path(route):
    """A request path `route` matches: `/...` and `:param` segments filled in."""
    filled = "/".join("1" if part.startswith(":") else part for part in route.split("/"))
    return filled[:-4] + "/x" if filled.endswith("/...") else filled


def check_ingress(objects, spin, problems, overlay):
    """The Ingress sends each public route (the web app's and `/api/...`) where Spin does, and
    no internal route (Dapr callbacks) to the component that serves it."""
    ingresses = [o for o in objects if o["kind"] == "Ingress"]
    if len(ingresses) != 1:
        problems.append(f"{overlay}: expected one Ingress, found {len(ingresses)}")
        return
    ingress = ingresses[0]
    for route, component in routes(spin).items():
        path = sample_path(route)
        public = route == "/..." or path == "/api" or path.startswith("/api/")
        backend = ingress_backend(ingress, path)
        if public and backend != spin_owner(spin, path):
            problems.append(f"{overlay}: Ingress sends {path} to {backend}, Spin to {spin_owner(spin, path)}")
        if not public and backend == component:
            problems.append(f"{overlay}: Ingress exposes {component}'s internal route {route}")


def uses_dapr(spin, component):
    """Whether the component may call the Dapr sidecar."""
    hosts = spin["component"].get(component, {}).get("allowed_outbound_hosts", [])
    return "{{ dapr_url }}" in hosts


def check_spinapps(objects, spin, problems, overlay):
    """Checks every SpinApp; returns the Dapr app-ids they deploy."""
    configurations = {o["metadata"]["name"] for o in objects if o["kind"] == "Configuration"}
    app_ids = set()
    for app in (o for o in objects if o["kind"] == "SpinApp"):
        name, spec = app["metadata"]["name"], app["spec"]
        where = f"{overlay}: SpinApp {name}"
        components = spec.get("components", [])
        if components != [name] or name not in spin["component"]:
            problems.append(f"{where}: must select exactly its own spin.toml component, has {components}")
        for variable in spec.get("variables", []):
            declared = spin["variables"].get(variable["name"])
            if declared is None:
                problems.append(f"{where}: variable {variable['name']} is not declared in spin.toml")
            if variable["name"] in SECRET_VARIABLES and "value" in variable:
                problems.append(f"{where}: {variable['name']} must come from a Secret, not a value")
        annotations = spec.get("podAnnotations", {})
        if app["metadata"].get("annotations", {}).keys() & {"dapr.io/enabled", "dapr.io/app-id"}:
            problems.append(f"{where}: Dapr annotations on the SpinApp's metadata inject nothing")
        if not uses_dapr(spin, name):
            if annotations.get("dapr.io/enabled") == "true":
                problems.append(f"{where}: its component never calls Dapr; drop the sidecar")
            continue
        expected = {"dapr.io/enabled": "true", "dapr.io/app-id": name, "dapr.io/app-port": "80"}
        for key, value in expected.items():
            if annotations.get(key) != value:
                problems.append(f"{where}: podAnnotations[{key}] must be {value!r}, is {annotations.get(key)!r}")
        if annotations.get("dapr.io/config") not in configurations:
            problems.append(f"{where}: dapr.io/config names no Configuration in the overlay")
        app_ids.add(name)
    deployed = {o["metadata"]["name"] for o in objects if o["kind"] == "SpinApp"}
    for component in sorted(set(spin["component"]) - deployed):
        problems.append(f"{overlay}: spin.toml's component {component} has no SpinApp")
    return app_ids


def check_components(objects, spin, app_ids, problems, overlay):
    components = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Component"}
    defaults = {name: spin["variables"][name]["default"] for name in ("pubsub_name", "statestore_name")}
    for wanted in defaults.values():
        if wanted not in components:
            problems.append(f"{overlay}: no Dapr component named {wanted!r}, which spin.toml's defaults use")
    for name, component in components.items():
        where = f"{overlay}: Component {name}"
        scopes = component.get("scopes") or []
        if not scopes:
            problems.append(f"{where}: has no scopes")
        for scope in scopes:
            if scope not in app_ids:
                problems.append(f"{where}: scope {scope!r} is no deployed app-id")
        for item in component["spec"].get("metadata") or []:
            plain_ok = overlay == "minikube" and item["name"] in PLAIN_IN_DEVELOPMENT
            if item["name"] in CREDENTIAL_FIELDS and "value" in item and not plain_ok:
                problems.append(f"{where}: {item['name']} is given in plain text; use secretKeyRef")
        if component["spec"]["type"] == "bindings.cron":
            metadata = {i["name"]: i.get("value") for i in component["spec"]["metadata"]}
            route = metadata.get("route") or f"/{name}"
            for scope in scopes:
                if not serves(spin, scope, route):
                    problems.append(f"{where}: app {scope} does not serve its route {route}")
            if "input" not in (metadata.get("direction") or ""):
                problems.append(f"{where}: set direction: input (daprd then skips the OPTIONS probe)")


def check_secrets(objects, problems, overlay):
    for secret in (o for o in objects if o["kind"] == "Secret"):
        if secret.get("data") or secret.get("stringData"):
            problems.append(f"{overlay}: Secret {secret['metadata']['name']} carries data in the repository")


def structural(schema):
    """A CRD schema node as JSON Schema that rejects what the API server would
    prune: an object's undeclared fields, unless it is a map
    (`additionalProperties`) or keeps them (x-kubernetes-preserve-unknown-fields).
    `allOf`/`anyOf`/`oneOf`/`not` only validate values and are kept as they are."""
    schema = dict(schema)
    if schema.get("x-kubernetes-int-or-string") and "anyOf" not in schema:
        schema["anyOf"] = [{"type": "integer"}, {"type": "string"}]
    if schema.get("nullable") and "type" in schema:
        schema["type"] = [schema["type"], "null"]
    if "properties" in schema:
        schema["properties"] = {name: structural(node) for name, node in schema["properties"].items()}
    if isinstance(schema.get("additionalProperties"), dict):
        schema["additionalProperties"] = structural(schema["additionalProperties"])
    if isinstance(schema.get("items"), dict):
        schema["items"] = structural(schema["items"])
    if (schema.get("type") == "object" and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        schema["additionalProperties"] = False
    return schema


def crd_validators():
    """A validator for each served version of the CRDs in k8s/crds, by
    (apiVersion, kind). `metadata` is left to `check_object_meta`: the API
    server checks it as ObjectMeta whatever the CRD says."""
    validators = {}
    for path in sorted(CRDS.rglob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if not crd or crd.get("kind") != "CustomResourceDefinition":
                continue
            spec = crd["spec"]
            for version in (v for v in spec["versions"] if v.get("served")):
                schema = structural(version["schema"]["openAPIV3Schema"])
                schema["properties"]["metadata"] = {"type": "object"}
                key = (f"{spec['group']}/{version['name']}", spec["names"]["kind"])
                validators[key] = jsonschema.Draft202012Validator(schema)
    return validators


def field(path):
    """`spec.metadata[0].name` for a jsonschema error path."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".") or "top level"


def builtin(api_version):
    """Whether an apiVersion belongs to Kubernetes itself (core, apps, batch,
    autoscaling, …, *.k8s.io) rather than to a CRD."""
    group = api_version.rpartition("/")[0]
    return "." not in group or group.endswith(".k8s.io")


def check_builtin(obj, where, problems):
    """Strict check against the Kubernetes OpenAPI schemas; reports the first error."""
    try:
        kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.SchemaNotFoundError:
        problems.append(f"{where}: no schema for {obj['apiVersion']} {obj['kind']} in Kubernetes {KUBERNETES_VERSION}")
    except kubernetes_validate.ValidationError as error:
        problems.append(f"{where}: {field(error.path)}: {error.message}")


def check_object_meta(obj, where, problems):
    """A custom resource's metadata against ObjectMeta, by way of a ConfigMap
    that has nothing but that metadata."""
    check_builtin({"apiVersion": "v1", "kind": "ConfigMap", "metadata": obj.get("metadata", {})}, where, problems)


def check_schemas(objects, validators, problems, overlay):
    """Every object against its CRD's schema or Kubernetes' own."""
    for obj in objects:
        api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
        where = f"{overlay}: {kind} {obj.get('metadata', {}).get('name')}"
        validator = validators.get((api_version, kind))
        if validator:
            for error in sorted(validator.iter_errors(obj), key=lambda e: field(e.absolute_path)):
                problems.append(f"{where}: {field(error.absolute_path)}: {error.message}")
            check_object_meta(obj, where, problems)
        elif builtin(api_version):
            check_builtin(obj, where, problems)
        else:
            problems.append(f"{where}: no schema for {api_version} {kind}: vendor its CRD into k8s/crds")


def rust_constant(path, name):
    """The value of `const NAME: &str = "...";` in a Rust source file."""
    found = re.search(rf'const {name}: &str = "([^"]+)";', (ROOT / path).read_text())
    if not found:
        raise SystemExit(f"{path} no longer defines {name}")
    return found.group(1)


def check_topics_and_groups(app_ids, problems):
    """The Redpanda setup creates the topics the code publishes and
    subscribes to, and grants every deployed app-id its consumer group."""
    setup = (ROOT / "k8s/scripts/redpanda-setup.sh").read_text()
    topics = {rust_constant("components/events/src/lib.rs", "TASK_EVENTS_TOPIC"),
              rust_constant("components/notify/src/notifier.rs", "DEAD_LETTER_TOPIC")}
    created = set(re.search(r"for topic in ([^;]+);", setup).group(1).split())
    if created != topics:
        problems.append(f"redpanda-setup.sh creates topics {sorted(created)}, the code uses {sorted(topics)}")
    groups = set(re.search(r"for group in ([^;]+);", setup).group(1).split())
    if groups != app_ids:
        problems.append(f"redpanda-setup.sh grants consumer groups {sorted(groups)}, the app-ids are {sorted(app_ids)}")


def job_script(objects):
    job = next(o for o in objects if o["kind"] == "Job" and o["metadata"]["name"] == "docket-migrate")
    return job["spec"]["template"]["spec"]["containers"][0]["args"][0]


def docket_binary():
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    binary = target / "release/docket"
    if not binary.exists():
        sys.exit(f"{binary} is missing: cargo build --release -p docket-cli")
    return binary


def check_migration_job(objects, problems):
    """Runs the Job's script on a fresh database, then `docket migrate`."""
    database = f"docket_k8s_check_{secrets.token_hex(4)}"
    url = f"postgres://postgres@127.0.0.1:5432/{database}?sslmode=disable"
    subprocess.run(PG_ADMIN + ["-d", "postgres", "-c", f"CREATE DATABASE {database}"], check=True)
    try:
        with tempfile.TemporaryDirectory() as folder:
            for sql in (ROOT / "migrations/postgres").glob("*.sql"):
                (Path(folder) / sql.name).write_bytes(sql.read_bytes())
            script = job_script(objects).replace("/migrations/", f"{folder}/")
            for run in ("first", "second"):
                done = subprocess.run(["sh", "-c", script], env={"DATABASE_URL": url, "PATH": "/usr/bin:/bin"},
                                      capture_output=True, text=True)
                if done.returncode != 0:
                    problems.append(f"migration Job ({run} run) failed: {done.stderr.strip()}")
                    return
                if run == "second" and "applying" in done.stdout:
                    problems.append(f"migration Job applied again on its second run: {done.stdout.strip()}")
        done = subprocess.run([str(docket_binary()), "migrate", "--database", url, "--dir",
                               str(ROOT / "migrations/postgres")], capture_output=True, text=True)
        if done.returncode != 0 or not done.stdout.startswith("0 migration(s) applied"):
            problems.append(f"docket migrate disagrees with the Job's records: {done.stdout}{done.stderr}")
    finally:
        subprocess.run(PG_ADMIN + ["-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {database} WITH (FORCE)"],
                       check=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-database", action="store_true", help="do not run the migration Job's script")
    args = parser.parse_args()
    spin = manifest()
    validators = crd_validators()
    problems = []
    rendered = {}
    for overlay in OVERLAYS:
        try:
            objects = render(overlay)
        except subprocess.CalledProcessError as error:
            problems.append(f"{overlay}: kubectl kustomize failed: {error.stderr.strip()}")
            continue
        rendered[overlay] = objects
        app_ids = check_spinapps(objects, spin, problems, overlay)
        check_components(objects, spin, app_ids, problems, overlay)
        check_secrets(objects, problems, overlay)
        check_ingress(objects, spin, problems, overlay)
        check_schemas(objects, validators, problems, overlay)
        if overlay == "doks":
            check_topics_and_groups(app_ids, problems)
        print(f"{overlay}: {len(objects)} objects rendered")
    if not args.skip_database and "doks" in rendered:
        check_migration_job(rendered["doks"], problems)
    for problem in problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
