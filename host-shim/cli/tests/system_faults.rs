//! Faults under a load of task creation, each counting what went in (creates
//! acknowledged 201) and what came out (rows, events, emails): Redis stopped,
//! `docket` killed with SIGKILL, Postgres restarted, a broken `.wasm` dropped
//! in place of the real todo-api. Nothing acknowledged may be lost, nothing
//! delivered twice.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use docket_auth::{Claims, sign_hs256};
use support::load::{Load, Outcome, Target, describe};
use support::pg_cluster::PgCluster;
use support::redis::wait_until_within;
use support::system::{Stack, System, USER, email_counts};
use support::todo::{SECRET, default_resources};
use support::{Docket, Options, guest};

const CREATED: Outcome = Outcome::Answered {
    status: 201,
    retry_after: false,
};

/// The outbox's claim on an event being published (todo-core's `CLAIM`),
/// with room for the relay run that follows it.
const OUTBOX_CLAIM: Duration = Duration::from_secs(30 + 15);

/// The notification service's lease on a notice under way (its
/// `LEASE_SECONDS`), with room for the retry that follows it.
const NOTICE_LEASE: Duration = Duration::from_secs(120 + 30);

/// Notices a killed instance can have had in flight: one subscription's
/// delivery concurrency (the sidecar's default, 10). The provider may have
/// accepted each before the kill let its outcome be recorded; such a notice
/// is sent again once its lease runs out (at least once, never lost). No
/// other fault here may send anything twice.
const IN_FLIGHT_AT_CRASH: usize = 10;

/// Concurrent clients of each load.
const THREADS: usize = 4;

/// Titles of `USER`'s tasks in the app's database.
fn stored_titles(query: &impl Fn(&str) -> String) -> BTreeSet<String> {
    query(&format!(
        "SELECT string_agg(title, '\n') FROM tasks WHERE user_id = '{USER}'"
    ))
    .lines()
    .map(str::to_string)
    .collect()
}

/// After the fault: every acknowledged task is stored, its one task.created
/// event published, and it is emailed once, or twice for at most
/// `resent_at_most` tasks (see [`IN_FLIGHT_AT_CRASH`]); returns the stored
/// count.
fn nothing_lost_or_doubled(
    system: &System,
    acknowledged: &[String],
    query: impl Fn(&str) -> String,
    resent_at_most: usize,
) -> usize {
    let stored = stored_titles(&query);
    let missing: Vec<&String> = acknowledged
        .iter()
        .filter(|t| !stored.contains(*t))
        .collect();
    assert!(missing.is_empty(), "acknowledged but lost: {missing:?}");
    let count = |sql: &str| -> usize { query(sql).parse().unwrap() };
    assert_eq!(
        count(&format!(
            "SELECT count(*) FROM event_outbox WHERE event_type = 'task.created' AND payload LIKE '%\"user_id\":\"{USER}\"%'"
        )),
        stored.len(),
        "one task.created outbox row per stored task"
    );
    // Events a killed instance had claimed wait out the claim (30 s).
    wait_until_within("the outbox is drained", OUTBOX_CLAIM, || {
        count("SELECT count(*) FROM event_outbox WHERE published_at IS NULL") == 0
    });
    let all: Vec<String> = stored.iter().cloned().collect();
    // A notice whose sender was killed mid-attempt stays leased (120 s)
    // before a retry may send it.
    wait_until_within("every stored task is emailed", NOTICE_LEASE, || {
        email_counts(system, &all).iter().all(|&n| n >= 1)
    });
    // Late duplicates would arrive now.
    std::thread::sleep(Duration::from_secs(3));
    let counts = email_counts(system, &all);
    let described = |wanted: fn(usize) -> bool| -> Vec<String> {
        all.iter()
            .zip(&counts)
            .filter(|(_, n)| wanted(**n))
            .map(|(title, n)| format!("{title}: {n}"))
            .collect()
    };
    let wrong = described(|n| n != 1 && n != 2);
    assert!(wrong.is_empty(), "not emailed once or twice: {wrong:?}");
    let resent = described(|n| n == 2);
    assert!(
        resent.len() <= resent_at_most,
        "emailed twice: {resent:?}, at most {resent_at_most} may be"
    );
    stored.len()
}

