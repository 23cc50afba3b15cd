//! Hot swap: a changed `.wasm` replaces the running version under load with
//! no failed request; a broken one is rejected while the old one serves; the
//! reload endpoint is token protected; compiled code is cached across restarts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::{Docket, Options, guest, manifest};

const V1: &[u8] = b"docket-hello-v1";
const V2: &[u8] = b"docket-hello-v2";

fn hello_bytes(version: &[u8]) -> Vec<u8> {
    let mut bytes = std::fs::read(guest("hello")).unwrap();
    let at = bytes
        .windows(V1.len())
        .position(|w| w == V1)
        .expect("marker in hello.wasm");
    bytes[at..at + V1.len()].copy_from_slice(version);
    bytes
}

fn start(extra_args: &[&str]) -> Docket {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    std::fs::create_dir_all(dir.path().join("wasm")).unwrap();
    std::fs::write(dir.path().join("wasm/hello.wasm"), hello_bytes(V1)).unwrap();
    let text = manifest(
        "[[trigger.http]]\nroute = \"/...\"\ncomponent = \"hello\"\n[component.hello]\nsource = \"wasm/hello.wasm\"\n",
    );
    std::fs::write(dir.path().join("spin.toml"), text).unwrap();
    let options = Options {
        args: extra_args.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    };
    Docket::launch(dir, options).unwrap()
}

fn source(app: &Docket) -> std::path::PathBuf {
    app.dir.path().join("wasm/hello.wasm")
}

fn wait_until(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn swaps_under_load_without_failed_requests() {
    let app = Arc::new(start(&[]));
    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Mutex::new(Vec::<String>::new()));
    let failures = Arc::new(Mutex::new(Vec::<String>::new()));
    let workers: Vec<_> = (0..4)
        .map(|_| {
            let (app, stop, seen, failures) =
                (app.clone(), stop.clone(), seen.clone(), failures.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let reply = app.get("/");
                    if reply.status == 200 {
                        seen.lock().unwrap().push(reply.body.trim().to_string());
                    } else {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{}: {}", reply.status, reply.body));
                    }
                }
            })
        })
        .collect();

    wait_until("load to start", || seen.lock().unwrap().len() > 50);
    support::replace_file(&source(&app), &hello_bytes(V2));
    wait_until("the new version to answer", || {
        seen.lock()
            .unwrap()
            .iter()
            .any(|b| b.contains("docket-hello-v2"))
    });
    let switched_at = seen.lock().unwrap().len();
    wait_until("more load after the swap", || {
        seen.lock().unwrap().len() > switched_at + 200
    });
    stop.store(true, Ordering::Relaxed);
    for worker in workers {
        worker.join().unwrap();
    }

    let failures = failures.lock().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed requests: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
    let seen = seen.lock().unwrap();
    assert!(seen.iter().any(|b| b.contains("docket-hello-v1")));
    // In-flight requests may finish on v1 right after the swap; later ones must not.
    let tail = &seen[switched_at + 100..];
    assert!(
        tail.iter().all(|b| b.contains("docket-hello-v2")),
        "v1 answered long after the swap"
    );
    app.wait_for_log("component swapped in");
}

#[test]
fn rejects_broken_files_and_keeps_serving() {
    let app = start(&[]);
    support::replace_file(&source(&app), b"\0asm this is not a component");
    let line = app.wait_for_log("new version rejected");
    assert!(line.contains("hello"), "{line}");
    assert!(app.get("/").body.contains("docket-hello-v1"));

    support::replace_file(
        &source(&app),
        &std::fs::read(guest("unsupported_import")).unwrap(),
    );
    wait_until("the link failure to be logged", || {
        app.logs().contains("fermyon:spin/mqtt@2.0.0")
    });
    assert!(app.get("/").body.contains("docket-hello-v1"));

    support::replace_file(&source(&app), &hello_bytes(V2));
    wait_until("a good file to be taken again", || {
        app.get("/").body.contains("docket-hello-v2")
    });
}

#[test]
fn reload_endpoint_needs_post_and_the_admin_token() {
    let app = start(&["--no-watch"]);
    let token = app.admin_token();
    let bearer = format!("Bearer {token}");
    let reload = "/.well-known/docket/components/hello/reload";

    assert_eq!(app.request("POST", reload, &[], "").status, 401);
    assert_eq!(
        app.request("POST", reload, &[("authorization", "Bearer wrong")], "")
            .status,
        401
    );
    assert_eq!(
        app.request("GET", reload, &[("authorization", &bearer)], "")
            .status,
        405
    );
    let unknown = "/.well-known/docket/components/nope/reload";
    assert_eq!(
        app.request("POST", unknown, &[("authorization", &bearer)], "")
            .status,
        404
    );

    support::replace_file(&source(&app), &hello_bytes(V2));
    std::thread::sleep(Duration::from_millis(800));
    assert!(
        app.get("/").body.contains("docket-hello-v1"),
        "--no-watch must not swap by itself"
    );
    let swapped = app.request("POST", reload, &[("authorization", &bearer)], "");
    assert_eq!(swapped.status, 200, "{}", swapped.body);
    assert_eq!(swapped.json()["swapped"], true);
    assert!(app.get("/").body.contains("docket-hello-v2"));
    let again = app
        .request("POST", reload, &[("authorization", &bearer)], "")
        .json();
    assert_eq!(again["swapped"], false);

    std::fs::write(source(&app), b"garbage").unwrap();
    let rejected = app.request("POST", reload, &[("authorization", &bearer)], "");
    assert_eq!(rejected.status, 422, "{}", rejected.body);
    assert!(app.get("/").body.contains("docket-hello-v2"));
    assert!(!app.logs().contains(&token), "admin token leaked into logs");
}

fn files_under(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    if e.path().is_dir() {
                        files_under(&e.path())
                    } else {
                        1
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}

#[test]
fn restart_reuses_compiled_code_from_the_cache() {
    let app = start(&[]);
    assert!(app.get("/").body.contains("docket-hello-v1"));
    let dir = app.dir.clone();
    assert!(app.stop().success());
    let cache = dir.path().join("data/cache");
    let cached = files_under(&cache);
    assert!(cached > 0, "nothing was cached in {}", cache.display());
    let again = Docket::launch(dir.clone(), Options::default()).unwrap();
    assert!(again.get("/").body.contains("docket-hello-v1"));
    assert!(again.stop().success());
    assert_eq!(
        files_under(&cache),
        cached,
        "an unchanged component was compiled again"
    );
}
