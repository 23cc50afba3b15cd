//! The todo API through `docket up` and the real todo-api `.wasm`, on the
//! embedded SQLite database and on Postgres: every endpoint, the filters,
//! isolation between users.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use serde_json::{Value, json};
use support::todo::{Backend, TodoApp};

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .expect("a JSON array")
        .iter()
        .map(|t| t["id"].as_i64().expect("id"))
        .collect()
}

fn tasks_lifecycle(backend: Backend) {
    let app = TodoApp::start(backend, "lifecycle");
    let task = app.create_task(
        "alice",
        &json!({"title": "Write report", "description": "Q3", "priority": "High",
                "due_at": "2030-01-02T09:00:00Z", "remind_at": "2030-01-02T08:00:00Z"}),
    );
    let id = task["id"].as_i64().unwrap();
    assert_eq!(task["priority"], "High");
    assert_eq!(task["due_at"], "2030-01-02T09:00:00.000Z");
    assert_eq!(task["remind_at"], "2030-01-02T08:00:00.000Z");

    let got = app.call(
        Some("alice"),
        "GET",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(got.status, 200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.json(), task);

    let put = app.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}"),
        Some(&json!({"title": "Write the report", "remind_at": null, "priority": "Critical"})),
    );
    assert_eq!(put.status, 200, "{}", put.body);
    let put = put.json();
    assert_eq!(put["title"], "Write the report");
    assert_eq!(put["remind_at"], Value::Null);
    assert_eq!(put["priority"], "Critical");
    assert_eq!(put["version"], 2);

    let done = app.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{id}/complete"),
        None,
    );
    assert_eq!(done.json()["completed"], true);
    assert!(done.json()["completed_at"].is_string());
    let undone = app.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{id}/complete"),
        None,
    );
    assert_eq!(undone.json()["completed"], false);

    let deleted = app.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}"),
        None,
    );
    assert_eq!(deleted.status, 204);
    assert_eq!(
        app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None
        )
        .status,
        404
    );
    // Five changes, five events, in one outbox.
    assert_eq!(
        app.scalar(&format!(
            "SELECT count(*) FROM event_outbox WHERE payload LIKE '%\"task_id\":{id},%'"
        )),
        5
    );
}

fn tags_and_priorities(backend: Backend) {
    let app = TodoApp::start(backend, "tags");
    let priorities = app.call(None, "GET", "/api/priorities", None).json();
    assert_eq!(priorities.as_array().unwrap().len(), 4);
    assert_eq!(
        priorities[3],
        json!({"id": 4, "name": "Critical", "weight": 40})
    );

    let work = app.call(
        Some("alice"),
        "POST",
        "/api/alice/tags",
        Some(&json!({"name": "work", "color": "#FF0000"})),
    );
    assert_eq!(work.status, 201, "{}", work.body);
    assert_eq!(
        work.header("location").unwrap(),
        format!("/api/alice/tags/{}", work.json()["id"])
    );
    let work_id = work.json()["id"].as_i64().unwrap();
    let duplicate = app.call(
        Some("alice"),
        "POST",
        "/api/alice/tags",
        Some(&json!({"name": "work"})),
    );
    assert_eq!(duplicate.status, 409);
    let renamed = app.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tags/{work_id}"),
        Some(&json!({"name": "job", "color": "#00ff00"})),
    );
    assert_eq!(renamed.json()["name"], "job");
    assert_eq!(renamed.json()["color"], "#00ff00");

    let task = app.create_task("alice", &json!({"title": "tagged", "tag_ids": [work_id]}));
    let id = task["id"].as_i64().unwrap();
    assert_eq!(task["tags"][0]["name"], "job");
    let detached = app.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tasks/{id}/tags/{work_id}"),
        None,
    );
    assert_eq!(detached.json()["tags"], json!([]));
    let attached = app.call(
        Some("alice"),
        "PUT",
        &format!("/api/alice/tasks/{id}/tags/{work_id}"),
        None,
    );
    assert_eq!(attached.json()["tags"][0]["id"], work_id);

    let bobs = app.call(Some("bob"), "GET", "/api/bob/tags", None);
    assert_eq!(bobs.json(), json!([]));
    let stolen = app.call(
        Some("bob"),
        "PATCH",
        &format!("/api/bob/tags/{work_id}"),
        Some(&json!({"name": "mine"})),
    );
    assert_eq!(stolen.status, 404);

    let deleted = app.call(
        Some("alice"),
        "DELETE",
        &format!("/api/alice/tags/{work_id}"),
        None,
    );
    assert_eq!(deleted.status, 204);
    let task = app
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .json();
    assert_eq!(task["tags"], json!([]));
}