/// `(entries, distinct CloudEvent ids)` of task.created on `task-events`.
fn stream_counts(system: &System) -> (usize, usize) {
    let created: Vec<String> = system
        .stream_events()
        .iter()
        .filter(|e| e["type"] == "task.created")
        .map(|e| e["id"].as_str().unwrap_or_default().to_string())
        .collect();
    let distinct = created.iter().collect::<BTreeSet<_>>().len();
    (created.len(), distinct)
}

fn only(outcomes: &BTreeMap<Outcome, usize>, allowed: &[Outcome]) {
    let other: Vec<_> = outcomes.keys().filter(|o| !allowed.contains(o)).collect();
    assert!(
        other.is_empty(),
        "unexpected answers: {}",
        describe(outcomes)
    );
}

#[test]
fn redis_stopped_during_load_loses_and_doubles_nothing() {
    let mut system = System::start(Stack::RedisPostgres, "fault_redis");
    let database = system_db(&system);
    let query = |sql: &str| support::psql_query(&database, sql);
    let load = Load::start(system.target(), "Redis", THREADS, Duration::from_millis(20));
    load.wait_for_created(20);

    let redis = system.redis.as_mut().unwrap();
    // A durable Redis going down: it saves, stops, and comes back with its data.
    redis.cli(&["SHUTDOWN", "SAVE"]);
    redis.stop();
    let before_outage = load.created();
    load.wait_for_created(40);
    let queued = system
        .app
        .scalar("SELECT count(*) FROM event_outbox WHERE published_at IS NULL");
    let during_outage = load.created() - before_outage;
    system.redis.as_mut().unwrap().resume();
    load.wait_for_created(20);
    let (acknowledged, outcomes) = load.finish();
    let sent: usize = outcomes.values().sum();
    only(&outcomes, &[CREATED]);
    assert!(
        queued > 0,
        "no event waited in the outbox while Redis was down"
    );

    let stored = nothing_lost_or_doubled(&system, &acknowledged, query, 0);
    let (entries, distinct) = stream_counts(&system);
    println!(
        "redis stopped: sent {sent}, acknowledged {} ({during_outage} during the outage; {queued} events queued in the outbox then), stored {stored}, task-events entries {entries} ({distinct} distinct), emails {}",
        acknowledged.len(),
        system.providers.accepted_mail().len()
    );
    assert_eq!(distinct, stored, "every event reached task-events");
    assert_eq!(entries, distinct, "an event was published twice");
}

fn system_db(system: &System) -> String {
    system.app.database.as_ref().expect("Postgres").name.clone()
}

