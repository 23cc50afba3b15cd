// The screen is the URL's hash (#/tasks), so reloads and the back button work.
import { useEffect, useState } from "preact/hooks";

export type Route = "tasks" | "recurring" | "tags" | "notifications";
const ROUTES: Route[] = ["tasks", "recurring", "tags", "notifications"];

function current(): Route {
  const name = location.hash.replace(/^#\/?/, "") as Route;
  return ROUTES.includes(name) ? name : "tasks";
}

export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const listener = () => setRoute(current());
    window.addEventListener("hashchange", listener);
    return () => window.removeEventListener("hashchange", listener);
  }, []);
  return route;
}
