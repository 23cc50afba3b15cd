// Starts `docket up` from the repository's spin.toml on a free port, with a
// data dir of its own, and stops it (and removes the dir) afterwards.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../..");

export function docketBinary() {
  if (process.env.DOCKET_BIN) return process.env.DOCKET_BIN;
  const target = process.env.CARGO_TARGET_DIR || join(repoRoot, "target");
  return join(target, "release", "docket");
}

const STARTUP_MS = 180_000;

/** `docket up` with the sidecar, both on ports the system picks. */
export async function startDocket() {
  const dataDir = mkdtempSync(join(tmpdir(), "docket-web-"));
  const child = spawn(
    docketBinary(),
    [
      "up",
      "-f",
      join(repoRoot, "spin.toml"),
      "--listen",
      "127.0.0.1:0",
      "--dapr-http-port",
      "0",
      "--data-dir",
      dataDir,
      "--no-watch",
    ],
    { cwd: repoRoot, env: { ...process.env, RUST_LOG: "info" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let logs = "";
  const collect = (chunk) => {
    logs += chunk.toString();
  };
  child.stdout.on("data", collect);
  child.stderr.on("data", collect);

  const url = await new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => reject(new Error(`docket did not start in time:\n${logs}`)), STARTUP_MS);
    const watch = () => {
      const found = logs.match(/serving on (http:\/\/[0-9.]+:\d+)/);
      if (found) {
        clearTimeout(timer);
        child.stderr.off("data", watch);
        resolveUrl(found[1]);
      }
    };
    child.stderr.on("data", watch);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`docket exited (${code}) before serving:\n${logs}`));
    });
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(error);
    });
  }).catch((error) => {
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  });

  return {
    url,
    logs: () => logs,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise((done) => child.once("exit", done));
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 35_000);
        await exited;
        clearTimeout(timer);
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
