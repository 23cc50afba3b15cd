// What the user was told and how: delivery history, the local mailbox, and
// the preferences that decide it.
import { useEffect, useState } from "preact/hooks";
import { notifications } from "../api/docket";
import type { Delivery, MailboxEntry, Preferences } from "../api/types";
import { ErrorMessage } from "../components/ErrorMessage";
import { useAction } from "../components/useAction";
import { formatInstant } from "../time";

const EVENT_NAMES: Record<string, string> = {
  "task.created": "Task created",
  "task.completed": "Task completed",
  "task.due": "Task due",
};

export function NotificationsScreen() {
  const [deliveries, setDeliveries] = useState<Delivery[] | null>(null);
  const [mailbox, setMailbox] = useState<MailboxEntry[] | null>(null);
  const { busy, error, run } = useAction();

  const reload = () =>
    run(async () => {
      const [history, messages] = await Promise.all([notifications.deliveries(), notifications.mailbox()]);
      setDeliveries(history);
      setMailbox(messages);
    });
  useEffect(() => void reload(), []);

  const subjects = new Map(mailbox?.map((m) => [m.event_id + m.channel, m.subject]));

  return (
    <section aria-labelledby="notifications-heading">
      <div class="row spread">
        <h1 id="notifications-heading" tabIndex={-1}>
          Notifications
        </h1>
        <button type="button" onClick={reload} disabled={busy}>
          Refresh
        </button>
      </div>
      <ErrorMessage error={error} />
      <h2>Delivery history</h2>
      {deliveries?.length === 0 && <p class="empty">Nothing sent yet.</p>}
      {deliveries && deliveries.length > 0 && (
        <div class="table-wrap">
          <table class="deliveries">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Channel</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
              </tr>
            </thead>
            <tbody>
              {deliveries.map((d) => (
                <tr key={d.event_id + d.channel}>
                  <td>
                    <time dateTime={d.created_at}>{formatInstant(d.created_at)}</time>
                  </td>
                  <td>
                    {EVENT_NAMES[d.event_type] ?? d.event_type} <span class="hint">#{d.task_id}</span>
                    {subjects.get(d.event_id + d.channel) && (
                      <div class="hint">{subjects.get(d.event_id + d.channel)}</div>
                    )}
                  </td>
                  <td>
                    {d.channel} <span class="hint">via {d.provider}</span>
                  </td>
                  <td>
                    <span class={`status status-${d.status}`}>{d.status}</span>
                    {d.last_error && <div class="hint">{d.last_error}</div>}
                  </td>
                  <td>{d.attempts}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PreferencesForm />
    </section>
  );
}

function PreferencesForm() {
  const [preferences, setPreferences] = useState<Preferences | null>(null);
  const [saved, setSaved] = useState(false);
  const { busy, error, run } = useAction();

  useEffect(() => void run(async () => setPreferences(await notifications.preferences())), []);

  if (!preferences) return <ErrorMessage error={error} />;

  const change = (next: Preferences) => {
    setPreferences(next);
    setSaved(false);
  };
  const submit = async (event: Event) => {
    event.preventDefault();
    const reply = await run(() => notifications.savePreferences(preferences));
    if (reply) {
      setPreferences(reply);
      setSaved(true);
    }
  };
  const channel = (name: keyof Preferences["channels"], label: string) => (
    <label class="check-label">
      <input
        type="checkbox"
        checked={preferences.channels[name]}
        onChange={(e) => change({ ...preferences, channels: { ...preferences.channels, [name]: e.currentTarget.checked } })}
      />
      {label}
    </label>
  );
  const kind = (name: keyof Preferences["events"]) => (
    <label class="check-label">
      <input
        type="checkbox"
        checked={preferences.events[name]}
        onChange={(e) => change({ ...preferences, events: { ...preferences.events, [name]: e.currentTarget.checked } })}
      />
      {EVENT_NAMES[name]}
    </label>
  );

  return (
    <form class="card preferences" onSubmit={submit} aria-labelledby="preferences-heading">
      <h2 id="preferences-heading">Preferences</h2>
      <label>
        Email address
        <input
          type="email"
          value={preferences.email ?? ""}
          placeholder="Where email notices go"
          onInput={(e) => change({ ...preferences, email: e.currentTarget.value.trim() || null })}
        />
      </label>
      <fieldset>
        <legend>Channels</legend>
        {channel("email", "Email")}
        {channel("push", "Push")}
      </fieldset>
      <fieldset>
        <legend>Tell me when</legend>
        {kind("task.created")}
        {kind("task.completed")}
        {kind("task.due")}
      </fieldset>
      <ErrorMessage error={error} />
      <div class="row">
        <button class="primary" type="submit" disabled={busy}>
          Save preferences
        </button>
        <span role="status">{saved ? "Saved." : ""}</span>
      </div>
    </form>
  );
}
