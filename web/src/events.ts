// Screens that change tasks (the chat, the list) tell the others to reload.
const TASKS_CHANGED = "docket:tasks-changed";

export function tasksChanged(): void {
  window.dispatchEvent(new Event(TASKS_CHANGED));
}

export function onTasksChanged(listener: () => void): () => void {
  window.addEventListener(TASKS_CHANGED, listener);
  return () => window.removeEventListener(TASKS_CHANGED, listener);
}