fn list_filters_sort_and_pages(backend: Backend) {
    let app = TodoApp::start(backend, "filters");
    let home = app
        .call(
            Some("alice"),
            "POST",
            "/api/alice/tags",
            Some(&json!({"name": "home"})),
        )
        .json()["id"]
        .as_i64()
        .unwrap();
    let a = app.create_task(
        "alice",
        &json!({"title": "Alpha bills", "priority": "Low", "due_at": "2020-01-01T00:00:00Z"}),
    );
    let b = app.create_task("alice", &json!({"title": "beta", "description": "pay the BILLS", "priority": "Critical", "due_at": "2031-06-01T00:00:00Z", "tag_ids": [home]}));
    let c = app.create_task(
        "alice",
        &json!({"title": "Gamma 100%_done", "priority": "Medium"}),
    );
    let d = app.create_task(
        "alice",
        &json!({"title": "delta", "priority": "High", "due_at": "2030-06-01T00:00:00Z"}),
    );
    app.create_task("bob", &json!({"title": "bob's bills"}));
    let id = |t: &Value| t["id"].as_i64().unwrap();
    app.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/tasks/{}/complete", id(&d)),
        None,
    );

    let list = |query: &str| {
        let reply = app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks{query}"),
            None,
        );
        assert_eq!(reply.status, 200, "{query}: {}", reply.body);
        reply
    };
    assert_eq!(ids(&list("").json()), [id(&d), id(&c), id(&b), id(&a)]);
    assert_eq!(ids(&list("?status=completed").json()), [id(&d)]);
    assert_eq!(
        ids(&list("?status=pending&sort=created&order=asc").json()),
        [id(&a), id(&b), id(&c)]
    );
    assert_eq!(
        ids(&list("?priority=high,critical&sort=priority").json()),
        [id(&b), id(&d)]
    );
    assert_eq!(ids(&list(&format!("?tag={home}")).json()), [id(&b)]);
    assert_eq!(
        ids(&list("?due_before=2031-01-01T00:00:00Z&sort=due").json()),
        [id(&a), id(&d)]
    );
    assert_eq!(
        ids(&list("?due_after=2030-01-01T00:00:00Z&sort=due&order=desc").json()),
        [id(&b), id(&d)]
    );
    assert_eq!(ids(&list("?overdue=true").json()), [id(&a)]);
    assert_eq!(ids(&list("?q=bills&sort=title").json()), [id(&a), id(&b)]);
    // LIKE wildcards in a search are literal characters.
    assert_eq!(ids(&list("?q=100%25_").json()), [id(&c)]);
    assert_eq!(ids(&list("?q=%25").json()), [id(&c)]);
    assert_eq!(
        ids(&list("?sort=title").json()),
        [id(&a), id(&b), id(&d), id(&c)]
    );
    assert_eq!(
        ids(&list("?sort=due").json()),
        [id(&a), id(&d), id(&b), id(&c)]
    );

    let page = list("?sort=created&order=asc&limit=2");
    assert_eq!(ids(&page.json()), [id(&a), id(&b)]);
    assert_eq!(page.header("x-total-count"), Some("4"));
    let link = page.header("link").unwrap().to_string();
    assert!(
        link.contains("offset=2") && link.contains("rel=\"next\""),
        "{link}"
    );
    let next = list("?sort=created&order=asc&limit=2&offset=2");
    assert_eq!(ids(&next.json()), [id(&c), id(&d)]);
    assert!(next.header("link").unwrap().contains("rel=\"prev\""));
    assert!(!next.header("link").unwrap().contains("rel=\"next\""));

    for bad in [
        "?status=done",
        "?sort=size",
        "?order=up",
        "?limit=0",
        "?limit=500",
        "?offset=-1",
        "?priority=urgent",
        "?due_before=yesterday",
        "?overdue=maybe",
        "?colour=red",
        "?tag=x",
    ] {
        let reply = app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks{bad}"),
            None,
        );
        assert_eq!(reply.status, 400, "{bad}: {}", reply.body);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
}

