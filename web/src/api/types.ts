export const PRIORITIES = ["Low", "Medium", "High", "Critical"] as const;
export type Priority = (typeof PRIORITIES)[number];

export interface TaskTag {
  id: number;
  name: string;
  color: string;
}

export interface Tag extends TaskTag {
  created_at: string;
}

export interface Task {
  id: number;
  user_id: string;
  title: string;
  description: string;
  completed: boolean;
  completed_at: string | null;
  priority: Priority;
  due_at: string | null;
  remind_at: string | null;
  tags: TaskTag[];
  recurring_task_id: number | null;
  occurrence_at: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface NewTask {
  title: string;
  description?: string;
  priority?: Priority;
  due_at?: string;
  remind_at?: string;
  tag_ids?: number[];
}

export interface TaskChanges {
  title?: string;
  description?: string;
  priority?: Priority;
  due_at?: string | null;
  remind_at?: string | null;
  completed?: boolean;
  tag_ids?: number[];
}

export type Weekday = "mon" | "tue" | "wed" | "thu" | "fri" | "sat" | "sun";
export const WEEKDAYS: Weekday[] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
export type Pattern = "daily" | "weekly" | "monthly" | "cron";

export interface Recurrence {
  pattern: Pattern;
  every_n?: number;
  weekdays?: Weekday[];
  day_of_month?: number;
  nth_week?: number;
  time_of_day?: string;
  cron?: string;
  timezone: string;
  starts_at: string;
  ends_at?: string;
}

export interface Template {
  id: number;
  user_id: string;
  title: string;
  description: string;
  priority: Priority;
  tag_ids: number[];
  recurrence: Recurrence;
  enabled: boolean;
  next_occurrence: string | null;
  created_at: string;
  updated_at: string;
  version: number;
}

export interface NewTemplate {
  title: string;
  description?: string;
  priority?: Priority;
  tag_ids?: number[];
  recurrence: Recurrence;
  enabled?: boolean;
}

export interface ToolCall {
  name: string;
  arguments: Record<string, unknown>;
  result: unknown;
  ok: boolean;
}

export interface ChatMessage {
  role: "user" | "assistant";
  content: string;
  tool_calls?: ToolCall[];
  at: string;
}

export interface ChatReply {
  conversation_id: string;
  response: string;
  tool_calls: ToolCall[];
}

export interface Conversation {
  conversation_id: string;
  user_id: string;
  messages: ChatMessage[];
}

export interface TokenResponse {
  user_id: string;
  access_token: string;
  token_type: "Bearer";
  expires_in: number;
}

export type DeliveryStatus = "pending" | "sent" | "failed" | "dead";

export interface Delivery {
  event_id: string;
  channel: "email" | "push";
  user_id: string;
  event_type: string;
  task_id: number;
  status: DeliveryStatus;
  attempts: number;
  last_error: string | null;
  provider: "sendgrid" | "fcm" | "mailbox";
  provider_message_id: string | null;
  created_at: string;
  updated_at: string;
  sent_at: string | null;
}

export interface MailboxEntry {
  message_id: string;
  channel: "email" | "push";
  event_id: string;
  event_type: string;
  task_id: number;
  subject: string;
  body: string;
  created_at: string;
}

export interface Preferences {
  email: string | null;
  channels: { email: boolean; push: boolean };
  events: { "task.created": boolean; "task.completed": boolean; "task.due": boolean };
  device_tokens: string[];
}