#[test]
fn docket_killed_during_load_loses_nothing_committed() {
    let system = System::start(Stack::RedisPostgres, "fault_kill");
    let target = system.target();
    let load = Load::start(target.clone(), "Killed", THREADS, Duration::from_millis(10));
    load.wait_for_created(30);
    let killed = Command::new("kill")
        .args(["-KILL", &system.app.docket.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let at_kill = load.created();
    let System {
        app,
        providers,
        redis,
    } = system;
    let app = app.relaunch();
    *target.base.write().unwrap() = format!("http://{}", app.docket.addr);
    let system = System {
        app,
        providers,
        redis,
    };
    load.wait_for_created(30);
    let (acknowledged, outcomes) = load.finish();
    let sent: usize = outcomes.values().sum();
    only(&outcomes, &[CREATED, Outcome::NoAnswer]);

    let database = system_db(&system);
    let stored = nothing_lost_or_doubled(
        &system,
        &acknowledged,
        |sql| support::psql_query(&database, sql),
        IN_FLIGHT_AT_CRASH,
    );
    let (entries, distinct) = stream_counts(&system);
    println!(
        "kill -9: sent {sent}, acknowledged {} ({at_kill} before the kill), unanswered {}, stored {stored}, task-events entries {entries} ({distinct} distinct), emails {}",
        acknowledged.len(),
        outcomes.get(&Outcome::NoAnswer).unwrap_or(&0),
        system.providers.accepted_mail().len()
    );
    assert_eq!(distinct, stored, "every event reached task-events");
}

#[test]
fn postgres_restarted_answers_503_with_retry_after_and_recovers() {
    let mut cluster = PgCluster::start();
    let address = cluster.migrated_database("docket_fault_pg");
    let system = System::start_with(
        Stack::Embedded,
        "fault_pg",
        vec![("database_url".to_string(), address)],
    );
    let load = Load::start(
        system.target(),
        "Restart",
        THREADS,
        Duration::from_millis(10),
    );
    load.wait_for_created(30);
    cluster.stop();
    std::thread::sleep(Duration::from_secs(2));
    let during = load.sent();
    cluster.resume();
    // No restart of docket: it reconnects by itself.
    load.wait_for_created(30);
    let (acknowledged, outcomes) = load.finish();
    let sent: usize = outcomes.values().sum();
    let unavailable = Outcome::Answered {
        status: 503,
        retry_after: true,
    };
    println!(
        "postgres restarted: sent {sent} ({during} by the end of the outage), answers: {}",
        describe(&outcomes)
    );
    only(&outcomes, &[CREATED, unavailable.clone()]);
    assert!(
        outcomes.get(&unavailable).is_some_and(|n| *n > 0),
        "the outage was not seen: {}",
        describe(&outcomes)
    );
    let stored = nothing_lost_or_doubled(
        &system,
        &acknowledged,
        |sql| cluster.query("docket_fault_pg", sql),
        0,
    );
    println!(
        "postgres restarted: acknowledged {}, stored {stored}, emails {}",
        acknowledged.len(),
        system.providers.accepted_mail().len()
    );
}

/// The repository's spin.toml in `dir`, serving todo-api from a copy the
/// test may overwrite.
fn manifest_with_own_todo_api(dir: &std::path::Path) -> std::path::PathBuf {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .unwrap();
    let own = dir.join("todo_api.wasm");
    std::fs::copy(guest("todo_api"), &own).unwrap();
    let text = std::fs::read_to_string(root.join("spin.toml"))
        .unwrap()
        .replace(
            "source = \"components/target/wasm32-wasip2/release/todo_api.wasm\"",
            &format!("source = {:?}", own.display().to_string()),
        )
        .replace(
            "source = \"components/",
            &format!("source = \"{}/components/", root.display()),
        );
    assert!(
        text.contains(&own.display().to_string()),
        "spin.toml changed shape"
    );
    std::os::unix::fs::symlink(root.join("migrations"), dir.join("migrations")).unwrap();
    let path = dir.join("spin.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn a_broken_todo_api_wasm_is_refused_while_the_old_one_serves_load() {
    let dir = Arc::new(tempfile::tempdir().unwrap());
    support::dapr::write_resources(&dir, &default_resources());
    let manifest = manifest_with_own_todo_api(dir.path());
    let options = Options {
        args: vec![
            "--resources-path".into(),
            dir.path().join("resources").display().to_string(),
            "--variable".into(),
            format!("jwt_secret={SECRET}"),
        ],
        manifest: Some(manifest),
        ..Options::default()
    };
    let docket = Docket::launch(dir.clone(), options).unwrap_or_else(|l| panic!("{l}"));
    let now = chrono::Utc::now().timestamp();
    let target = Arc::new(Target {
        base: std::sync::RwLock::new(format!("http://{}", docket.addr)),
        token: sign_hs256(SECRET.as_bytes(), &Claims::new(USER, now, 3600)),
        user: USER.to_string(),
    });
    let load = Load::start(target, "Swap", THREADS, Duration::from_millis(5));
    load.wait_for_created(50);
    let good = std::fs::read(dir.path().join("todo_api.wasm")).unwrap();
    // Cut short, as a copy interrupted midway would be.
    support::replace_file(&dir.path().join("todo_api.wasm"), &good[..good.len() / 2]);
    docket.wait_for_log("new version rejected");
    let at_rejection = load.created();
    load.wait_for_created(200);
    let (acknowledged, outcomes) = load.finish();
    let sent: usize = outcomes.values().sum();
    println!(
        "broken .wasm: sent {sent}, acknowledged {} ({} after the rejection), answers: {}",
        acknowledged.len(),
        acknowledged.len() - at_rejection,
        describe(&outcomes)
    );
    only(&outcomes, &[CREATED]);
    assert!(!docket.logs().contains("component swapped in"));
}
