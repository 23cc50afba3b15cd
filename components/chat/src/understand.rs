//! Built-in understanding: a plain request to one intent, without a
//! language model. It recognises a fixed set of phrasings (see the tests);
//! anything else is `Unknown`, answered with help.

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Tz;
use docket_events::Priority;

use crate::when::{self, local_to_utc, next_monday, take_moment, week_start};
use crate::words::{self, Word, find, join, split, starts_with, strip_prefix, strip_suffix};

/// How a request names a task: by id ("task 3", "#3") or by its title.
#[derive(Debug, Clone, PartialEq)]
pub enum TaskRef {
    Id(i64),
    Title(String),
}

/// The span a listing asks about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ListWindow {
    Today,
    Tomorrow,
    ThisWeek,
    NextWeek,
    Overdue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    AddTask {
        title: String,
        due_at: Option<DateTime<Utc>>,
        priority: Option<Priority>,
        tags: Vec<String>,
    },
    ListTasks {
        window: Option<ListWindow>,
        /// `due_after <= due_at < due_before`, from the window.
        due_after: Option<DateTime<Utc>>,
        due_before: Option<DateTime<Utc>>,
        completed: Option<bool>,
        priority: Option<Priority>,
        tag: Option<String>,
    },
    CompleteTask(TaskRef),
    ReopenTask(TaskRef),
    DeleteTask(TaskRef),
    UpdateTask {
        task: TaskRef,
        title: Option<String>,
        priority: Option<Priority>,
        due_at: Option<DateTime<Utc>>,
    },
    Help,
    Unknown,
}

const POLITE: &[&str] = &[
    "please",
    "hey",
    "hi",
    "ok",
    "okay",
    "can you",
    "could you",
    "would you",
    "will you",
    "pls",
];
const ADD: &[&str] = &[
    "add a task to",
    "add a task",
    "add task",
    "add",
    "create a task to",
    "create a task",
    "create task",
    "create",
    "new task",
    "remind me to",
    "remind me",
    "remember to",
    "i need to",
    "i have to",
    "i must",
    "todo",
    "to do",
];
const COMPLETE: &[&str] = &[
    "i'm done with",
    "im done with",
    "i am done with",
    "done with",
    "i have finished",
    "i've finished",
    "i finished",
    "finished",
    "i completed",
    "complete",
    "completed",
    "check off",
    "tick off",
    "mark",
    "finish",
    "done",
];
const REOPEN: &[&str] = &["reopen", "undo", "uncomplete", "unmark"];
const DELETE: &[&str] = &[
    "delete",
    "remove",
    "cancel",
    "drop",
    "forget about",
    "get rid of",
];
const RESCHEDULE: &[&str] = &[
    "move",
    "reschedule",
    "postpone",
    "push",
    "change the due date of",
    "set the due date of",
];
const SET_PRIORITY: &[&str] = &[
    "make",
    "set",
    "change the priority of",
    "change priority of",
    "set the priority of",
    "set priority of",
    "mark",
];
const LIST: &[&str] = &[
    "what's",
    "whats",
    "what is",
    "what are",
    "what do i have",
    "what have i got",
    "show me",
    "show",
    "list",
    "tell me",
    "anything",
    "do i have",
    "which tasks",
    "my tasks",
    "my todo",
    "get",
];

fn priority_word(key: &str) -> Option<Priority> {
    match key {
        "critical" | "urgent" | "asap" => Some(Priority::Critical),
        "high" | "important" => Some(Priority::High),
        "medium" | "normal" => Some(Priority::Medium),
        "low" => Some(Priority::Low),
        _ => None,
    }
}

