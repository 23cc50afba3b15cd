//! Email through SendGrid (scripted), the mailbox fallback, retries,
//! idempotency and the dead-letter topic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::cell::Cell;

use common::*;
use docket_events::TaskEventType;
use docket_http::HttpFailure;
use docket_notify::record::{Channel, Provider, Status};
use docket_notify::{Notifier, Outcome, Settings};
use docket_state::memory::MemoryStore;
use docket_state::{StateStore, StoreError, Stored};
use futures::executor::block_on;
use serde_json::{Value, json};

const BUSY: &str = "email: another delivery of this event is at work";

/// SendGrid configured, Ada with an address, SendGrid answering `replies`.
fn sendgrid(replies: Vec<Reply>) -> World {
    World::new(sendgrid_settings())
        .prefs("ada", &with_email("ada@example.com"))
        .on(SENDGRID_URL, replies)
}

#[test]
fn a_created_task_is_mailed_through_sendgrid() {
    let world = sendgrid(vec![accepted("msg-1")]);
    assert_eq!(world.deliver(&created("e1", "ada"), 0), Outcome::Success);

    let requests = world.requests_to(SENDGRID_URL);
    assert_eq!(requests.len(), 1);
    assert_eq!(requests[0].method, "POST");
    assert_eq!(
        requests[0].header("authorization"),
        Some(format!("Bearer {SENDGRID_KEY}").as_str())
    );
    assert_eq!(requests[0].header("content-type"), Some("application/json"));
    assert_eq!(
        body_json(&requests[0]),
        json!({
            "personalizations": [{"to": [{"email": "ada@example.com"}]}],
            "from": {"email": "notify@docket.test", "name": "Docket"},
            "subject": "New task: Pay rent",
            "content": [{"type": "text/plain", "value": "New task: Pay rent\nPriority: High\nDue: 2026-03-05 17:00 UTC\n\nTransfer to <landlord> & keep the receipt"}],
            "custom_args": {"event_id": "e1"},
        })
    );

    let record = world.record("e1", Channel::Email);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(record.provider, Provider::Sendgrid);
    assert_eq!(record.provider_message_id.as_deref(), Some("msg-1"));
    assert_eq!(record.attempts, 1);
    assert_eq!((record.user_id.as_str(), record.task_id), ("ada", 42));
    assert_eq!(record.event_type, "task.created");
    assert_eq!(record.sent_at, Some(now()));
    assert_eq!(record.last_error, None);
    assert_eq!(record.lease_until, None);
    assert!(
        world.try_record("e1", Channel::Push).is_none(),
        "push is off by default"
    );
}

#[test]
fn completed_and_due_have_their_own_subject_and_body() {
    let world = sendgrid(vec![accepted("m")]);
    let completed = task_event(TaskEventType::Completed, "e-done", "ada");
    assert_eq!(world.deliver(&completed, 0), Outcome::Success);
    assert_eq!(
        world.deliver(&reminder("e-due", "ada"), 0),
        Outcome::Success
    );

    let bodies: Vec<Value> = world
        .requests_to(SENDGRID_URL)
        .iter()
        .map(body_json)
        .collect();
    assert_eq!(bodies[0]["subject"], "Completed: Pay rent");
    assert_eq!(
        bodies[0]["content"][0]["value"],
        "Completed: Pay rent\nCompleted at: 2026-03-04 08:30 UTC"
    );
    assert_eq!(bodies[0]["custom_args"]["event_id"], "e-done");
    assert_eq!(bodies[1]["subject"], "Reminder: Pay rent");
    assert_eq!(
        bodies[1]["content"][0]["value"],
        "Reminder: Pay rent\nDue: 2026-03-05 17:00 UTC"
    );
    assert_eq!(world.record("e-due", Channel::Email).event_type, "task.due");
}

#[test]
fn updates_deletions_and_unknown_types_notify_nobody() {
    let world = sendgrid(vec![accepted("m")]);
    for body in [
        task_event(TaskEventType::Updated, "e-up", "ada"),
        task_event(TaskEventType::Deleted, "e-del", "ada"),
        envelope("e-x", "task.archived", &json!({"anything": true})),
        // Not even looked at: nobody is notified of updates.
        envelope("e-bad-up", "task.updated", &json!("garbage")),
    ] {
        assert_eq!(world.deliver(&body, 0), Outcome::Success);
    }
    assert!(world.nothing_sent());
    assert_eq!(world.store.keys(), ["prefs:ada"]);
}

