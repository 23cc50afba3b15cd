//! Task-creation load from several threads, counting what was answered: a
//! fault test runs it while it breaks something, then compares what went in
//! (acknowledged creates) with what came out.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::thread::JoinHandle;
use std::time::Duration;

use serde_json::json;

/// What one create request came to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    /// The status code, and whether a 503 carried `Retry-After`.
    Answered { status: u16, retry_after: bool },
    /// No answer: the connection failed (the server was down).
    NoAnswer,
}

#[derive(Default)]
struct Shared {
    stop: AtomicBool,
    sent: AtomicUsize,
    /// Titles of the tasks answered 201.
    created: Mutex<Vec<String>>,
    outcomes: Mutex<BTreeMap<Outcome, usize>>,
}

/// Where the load goes; a test points it at a restarted server.
pub struct Target {
    pub base: RwLock<String>,
    pub token: String,
    pub user: String,
}

pub struct Load {
    shared: Arc<Shared>,
    workers: Vec<JoinHandle<()>>,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(20)))
        .build()
        .into()
}

impl Load {
    /// `threads` clients creating tasks titled `<prefix> <thread>-<n>` as fast
    /// as they are answered, pausing `pause` between requests.
    pub fn start(target: Arc<Target>, prefix: &str, threads: usize, pause: Duration) -> Load {
        let shared = Arc::new(Shared::default());
        let workers = (0..threads)
            .map(|thread| {
                let (shared, target) = (shared.clone(), target.clone());
                let prefix = prefix.to_string();
                std::thread::spawn(move || {
                    let agent = agent();
                    let mut n = 0;
                    while !shared.stop.load(Ordering::SeqCst) {
                        let title = format!("{prefix} {thread}-{n}");
                        n += 1;
                        let outcome = create(&agent, &target, &title);
                        shared.sent.fetch_add(1, Ordering::SeqCst);
                        if outcome
                            == (Outcome::Answered {
                                status: 201,
                                retry_after: false,
                            })
                        {
                            shared.created.lock().unwrap().push(title);
                        }
                        let no_answer = outcome == Outcome::NoAnswer;
                        *shared.outcomes.lock().unwrap().entry(outcome).or_default() += 1;
                        // A refused connection answers at once; don't spin on it.
                        std::thread::sleep(if no_answer {
                            Duration::from_millis(50)
                        } else {
                            pause
                        });
                    }
                })
            })
            .collect();
        Load { shared, workers }
    }

    pub fn sent(&self) -> usize {
        self.shared.sent.load(Ordering::SeqCst)
    }

    pub fn created(&self) -> usize {
        self.shared.created.lock().unwrap().len()
    }

    /// Waits until `more` further requests have been answered 201.
    pub fn wait_for_created(&self, more: usize) {
        let target = self.created() + more;
        super::redis::wait_until(&format!("{target} tasks created"), || {
            self.created() >= target
        });
    }

    /// Stops the clients; returns the acknowledged titles and every outcome.
    pub fn finish(mut self) -> (Vec<String>, BTreeMap<Outcome, usize>) {
        self.shared.stop.store(true, Ordering::SeqCst);
        for worker in self.workers.drain(..) {
            worker.join().expect("load thread");
        }
        let created = self.shared.created.lock().unwrap().clone();
        let outcomes = self.shared.outcomes.lock().unwrap().clone();
        (created, outcomes)
    }
}

fn create(agent: &ureq::Agent, target: &Target, title: &str) -> Outcome {
    let url = format!("{}/api/{}/tasks", target.base.read().unwrap(), target.user);
    let result = agent
        .post(&url)
        .header("authorization", &format!("Bearer {}", target.token))
        .header("content-type", "application/json")
        .send(json!({"title": title}).to_string());
    match result {
        Ok(mut response) => {
            let _ = response.body_mut().read_to_string();
            Outcome::Answered {
                status: response.status().as_u16(),
                retry_after: response.headers().contains_key("retry-after"),
            }
        }
        Err(_) => Outcome::NoAnswer,
    }
}

/// `status (Retry-After): count` lines, for a test's report.
pub fn describe(outcomes: &BTreeMap<Outcome, usize>) -> String {
    outcomes
        .iter()
        .map(|(outcome, count)| match outcome {
            Outcome::Answered {
                status,
                retry_after,
            } => format!(
                "{status}{}: {count}",
                if *retry_after { " +Retry-After" } else { "" }
            ),
            Outcome::NoAnswer => format!("no answer: {count}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
