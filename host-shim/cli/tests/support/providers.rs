//! A local stand-in for SendGrid's v3 mail send API and FCM's HTTP v1 API
//! with Google's OAuth2 token endpoint, speaking their documented shapes
//! and failing on demand.

use std::process::Command;
use std::sync::atomic::{AtomicI64, AtomicU16, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::recording_app::{FullAnswer, Recorded, RecordingApp};

pub const SENDGRID_KEY: &str = "SG.docket-test-key";
pub const MAIL_PATH: &str = "/v3/mail/send";
pub const TOKEN_PATH: &str = "/token";
pub const PROJECT: &str = "docket-test";

#[derive(Default)]
struct Behaviour {
    /// Sends still to fail; negative: every send fails.
    failures_left: AtomicI64,
    failure_status: AtomicU16,
    next_id: AtomicUsize,
    accepted_mail: Mutex<Vec<Value>>,
    accepted_push: Mutex<Vec<Value>>,
}

pub struct Providers {
    pub app: RecordingApp,
    behaviour: Arc<Behaviour>,
}

fn answer(status: u16, body: Value) -> FullAnswer {
    FullAnswer {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.to_string(),
    }
}

fn sendgrid_error(status: u16, message: &str) -> FullAnswer {
    answer(
        status,
        json!({"errors": [{"message": message, "field": null}]}),
    )
}

impl Behaviour {
    fn failing(&self) -> Option<u16> {
        let left = self.failures_left.load(Ordering::SeqCst);
        if left == 0 {
            return None;
        }
        if left > 0 {
            self.failures_left.fetch_sub(1, Ordering::SeqCst);
        }
        Some(self.failure_status.load(Ordering::SeqCst))
    }

    fn id(&self) -> usize {
        self.next_id.fetch_add(1, Ordering::SeqCst) + 1
    }

    fn mail(&self, request: &Recorded) -> FullAnswer {
        if request.header("authorization") != Some(&format!("Bearer {SENDGRID_KEY}")) {
            return sendgrid_error(401, "The provided authorization grant is invalid");
        }
        let body = request.json();
        let complete = body["personalizations"][0]["to"][0]["email"].is_string()
            && body["from"]["email"].is_string()
            && body["subject"].is_string()
            && body["content"][0]["value"].is_string();
        if !complete {
            return sendgrid_error(
                400,
                "personalizations, from, subject and content are required",
            );
        }
        if let Some(status) = self.failing() {
            return sendgrid_error(status, "try again later");
        }
        self.accepted_mail.lock().unwrap().push(body);
        FullAnswer {
            status: 202,
            headers: vec![("x-message-id".into(), format!("sg-{}", self.id()))],
            body: String::new(),
        }
    }

    fn token(&self, request: &Recorded) -> FullAnswer {
        let form: String = String::from_utf8_lossy(&request.body).into_owned();
        let grant =
            form.contains("grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer");
        let assertion = form
            .split('&')
            .find_map(|pair| pair.strip_prefix("assertion="))
            .unwrap_or_default();
        if !grant || assertion.split('.').count() != 3 {
            return answer(400, json!({"error": "invalid_grant"}));
        }
        answer(
            200,
            json!({"access_token": format!("ya29.test-{}", self.id()), "expires_in": 3599, "token_type": "Bearer"}),
        )
    }

    fn push(&self, request: &Recorded) -> FullAnswer {
        let authorized = request
            .header("authorization")
            .is_some_and(|h| h.starts_with("Bearer ya29.test-"));
        if !authorized {
            return answer(
                401,
                json!({"error": {"code": 401, "status": "UNAUTHENTICATED"}}),
            );
        }
        let body = request.json();
        if !body["message"]["token"].is_string() {
            return answer(
                400,
                json!({"error": {"code": 400, "status": "INVALID_ARGUMENT"}}),
            );
        }
        if let Some(status) = self.failing() {
            return answer(
                status,
                json!({"error": {"code": status, "status": "UNAVAILABLE"}}),
            );
        }
        self.accepted_push.lock().unwrap().push(body);
        answer(
            200,
            json!({"name": format!("projects/{PROJECT}/messages/{}", self.id())}),
        )
    }
}

impl Providers {
    pub fn start() -> Providers {
        let behaviour = Arc::new(Behaviour::default());
        let serving = behaviour.clone();
        let push_path = format!("/v1/projects/{PROJECT}/messages:send");
        let app = RecordingApp::start_full(move |request| match request.path.as_str() {
            MAIL_PATH => serving.mail(request),
            TOKEN_PATH => serving.token(request),
            path if path == push_path => serving.push(request),
            _ => answer(404, json!({"error": "not found"})),
        });
        Providers { app, behaviour }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.app.port())
    }

    /// The next `count` sends fail with `status`.
    pub fn fail_next(&self, count: i64, status: u16) {
        self.behaviour
            .failure_status
            .store(status, Ordering::SeqCst);
        self.behaviour.failures_left.store(count, Ordering::SeqCst);
    }

    pub fn fail_always(&self, status: u16) {
        self.fail_next(-1, status);
    }

    pub fn accepted_mail(&self) -> Vec<Value> {
        self.behaviour.accepted_mail.lock().unwrap().clone()
    }

    pub fn accepted_push(&self) -> Vec<Value> {
        self.behaviour.accepted_push.lock().unwrap().clone()
    }

    /// A Google service-account key file whose token endpoint is this
    /// server, with an RSA key generated for the test.
    pub fn service_account(&self) -> String {
        let output = Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
            ])
            .output()
            .expect("openssl");
        assert!(output.status.success(), "openssl genpkey failed");
        json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "test-key-1",
            "private_key": String::from_utf8(output.stdout).unwrap(),
            "client_email": format!("docket@{PROJECT}.iam.gserviceaccount.com"),
            "token_uri": format!("{}{TOKEN_PATH}", self.url()),
        })
        .to_string()
    }
}
