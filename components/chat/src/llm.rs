//! An OpenAI-compatible chat-completions model as the [`Assistant`]: the
//! tools are offered as functions, the model's tool calls run against the
//! user's tasks, and their results go back until the model answers.

use chrono::DateTime;
use chrono_tz::Tz;
use docket_http::{ApiError, Outgoing};
pub use docket_http::{HttpClient as Http, HttpFailure};
use serde_json::{Value, json};

use crate::assistant::Turn;
use crate::history::{Message, Role};
use crate::service::Assistant;
use crate::tools::{self, TaskApi};

/// Earlier messages sent along with a new one.
const CONTEXT_MESSAGES: usize = 40;
/// Model round trips per turn (each may call tools).
const MAX_ROUNDS: usize = 6;

#[derive(Debug, Clone)]
pub struct LlmConfig {
    /// e.g. `https://api.openai.com/v1`
    pub base_url: String,
    pub api_key: String,
    pub model: String,
}

pub struct Llm<'a, H> {
    pub http: &'a H,
    pub config: &'a LlmConfig,
    pub api: &'a dyn TaskApi,
    pub now: DateTime<Tz>,
}

fn system_prompt(now: DateTime<Tz>) -> String {
    format!(
        "You are Docket's task assistant. You manage the user's tasks only through the tools. \
         It is now {} ({}). Dates you send are RFC 3339. Answer briefly.",
        now.to_rfc3339(),
        now.timezone().name()
    )
}

fn tool_definitions() -> Value {
    tools::catalogue()
        .into_iter()
        .map(|t| json!({"type": "function", "function": {"name": t.name, "description": t.description, "parameters": t.parameters}}))
        .collect()
}

fn bad_gateway(detail: impl Into<String>) -> ApiError {
    ApiError::new(502, "Bad Gateway", detail)
}

impl<H: Http> Llm<'_, H> {
    fn opening(&self, history: &[Message], message: &str) -> Vec<Value> {
        let mut messages = vec![json!({"role": "system", "content": system_prompt(self.now)})];
        let start = history.len().saturating_sub(CONTEXT_MESSAGES);
        for earlier in &history[start..] {
            let role = match earlier.role {
                Role::User => "user",
                Role::Assistant => "assistant",
            };
            messages.push(json!({"role": role, "content": earlier.content}));
        }
        messages.push(json!({"role": "user", "content": message}));
        messages
    }

    async fn complete(&self, messages: &[Value]) -> Result<Value, ApiError> {
        let url = format!(
            "{}/chat/completions",
            self.config.base_url.trim_end_matches('/')
        );
        let body = json!({
            "model": self.config.model,
            "messages": messages,
            "tools": tool_definitions(),
            "tool_choice": "auto",
        });
        let request = Outgoing::post(url)
            .with_header("authorization", format!("Bearer {}", self.config.api_key))
            .with_json(&body);
        let response = self
            .http
            .send(&request)
            .await
            .map_err(|failure| match failure {
                HttpFailure::Timeout => ApiError::new(
                    504,
                    "Gateway Timeout",
                    "the language model did not answer in time",
                ),
                HttpFailure::Unreachable(cause) => {
                    bad_gateway("the language model could not be reached").cause(cause)
                }
                HttpFailure::NotAllowed => bad_gateway(
                    "the language model's host is not in allowed_outbound_hosts; nothing was sent",
                ),
            })?;
        let (status, bytes) = (response.status, response.body);
        if !(200..300).contains(&status) {
            return Err(
                bad_gateway(format!("the language model answered {status}")).cause(
                    String::from_utf8_lossy(&bytes)
                        .chars()
                        .take(300)
                        .collect::<String>(),
                ),
            );
        }
        let answer: Value = serde_json::from_slice(&bytes)
            .map_err(|_| bad_gateway("the language model's answer was not JSON"))?;
        let message = answer["choices"][0]["message"].clone();
        if !message.is_object() {
            return Err(bad_gateway("the language model's answer had no message"));
        }
        Ok(message)
    }
}

impl<H: Http> Assistant for Llm<'_, H> {
    async fn reply(&self, history: &[Message], message: &str) -> Result<Turn, ApiError> {
        let mut messages = self.opening(history, message);
        let mut tool_calls = Vec::new();
        for _ in 0..MAX_ROUNDS {
            let reply = self.complete(&messages).await?;
            let calls = reply["tool_calls"].as_array().cloned().unwrap_or_default();
            if calls.is_empty() {
                let response = reply["content"]
                    .as_str()
                    .ok_or_else(|| bad_gateway("the language model's answer had no text"))?
                    .to_string();
                return Ok(Turn {
                    response,
                    tool_calls,
                });
            }
            messages.push(reply.clone());
            for call in calls {
                let id = call["id"].as_str().unwrap_or_default().to_string();
                let name = call["function"]["name"].as_str().unwrap_or_default();
                let done = match call["function"]["arguments"]
                    .as_str()
                    .map(serde_json::from_str::<Value>)
                {
                    Some(Ok(arguments)) if arguments.is_object() => {
                        tools::run(self.api, name, &arguments)
                    }
                    _ => tools::ToolCall {
                        name: name.to_string(),
                        arguments: call["function"]["arguments"].clone(),
                        result: json!({"error": "the arguments were not a JSON object"}),
                        ok: false,
                    },
                };
                messages.push(
                    json!({"role": "tool", "tool_call_id": id, "content": done.result.to_string()}),
                );
                tool_calls.push(done);
            }
        }
        Err(bad_gateway(
            "the language model kept calling tools without answering",
        ))
    }
}
