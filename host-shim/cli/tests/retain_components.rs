//! `docket up --component`: one service of the app, as a pod of a
//! deployment serves it (Spin's SPIN_COMPONENTS_TO_RETAIN).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::todo::{Backend, Setup, TodoApp};

#[test]
fn only_the_retained_component_is_served() {
    let setup = Setup {
        args: vec!["--component".into(), "todo-api".into()],
        ..Setup::default()
    };
    let app = TodoApp::start_with(Backend::Sqlite, "retain", setup);
    assert_eq!(app.call(None, "GET", "/api/priorities", None).status, 200);
    assert_eq!(
        app.docket
            .request("POST", "/recurring-cron", &[], "")
            .status,
        404
    );
    assert_eq!(
        app.docket.request("GET", "/dapr/subscribe", &[], "").status,
        404
    );
    let preferences = app.call(Some("ann"), "GET", "/api/notifications/preferences", None);
    // todo-api's `/api/...` now answers for the path: it has no such route.
    assert_eq!(preferences.status, 404, "{}", preferences.body);
}
