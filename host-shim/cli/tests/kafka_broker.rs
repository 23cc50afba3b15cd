//! The Kafka broker harness itself: a plain broker and a TLS + SCRAM one
//! answer the Kafka protocol where the harness says, TLS is verified against
//! the test's CA and refused under another, and a durable broker keeps its
//! topics across a kill and restart.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use support::kafka::probe::{api_versions, topic_names};
use support::kafka::{KafkaBroker, KafkaOptions, KafkaStorage, TestCa};

fn tls_client(ca_pem: &str) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}

/// An ApiVersions v0 exchange over TLS; Err when the handshake fails.
fn api_versions_over_tls(addr: &str, ca_pem: &str) -> Result<i16, String> {
    let name = ServerName::try_from("127.0.0.1").unwrap();
    let connection = ClientConnection::new(tls_client(ca_pem), name).unwrap();
    let mut stream = StreamOwned::new(connection, TcpStream::connect(addr).unwrap());
    let mut request = Vec::new();
    request.extend_from_slice(&18i16.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&7i32.to_be_bytes());
    request.extend_from_slice(&(-1i16).to_be_bytes());
    let mut frame = (request.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&request);
    stream.write_all(&frame).map_err(|e| e.to_string())?;
    let mut head = [0u8; 10];
    stream.read_exact(&mut head).map_err(|e| e.to_string())?;
    assert_eq!(i32::from_be_bytes(head[4..8].try_into().unwrap()), 7);
    Ok(i16::from_be_bytes(head[8..10].try_into().unwrap()))
}

#[test]
fn a_plain_broker_answers_the_kafka_protocol_on_its_bootstrap_address() {
    let broker = KafkaBroker::start(KafkaOptions::plain().topic("harness-plain", 3));
    assert!(!broker.tls() && !broker.scram());
    let apis = api_versions(&broker.bootstrap()).unwrap();
    assert!(apis > 10, "{apis} APIs");
    assert_eq!(topic_names(&broker.bootstrap()).unwrap(), ["harness-plain"]);
}

#[test]
fn a_secured_broker_speaks_tls_under_its_ca_only() {
    let broker = KafkaBroker::start(KafkaOptions::secured());
    let bootstrap = broker.bootstrap();
    assert_eq!(api_versions_over_tls(&bootstrap, broker.ca_pem()), Ok(0));

    let stranger = TestCa::new("unrelated CA");
    let refused = api_versions_over_tls(&bootstrap, &stranger.pem).unwrap_err();
    assert!(refused.contains("UnknownIssuer"), "{refused}");

    // Plain Kafka on the TLS port is not answered as Kafka.
    assert!(api_versions(&bootstrap).is_err());
}

#[test]
fn a_secured_broker_has_a_scram_user_and_lets_nothing_through_without_it() {
    let broker = KafkaBroker::start(KafkaOptions::secured());
    assert!(broker.username().starts_with("docket-"));
    assert_eq!(broker.password().len(), 32);
    // Behind the TLS front: before SASL only ApiVersions is answered.
    let inner = broker.broker_addr();
    assert!(api_versions(&inner).unwrap() > 10);
    assert!(topic_names(&inner).is_err());
}

#[test]
fn a_durable_broker_keeps_its_topics_across_a_kill() {
    let mut options = KafkaOptions::plain().topic("harness-durable", 2);
    options.storage = KafkaStorage::Sqlite;
    let mut broker = KafkaBroker::start(options);
    let before = broker.pid();
    broker.kill();
    assert!(api_versions(&broker.bootstrap()).is_err());
    broker.restart();
    assert_ne!(broker.pid(), before);
    assert_eq!(
        topic_names(&broker.bootstrap()).unwrap(),
        ["harness-durable"]
    );
}
