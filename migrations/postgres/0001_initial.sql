-- The task model: users, priorities, tasks, per-user tags, recurring
-- templates and the event outbox. Timestamps are UTC.

CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    email         TEXT,
    password_hash TEXT,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE priorities (
    id     SMALLINT PRIMARY KEY,
    name   TEXT NOT NULL UNIQUE,
    weight INTEGER NOT NULL UNIQUE
);
INSERT INTO priorities (id, name, weight) VALUES
    (1, 'Low', 10), (2, 'Medium', 20), (3, 'High', 30), (4, 'Critical', 40);

CREATE TABLE recurring_tasks (
    id              BIGSERIAL PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title           TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description     TEXT NOT NULL DEFAULT '',
    priority_id     SMALLINT NOT NULL DEFAULT 2 REFERENCES priorities (id),
    pattern         TEXT NOT NULL CHECK (pattern IN ('daily', 'weekly', 'monthly', 'cron')),
    every_n         INTEGER NOT NULL DEFAULT 1 CHECK (every_n >= 1),
    -- Bit 0 = Monday ... bit 6 = Sunday.
    weekdays        SMALLINT CHECK (weekdays BETWEEN 1 AND 127),
    day_of_month    SMALLINT CHECK (day_of_month BETWEEN 1 AND 31),
    -- "2nd Tuesday": nth_week 1-5 (5 = last) with a single weekday bit.
    nth_week        SMALLINT CHECK (nth_week BETWEEN 1 AND 5),
    time_of_day     TIME NOT NULL DEFAULT '09:00',
    cron            TEXT,
    timezone        TEXT NOT NULL,
    starts_at       TIMESTAMPTZ NOT NULL,
    ends_at         TIMESTAMPTZ,
    enabled         BOOLEAN NOT NULL DEFAULT true,
    next_occurrence TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    version         INTEGER NOT NULL DEFAULT 1,
    CHECK (pattern <> 'cron' OR cron IS NOT NULL)
);
CREATE INDEX recurring_tasks_due ON recurring_tasks (next_occurrence) WHERE enabled;
CREATE INDEX recurring_tasks_user ON recurring_tasks (user_id, id);

CREATE TABLE tasks (
    id                BIGSERIAL PRIMARY KEY,
    user_id           TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    title             TEXT NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
    description       TEXT NOT NULL DEFAULT '',
    completed         BOOLEAN NOT NULL DEFAULT false,
    completed_at      TIMESTAMPTZ,
    priority_id       SMALLINT NOT NULL DEFAULT 2 REFERENCES priorities (id),
    due_at            TIMESTAMPTZ,
    remind_at         TIMESTAMPTZ,
    reminded_at       TIMESTAMPTZ,
    recurring_task_id BIGINT REFERENCES recurring_tasks (id) ON DELETE SET NULL,
    occurrence_at     TIMESTAMPTZ,
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    version           INTEGER NOT NULL DEFAULT 1,
    -- A template's occurrence becomes a task at most once.
    UNIQUE (recurring_task_id, occurrence_at)
);
CREATE INDEX tasks_user_status_due ON tasks (user_id, completed, due_at);
CREATE INDEX tasks_user_priority ON tasks (user_id, priority_id);
CREATE INDEX tasks_user_created ON tasks (user_id, created_at);
CREATE INDEX tasks_reminders_due ON tasks (remind_at) WHERE reminded_at IS NULL AND NOT completed;

CREATE TABLE tags (
    id         BIGSERIAL PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 50),
    color      TEXT NOT NULL DEFAULT '#64748b',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (user_id, name)
);

CREATE TABLE task_tags (
    task_id BIGINT NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    tag_id  BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (task_id, tag_id)
);
CREATE INDEX task_tags_tag ON task_tags (tag_id);

CREATE TABLE recurring_task_tags (
    recurring_task_id BIGINT NOT NULL REFERENCES recurring_tasks (id) ON DELETE CASCADE,
    tag_id            BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    PRIMARY KEY (recurring_task_id, tag_id)
);
CREATE INDEX recurring_task_tags_tag ON recurring_task_tags (tag_id);

-- Events written in the same transaction as the change they describe, then
-- published; `published_at` stays NULL until the broker took them.
CREATE TABLE event_outbox (
    id           BIGSERIAL PRIMARY KEY,
    event_id     TEXT NOT NULL UNIQUE,
    topic        TEXT NOT NULL,
    event_type   TEXT NOT NULL,
    payload      TEXT NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    published_at TIMESTAMPTZ,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT
);
CREATE INDEX event_outbox_pending ON event_outbox (id) WHERE published_at IS NULL;
