//! A trapping, a looping and a memory-hungry request next to healthy ones:
//! each fails alone with the right status, and the host keeps serving.
//! SIGTERM lets in-flight requests finish.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use support::{Docket, Options, component, manifest};

fn start() -> Docket {
    let body = component("bad", "/bad/...", "misbehave", "")
        + &component("good", "/good/...", "hello", "");
    let options = Options {
        args: ["--request-timeout-secs", "2", "--max-memory-mb", "64"]
            .map(String::from)
            .to_vec(),
        ..Default::default()
    };
    Docket::start_with(&manifest(&body), options)
}

#[test]
fn misbehaving_requests_fail_alone() {
    let app = std::sync::Arc::new(start());
    let spawn = |path: &'static str| {
        let app = app.clone();
        std::thread::spawn(move || app.get(path))
    };
    let looping = spawn("/bad/loop");
    let hungry = spawn("/bad/hog");
    let trapping = spawn("/bad/trap");

    let started = Instant::now();
    let mut healthy = 0;
    while started.elapsed() < Duration::from_millis(1500) {
        let reply = app.get("/good/");
        assert_eq!(
            reply.status, 200,
            "healthy component failed: {}",
            reply.body
        );
        healthy += 1;
    }
    assert!(
        healthy > 10,
        "only {healthy} healthy responses while others misbehaved"
    );

    let trap = trapping.join().unwrap();
    assert_eq!(trap.status, 500, "{}", trap.body);
    let hog = hungry.join().unwrap();
    assert_eq!(hog.status, 500, "{}", hog.body);
    assert!(hog.body.contains("out of memory"), "{}", hog.body);
    let looped = looping.join().unwrap();
    assert_eq!(looped.status, 504, "{}", looped.body);

    for needle in ["component trapped", "ran out of memory", "timed out"] {
        let line = app.wait_for_log(needle);
        assert!(
            line.contains("component=\"bad\"") || line.contains("component=bad"),
            "{line}"
        );
    }
    assert_eq!(app.get("/bad/ok").status, 200);
    assert_eq!(app.get("/good/").status, 200);
}

#[test]
fn every_request_gets_a_fresh_instance() {
    let app = start();
    // Hog first so a reused memory slot would carry dirty pages if it were not reset.
    assert_eq!(app.get("/bad/hog").status, 500);
    for _ in 0..50 {
        let reply = app.get("/bad/count");
        assert_eq!(
            (reply.status, reply.body.trim()),
            (200, "1"),
            "state leaked between requests"
        );
    }
}

#[test]
fn sigterm_drains_in_flight_requests() {
    let app = start();
    let url = app.url("/bad/slow?ms=1500");
    let slow = std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.get(&url).call().expect("slow request");
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    });
    std::thread::sleep(Duration::from_millis(400));
    let addr = app.addr;
    let status = app.stop();
    assert!(status.success(), "docket exited with {status}");
    let (code, body) = slow.join().unwrap();
    assert_eq!((code, body.trim()), (200, "slow done"));
    assert!(
        std::net::TcpStream::connect(addr).is_err(),
        "still accepting after shutdown"
    );
}
