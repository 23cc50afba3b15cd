//! A Kafka-protocol broker of a test's own: Tansu on free loopback ports with
//! its own storage, optionally behind TLS and with a SCRAM-SHA-256 user, the
//! shape of the production broker (Redpanda Cloud: SASL_SSL, SCRAM-SHA-256).
//!
//! Tansu 0.6 accepts `--cert`/`--key` but serves plain TCP, so TLS comes from
//! a `socat` front on its own port that Tansu advertises to clients. Tansu
//! creates users only over the wire (AlterUserScramCredentials) and its CLI
//! speaks neither SASL nor TLS, so users and topics are made while Tansu runs
//! without `--authentication`, on storage that outlives the restart.

mod pki;
pub mod probe;

use std::fs::File;
use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use pki::TestCa;
use probe::api_versions;

const READY_TIMEOUT: Duration = Duration::from_secs(60);
const DEFAULT_TANSU: &str = "/var/cache/docket/tansu/bin/tansu";

/// Where the broker keeps its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KafkaStorage {
    /// In memory: gone when the process ends.
    Memory,
    /// A SQLite file in the broker's folder: topics, records, committed
    /// offsets and users survive a kill and restart.
    Sqlite,
}

#[derive(Clone, Debug)]
pub struct KafkaOptions {
    pub tls: bool,
    pub scram: bool,
    pub storage: KafkaStorage,
    /// Topics (name, partitions) created before clients are let in.
    pub topics: Vec<(String, i32)>,
}

impl KafkaOptions {
    /// No TLS, no authentication, memory storage.
    pub fn plain() -> KafkaOptions {
        KafkaOptions {
            tls: false,
            scram: false,
            storage: KafkaStorage::Memory,
            topics: Vec::new(),
        }
    }

    /// TLS and SCRAM-SHA-256 as in production, on durable storage.
    pub fn secured() -> KafkaOptions {
        KafkaOptions {
            tls: true,
            scram: true,
            storage: KafkaStorage::Sqlite,
            topics: Vec::new(),
        }
    }

    pub fn topic(mut self, name: &str, partitions: i32) -> KafkaOptions {
        self.topics.push((name.to_string(), partitions));
        self
    }
}

/// What a client needs besides the address; a test may swap in wrong ones.
#[derive(Clone, Debug)]
pub struct KafkaSecrets {
    pub username: String,
    pub password: String,
    pub ca_pem: String,
}

/// A running broker; killed (with its TLS front) when dropped.
pub struct KafkaBroker {
    options: KafkaOptions,
    dir: tempfile::TempDir,
    /// Tansu's own (plain) listener.
    port: u16,
    /// The TLS front's port, when TLS is on.
    tls_port: Option<u16>,
    ca: Option<TestCa>,
    username: String,
    password: String,
    tansu: Option<Child>,
    front: Option<Child>,
}

impl KafkaBroker {
    pub fn start(options: KafkaOptions) -> KafkaBroker {
        assert!(
            !(options.scram && options.storage == KafkaStorage::Memory),
            "a SCRAM broker needs KafkaStorage::Sqlite: its user is made before a restart"
        );
        let dir = tempfile::tempdir().expect("broker dir");
        let mut broker = KafkaBroker {
            port: free_port(),
            tls_port: options.tls.then(free_port),
            ca: options.tls.then(|| TestCa::new("docket test broker CA")),
            username: format!("docket-{}", random_hex(4)),
            password: random_hex(16),
            options,
            dir,
            tansu: None,
            front: None,
        };
        if let Some(ca) = &broker.ca {
            ca.server_files(broker.dir.path());
            std::fs::write(broker.ca_path(), &ca.pem).expect("write ca.pem");
        }
        // Another process may bind the picked port first: Tansu then exits.
        let mut attempts = 1;
        while let Err(why) = broker.try_launch(false) {
            assert!(attempts < 3, "{why}");
            attempts += 1;
            broker.port = free_port();
        }
        if broker.options.scram {
            broker.cli(&[
                "user",
                "create",
                "--mechanism",
                "scram256",
                &broker.username.clone(),
                &broker.password.clone(),
            ]);
        }
        for (name, partitions) in broker.options.topics.clone() {
            broker.create_topic_now(&name, partitions);
        }
        if broker.options.scram {
            broker.stop_tansu();
            broker.launch(true);
        }
        if broker.options.tls {
            broker.start_front();
        }
        broker
    }

