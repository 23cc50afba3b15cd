//! The user stories end to end, on `docket up` with the repository's Redis
//! resource set and real Postgres (and the first one on the embedded default
//! too): from an API call through `task-events` to an email accepted by the
//! local SendGrid stand-in, across provider outages, replicas, the recurring
//! scheduler and reminders.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Days, NaiveDate, SecondsFormat, TimeZone, Utc, Weekday};
use serde_json::{Value, json};
use support::providers::MAIL_PATH;
use support::redis::wait_until;
use support::system::{ADDRESS, Stack, System, USER, exactly_once};
use support::todo::TodoApp;

fn titles(prefix: &str, count: usize) -> Vec<String> {
    (0..count).map(|n| format!("{prefix} {n}")).collect()
}

/// The `task-events` CloudEvents of `kind` about task `id`.
fn events_about(system: &System, kind: &str, id: i64) -> usize {
    system
        .stream_events()
        .iter()
        .filter(|event| event["type"] == kind && event["data"]["task_id"] == id)
        .count()
}

fn create_then_email(stack: Stack) {
    let system = System::start(stack, "story_email");
    let started = Instant::now();
    let task = system
        .app
        .create_task(USER, &json!({"title": "Water the plants"}));
    let answered = started.elapsed();
    let id = task["id"].as_i64().unwrap();

    if stack == Stack::RedisPostgres {
        wait_until("task.created is on task-events", || {
            events_about(&system, "task.created", id) == 1
        });
    }
    wait_until("the outbox row is published", || {
        system.app.scalar(&format!(
            "SELECT count(*) FROM event_outbox WHERE event_type = 'task.created' AND published_at IS NOT NULL AND payload LIKE '%\"task_id\":{id},%'"
        )) == 1
    });
    wait_until("the email is accepted", || {
        system.mails_about("Water the plants") == 1
    });
    let emailed = started.elapsed();
    let mail = &system.providers.accepted_mail()[0];
    assert_eq!(mail["personalizations"][0]["to"][0]["email"], ADDRESS);
    assert_eq!(mail["subject"], "New task: Water the plants");
    println!(
        "{stack:?}: create answered in {:.1} ms, email accepted after {:.1} ms",
        answered.as_secs_f64() * 1e3,
        emailed.as_secs_f64() * 1e3
    );
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(system.providers.accepted_mail().len(), 1, "one email only");
}

#[test]
fn a_created_task_is_emailed_on_redis_and_postgres() {
    create_then_email(Stack::RedisPostgres);
}

#[test]
fn a_created_task_is_emailed_on_the_embedded_default() {
    create_then_email(Stack::Embedded);
}

#[test]
fn events_wait_out_a_provider_outage_and_are_delivered_once() {
    let system = System::start(Stack::RedisPostgres, "story_outage");
    system.providers.fail_always(503);
    let titles = titles("During outage", 10);
    for title in &titles {
        let started = Instant::now();
        system.app.create_task(USER, &json!({"title": title}));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "a create waited on the failing provider"
        );
    }
    wait_until("every task.created is on task-events", || {
        system
            .stream_events()
            .iter()
            .filter(|e| e["type"] == "task.created")
            .count()
            == titles.len()
    });
    wait_until("the provider is being retried", || {
        system.providers.app.to(MAIL_PATH).len() > titles.len()
    });
    assert!(system.providers.accepted_mail().is_empty());

    system.providers.fail_next(0, 503);
    wait_until("every email is accepted", || {
        system.providers.accepted_mail().len() >= titles.len()
    });
    std::thread::sleep(Duration::from_secs(2));
    let (delivered, wrong) = exactly_once(&system, &titles);
    println!(
        "outage: {} tasks, {} send attempts, {} emails accepted, {delivered} exactly once",
        titles.len(),
        system.providers.app.to(MAIL_PATH).len(),
        system.providers.accepted_mail().len()
    );
    assert!(wrong.is_empty(), "not exactly once: {wrong:?}");
    assert_eq!(system.providers.accepted_mail().len(), titles.len());
}

/// `(consumer, pending)` of the notification service's group on `task-events`.
fn pending_per_consumer(system: &System) -> Vec<(String, usize)> {
    let redis = system.redis.as_ref().unwrap();
    let lines: Vec<String> = redis
        .cli(&["XPENDING", "task-events", "notification-service"])
        .lines()
        .map(str::to_string)
        .collect();
    // count, first id, last id, then consumer / count pairs.
    lines
        .get(3..)
        .unwrap_or_default()
        .chunks(2)
        .filter_map(|pair| Some((pair[0].clone(), pair.get(1)?.parse().ok()?)))
        .collect()
}