/// Takes "high priority", "priority high", "with low priority", "urgent", "!high".
fn take_priority(words: &mut Vec<Word>) -> Option<Priority> {
    for i in 0..words.len() {
        let key = words[i].key.trim_start_matches('!');
        let next = words.get(i + 1).map(|w| w.key.as_str());
        let (priority, start, count) = match (priority_word(key), next) {
            (Some(p), Some("priority" | "prio")) => (p, i, 2),
            (Some(p), _)
                if matches!(key, "urgent" | "asap" | "critical")
                    || words[i].key.starts_with('!') =>
            {
                (p, i, 1)
            }
            (None, _) if key == "priority" || key == "prio" => match next.and_then(priority_word) {
                Some(p) => (p, i, 2),
                None => continue,
            },
            _ => continue,
        };
        words.drain(start..start + count);
        if start > 0
            && matches!(
                words[start - 1].key.as_str(),
                "with" | "as" | "at" | "a" | "to"
            )
        {
            words.remove(start - 1);
        }
        return Some(priority);
    }
    None
}

/// Takes every `#tag` (a `#` and a word starting with a letter).
fn take_tags(words: &mut Vec<Word>) -> Vec<String> {
    let mut tags = Vec::new();
    words.retain(|w| {
        let tag = w.key.strip_prefix('#').unwrap_or("");
        let is_tag = tag.chars().next().is_some_and(char::is_alphabetic);
        if is_tag {
            tags.push(tag.to_string());
        }
        !is_tag
    });
    tags
}

fn task_ref(mut words: Vec<Word>) -> Option<TaskRef> {
    strip_prefix(&mut words, &["the task", "task", "the", "my"]);
    strip_suffix(&mut words, &["task", "todo"]);
    if let [single] = words.as_slice()
        && let Ok(id) = single.key.trim_start_matches('#').parse::<i64>()
    {
        return Some(TaskRef::Id(id));
    }
    let title = join(&words);
    (!title.is_empty()).then_some(TaskRef::Title(title))
}

fn add(mut words: Vec<Word>, now: DateTime<Tz>) -> Intent {
    let priority = take_priority(&mut words);
    let tags = take_tags(&mut words);
    let due_at = take_moment(&mut words, now);
    strip_prefix(&mut words, &["a task to", "a task", "task", "to"]);
    strip_suffix(
        &mut words,
        &[
            "to my list",
            "to the list",
            "to my tasks",
            "to my todo list",
            "to the todo list",
        ],
    );
    let title = join(&words);
    if title.is_empty() {
        return Intent::Unknown;
    }
    Intent::AddTask {
        title,
        due_at,
        priority,
        tags,
    }
}

fn list(mut words: Vec<Word>, now: DateTime<Tz>) -> Intent {
    let priority = take_priority(&mut words);
    let tag = take_tags(&mut words).into_iter().next();
    let has = |phrase: &str| find(&words, phrase).is_some();
    let window = if has("overdue") || has("late") || has("past due") {
        Some(ListWindow::Overdue)
    } else if has("next week") {
        Some(ListWindow::NextWeek)
    } else if has("this week") || has("week") {
        Some(ListWindow::ThisWeek)
    } else if has("tomorrow") {
        Some(ListWindow::Tomorrow)
    } else if has("today") || has("tonight") {
        Some(ListWindow::Today)
    } else {
        None
    };
    let completed = if has("completed") || has("done") || has("finished") {
        Some(true)
    } else if has("pending") || has("open") || has("left") || has("remaining") || window.is_some() {
        Some(false)
    } else {
        None
    };
    let (due_after, due_before) = window_bounds(window, now);
    Intent::ListTasks {
        window,
        due_after,
        due_before,
        completed,
        priority,
        tag,
    }
}

/// The UTC bounds of a window, in the user's days.
fn window_bounds(
    window: Option<ListWindow>,
    now: DateTime<Tz>,
) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    let today = now.date_naive();
    let midnight = chrono::NaiveTime::MIN;
    let day = |date| local_to_utc(now.timezone(), date, midnight);
    match window {
        None => (None, None),
        Some(ListWindow::Overdue) => (None, Some(now.with_timezone(&Utc))),
        Some(ListWindow::Today) => (day(today), day(today + Duration::days(1))),
        Some(ListWindow::Tomorrow) => (
            day(today + Duration::days(1)),
            day(today + Duration::days(2)),
        ),
        Some(ListWindow::ThisWeek) => (day(week_start(today)), day(next_monday(today))),
        Some(ListWindow::NextWeek) => (
            day(next_monday(today)),
            day(next_monday(today) + Duration::days(7)),
        ),
    }
}

