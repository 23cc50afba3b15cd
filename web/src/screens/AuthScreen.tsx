// Sign up or log in; either way the reply's token starts the session.
import { useState } from "preact/hooks";
import { auth } from "../api/docket";
import { ErrorMessage } from "../components/ErrorMessage";
import { useAction } from "../components/useAction";
import { signIn } from "../session";

export function AuthScreen() {
  const [mode, setMode] = useState<"login" | "signup">("login");
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [email, setEmail] = useState("");
  const { busy, error, setError, run } = useAction();
  const signup = mode === "signup";

  const submit = async (event: Event) => {
    event.preventDefault();
    const reply = await run(() =>
      signup ? auth.signup(username.trim(), password, email.trim() || undefined) : auth.login(username.trim(), password),
    );
    if (reply) signIn(reply);
  };

  const switchTo = (next: "login" | "signup") => {
    setMode(next);
    setError(null);
  };

  return (
    <main class="auth" id="main">
      <h1 class="brand">Docket</h1>
      <div class="card">
        <div class="tabs" role="tablist" aria-label="Account">
          <button type="button" role="tab" aria-selected={!signup} aria-controls="auth-form" onClick={() => switchTo("login")}>
            Log in
          </button>
          <button type="button" role="tab" aria-selected={signup} aria-controls="auth-form" onClick={() => switchTo("signup")}>
            Sign up
          </button>
        </div>
        <div id="auth-form" role="tabpanel">
          <form onSubmit={submit} aria-describedby="auth-error">
            <label>
              Username
              <input
                name="username"
                autocomplete="username"
                required
                minLength={3}
                maxLength={64}
                value={username}
                onInput={(e) => setUsername(e.currentTarget.value)}
              />
            </label>
            <label>
              Password
              <input
                name="password"
                type="password"
                autocomplete={signup ? "new-password" : "current-password"}
                required
                minLength={signup ? 8 : undefined}
                value={password}
                onInput={(e) => setPassword(e.currentTarget.value)}
              />
            </label>
            {signup && (
              <label>
                <span>
                  Email <span class="hint">(optional)</span>
                </span>
                <input
                  name="email"
                  type="email"
                  autocomplete="email"
                  value={email}
                  onInput={(e) => setEmail(e.currentTarget.value)}
                />
              </label>
            )}
            <ErrorMessage error={error} id="auth-error" />
            <button class="primary" type="submit" disabled={busy}>
              {signup ? "Create account" : "Log in"}
            </button>
          </form>
        </div>
      </div>
    </main>
  );
}