fn chat(app: &TodoApp, body: Value) -> Value {
    let reply = app.call(
        Some(USER),
        "POST",
        &format!("/api/{USER}/chat"),
        Some(&body),
    );
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.json()
}

#[test]
fn two_replicas_share_events_and_chats_and_survive_one_killed() {
    let system = System::start(Stack::RedisPostgres, "story_replicas");
    let a = &system.app;
    let b = a.replica();
    let both = [a, &b];

    // Round-robin creates: each event handled (emailed) by one replica only.
    let shared = titles("Shared", 20);
    for (n, title) in shared.iter().enumerate() {
        both[n % 2].create_task(USER, &json!({"title": title}));
    }
    wait_until("every email is accepted", || {
        system.providers.accepted_mail().len() >= shared.len()
    });

    // A conversation started on one continues on the other.
    let first = chat(a, json!({"message": "add buy milk"}));
    let id = first["conversation_id"].as_str().unwrap();
    let second = chat(
        &b,
        json!({"conversation_id": id, "message": "done with buy milk"}),
    );
    assert_eq!(second["conversation_id"], id);
    let history = a.call(Some(USER), "GET", &format!("/api/{USER}/chat/{id}"), None);
    assert_eq!(history.json()["messages"].as_array().unwrap().len(), 4);

    // With the provider down both replicas hold pending deliveries; one dies.
    system.providers.fail_always(503);
    let stranded = titles("Stranded", 20);
    for (n, title) in stranded.iter().enumerate() {
        both[n % 2].create_task(USER, &json!({"title": title}));
    }
    // (The chat's completion may still be among them.)
    wait_until("all twenty are pending", || {
        let pending = pending_per_consumer(&system);
        pending.iter().map(|(_, n)| n).sum::<usize>() >= stranded.len()
    });
    let at_kill = pending_per_consumer(&system);
    assert_eq!(
        at_kill.len(),
        2,
        "both replicas hold deliveries: {at_kill:?}"
    );
    b.docket.kill();
    system.providers.fail_next(0, 503);
    wait_until("the survivor delivers every email", || {
        // The chat's task was created and completed: two more.
        system.providers.accepted_mail().len() >= shared.len() + stranded.len() + 2
    });
    std::thread::sleep(Duration::from_secs(3));

    let all: Vec<String> = shared.iter().chain(&stranded).cloned().collect();
    let (delivered, wrong) = exactly_once(&system, &all);
    println!(
        "replicas: {} tasks, pending at kill {at_kill:?}, {} emails, {delivered} exactly once, pending after {:?}",
        all.len(),
        system.providers.accepted_mail().len(),
        pending_per_consumer(&system)
    );
    assert!(wrong.is_empty(), "not exactly once: {wrong:?}");
    assert_eq!(system.mails_about("buy milk"), 2, "{:?}", system.subjects());
    assert_eq!(
        system.providers.accepted_mail().len(),
        all.len() + 2,
        "{:?}",
        system.subjects()
    );
    assert!(pending_per_consumer(&system).is_empty());
}

const AT_NINE: u32 = 9;

fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn nine_on(day: NaiveDate) -> DateTime<Utc> {
    Utc.from_utc_datetime(&day.and_hms_opt(AT_NINE, 0, 0).unwrap())
}

fn last_day_of_month(day: NaiveDate) -> u32 {
    let next = if day.month() == 12 {
        NaiveDate::from_ymd_opt(day.year() + 1, 1, 1)
    } else {
        NaiveDate::from_ymd_opt(day.year(), day.month() + 1, 1)
    };
    next.unwrap().pred_opt().unwrap().day()
}

/// Every day from `from` to `to` at 09:00 UTC that `matches`.
fn instants(
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    matches: impl Fn(NaiveDate) -> bool,
) -> Vec<DateTime<Utc>> {
    let mut day = from.date_naive();
    let mut found = Vec::new();
    while day <= to.date_naive() {
        let at = nine_on(day);
        if at >= from && at <= to && matches(day) {
            found.push(at);
        }
        day = day.checked_add_days(Days::new(1)).unwrap();
    }
    found
}

struct Template {
    id: i64,
    expected: Vec<DateTime<Utc>>,
}

fn template(app: &TodoApp, title: &str, recurrence: Value) -> i64 {
    let reply = app.call(
        Some("rita"),
        "POST",
        "/api/rita/recurring",
        Some(&json!({"title": title, "recurrence": recurrence})),
    );
    assert_eq!(reply.status, 201, "{}", reply.body);
    reply.json()["id"].as_i64().unwrap()
}

