// Recurring templates: a form with a live preview of the next occurrences,
// and the list with enable/disable and each template's own preview.
import { useEffect, useState } from "preact/hooks";
import { messageOf } from "../api/client";
import type { Todo } from "../api/docket";
import type { Priority, Recurrence, Tag, Template, Weekday } from "../api/types";
import { ConfirmButton } from "../components/ConfirmButton";
import { ErrorMessage } from "../components/ErrorMessage";
import { Occurrences } from "../components/Occurrences";
import { PriorityBadge } from "../components/PriorityBadge";
import { PrioritySelect } from "../components/PrioritySelect";
import { RecurrencePicker, cleanRecurrence, describeRecurrence } from "../components/RecurrencePicker";
import { TagPicker } from "../components/TagPicker";
import { useAction } from "../components/useAction";
import { formatInstant, localZone } from "../time";

function freshRecurrence(): Recurrence {
  const weekday = (["sun", "mon", "tue", "wed", "thu", "fri", "sat"] as Weekday[])[new Date().getDay()];
  return {
    pattern: "daily",
    every_n: 1,
    weekdays: [weekday],
    day_of_month: new Date().getDate(),
    time_of_day: "09:00",
    cron: "30 8 * * 1-5",
    timezone: localZone,
    starts_at: new Date().toISOString(),
  };
}

interface Props {
  api: Todo;
  tags: Tag[];
}

export function TemplatesScreen({ api, tags }: Props) {
  const [templates, setTemplates] = useState<Template[] | null>(null);
  const { error: listError, run: runList } = useAction();
  const reload = () => runList(async () => setTemplates(await api.listTemplates()));
  useEffect(() => void reload(), [api]);

  return (
    <section aria-labelledby="templates-heading">
      <h1 id="templates-heading" tabIndex={-1}>
        Recurring
      </h1>
      <TemplateForm api={api} tags={tags} onCreated={reload} />
      <h2>Templates</h2>
      <ErrorMessage error={listError} />
      {templates?.length === 0 && <p class="empty">No recurring templates yet.</p>}
      <ul class="templates">
        {templates?.map((template) => (
          <TemplateRow key={template.id} api={api} template={template} onChanged={reload} />
        ))}
      </ul>
    </section>
  );
}

function TemplateForm({ api, tags, onCreated }: { api: Todo; tags: Tag[]; onCreated: () => void }) {
  const [title, setTitle] = useState("");
  const [priority, setPriority] = useState<Priority>("Medium");
  const [tagIds, setTagIds] = useState<number[]>([]);
  const [recurrence, setRecurrence] = useState(freshRecurrence);
  const [preview, setPreview] = useState<string[] | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);
  const { busy, error, run } = useAction();

  // The preview follows the picker, a moment after the last change.
  useEffect(() => {
    const controller = new AbortController();
    const timer = setTimeout(() => {
      api
        .previewRecurrence(cleanRecurrence(recurrence), 5, controller.signal)
        .then((reply) => {
          setPreview(reply.occurrences);
          setPreviewError(null);
        })
        .catch((failure) => {
          if (controller.signal.aborted) return;
          setPreview(null);
          setPreviewError(messageOf(failure));
        });
    }, 300);
    return () => {
      clearTimeout(timer);
      controller.abort();
    };
  }, [api, recurrence]);

  const submit = async (event: Event) => {
    event.preventDefault();
    const created = await run(() =>
      api.createTemplate({
        title,
        priority,
        tag_ids: tagIds.length ? tagIds : undefined,
        recurrence: cleanRecurrence(recurrence),
      }),
    );
    if (created) {
      setTitle("");
      setTagIds([]);
      setRecurrence(freshRecurrence());
      onCreated();
    }
  };

  return (
    <form class="card template-form" onSubmit={submit} aria-label="New recurring template">
      <h2>New template</h2>
      <div class="row wrap">
        <label class="grow">
          Title
          <input id="template-title" required maxLength={500} value={title} onInput={(e) => setTitle(e.currentTarget.value)} />
        </label>
        <label>
          Priority
          <PrioritySelect value={priority} onChange={setPriority} />
        </label>
      </div>
      {tags.length > 0 && <TagPicker tags={tags} selected={tagIds} onChange={setTagIds} label="Tags for the template" />}
      <RecurrencePicker value={recurrence} onChange={setRecurrence} />
      <div class="preview" aria-live="polite">
        <h3>Next occurrences</h3>
        <ErrorMessage error={previewError} />
        <Occurrences occurrences={preview} timezone={recurrence.timezone} label="Preview of the next occurrences" />
      </div>
      <ErrorMessage error={error} />
      <button class="primary" type="submit" disabled={busy}>
        Create template
      </button>
    </form>
  );
}

function TemplateRow({ api, template, onChanged }: { api: Todo; template: Template; onChanged: () => void }) {
  const [preview, setPreview] = useState<string[] | null>(null);
  const { busy, error, run } = useAction();
  const spec = template.recurrence;

  const toggle = async () => {
    if (await run(() => api.setTemplateEnabled(template.id, !template.enabled))) onChanged();
  };
  const showPreview = async () => {
    if (preview) return setPreview(null);
    const reply = await run(() => api.previewTemplate(template.id, 5));
    if (reply) setPreview(reply.occurrences);
  };
  const remove = async () => {
    if (await run(async () => (await api.deleteTemplate(template.id), true))) onChanged();
  };

  return (
    <li class={`template card${template.enabled ? "" : " disabled"}`}>
      <div class="row wrap spread">
        <div>
          <strong class="task-title">{template.title}</strong> <PriorityBadge priority={template.priority} />
          <p class="hint">
            {describeRecurrence(spec)} · {spec.timezone}
            <br />
            {template.enabled
              ? template.next_occurrence
                ? `Next: ${formatInstant(template.next_occurrence, spec.timezone)}`
                : "Finished"
              : "Disabled"}
          </p>
        </div>
        <div class="row">
          <button type="button" aria-expanded={!!preview} onClick={showPreview} disabled={busy}>
            Preview<span class="visually-hidden"> {template.title}</span>
          </button>
          <button type="button" aria-pressed={template.enabled} onClick={toggle} disabled={busy}>
            {template.enabled ? "Disable" : "Enable"}
            <span class="visually-hidden"> {template.title}</span>
          </button>
          <ConfirmButton disabled={busy} onConfirm={remove} subject={template.title}>
            Delete
          </ConfirmButton>
        </div>
      </div>
      <ErrorMessage error={error} />
      <Occurrences occurrences={preview} timezone={spec.timezone} label={`Next occurrences of ${template.title}`} />
    </li>
  );
}
