//! The real todo-api component under `docket up`, on the embedded SQLite
//! database or on a Postgres database of the test's own.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use docket_auth::{Claims, sign_hs256};
use serde_json::Value;

use super::{Docket, Options, Reply, TestDatabase, guest};

pub const SECRET: &str = "todo-api-test-secret-0123456789abcdef";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The embedded pub/sub and state store, and a relay that runs every second.
pub fn default_resources() -> Vec<(&'static str, String)> {
    vec![
        ("pubsub.yaml", super::dapr::sqlite_pubsub("pubsub", "")),
        ("statestore.yaml", sqlite_state_store()),
        ("outbox-relay.yaml", relay_binding("1s")),
    ]
}

fn sqlite_state_store() -> String {
    "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: statestore\nspec:\n  type: state.sqlite\n  version: v1\n  metadata:\n    - name: connectionString\n      value: \"state.db\"\n".to_string()
}

/// The recurring-task service's cron binding, ticking `every`.
pub fn recurring_cron(every: &str) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: recurring-cron\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: \"@every {every}\"\n    - name: direction\n      value: input\nscopes:\n  - recurring-task-service\n"
    )
}

pub fn relay_binding(every: &str) -> String {
    format!(
        "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: outbox-relay\nspec:\n  type: bindings.cron\n  version: v1\n  metadata:\n    - name: schedule\n      value: \"@every {every}\"\n    - name: route\n      value: /api/internal/outbox-relay\n    - name: direction\n      value: input\nscopes:\n  - todo-api\n"
    )
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("repository root")
}

pub struct TodoApp {
    pub docket: Docket,
    pub backend: Backend,
    pub database: Option<TestDatabase>,
    /// How docket was started, for a restart.
    args: Vec<String>,
    manifest: PathBuf,
}

/// How a test's app differs from the repository's.
pub struct Setup {
    pub resources: Vec<(&'static str, String)>,
    /// Extra `allowed_outbound_hosts` entries for todo-api (the manifest is
    /// then a copy of the repository's with these added).
    pub allowed_hosts: Vec<String>,
    pub variables: Vec<(String, String)>,
    /// More `docket up` arguments.
    pub args: Vec<String>,
}

impl Default for Setup {
    fn default() -> Self {
        Setup {
            resources: default_resources(),
            allowed_hosts: Vec::new(),
            variables: Vec::new(),
            args: Vec::new(),
        }
    }
}

/// The repository's spin.toml with `allowed_hosts` added, in `dir`, with the
/// migrations beside it as `docket up` expects.
fn manifest_copy(dir: &Path, allowed_hosts: &[String]) -> PathBuf {
    let root = repo_root();
    let original = std::fs::read_to_string(root.join("spin.toml")).expect("spin.toml");
    let hosts: String = allowed_hosts.iter().map(|h| format!(", {h:?}")).collect();
    let text = original
        .replace(
            "source = \"components/",
            &format!("source = \"{}/components/", root.display()),
        )
        .replace(
            "allowed_outbound_hosts = [\"{{ dapr_url }}\"",
            &format!("allowed_outbound_hosts = [\"{{{{ dapr_url }}}}\"{hosts}"),
        );
    assert!(
        text.contains(&hosts),
        "spin.toml changed shape; update manifest_copy"
    );
    std::os::unix::fs::symlink(root.join("migrations"), dir.join("migrations")).expect("symlink");
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).expect("write spin.toml");
    path
}

impl TodoApp {
    pub fn start(backend: Backend, tag: &str) -> TodoApp {
        Self::start_with(backend, tag, Setup::default())
    }

    pub fn start_with(backend: Backend, tag: &str, setup: Setup) -> TodoApp {
        guest("todo_api");
        guest("recurring_task_service");
        guest("notification_service");
        guest("web");
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        super::dapr::write_resources(&dir, &setup.resources);
        let database = (backend == Backend::Postgres).then(|| {
            let database = TestDatabase::create(tag);
            migrate(&database.address());
            database
        });
        let mut variables = vec![("jwt_secret".to_string(), SECRET.to_string())];
        if let Some(database) = &database {
            variables.push(("database_url".to_string(), database.address()));
        }
        variables.extend(setup.variables);
        let mut args = vec![
            "--resources-path".to_string(),
            dir.path().join("resources").display().to_string(),
        ];
        for (name, value) in variables {
            args.extend(["--variable".to_string(), format!("{name}={value}")]);
        }
        args.extend(setup.args);
        let manifest = if setup.allowed_hosts.is_empty() {
            repo_root().join("spin.toml")
        } else {
            manifest_copy(dir.path(), &setup.allowed_hosts)
        };
        let docket = launch(dir, &args, &manifest);
        TodoApp {
            docket,
            backend,
            database,
            args,
            manifest,
        }
    }