#[test]
fn what_can_never_be_read_is_dropped() {
    let world = sendgrid(vec![accepted("m")]);
    let mut mismatched: Value =
        serde_json::from_slice(&task_event(TaskEventType::Completed, "e2", "ada")).unwrap();
    mismatched["type"] = json!("task.created");
    let old_spec = json!({"specversion": "0.3", "id": "e", "type": "task.created", "data": {}});
    for body in [
        b"not json".to_vec(),
        b"{}".to_vec(),
        old_spec.to_string().into_bytes(),
        envelope("e1", "task.created", &json!({"title": "no task here"})),
        envelope("e1", "task.due", &json!({"event_id": "e1"})),
        mismatched.to_string().into_bytes(),
        created("", "ada"),
        created("e3", ""),
        created(&"x".repeat(201), "ada"),
    ] {
        let outcome = world.deliver(&body, 0);
        assert!(
            is_drop(&outcome),
            "{outcome:?} for {}",
            String::from_utf8_lossy(&body)
        );
    }
    assert!(world.nothing_sent());
}

#[test]
fn json_data_sent_as_a_string_is_read() {
    let world = sendgrid(vec![accepted("m")]);
    let mut event: Value = serde_json::from_slice(&created("e1", "ada")).unwrap();
    event["data"] = json!(event["data"].to_string());
    assert_eq!(
        world.deliver(event.to_string().as_bytes(), 0),
        Outcome::Success
    );
    assert_eq!(world.count(SENDGRID_URL), 1);
}

#[test]
fn without_a_provider_the_notice_goes_to_the_mailbox_once() {
    let world = World::new(Settings::mailbox_only());
    for minute in 0..2 {
        assert_eq!(
            world.deliver(&created("e1", "ada"), minute),
            Outcome::Success
        );
    }
    assert!(world.nothing_sent());
    let record = world.record("e1", Channel::Email);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(record.provider, Provider::Mailbox);
    assert_eq!(
        record.provider_message_id.as_deref(),
        Some("mailbox:e1:email")
    );
    assert_eq!(record.attempts, 1);
    let mailbox = world.stored("mailbox:ada").unwrap();
    assert_eq!(mailbox.as_array().unwrap().len(), 1);
    assert_eq!(mailbox[0]["subject"], "New task: Pay rent");
    assert_eq!(mailbox[0]["channel"], "email");

    // As if the instance had died after the mailbox and index were written
    // but before the record was: the redelivery adds neither again.
    let key = docket_notify::record::key("e1", Channel::Email);
    block_on(world.store.delete(&key)).unwrap();
    assert_eq!(world.deliver(&created("e1", "ada"), 5), Outcome::Success);
    assert_eq!(world.stored("mailbox:ada").unwrap(), mailbox);
    assert_eq!(world.stored("deliveries:ada").unwrap(), json!([key]));
}

#[test]
fn a_redelivery_after_sent_sends_nothing() {
    let world = sendgrid(vec![accepted("m")]);
    for minute in [0, 1, 10] {
        assert_eq!(
            world.deliver(&created("e1", "ada"), minute),
            Outcome::Success
        );
    }
    assert_eq!(world.count(SENDGRID_URL), 1);
    assert_eq!(world.record("e1", Channel::Email).attempts, 1);
}

#[test]
fn five_503s_then_202_retry_five_times_and_send_once() {
    let mut replies = vec![status(503); 5];
    replies.push(accepted("msg-6"));
    let world = sendgrid(replies);
    let outcomes: Vec<Outcome> = (0..7)
        .map(|minute| world.deliver(&created("e1", "ada"), minute))
        .collect();
    assert!(outcomes[..5].iter().all(is_retry), "{outcomes:?}");
    assert_eq!(outcomes[5], Outcome::Success);
    assert_eq!(outcomes[6], Outcome::Success, "a late redelivery");
    assert_eq!(world.count(SENDGRID_URL), 6, "five refused, one accepted");
    let record = world.record("e1", Channel::Email);
    assert_eq!(record.attempts, 6);
    assert_eq!(record.status, Status::Sent);
    assert_eq!(record.provider_message_id.as_deref(), Some("msg-6"));
    assert_eq!(record.last_error, None);
    assert_eq!(record.created_at, at(0));
    assert_eq!(record.sent_at, Some(at(5)));
}