fn users_are_isolated(backend: Backend) {
    let app = TodoApp::start(backend, "isolation");
    let secret = app.create_task("alice", &json!({"title": "alice's secret"}));
    let id = secret["id"].as_i64().unwrap();
    let bobs = app.create_task("bob", &json!({"title": "bob's"}));
    let tag = app
        .call(
            Some("alice"),
            "POST",
            "/api/alice/tags",
            Some(&json!({"name": "private"})),
        )
        .json()["id"]
        .as_i64()
        .unwrap();

    for (method, path, body) in [
        ("GET", format!("/api/bob/tasks/{id}"), None),
        (
            "PUT",
            format!("/api/bob/tasks/{id}"),
            Some(json!({"title": "mine now"})),
        ),
        ("DELETE", format!("/api/bob/tasks/{id}"), None),
        ("PATCH", format!("/api/bob/tasks/{id}/complete"), None),
        ("PUT", format!("/api/bob/tasks/{id}/tags/{tag}"), None),
    ] {
        let reply = app.call(Some("bob"), method, &path, body.as_ref());
        assert_eq!(reply.status, 404, "{method} {path}: {}", reply.body);
        assert!(!reply.body.contains("secret"));
    }
    // Bob cannot put Alice's tag on his own task either.
    let reply = app.call(
        Some("bob"),
        "PUT",
        &format!("/api/bob/tasks/{}/tags/{tag}", bobs["id"]),
        None,
    );
    assert_eq!(reply.status, 422);
    // Bob's token on Alice's paths.
    for (method, path) in [
        ("GET", "/api/alice/tasks".to_string()),
        ("GET", format!("/api/alice/tasks/{id}")),
        ("DELETE", format!("/api/alice/tasks/{id}")),
    ] {
        assert_eq!(
            app.call(Some("bob"), method, &path, None).status,
            403,
            "{method} {path}"
        );
    }
    assert_eq!(
        ids(&app.call(Some("bob"), "GET", "/api/bob/tasks", None).json()),
        [bobs["id"].as_i64().unwrap()]
    );
    assert_eq!(
        app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None
        )
        .json(),
        secret
    );
}

