//! A Postgres cluster of a test's own (initdb + pg_ctl on a free port in a
//! temporary folder), which the test may stop and start while the shared
//! server on 5432 keeps serving everyone else.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Output};

/// The server binaries of the newest installed major version.
fn bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .expect("/usr/lib/postgresql")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.join("bin/initdb").is_file())
        .collect();
    versions.sort();
    versions
        .pop()
        .expect("no Postgres server under /usr/lib/postgresql")
        .join("bin")
        .join(name)
}

fn running_as_root() -> bool {
    // std does not expose geteuid; `id -u` answers it.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// initdb and the server refuse to run as root; they run as `postgres` then.
fn as_server_user(program: PathBuf) -> Command {
    if running_as_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", "postgres", "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

fn succeeded(what: &str, output: std::io::Result<Output>) {
    let output = output.unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

pub struct PgCluster {
    pub port: u16,
    dir: tempfile::TempDir,
    running: bool,
}

impl PgCluster {
    /// A fresh cluster (trust authentication, user `postgres`), started.
    pub fn start() -> PgCluster {
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let dir = tempfile::tempdir().expect("tempdir");
        if running_as_root() {
            // The server user must own its folder.
            succeeded(
                "chown",
                Command::new("chown")
                    .args(["-R", "postgres"])
                    .arg(dir.path())
                    .output(),
            );
        }
        let mut cluster = PgCluster {
            port,
            dir,
            running: false,
        };
        succeeded(
            "initdb",
            as_server_user(bin("initdb"))
                .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"])
                .arg("-D")
                .arg(cluster.data())
                .output(),
        );
        cluster.resume();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn pg_ctl(&self, args: &[&str]) -> Command {
        let mut command = as_server_user(bin("pg_ctl"));
        command.arg("-D").arg(self.data()).args(args);
        command
    }

    /// Starts the server and waits until it accepts connections.
    pub fn resume(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100",
            self.port,
            self.dir.path().display()
        );
        let log = self.dir.path().join("server.log");
        succeeded(
            "pg_ctl start",
            self.pg_ctl(&[
                "-w",
                "-o",
                &options,
                "-l",
                &log.display().to_string(),
                "start",
            ])
            .output(),
        );
        self.running = true;
    }

    /// Stops the server, disconnecting every client (`-m fast`).
    pub fn stop(&mut self) {
        if self.running {
            succeeded(
                "pg_ctl stop",
                self.pg_ctl(&["-w", "-m", "fast", "stop"]).output(),
            );
            self.running = false;
        }
    }

    pub fn address(&self, database: &str) -> String {
        format!(
            "postgres://postgres@127.0.0.1:{}/{database}?sslmode=disable",
            self.port
        )
    }

    /// The unaligned output of one statement in `database`.
    pub fn query(&self, database: &str, sql: &str) -> String {
        super::psql_query_at(self.port, database, sql)
    }

    /// A database on this cluster with the repository's migrations applied.
    pub fn migrated_database(&self, name: &str) -> String {
        self.query("postgres", &format!("CREATE DATABASE {name}"));
        let address = self.address(name);
        super::todo::migrate(&address);
        address
    }
}

impl Drop for PgCluster {
    fn drop(&mut self) {
        if self.running {
            let _ = self.pg_ctl(&["-w", "-m", "immediate", "stop"]).output();
        }
    }
}