    /// Stops docket (SIGTERM) and starts it again on the same data.
    pub fn restart(self) -> TodoApp {
        self.start_again(|docket| assert!(docket.stop().success(), "docket did not stop cleanly"))
    }

    /// Starts docket again on the same data after it died (e.g. `kill -9`).
    pub fn relaunch(self) -> TodoApp {
        self.start_again(Docket::kill)
    }

    fn start_again(self, stop: impl FnOnce(Docket)) -> TodoApp {
        let TodoApp {
            docket,
            backend,
            database,
            args,
            manifest,
        } = self;
        let dir = docket.dir.clone();
        stop(docket);
        let docket = launch(dir, &args, &manifest);
        TodoApp {
            docket,
            backend,
            database,
            args,
            manifest,
        }
    }

    /// A second `docket up` with the same manifest, resources and database,
    /// on a data dir of its own: a replica of the same app-ids.
    pub fn replica(&self) -> TodoApp {
        let dir = Arc::new(tempfile::tempdir().expect("tempdir"));
        TodoApp {
            docket: launch(dir, &self.args, &self.manifest),
            backend: self.backend,
            // The first instance owns (and drops) the database.
            database: None,
            args: self.args.clone(),
            manifest: self.manifest.clone(),
        }
    }

    pub fn token(&self, user: &str) -> String {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_secs() as i64;
        sign_hs256(SECRET.as_bytes(), &Claims::new(user, now, 3600))
    }

    /// A request as `user` (with a valid token) or anonymous; JSON body if any.
    pub fn call(
        &self,
        user: Option<&str>,
        method: &str,
        path: &str,
        body: Option<&Value>,
    ) -> Reply {
        let auth = user.map(|u| format!("Bearer {}", self.token(u)));
        let mut headers = Vec::new();
        if let Some(auth) = &auth {
            headers.push(("authorization", auth.as_str()));
        }
        if body.is_some() {
            headers.push(("content-type", "application/json"));
        }
        let text = body.map(Value::to_string).unwrap_or_default();
        self.docket.request(method, path, &headers, &text)
    }

    pub fn create_task(&self, user: &str, body: &Value) -> Value {
        let reply = self.call(
            Some(user),
            "POST",
            &format!("/api/{user}/tasks"),
            Some(body),
        );
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.json()
    }

    /// One integer from the app's database, e.g. a row count.
    pub fn scalar(&self, sql: &str) -> i64 {
        let text = self.text(sql);
        text.parse()
            .unwrap_or_else(|_| panic!("{sql}: {text:?} is not an integer"))
    }

    /// One value from the app's database, as text.
    pub fn text(&self, sql: &str) -> String {
        let Some(database) = &self.database else {
            let path = self.docket.dir.path().join("data/sqlite/default.db");
            let conn = rusqlite::Connection::open(path).expect("open the embedded database");
            let value: rusqlite::types::Value =
                conn.query_row(sql, [], |row| row.get(0)).expect(sql);
            return match value {
                rusqlite::types::Value::Integer(n) => n.to_string(),
                rusqlite::types::Value::Text(t) => t,
                other => panic!("{sql}: unexpected {other:?}"),
            };
        };
        super::psql_query(&database.name, sql)
    }
}

fn launch(dir: Arc<tempfile::TempDir>, args: &[String], manifest: &Path) -> Docket {
    let options = Options {
        args: args.to_vec(),
        manifest: Some(manifest.to_path_buf()),
        ..Options::default()
    };
    Docket::launch(dir, options).unwrap_or_else(|logs| panic!("docket did not start:\n{logs}"))
}

pub fn migrate(address: &str) {
    let output = Command::new(env!("CARGO_BIN_EXE_docket"))
        .current_dir(repo_root())
        .args(["migrate", "--database", address])
        .output()
        .expect("docket migrate");
    assert!(
        output.status.success(),
        "docket migrate failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `$body` (a fn taking a [`Backend`]) as one test per backend.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::$name(super::support::todo::Backend::Sqlite);
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                super::$name(super::support::todo::Backend::Postgres);
            })*
        }
    };
}