fn recurring_templates(backend: Backend) {
    let app = TodoApp::start(backend, "recurring");
    let spec = json!({"pattern": "weekly", "weekdays": ["mon"], "time_of_day": "09:00",
                      "timezone": "Europe/Berlin", "starts_at": "2030-01-01T00:00:00Z"});
    let created = app.call(
        Some("alice"),
        "POST",
        "/api/alice/recurring",
        Some(&json!({"title": "Standup", "priority": "High", "recurrence": spec})),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let template = created.json();
    let id = template["id"].as_i64().unwrap();
    assert_eq!(template["enabled"], true);
    // Monday 7 January 2030, 09:00 in Berlin (UTC+1).
    assert_eq!(template["next_occurrence"], "2030-01-07T08:00:00.000Z");
    assert_eq!(template["recurrence"]["weekdays"], json!(["mon"]));

    let preview = app
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/recurring/{id}/preview?count=3"),
            None,
        )
        .json();
    assert_eq!(
        preview["occurrences"],
        json!([
            "2030-01-07T08:00:00.000Z",
            "2030-01-14T08:00:00.000Z",
            "2030-01-21T08:00:00.000Z"
        ])
    );

    let disabled = app
        .call(
            Some("alice"),
            "POST",
            &format!("/api/alice/recurring/{id}/disable"),
            None,
        )
        .json();
    assert_eq!(disabled["enabled"], false);
    assert_eq!(disabled["next_occurrence"], Value::Null);
    let enabled = app
        .call(
            Some("alice"),
            "POST",
            &format!("/api/alice/recurring/{id}/enable"),
            None,
        )
        .json();
    assert_eq!(enabled["next_occurrence"], "2030-01-07T08:00:00.000Z");

    let patched = app.call(
        Some("alice"),
        "PATCH",
        &format!("/api/alice/recurring/{id}"),
        Some(&json!({"title": "Daily standup", "recurrence": {"pattern": "monthly", "day_of_month": 31, "time_of_day": "18:30", "timezone": "UTC", "starts_at": "2030-02-01T00:00:00Z"}})),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    // The 31st falls on February's last day.
    assert_eq!(
        patched.json()["next_occurrence"],
        "2030-02-28T18:30:00.000Z"
    );
    assert_eq!(patched.json()["title"], "Daily standup");

    let list = app
        .call(Some("alice"), "GET", "/api/alice/recurring", None)
        .json();
    assert_eq!(ids(&list), [id]);
    assert_eq!(
        app.call(
            Some("bob"),
            "GET",
            &format!("/api/bob/recurring/{id}"),
            None
        )
        .status,
        404
    );

    let unsaved = app.call(
        Some("alice"),
        "POST",
        "/api/alice/recurring/preview",
        Some(&json!({"recurrence": {"pattern": "cron", "cron": "0 12 * * 1-5", "timezone": "UTC", "starts_at": "2030-03-01T00:00:00Z"}, "count": 2})),
    );
    assert_eq!(
        unsaved.json()["occurrences"],
        json!(["2030-03-01T12:00:00.000Z", "2030-03-04T12:00:00.000Z"])
    );

    for (field, recurrence) in [
        (
            "recurrence.timezone",
            json!({"pattern": "daily", "timezone": "Mars/Olympus", "starts_at": "2030-01-01T00:00:00Z"}),
        ),
        (
            "recurrence.cron",
            json!({"pattern": "cron", "cron": "61 * * * *", "timezone": "UTC", "starts_at": "2030-01-01T00:00:00Z"}),
        ),
    ] {
        let reply = app.call(
            Some("alice"),
            "POST",
            "/api/alice/recurring",
            Some(&json!({"title": "x", "recurrence": recurrence})),
        );
        assert_eq!(reply.status, 422, "{}", reply.body);
        assert_eq!(reply.json()["field"], field);
    }
    assert_eq!(
        app.call(
            Some("alice"),
            "DELETE",
            &format!("/api/alice/recurring/{id}"),
            None
        )
        .status,
        204
    );
    assert_eq!(
        app.call(
            Some("alice"),
            "GET",
            &format!("/api/alice/recurring/{id}"),
            None
        )
        .status,
        404
    );
}

fn the_openapi_document_is_served(backend: Backend) {
    let app = TodoApp::start(backend, "openapi");
    let reply = app.call(None, "GET", "/api/openapi.json", None);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json()["openapi"], "3.1.0");
    let unknown = app.call(None, "GET", "/api/nothing/here/at/all", None);
    assert_eq!(unknown.status, 404);
    let wrong = app.call(Some("alice"), "PATCH", "/api/alice/tasks", None);
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("GET, POST, OPTIONS"));
}

fn concurrent_changes_to_one_task_all_apply(backend: Backend) {
    let app = TodoApp::start(backend, "concurrent");
    let task = app.create_task("alice", &json!({"title": "clicked many times"}));
    let id = task["id"].as_i64().unwrap();
    let path = format!("/api/alice/tasks/{id}/complete");
    let statuses: Vec<u16> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..20)
            .map(|_| scope.spawn(|| app.call(Some("alice"), "PATCH", &path, None).status))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    assert!(statuses.iter().all(|s| *s == 200), "{statuses:?}");
    let after = app
        .call(
            Some("alice"),
            "GET",
            &format!("/api/alice/tasks/{id}"),
            None,
        )
        .json();
    assert_eq!(after["version"], 21);
    assert_eq!(after["completed"], false, "an even number of toggles");
}

on_both_backends!(
    concurrent_changes_to_one_task_all_apply,
    tasks_lifecycle,
    tags_and_priorities,
    list_filters_sort_and_pages,
    users_are_isolated,
    recurring_templates,
    the_openapi_document_is_served,
);