/// "move X to friday", "make X high priority", "rename X to Y".
fn update(mut words: Vec<Word>, now: DateTime<Tz>, rename: bool) -> Intent {
    if rename {
        let Some(to) = words.iter().rposition(|w| w.key == "to") else {
            return Intent::Unknown;
        };
        let title = join(&words[to + 1..]);
        words.truncate(to);
        return match (task_ref(words), title.is_empty()) {
            (Some(task), false) => Intent::UpdateTask {
                task,
                title: Some(title),
                priority: None,
                due_at: None,
            },
            _ => Intent::Unknown,
        };
    }
    let priority = take_priority(&mut words);
    let due_at = take_moment(&mut words, now);
    strip_suffix(&mut words, &["to", "as", "a"]);
    match task_ref(words) {
        Some(task) if priority.is_some() || due_at.is_some() => Intent::UpdateTask {
            task,
            title: None,
            priority,
            due_at,
        },
        _ => Intent::Unknown,
    }
}

/// Reads one request, at `now` in the user's timezone.
pub fn understand(message: &str, now: DateTime<Tz>) -> Intent {
    let mut words = split(message);
    while strip_prefix(&mut words, POLITE) {}
    strip_suffix(&mut words, &["please", "thanks", "thank you"]);
    if words.is_empty() {
        return Intent::Unknown;
    }
    if starts_with(&words, "help") || starts_with(&words, "what can you do") {
        return Intent::Help;
    }
    if strip_prefix(&mut words, &["rename"]) {
        return update(words, now, true);
    }
    if strip_prefix(&mut words, RESCHEDULE) {
        return update(words, now, false);
    }
    if strip_prefix(&mut words, REOPEN) {
        strip_suffix(&mut words, &["as not done", "as pending", "as open"]);
        return task_ref(words).map_or(Intent::Unknown, Intent::ReopenTask);
    }
    if strip_prefix(&mut words, DELETE) {
        strip_suffix(
            &mut words,
            &["from my list", "from the list", "from my tasks"],
        );
        return task_ref(words).map_or(Intent::Unknown, Intent::DeleteTask);
    }
    // "mark X as high priority" is a priority change, "mark X as done" is not.
    let mentions_priority = {
        let mut probe = words.clone();
        take_priority(&mut probe).is_some()
    };
    if mentions_priority && starts_with_any(&words, SET_PRIORITY) {
        strip_prefix(&mut words, SET_PRIORITY);
        return update(words, now, false);
    }
    if strip_prefix(&mut words, COMPLETE) {
        strip_suffix(
            &mut words,
            &[
                "as done",
                "as complete",
                "as completed",
                "as finished",
                "done",
                "off",
            ],
        );
        return task_ref(words).map_or(Intent::Unknown, Intent::CompleteTask);
    }
    if strip_suffix(
        &mut words,
        &["is done", "is finished", "is complete", "done", "finished"],
    ) {
        return task_ref(words).map_or(Intent::Unknown, Intent::CompleteTask);
    }
    if starts_with_any(&words, LIST) || message.trim_end().ends_with('?') {
        strip_prefix(&mut words, LIST);
        return list(words, now);
    }
    if strip_prefix(&mut words, ADD) {
        return add(words, now);
    }
    Intent::Unknown
}

fn starts_with_any(words: &[Word], phrases: &[&str]) -> bool {
    phrases.iter().any(|p| words::starts_with(words, p))
}

/// Re-exported for the tests: the time a bare day means.
pub const DEFAULT_TIME: (u32, u32) = when::DEFAULT_TIME;
