//! `pubsub.kafka` component metadata, read with the names and defaults daprd
//! uses, and turned into librdkafka client settings.

use std::fmt;
use std::time::Duration;

use rdkafka::ClientConfig;

use crate::resiliency::RetryPolicy;
use crate::resources::{ComponentSpec, Metadata, ResourceError};

/// How long the broker may hold a fetch waiting for records.
const FETCH_WAIT_MS: &str = "100";

/// `authType` values daprd knows but docket does not implement.
const UNSUPPORTED_AUTH: [&str; 6] = [
    "mtls",
    "certificate",
    "oidc",
    "oidc_private_key_jwt",
    "awsiam",
    "aws_iam",
];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KafkaSettings {
    /// `brokers`: comma-separated `host:port` list.
    pub brokers: String,
    /// `consumerGroup`, else `consumerID`; unset means the app-id. May hold templates.
    pub consumer_group: Option<String>,
    /// `clientID`, templates expanded.
    pub client_id: String,
    pub auth: Auth,
    pub tls: Tls,
    pub initial_offset: InitialOffset,
    /// `maxMessageBytes`: the largest record the producer sends.
    pub max_message_bytes: Option<usize>,
    pub heartbeat_interval: Duration,
    pub session_timeout: Duration,
    /// `consumeRetryEnabled` (default true for pub/sub): a record the app
    /// failed is tried again every `backOffDuration` (5s), `backOffMaxRetries`
    /// times (-1, the default, is forever), holding back its partition.
    pub consume_retry: Option<RetryPolicy>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Auth {
    None,
    /// SASL over the connection: `saslMechanism` `SHA-256`/`SHA-512` mean
    /// SCRAM, anything else PLAIN (as daprd does).
    Password {
        username: String,
        password: Secret,
        mechanism: Mechanism,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mechanism {
    ScramSha256,
    ScramSha512,
    Plain,
}

impl Mechanism {
    fn parse(value: Option<&str>) -> Self {
        match value {
            Some("SHA-256") => Self::ScramSha256,
            Some("SHA-512") => Self::ScramSha512,
            _ => Self::Plain,
        }
    }

    pub fn sasl_name(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256",
            Self::ScramSha512 => "SCRAM-SHA-512",
            Self::Plain => "PLAIN",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tls {
    Off,
    On {
        /// `caCert`: PEM; unset means the system's trusted roots.
        ca_pem: Option<String>,
        skip_verify: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InitialOffset {
    Newest,
    Oldest,
}

/// A value that never shows in logs or errors.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl KafkaSettings {
    /// Reads the component's metadata; `app_id` fills `{appID}` in `clientID`.
    pub fn parse(
        spec: &ComponentSpec,
        metadata: &Metadata,
        app_id: &str,
    ) -> Result<Self, ResourceError> {
        let field = |name: &str| format!("spec.metadata[{name}]");
        let brokers = metadata
            .require(spec, "brokers")?
            .split(',')
            .map(str::trim)
            .filter(|b| !b.is_empty())
            .collect::<Vec<_>>()
            .join(",");
        let auth_type = metadata.require(spec, "authType")?.to_ascii_lowercase();
        let auth = match auth_type.as_str() {
            "none" => Auth::None,
            "password" => Auth::Password {
                username: metadata.require(spec, "saslUsername")?.to_string(),
                password: Secret(metadata.require(spec, "saslPassword")?.to_string()),
                mechanism: Mechanism::parse(metadata.get("saslMechanism")),
            },
            other if UNSUPPORTED_AUTH.contains(&other) => {
                return Err(spec.error(
                    &field("authType"),
                    format!("{other:?} is not supported by docket (supported: none, password)"),
                ));
            }
            other => {
                return Err(spec.error(
                    &field("authType"),
                    format!("{other:?} is not a Kafka auth type (supported: none, password)"),
                ));
            }
        };
        let tls = if metadata.bool(spec, "disableTls", false)? {
            Tls::Off
        } else {
            Tls::On {
                ca_pem: metadata.get("caCert").map(str::to_string),
                skip_verify: metadata.bool(spec, "skipVerify", false)?,
            }
        };
        let initial_offset = match metadata.get("initialOffset").map(str::to_ascii_lowercase) {
            None => InitialOffset::Newest,
            Some(v) if v == "newest" => InitialOffset::Newest,
            Some(v) if v == "oldest" => InitialOffset::Oldest,
            Some(v) => {
                return Err(spec.error(
                    &field("initialOffset"),
                    format!("{v:?} must be newest or oldest"),
                ));
            }
        };
        let client_id = metadata
            .get("clientID")
            .map(|template| crate::registry::expand_template(template, app_id))
            .unwrap_or_else(|| format!("docket-{app_id}"));
        let consume_retry = if metadata.bool(spec, "consumeRetryEnabled", true)? {
            let max_retries = match metadata.number::<i64>(spec, "backOffMaxRetries")? {
                None | Some(-1) => None,
                Some(n) => Some(u32::try_from(n).map_err(|_| {
                    spec.error(
                        &field("backOffMaxRetries"),
                        format!("{n} must be -1 (forever) or a count"),
                    )
                })?),
            };
            let pause = metadata
                .duration(spec, "backOffDuration")?
                .unwrap_or(Duration::from_secs(5));
            Some(RetryPolicy::constant(pause, max_retries))
        } else {
            None
        };
        Ok(Self {
            brokers,
            consumer_group: metadata
                .get("consumerGroup")
                .or_else(|| metadata.get("consumerID"))
                .map(str::to_string),
            client_id,
            auth,
            tls,
            initial_offset,
            max_message_bytes: metadata.number::<usize>(spec, "maxMessageBytes")?,
            heartbeat_interval: metadata
                .duration(spec, "heartbeatInterval")?
                .unwrap_or(Duration::from_secs(3)),
            session_timeout: metadata
                .duration(spec, "sessionTimeout")?
                .unwrap_or(Duration::from_secs(10)),
            consume_retry,
        })
    }

    /// What both the producer and the consumers connect with.
    pub fn client_config(&self) -> ClientConfig {
        let mut config = ClientConfig::new();
        config
            .set("bootstrap.servers", &self.brokers)
            .set("client.id", &self.client_id);
        let sasl = matches!(self.auth, Auth::Password { .. });
        let tls = matches!(self.tls, Tls::On { .. });
        let protocol = match (sasl, tls) {
            (false, false) => "plaintext",
            (false, true) => "ssl",
            (true, false) => "sasl_plaintext",
            (true, true) => "sasl_ssl",
        };
        config.set("security.protocol", protocol);
        if let Auth::Password {
            username,
            password,
            mechanism,
        } = &self.auth
        {
            config
                .set("sasl.mechanism", mechanism.sasl_name())
                .set("sasl.username", username)
                .set("sasl.password", &password.0);
        }
        if let Tls::On {
            ca_pem,
            skip_verify,
        } = &self.tls
        {
            if let Some(pem) = ca_pem {
                config.set("ssl.ca.pem", pem);
            }
            if *skip_verify {
                config
                    .set("enable.ssl.certificate.verification", "false")
                    .set("ssl.endpoint.identification.algorithm", "none");
            }
        }
        config
    }

    /// The producer: every publish waits for all in-sync replicas, and
    /// retries cannot duplicate or reorder records. A publish waits for its
    /// acknowledgement anyway, so records are sent at once, not lingered on.
    pub fn producer_config(&self) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("acks", "all")
            .set("enable.idempotence", "true")
            .set("linger.ms", "0")
            .set("message.timeout.ms", "30000");
        if let Some(bytes) = self.max_message_bytes {
            config.set("message.max.bytes", bytes.to_string());
        }
        config
    }

    /// A consumer of `group`: offsets are committed by the broker backend
    /// itself, only once the app has acknowledged a record. Some brokers
    /// (Tansu) hold every fetch for the full wait even when records arrive,
    /// so the wait is short.
    pub fn consumer_config(&self, group: &str) -> ClientConfig {
        let mut config = self.client_config();
        config
            .set("group.id", group)
            .set("fetch.wait.max.ms", FETCH_WAIT_MS)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set(
                "auto.offset.reset",
                match self.initial_offset {
                    InitialOffset::Newest => "latest",
                    InitialOffset::Oldest => "earliest",
                },
            )
            .set(
                "heartbeat.interval.ms",
                self.heartbeat_interval.as_millis().to_string(),
            )
            .set(
                "session.timeout.ms",
                self.session_timeout.as_millis().to_string(),
            );
        config
    }

    /// Describes the connection for errors: brokers, TLS and SASL, never secrets.
    pub fn describe(&self) -> String {
        let tls = match self.tls {
            Tls::Off => "without TLS",
            Tls::On { .. } => "over TLS",
        };
        match &self.auth {
            Auth::None => format!("brokers {} {tls}", self.brokers),
            Auth::Password {
                username,
                mechanism,
                ..
            } => format!(
                "brokers {} {tls} as SASL {} user {username:?}",
                self.brokers,
                mechanism.sasl_name()
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::resources::MetadataValue;

    fn component(pairs: &[(&str, &str)]) -> (ComponentSpec, Metadata) {
        let yaml = "apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: events\nspec:\n  type: pubsub.kafka\n  version: v1\n";
        let value: serde_yaml_ng::Value = serde_yaml_ng::from_str(yaml).expect("yaml");
        let mut spec = ComponentSpec::from_yaml(Path::new("kafka.yaml"), value).expect("component");
        spec.metadata = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), MetadataValue::Value(v.to_string())))
            .collect();
        let metadata = Metadata {
            values: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        };
        (spec, metadata)
    }

    fn parse(pairs: &[(&str, &str)]) -> Result<KafkaSettings, ResourceError> {
        let (spec, metadata) = component(pairs);
        KafkaSettings::parse(&spec, &metadata, "notify")
    }

    fn get(config: &ClientConfig, key: &str) -> Option<String> {
        config.get(key).map(str::to_string)
    }

    #[test]
    fn defaults_follow_daprd() {
        let settings =
            parse(&[("brokers", "a:9092, b:9092"), ("authType", "none")]).expect("parses");
        assert_eq!(settings.brokers, "a:9092,b:9092");
        assert_eq!(settings.auth, Auth::None);
        assert_eq!(
            settings.tls,
            Tls::On {
                ca_pem: None,
                skip_verify: false
            }
        );
        assert_eq!(settings.initial_offset, InitialOffset::Newest);
        assert_eq!(settings.consumer_group, None);
        assert_eq!(settings.client_id, "docket-notify");
        assert_eq!(settings.heartbeat_interval, Duration::from_secs(3));
        assert_eq!(settings.session_timeout, Duration::from_secs(10));
        assert_eq!(settings.max_message_bytes, None);
        assert_eq!(
            settings.consume_retry,
            Some(RetryPolicy::constant(Duration::from_secs(5), None))
        );
        let consumer = settings.consumer_config("notify");
        assert_eq!(get(&consumer, "security.protocol").as_deref(), Some("ssl"));
        assert_eq!(
            get(&consumer, "auto.offset.reset").as_deref(),
            Some("latest")
        );
        assert_eq!(
            get(&consumer, "enable.auto.commit").as_deref(),
            Some("false")
        );
        assert_eq!(get(&consumer, "group.id").as_deref(), Some("notify"));
        assert_eq!(
            get(&consumer, "session.timeout.ms").as_deref(),
            Some("10000")
        );
        let producer = settings.producer_config();
        assert_eq!(get(&producer, "acks").as_deref(), Some("all"));
        assert_eq!(
            get(&producer, "enable.idempotence").as_deref(),
            Some("true")
        );
    }

    #[test]
    fn reads_every_supported_name() {
        let settings = parse(&[
            ("brokers", "kafka:9093"),
            ("authType", "password"),
            ("saslUsername", "docket"),
            ("saslPassword", "s3cret"),
            ("saslMechanism", "SHA-512"),
            ("caCert", "-----BEGIN CERTIFICATE-----"),
            ("skipVerify", "true"),
            ("consumerGroup", "{appID}-group"),
            ("consumerID", "ignored"),
            ("clientID", "{appID}-client"),
            ("initialOffset", "oldest"),
            ("maxMessageBytes", "2048"),
            ("heartbeatInterval", "1s"),
            ("sessionTimeout", "30s"),
            ("backOffDuration", "200ms"),
            ("backOffMaxRetries", "3"),
        ])
        .expect("parses");
        assert_eq!(
            settings.consume_retry,
            Some(RetryPolicy::constant(Duration::from_millis(200), Some(3)))
        );
        assert_eq!(settings.consumer_group.as_deref(), Some("{appID}-group"));
        assert_eq!(settings.client_id, "notify-client");
        assert_eq!(settings.initial_offset, InitialOffset::Oldest);
        let config = settings.consumer_config("notify-group");
        for (key, value) in [
            ("bootstrap.servers", "kafka:9093"),
            ("client.id", "notify-client"),
            ("security.protocol", "sasl_ssl"),
            ("sasl.mechanism", "SCRAM-SHA-512"),
            ("sasl.username", "docket"),
            ("sasl.password", "s3cret"),
            ("ssl.ca.pem", "-----BEGIN CERTIFICATE-----"),
            ("enable.ssl.certificate.verification", "false"),
            ("auto.offset.reset", "earliest"),
            ("heartbeat.interval.ms", "1000"),
            ("session.timeout.ms", "30000"),
        ] {
            assert_eq!(get(&config, key).as_deref(), Some(value), "{key}");
        }
        assert_eq!(
            get(&settings.producer_config(), "message.max.bytes").as_deref(),
            Some("2048")
        );
    }

    #[test]
    fn mechanisms_and_tls_switches() {
        let base = [
            ("brokers", "k:9092"),
            ("authType", "password"),
            ("saslUsername", "u"),
            ("saslPassword", "p"),
            ("disableTls", "true"),
        ];
        let settings = parse(&[&base[..], &[("saslMechanism", "SHA-256")]].concat()).expect("ok");
        let config = settings.client_config();
        assert_eq!(
            get(&config, "security.protocol").as_deref(),
            Some("sasl_plaintext")
        );
        assert_eq!(
            get(&config, "sasl.mechanism").as_deref(),
            Some("SCRAM-SHA-256")
        );
        let plain = parse(&base).expect("ok");
        assert_eq!(
            get(&plain.client_config(), "sasl.mechanism").as_deref(),
            Some("PLAIN")
        );
        let consumer_id = parse(&[
            ("brokers", "k:9092"),
            ("authType", "none"),
            ("consumerID", "{appID}"),
        ])
        .expect("ok");
        assert_eq!(consumer_id.consumer_group.as_deref(), Some("{appID}"));
        let no_retry = parse(&[
            ("brokers", "k:9092"),
            ("authType", "none"),
            ("consumeRetryEnabled", "false"),
        ])
        .expect("ok");
        assert_eq!(no_retry.consume_retry, None);
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        let error = |pairs: &[(&str, &str)]| match parse(pairs) {
            Ok(settings) => panic!("accepted {settings:?}"),
            Err(e) => e.to_string(),
        };
        assert!(error(&[("authType", "none")]).contains("spec.metadata[brokers]`: is required"));
        assert!(error(&[("brokers", "k:9092")]).contains("spec.metadata[authType]`: is required"));
        let mtls = error(&[("brokers", "k:9092"), ("authType", "mtls")]);
        assert!(
            mtls.contains("\"mtls\" is not supported by docket"),
            "{mtls}"
        );
        assert!(error(&[("brokers", "k:9092"), ("authType", "oidc")]).contains("oidc"));
        assert!(
            error(&[("brokers", "k:9092"), ("authType", "kerberos")])
                .contains("not a Kafka auth type")
        );
        assert!(
            error(&[("brokers", "k:9092"), ("authType", "password")])
                .contains("spec.metadata[saslUsername]`: is required")
        );
        assert!(
            error(&[
                ("brokers", "k:9092"),
                ("authType", "none"),
                ("initialOffset", "latest")
            ])
            .contains("must be newest or oldest")
        );
        assert!(
            error(&[
                ("brokers", "k:9092"),
                ("authType", "none"),
                ("sessionTimeout", "soon")
            ])
            .contains("sessionTimeout")
        );
        assert!(
            error(&[
                ("brokers", "k:9092"),
                ("authType", "none"),
                ("backOffMaxRetries", "-2")
            ])
            .contains("must be -1 (forever) or a count")
        );
    }

    #[test]
    fn secrets_stay_out_of_descriptions() {
        let settings = parse(&[
            ("brokers", "k:9092"),
            ("authType", "password"),
            ("saslUsername", "docket"),
            ("saslPassword", "hunter2"),
            ("saslMechanism", "SHA-256"),
        ])
        .expect("ok");
        let shown = format!("{} {settings:?}", settings.describe());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("SCRAM-SHA-256 user \"docket\""), "{shown}");
    }
}
