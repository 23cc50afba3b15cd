//! Test harness: runs the real `docket` binary on a random loopback port with
//! its own data dir, against the real guest components built in `components/`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

pub mod dapr;
pub mod echo_server;
pub mod kafka;
pub mod load;
pub mod metrics;
pub mod pg_cluster;
pub mod providers;
pub mod recording_app;
pub mod redis;
pub mod system;
pub mod todo;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);

/// Absolute path of a guest built by `scripts/build-components`.
pub fn guest(name: &str) -> PathBuf {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../components/target/wasm32-wasip2/release")
        .join(format!("{name}.wasm"));
    assert!(
        path.is_file(),
        "{} is missing: run scripts/build-components first",
        path.display()
    );
    path.canonicalize().expect("guest path")
}

/// `psql` as `postgres` on the local server, connected to `database`.
/// The shared local server.
const POSTGRES_PORT: u16 = 5432;

fn psql_command(port: u16, database: &str) -> Command {
    let mut command = Command::new("psql");
    command
        .env("PGOPTIONS", "--client-min-messages=warning")
        .args(["-h", "127.0.0.1", "-p", &port.to_string()])
        .args(["-U", "postgres", "-d", database]);
    command
}

/// Runs one SQL statement as `postgres` on the local server's `postgres`
/// database (creating and dropping per-test databases); panics if it fails.
pub fn psql(sql: &str) {
    let status = psql_command(POSTGRES_PORT, "postgres")
        .args(["-qc", sql])
        .status()
        .expect("psql");
    assert!(status.success(), "psql failed: {sql}");
}

/// The unaligned output of one query in `database`; panics if it fails.
pub fn psql_query(database: &str, sql: &str) -> String {
    psql_query_at(POSTGRES_PORT, database, sql)
}

/// [`psql_query`] on the server listening on `port`.
pub fn psql_query_at(port: u16, database: &str, sql: &str) -> String {
    let output = psql_command(port, database)
        .args(["-tAc", sql])
        .output()
        .expect("psql");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_string()
}

/// A Postgres database created for one test and dropped after it.
pub struct TestDatabase {
    pub name: String,
}

impl TestDatabase {
    pub fn create(tag: &str) -> TestDatabase {
        let name = format!("docket_{tag}_{}", std::process::id());
        psql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
        psql(&format!("CREATE DATABASE {name}"));
        TestDatabase { name }
    }

    pub fn address(&self) -> String {
        format!(
            "postgres://postgres@127.0.0.1:5432/{}?sslmode=disable",
            self.name
        )
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        psql(&format!(
            "DROP DATABASE IF EXISTS {} WITH (FORCE)",
            self.name
        ));
    }
}

/// Percent-encodes a query parameter value.
pub fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Replaces a file in one step, as a build tool's final rename would.
pub fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes).expect("write replacement");
    std::fs::rename(&tmp, path).expect("rename replacement");
}

/// A manifest with the standard header; `body` holds variables, triggers and components.
pub fn manifest(body: &str) -> String {
    format!(
        "spin_manifest_version = 2\n[application]\nname = \"test-app\"\nversion = \"9.9.9\"\n{body}"
    )
}

/// A component table serving `guest` on `route`.
pub fn component(id: &str, route: &str, guest_name: &str, extra: &str) -> String {
    format!(
        "[[trigger.http]]\nroute = \"{route}\"\ncomponent = \"{id}\"\n\
         [component.{id}]\nsource = {:?}\n{extra}\n",
        guest(guest_name).display().to_string()
    )
}

#[derive(Default)]
pub struct Options {
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
    /// Working directory of the process (default: the test's).
    pub cwd: Option<PathBuf>,
    /// The manifest to serve (default: `spin.toml` in the test's folder).
    pub manifest: Option<PathBuf>,
}

/// A running `docket up`; stopped (SIGTERM, then SIGKILL) when dropped.
pub struct Docket {
    child: Option<Child>,
    /// The app's address (`up`), or the Dapr API's (`sidecar`).
    pub addr: SocketAddr,
    /// The Dapr API's address, when a sidecar runs.
    pub dapr: Option<SocketAddr>,
    pub dir: Arc<tempfile::TempDir>,
    logs: Arc<Mutex<String>>,
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(60)))
        .build()
        .into()
}

fn reply(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Reply {
    let mut response = result.expect("request failed");
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
        .collect();
    let body = response.body_mut().read_to_string().unwrap_or_default();
    Reply {
        status,
        headers,
        body,
    }
}

/// `serving on http://ADDR ... dapr=ADDR` (up) or `Dapr API on http://ADDR` (sidecar).
fn ready_addresses(line: &str) -> Option<(SocketAddr, Option<SocketAddr>)> {
    let field = |marker: &str| {
        line.split(marker)
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|addr| addr.parse::<SocketAddr>().ok())
    };
    if let Some(dapr) = field("Dapr API on http://") {
        return Some((dapr, Some(dapr)));
    }
    field("serving on http://").map(|app| (app, field("dapr=")))
}

impl Docket {
    pub fn start(manifest: &str) -> Docket {
        Self::start_with(manifest, Options::default())
    }