#[test]
fn rate_limits_timeouts_and_unreachable_hosts_are_retried() {
    for reply in [
        status(429),
        status(500),
        Err(HttpFailure::Timeout),
        Err(HttpFailure::Unreachable("connection refused".into())),
    ] {
        let world = sendgrid(vec![reply.clone()]);
        let outcome = world.deliver(&created("e1", "ada"), 0);
        assert!(is_retry(&outcome), "{reply:?} gave {outcome:?}");
        let record = world.record("e1", Channel::Email);
        assert_eq!(record.status, Status::Pending);
        assert_eq!(record.lease_until, None, "the attempt is over");
        assert!(record.last_error.unwrap().starts_with("sendgrid: "));
    }
}

#[test]
fn a_400_fails_for_good_and_drops() {
    let refusal = json!({"errors": [{"message": "bad", "field": "from"}]});
    let world = sendgrid(vec![json_reply(400, refusal)]);
    assert!(is_drop(&world.deliver(&created("e1", "ada"), 0)));
    let record = world.record("e1", Channel::Email);
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.last_error.as_deref(), Some("sendgrid: HTTP 400"));
    // Redelivered: failed stays failed, nothing is sent again.
    assert!(is_drop(&world.deliver(&created("e1", "ada"), 1)));
    assert_eq!(world.count(SENDGRID_URL), 1);
}

#[test]
fn no_address_fails_for_good_without_calling_sendgrid() {
    let world = World::new(sendgrid_settings());
    let outcome = world.deliver(&created("e1", "ada"), 0);
    assert_eq!(outcome, Outcome::Drop("email: no email address".into()));
    let record = world.record("e1", Channel::Email);
    assert_eq!(record.status, Status::Failed);
    assert_eq!(record.attempts, 1);
    assert!(world.nothing_sent());
}

#[test]
fn disabled_events_and_channels_are_skipped() {
    let mut no_created = with_email("ada@example.com");
    no_created.events.created = false;
    let mut quiet = with_email("bob@example.com");
    quiet.channels.email = false;
    let world = sendgrid(vec![accepted("m")])
        .prefs("ada", &no_created)
        .prefs("bob", &quiet);
    assert_eq!(world.deliver(&created("e1", "ada"), 0), Outcome::Success);
    assert_eq!(world.deliver(&reminder("e2", "bob"), 0), Outcome::Success);
    assert!(world.nothing_sent());
    assert!(world.try_record("e1", Channel::Email).is_none());
    // Ada still hears about reminders.
    assert_eq!(world.deliver(&reminder("e3", "ada"), 0), Outcome::Success);
    assert_eq!(world.count(SENDGRID_URL), 1);
}

#[test]
fn always_503_then_the_dead_letter_marks_the_record_dead() {
    let world = sendgrid(vec![status(503)]);
    for minute in 0..3 {
        assert!(is_retry(&world.deliver(&created("e1", "ada"), minute)));
    }
    assert_eq!(
        world.dead_letter(&created("e1", "ada"), 10),
        Outcome::Success
    );
    let record = world.record("e1", Channel::Email);
    assert_eq!(record.status, Status::Dead);
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_error.as_deref(), Some("sendgrid: HTTP 503"));
    assert_eq!(record.updated_at, at(10));
    // A dead record is not tried again.
    assert!(is_drop(&world.deliver(&created("e1", "ada"), 11)));
    assert_eq!(world.count(SENDGRID_URL), 3);
}

#[test]
fn a_dropped_event_reaching_the_dead_letter_topic_stays_failed() {
    let world = World::new(sendgrid_settings());
    assert!(is_drop(&world.deliver(&created("e1", "ada"), 0)));
    assert_eq!(
        world.dead_letter(&created("e1", "ada"), 1),
        Outcome::Success
    );
    assert_eq!(world.record("e1", Channel::Email).status, Status::Failed);
}