/// As if the scheduler had been down since `since`.
fn rewind(app: &TodoApp, id: i64, since: DateTime<Utc>) {
    let changed = app.scalar(&format!(
        "WITH changed AS (UPDATE recurring_tasks SET next_occurrence = '{}' WHERE id = {id} RETURNING id) SELECT count(*) FROM changed",
        stamp(since)
    ));
    assert_eq!(changed, 1);
}

fn occurrences(app: &TodoApp, id: i64) -> Vec<DateTime<Utc>> {
    let text = app.text(&format!(
        "SELECT string_agg(to_char(occurrence_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), ',' ORDER BY occurrence_at) FROM tasks WHERE recurring_task_id = {id}"
    ));
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().unwrap())
        .collect()
}

#[test]
fn daily_weekly_and_monthly_templates_catch_up_exactly() {
    let system = System::start(Stack::RedisPostgres, "story_recurring");
    let app = &system.app;
    let now = Utc::now();
    let starts = stamp(now - chrono::Duration::days(120));
    let rule = |extra: Value| {
        let mut rule = json!({"time_of_day": "09:00", "timezone": "UTC", "starts_at": starts});
        rule.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        rule
    };
    // The daily one was down two days; the others long enough to show their
    // calendar (30-day months clamp the 31st).
    let two_days = now - chrono::Duration::days(2);
    let long_ago = now - chrono::Duration::days(75);
    let daily_expected = instants(two_days, now, |_| true);
    let mondays = instants(long_ago, now, |d| d.weekday() == Weekday::Mon);
    let month_ends = instants(long_ago, now, |d| d.day() == last_day_of_month(d).min(31));
    let templates = [
        ("Daily review", json!({"pattern": "daily"}), daily_expected),
        (
            "Weekly planning",
            json!({"pattern": "weekly", "weekdays": ["mon"]}),
            mondays,
        ),
        (
            "Pay the rent",
            json!({"pattern": "monthly", "day_of_month": 31}),
            month_ends,
        ),
    ]
    .map(|(title, extra, expected)| {
        let id = template(app, title, rule(extra));
        rewind(app, id, expected[0]);
        Template { id, expected }
    });
    let paused = template(app, "Paused", rule(json!({"pattern": "daily"})));
    let disabled = app.call(
        Some("rita"),
        "POST",
        &format!("/api/rita/recurring/{paused}/disable"),
        None,
    );
    assert_eq!(disabled.status, 200, "{}", disabled.body);
    rewind(app, paused, long_ago);

    let total: usize = templates.iter().map(|t| t.expected.len()).sum();
    wait_until("the cron binding catches up", || {
        app.scalar("SELECT count(*) FROM tasks WHERE user_id = 'rita'") as usize >= total
    });
    // More ticks pass; nothing more is made.
    std::thread::sleep(Duration::from_secs(3));
    for template in &templates {
        assert_eq!(occurrences(app, template.id), template.expected);
    }
    assert!(
        occurrences(app, paused).is_empty(),
        "a disabled template made tasks"
    );
    assert_eq!(
        app.scalar("SELECT count(*) FROM tasks WHERE user_id = 'rita'") as usize,
        total
    );
    wait_until("each is on task-events once", || {
        system
            .stream_events()
            .iter()
            .filter(|e| e["type"] == "task.created" && e["data"]["user_id"] == "rita")
            .count()
            == total
    });
    println!(
        "recurring: daily {}, weekly {}, monthly {} tasks made; disabled 0",
        templates[0].expected.len(),
        templates[1].expected.len(),
        templates[2].expected.len()
    );
}

#[test]
fn a_reminder_makes_one_task_due_and_one_notice() {
    let system = System::start(Stack::RedisPostgres, "story_reminder");
    let remind_at = Utc::now() + chrono::Duration::seconds(1);
    let task = system.app.create_task(
        USER,
        &json!({"title": "Dentist", "due_at": stamp(remind_at + chrono::Duration::hours(2)), "remind_at": stamp(remind_at)}),
    );
    let id = task["id"].as_i64().unwrap();
    let due_events = || {
        system
            .stream_events()
            .iter()
            .filter(|e| e["type"] == "task.due" && e["data"]["task_id"] == id)
            .count()
    };
    let reminders = || {
        system
            .subjects()
            .iter()
            .filter(|s| s.as_str() == "Reminder: Dentist")
            .count()
    };
    wait_until("the reminder is emailed", || reminders() == 1);
    // The cron ticks every second; several more pass.
    std::thread::sleep(Duration::from_secs(4));
    assert_eq!(due_events(), 1, "one task.due on task-events");
    assert_eq!(reminders(), 1, "{:?}", system.subjects());
}