    pub fn start_with(manifest: &str, options: Options) -> Docket {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        std::fs::write(dir.path().join("spin.toml"), manifest).expect("write manifest");
        Self::launch(dir, options).unwrap_or_else(|logs| panic!("docket did not start:\n{logs}"))
    }

    /// Starts `docket up` on an existing folder (restarts keep the same data dir).
    pub fn launch(dir: Arc<tempfile::TempDir>, options: Options) -> Result<Docket, String> {
        let manifest = (options.manifest.clone()).unwrap_or_else(|| dir.path().join("spin.toml"));
        let mut args: Vec<String> = vec!["up".into(), "-f".into(), manifest.display().to_string()];
        args.extend(["--listen", "127.0.0.1:0", "--max-concurrent", "64"].map(String::from));
        if !options.args.iter().any(|a| a == "--dapr-http-port") {
            args.extend(["--dapr-http-port", "0"].map(String::from));
        }
        Self::spawn(dir, args, options)
    }

    /// Starts `docket sidecar` for an app on `app_port`, with the resources in `dir/resources`.
    pub fn sidecar(
        dir: Arc<tempfile::TempDir>,
        app_id: &str,
        app_port: u16,
        options: Options,
    ) -> Result<Docket, String> {
        let mut args: Vec<String> = vec![
            "sidecar".into(),
            "--app-id".into(),
            app_id.into(),
            "--app-port".into(),
            app_port.to_string(),
        ];
        args.extend(["--dapr-http-port", "0", "--resources-path"].map(String::from));
        args.push(dir.path().join("resources").display().to_string());
        Self::spawn(dir, args, options)
    }

    fn spawn(
        dir: Arc<tempfile::TempDir>,
        args: Vec<String>,
        options: Options,
    ) -> Result<Docket, String> {
        let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
        if let Some(cwd) = &options.cwd {
            command.current_dir(cwd);
        }
        command.args(&args);
        if !options.args.iter().any(|a| a == "--data-dir") {
            command.arg("--data-dir").arg(dir.path().join("data"));
        }
        command
            .args(&options.args)
            .env("RUST_LOG", "info")
            .envs(options.env.iter().map(|(k, v)| (k, v)))
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn docket");
        let stderr = child.stderr.take().expect("stderr");
        let logs = Arc::new(Mutex::new(String::new()));
        let (ready, ready_rx) = mpsc::channel();
        let sink = logs.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(found) = ready_addresses(&line) {
                    let _ = ready.send(found);
                }
                let mut logs = sink.lock().unwrap();
                logs.push_str(&line);
                logs.push('\n');
            }
        });
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Ok((addr, dapr)) = ready_rx.recv_timeout(Duration::from_millis(50)) {
                return Ok(Docket {
                    child: Some(child),
                    addr,
                    dapr,
                    dir,
                    logs,
                });
            }
            if let Ok(Some(_)) = child.try_wait() {
                std::thread::sleep(Duration::from_millis(100));
                return Err(logs.lock().unwrap().clone());
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                return Err(format!("timed out\n{}", logs.lock().unwrap()));
            }
        }
    }

    /// Runs docket expecting it to refuse to start; returns its output.
    pub fn refuses(manifest: &str, options: Options) -> String {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        std::fs::write(dir.path().join("spin.toml"), manifest).expect("write manifest");
        match Self::launch(dir, options) {
            Ok(_) => panic!("docket started but should have refused"),
            Err(logs) => logs,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// A URL on the Dapr API.
    pub fn dapr_url(&self, path: &str) -> String {
        format!("http://{}{path}", self.dapr.expect("no sidecar running"))
    }

    pub fn dapr(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.dapr_url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        reply(agent().run(request.body(body.to_string()).expect("request")))
    }

    /// The process id, for signals sent while others use the instance.
    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Kills the process without letting it clean up (SIGKILL).
    pub fn kill(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    pub fn get(&self, path: &str) -> Reply {
        reply(agent().get(&self.url(path)).call())
    }

    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)], body: &str) -> Reply {
        self.request_bytes(method, path, headers, body.as_bytes())
    }

    /// A request whose body need not be UTF-8.
    pub fn request_bytes(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request.body(body.to_vec()).expect("request");
        reply(agent().run(request))
    }

    pub fn post_json(&self, path: &str, body: &serde_json::Value) -> Reply {
        self.request(
            "POST",
            path,
            &[("content-type", "application/json")],
            &body.to_string(),
        )
    }

    pub fn logs(&self) -> String {
        self.logs.lock().unwrap().clone()
    }

    /// Waits (up to 10 s) for a log line containing `needle`, returning it.
    pub fn wait_for_log(&self, needle: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(line) = self.logs().lines().find(|l| l.contains(needle)) {
                return line.to_string();
            }
            assert!(
                Instant::now() < deadline,
                "no log line with {needle:?} in:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn admin_token(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("data/admin-token")).expect("admin token")
    }

    /// Sends SIGTERM and waits for a clean exit.
    pub fn stop(mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        terminate(&child);
        let status = child.wait().expect("wait");
        std::thread::sleep(Duration::from_millis(50));
        status
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

/// SIGTERM, then SIGKILL if `child` has not exited within 5 s.
pub fn stop_gracefully(child: &mut Child) {
    terminate(child);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

impl Drop for Docket {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            stop_gracefully(&mut child);
        }
    }
}