#[test]
fn the_dead_letter_topic_leaves_sent_records_and_ignores_garbage() {
    let world = sendgrid(vec![accepted("m")]);
    world.deliver(&created("e1", "ada"), 0);
    assert_eq!(
        world.dead_letter(&created("e1", "ada"), 1),
        Outcome::Success
    );
    assert_eq!(world.record("e1", Channel::Email).status, Status::Sent);
    assert_eq!(world.dead_letter(b"garbage", 1), Outcome::Success);
    assert_eq!(
        world.dead_letter(&created("never-seen", "ada"), 1),
        Outcome::Success
    );
}

#[test]
fn a_store_that_is_down_means_retry() {
    let world = sendgrid(vec![accepted("m")]);
    world.store.set_down(true);
    let outcome = world.deliver(&created("e1", "ada"), 0);
    assert!(is_retry(&outcome), "{outcome:?}");
    assert!(is_retry(&world.dead_letter(&created("e1", "ada"), 0)));
    assert!(world.nothing_sent());
    world.store.set_down(false);
    assert_eq!(world.deliver(&created("e1", "ada"), 1), Outcome::Success);
    assert_eq!(world.count(SENDGRID_URL), 1);
}

#[test]
fn a_record_held_by_another_delivery_is_left_alone() {
    let world = sendgrid(vec![Err(HttpFailure::Timeout)]);
    world.deliver(&created("e1", "ada"), 0);
    // As if a delivery had claimed the record and were still at work.
    let mut held = world.record("e1", Channel::Email);
    held.lease_until = Some(at(2));
    let key = docket_notify::record::key("e1", Channel::Email);
    let value = serde_json::to_vec(&held).unwrap();
    block_on(world.store.save(&key, &value, None)).unwrap();
    world.http.answer(SENDGRID_URL, vec![accepted("m")]);
    assert_eq!(
        world.deliver(&created("e1", "ada"), 1),
        Outcome::Retry(BUSY.into())
    );
    assert_eq!(world.count(SENDGRID_URL), 1);
    // A holder that never comes back frees the record when its lease ends.
    assert_eq!(world.deliver(&created("e1", "ada"), 3), Outcome::Success);
    assert_eq!(world.record("e1", Channel::Email).attempts, 2);
}

/// A store in which another delivery of the same event writes the record
/// between this delivery's read and its claim, once armed.
struct Racing {
    inner: MemoryStore,
    armed: Cell<bool>,
}

impl Racing {
    fn races(&self, key: &str) -> bool {
        key.starts_with("delivery:") && self.armed.replace(false)
    }
}

impl StateStore for Racing {
    async fn get(&self, key: &str) -> Result<Option<Stored>, StoreError> {
        self.inner.get(key).await
    }

    async fn save(&self, key: &str, value: &[u8], etag: Option<&str>) -> Result<(), StoreError> {
        if self.races(key) {
            self.inner.save(key, value, None).await?;
        }
        self.inner.save(key, value, etag).await
    }

    async fn create(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        if self.races(key) {
            self.inner.create(key, value).await?;
        }
        self.inner.create(key, value).await
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
}

#[test]
fn losing_the_claim_to_another_delivery_means_retry_without_sending() {
    let world = sendgrid(vec![status(503), accepted("m")]);
    let store = Racing {
        inner: world.store,
        armed: Cell::new(false),
    };
    let notifier = Notifier {
        http: &world.http,
        store: &store,
        settings: &world.settings,
    };
    let run = |minute| block_on(notifier.deliver(&created("e1", "ada"), at(minute)));
    let busy = Outcome::Retry(BUSY.into());

    store.armed.set(true);
    assert_eq!(run(0), busy, "the first claim (create) lost");
    assert_eq!(world.http.count(SENDGRID_URL), 0);
    assert!(is_retry(&run(3)), "the 503");
    store.armed.set(true);
    assert_eq!(run(4), busy, "a later claim (save with ETag) lost");
    assert_eq!(world.http.count(SENDGRID_URL), 1);
    assert_eq!(run(7), Outcome::Success);
    assert_eq!(world.http.count(SENDGRID_URL), 2);
}