    /// `host:port` for clients (the TLS front when TLS is on).
    pub fn bootstrap(&self) -> String {
        format!("127.0.0.1:{}", self.client_port())
    }

    /// Tansu's own plain listener (behind the TLS front when TLS is on).
    pub fn broker_addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    pub fn tls(&self) -> bool {
        self.options.tls
    }

    pub fn scram(&self) -> bool {
        self.options.scram
    }

    /// The CA that signed the broker's certificate (PEM).
    pub fn ca_pem(&self) -> &str {
        &self.ca.as_ref().expect("broker started without TLS").pem
    }

    pub fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    pub fn username(&self) -> &str {
        &self.username
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// This broker's credentials and CA (an empty CA without TLS).
    pub fn secrets(&self) -> KafkaSecrets {
        KafkaSecrets {
            username: self.username.clone(),
            password: self.password.clone(),
            ca_pem: self
                .ca
                .as_ref()
                .map(|ca| ca.pem.clone())
                .unwrap_or_default(),
        }
    }

    /// Creates a topic. With SCRAM on this restarts the broker (Tansu's CLI
    /// cannot authenticate), so create topics before clients connect, or list
    /// them in [`KafkaOptions::topics`].
    pub fn create_topic(&mut self, name: &str, partitions: i32) {
        if self.options.scram {
            self.stop_tansu();
            self.launch(false);
            self.create_topic_now(name, partitions);
            self.stop_tansu();
            self.launch(true);
        } else {
            self.create_topic_now(name, partitions);
        }
    }

    /// The broker process's id (not the TLS front's).
    pub fn pid(&self) -> u32 {
        self.tansu.as_ref().expect("broker not running").id()
    }

    /// SIGKILLs the broker; the TLS front stays, as a load balancer would.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.tansu.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the broker again on the same port and storage (stopping it
    /// first if it runs). Memory storage comes back empty.
    pub fn restart(&mut self) {
        self.stop_tansu();
        self.launch(self.options.scram);
    }

    /// Stops the broker and its TLS front.
    pub fn stop(mut self) {
        self.shut_down();
    }

    /// Tansu's and the TLS front's output so far.
    pub fn logs(&self) -> String {
        ["tansu.log", "front.log"]
            .iter()
            .map(|name| std::fs::read_to_string(self.dir.path().join(name)).unwrap_or_default())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Writes a Dapr resources folder with `pubsub` (pubsub.kafka) pointing
    /// at this broker, its credentials and CA read from a local file secret
    /// store, plus any `extra` metadata (consumerGroup, initialOffset, ...).
    pub fn write_resources(&self, dir: &Path, extra: &[(&str, &str)]) {
        self.write_resources_with(dir, &self.secrets(), extra);
    }

    /// [`Self::write_resources`] with the given (possibly wrong) secrets.
    pub fn write_resources_with(&self, dir: &Path, secrets: &KafkaSecrets, extra: &[(&str, &str)]) {
        std::fs::create_dir_all(dir).expect("resources dir");
        let mut metadata = vec![
            item("brokers", &self.bootstrap()),
            item(
                "disableTls",
                if self.options.tls { "false" } else { "true" },
            ),
        ];
        if self.options.tls {
            metadata.push(secret_item("caCert", "caCert"));
        }
        if self.options.scram {
            metadata.push(item("authType", "password"));
            metadata.push(item("saslMechanism", "SHA-256"));
            metadata.push(secret_item("saslUsername", "username"));
            metadata.push(secret_item("saslPassword", "password"));
        } else {
            metadata.push(item("authType", "none"));
        }
        metadata.extend(extra.iter().map(|(name, value)| item(name, value)));
        let pubsub = format!(
            "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: pubsub\n\
             spec:\n  type: pubsub.kafka\n  version: v1\n  metadata:\n{}\
             auth:\n  secretStore: kafka-secrets\n",
            metadata.concat()
        );
        std::fs::write(dir.join("pubsub.yaml"), pubsub).expect("write pubsub.yaml");
        let store = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: kafka-secrets\n\
             spec:\n  type: secretstores.local.file\n  version: v1\n  metadata:\n\
             \x20   - name: secretsFile\n      value: kafka-secrets.json\n\
             \x20   - name: multiValued\n      value: \"true\"\n";
        std::fs::write(dir.join("kafka-secrets.yaml"), store).expect("write kafka-secrets.yaml");
        let json = serde_json::json!({
            "kafka": {
                "username": secrets.username,
                "password": secrets.password,
                "caCert": secrets.ca_pem,
            }
        });
        std::fs::write(dir.join("kafka-secrets.json"), json.to_string())
            .expect("write kafka-secrets.json");
    }

    fn client_port(&self) -> u16 {
        self.tls_port.unwrap_or(self.port)
    }

    fn launch(&mut self, authentication: bool) {
        self.try_launch(authentication)
            .unwrap_or_else(|why| panic!("{why}"));
    }

    /// Starts Tansu and waits for it; Err (with its output) if it exited.
    fn try_launch(&mut self, authentication: bool) -> Result<(), String> {
        let storage = match self.options.storage {
            KafkaStorage::Memory => "memory://tansu/",
            KafkaStorage::Sqlite => "sqlite://tansu.db",
        };
        let mut command = Command::new(tansu_binary());
        command
            .current_dir(self.dir.path())
            .arg("broker")
            .arg("--listener-url")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .arg("--advertised-listener-url")
            .arg(format!("tcp://127.0.0.1:{}", self.client_port()))
            .arg("--storage-engine")
            .arg(storage)
            .stdin(Stdio::null())
            .stdout(self.log_file("tansu.log"))
            .stderr(self.log_file("tansu.log"));
        if authentication {
            command.arg("--authentication");
        }
        let earlier = self.ready_lines();
        let child = command.spawn().expect("spawn tansu");
        self.tansu = Some(child);
        self.wait_ready(earlier)
    }

    /// How many times Tansu has said it listens (`ready in N ms`, printed
    /// once its listener is bound).
    fn ready_lines(&self) -> usize {
        std::fs::read_to_string(self.dir.path().join("tansu.log"))
            .unwrap_or_default()
            .lines()
            .filter(|line| line.starts_with("ready in "))
            .count()
    }

    /// Waits until this Tansu has bound its port and answers ApiVersions
    /// there: whoever else took the port meanwhile would answer too.
    fn wait_ready(&mut self, earlier: usize) -> Result<(), String> {
        let addr = format!("127.0.0.1:{}", self.port);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            let last = if self.ready_lines() > earlier {
                match api_versions(&addr) {
                    Ok(_) => return Ok(()),
                    Err(error) => error,
                }
            } else {
                "not listening yet".to_string()
            };
            if let Some(child) = self.tansu.as_mut()
                && let Ok(Some(status)) = child.try_wait()
            {
                self.tansu = None;
                return Err(format!("tansu exited ({status}):\n{}", self.logs()));
            }
            assert!(
                Instant::now() < deadline,
                "tansu did not answer ApiVersions on {addr} ({last}):\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn start_front(&mut self) {
        let tls_port = self.tls_port.expect("TLS port");
        let dir = self.dir.path();
        // nodelay on both sides: with Nagle, each small Kafka request waits
        // out the peer's delayed ACK (about 40 ms).
        let listen = format!(
            "OPENSSL-LISTEN:{tls_port},bind=127.0.0.1,reuseaddr,fork,nodelay,verify=0,cert={},key={}",
            dir.join("server.pem").display(),
            dir.join("server.key").display()
        );
        let child = Command::new(socat_binary())
            .arg(listen)
            .arg(format!("TCP:127.0.0.1:{},nodelay", self.port))
            .process_group(0)
            .stdin(Stdio::null())
            .stdout(self.log_file("front.log"))
            .stderr(self.log_file("front.log"))
            .spawn()
            .expect("spawn socat");
        self.front = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        while std::net::TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "the TLS front did not listen on {tls_port}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// `tansu <args> --broker tcp://...` against the broker's own listener.
    fn cli(&self, args: &[&str]) {
        let output = Command::new(tansu_binary())
            .args(args)
            .arg("--broker")
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .output()
            .expect("run tansu");
        assert!(
            output.status.success(),
            "tansu {} failed: {}{}",
            args[..2.min(args.len())].join(" "),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }

    fn create_topic_now(&self, name: &str, partitions: i32) {
        self.cli(&[
            "topic",
            "create",
            name,
            "--partitions",
            &partitions.to_string(),
        ]);
    }

    fn stop_tansu(&mut self) {
        if let Some(mut child) = self.tansu.take() {
            super::stop_gracefully(&mut child);
        }
    }

    fn shut_down(&mut self) {
        self.kill();
        if let Some(mut front) = self.front.take() {
            // The front's group holds one forked child per open connection.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", front.id())])
                .status();
            let _ = front.wait();
        }
    }

    fn log_file(&self, name: &str) -> File {
        File::options()
            .create(true)
            .append(true)
            .open(self.dir.path().join(name))
            .expect("log file")
    }
}

impl Drop for KafkaBroker {
    fn drop(&mut self) {
        self.shut_down();
    }
}

fn item(name: &str, value: &str) -> String {
    format!(
        "    - name: {name}\n      value: {}\n",
        serde_json::json!(value)
    )
}

fn secret_item(name: &str, key: &str) -> String {
    format!("    - name: {name}\n      secretKeyRef:\n        name: kafka\n        key: {key}\n")
}

/// `DOCKET_TANSU`, else where `.ci/run` installs it, else `tansu` on PATH.
pub fn tansu_binary() -> PathBuf {
    if let Some(path) = std::env::var_os("DOCKET_TANSU") {
        return PathBuf::from(path);
    }
    if Path::new(DEFAULT_TANSU).is_file() {
        return PathBuf::from(DEFAULT_TANSU);
    }
    on_path("tansu").unwrap_or_else(|| {
        panic!(
            "no tansu binary: set DOCKET_TANSU or run .ci/run, which installs it into \
             /var/cache/docket/tansu"
        )
    })
}

fn socat_binary() -> PathBuf {
    on_path("socat")
        .unwrap_or_else(|| panic!("no socat on PATH (the broker's TLS front): run .ci/run"))
}

fn on_path(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(name))
        .find(|path| path.is_file())
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    getrandom::fill(&mut buf).expect("random bytes");
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// The files of the repository's `dapr/components/kafka` set.
const REPOSITORY_SET: [&str; 7] = [
    "configuration.yaml",
    "outbox-relay.yaml",
    "pubsub.yaml",
    "recurring-cron.yaml",
    "resiliency.yaml",
    "secretstore.yaml",
    "statestore.yaml",
];

/// The repository's `dapr/components/kafka` files, their secret store
/// reading a secrets file (written into `dir`) that points at `broker` and
/// at a Redis on `redis_port`.
pub fn repository_set(
    broker: &KafkaBroker,
    redis_port: u16,
    dir: &Path,
) -> Vec<(&'static str, String)> {
    let secrets = dir.join("secrets.json");
    let values = serde_json::json!({
        "docket-redpanda": {
            "brokers": broker.bootstrap(),
            "username": broker.username(),
            "password": broker.password(),
            "caCert": broker.ca_pem(),
        },
        "docket-redis": {"host": format!("127.0.0.1:{redis_port}"), "username": "", "password": ""},
    });
    std::fs::write(&secrets, values.to_string()).expect("write the secrets file");
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../dapr/components/kafka");
    let mut in_folder: Vec<String> = std::fs::read_dir(&folder)
        .expect("dapr/components/kafka")
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".yaml"))
        .collect();
    in_folder.sort();
    assert_eq!(in_folder, REPOSITORY_SET, "update REPOSITORY_SET");
    REPOSITORY_SET
        .iter()
        .map(|name| {
            let text = std::fs::read_to_string(folder.join(name)).expect("kafka resource set");
            let text = text.replace(
                "../../../.docket/kafka/secrets.json",
                &secrets.display().to_string(),
            );
            (*name, text)
        })
        .collect()
}
