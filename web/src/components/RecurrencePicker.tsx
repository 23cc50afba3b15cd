// When a template fires: daily, weekly on chosen days, monthly, or a cron
// expression, in a timezone.
import { WEEKDAYS, type Pattern, type Recurrence, type Weekday } from "../api/types";
import { timeZones } from "../time";

const DAY_NAMES: Record<Weekday, string> = {
  mon: "Mon",
  tue: "Tue",
  wed: "Wed",
  thu: "Thu",
  fri: "Fri",
  sat: "Sat",
  sun: "Sun",
};

const PATTERNS: [Pattern, string][] = [
  ["daily", "Daily"],
  ["weekly", "Weekly"],
  ["monthly", "Monthly"],
  ["cron", "Custom (cron)"],
];

const UNIT: Record<Pattern, string> = { daily: "days", weekly: "weeks", monthly: "months", cron: "" };

interface Props {
  value: Recurrence;
  onChange: (value: Recurrence) => void;
}

/** The spec as the API wants it: only the members the pattern uses. */
export function cleanRecurrence(spec: Recurrence): Recurrence {
  const base = { pattern: spec.pattern, timezone: spec.timezone, starts_at: spec.starts_at };
  switch (spec.pattern) {
    case "daily":
      return { ...base, every_n: spec.every_n, time_of_day: spec.time_of_day };
    case "weekly":
      return { ...base, every_n: spec.every_n, weekdays: spec.weekdays, time_of_day: spec.time_of_day };
    case "monthly":
      return { ...base, every_n: spec.every_n, day_of_month: spec.day_of_month, time_of_day: spec.time_of_day };
    case "cron":
      return { ...base, cron: spec.cron };
  }
}

export function describeRecurrence(spec: Recurrence): string {
  const every = spec.every_n && spec.every_n > 1 ? `every ${spec.every_n} ${UNIT[spec.pattern]}` : "";
  const at = spec.time_of_day ? ` at ${spec.time_of_day}` : "";
  switch (spec.pattern) {
    case "daily":
      return `${every || "Every day"}${at}`;
    case "weekly":
      return `${every || "Every week"} on ${(spec.weekdays ?? []).map((d) => DAY_NAMES[d]).join(", ")}${at}`;
    case "monthly":
      return `${every || "Every month"} on day ${spec.day_of_month ?? "?"}${at}`;
    case "cron":
      return `cron “${spec.cron}”`;
  }
}

function Count({ value, max, onChange }: { value: number; max: number; onChange: (n: number) => void }) {
  return (
    <input
      type="number"
      min={1}
      max={max}
      class="narrow"
      value={value}
      onInput={(e) => onChange(Number(e.currentTarget.value) || 1)}
    />
  );
}

export function RecurrencePicker({ value, onChange }: Props) {
  const set = (changes: Partial<Recurrence>) => onChange({ ...value, ...changes });
  const days = value.weekdays ?? [];
  return (
    <fieldset class="recurrence">
      <legend>Repeats</legend>
      <div class="segmented" role="radiogroup" aria-label="Pattern">
        {PATTERNS.map(([pattern, label]) => (
          <label key={pattern} class={value.pattern === pattern ? "on" : ""}>
            <input
              type="radio"
              name="pattern"
              value={pattern}
              checked={value.pattern === pattern}
              onChange={() => set({ pattern })}
            />
            {label}
          </label>
        ))}
      </div>
      {value.pattern !== "cron" && (
        <div class="row wrap">
          <label>
            Every
            <span class="row center">
              <Count value={value.every_n ?? 1} max={1000} onChange={(every_n) => set({ every_n })} />
              {UNIT[value.pattern]}
            </span>
          </label>
          <label>
            At
            <input
              type="time"
              required
              value={value.time_of_day ?? "09:00"}
              onInput={(e) => set({ time_of_day: e.currentTarget.value })}
            />
          </label>
          {value.pattern === "monthly" && (
            <label>
              Day of month
              <Count value={value.day_of_month ?? 1} max={31} onChange={(day_of_month) => set({ day_of_month })} />
            </label>
          )}
        </div>
      )}
      {value.pattern === "weekly" && (
        <div class="weekdays" role="group" aria-label="On these days">
          {WEEKDAYS.map((day) => (
            <label key={day} class={days.includes(day) ? "on" : ""}>
              <input
                type="checkbox"
                checked={days.includes(day)}
                onChange={() =>
                  set({ weekdays: days.includes(day) ? days.filter((d) => d !== day) : WEEKDAYS.filter((d) => d === day || days.includes(d)) })
                }
              />
              {DAY_NAMES[day]}
            </label>
          ))}
        </div>
      )}
      {value.pattern === "cron" && (
        <label>
          Cron expression <span class="hint">(minute hour day-of-month month day-of-week)</span>
          <input
            required
            placeholder="30 8 * * 1-5"
            value={value.cron ?? ""}
            onInput={(e) => set({ cron: e.currentTarget.value })}
          />
        </label>
      )}
      <label>
        Timezone
        <select value={value.timezone} onChange={(e) => set({ timezone: e.currentTarget.value })}>
          {timeZones().map((zone) => (
            <option key={zone} value={zone}>
              {zone}
            </option>
          ))}
        </select>
      </label>
    </fieldset>
  );
}
