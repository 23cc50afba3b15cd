//! Reading `spin.toml` and turning it into a validated [`App`].

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::ManifestError;
use crate::model::{
    App, BuildConfig, Component, HttpHandler, HttpTrigger, StaticResponse, TriggerRoute, Variable,
};
use crate::outbound::OutboundRule;
use crate::route::RoutePattern;
use crate::template::{Template, check_variable_name};

/// Prefixes the host keeps for itself; no component may claim them.
const RESERVED_ROUTE_PREFIXES: [&str; 2] = ["/.well-known/spin/", "/.well-known/docket/"];

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[allow(dead_code)]
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    #[serde(default)]
    trigger: BTreeMap<String, Vec<toml::Table>>,
    #[serde(default)]
    component: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    version: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    authors: Vec<String>,
    description: Option<String>,
    #[allow(dead_code)]
    tool: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    default: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    secret: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpTrigger {
    #[allow(dead_code)]
    id: Option<String>,
    route: RawRoute,
    component: Option<toml::Value>,
    static_response: Option<RawStaticResponse>,
    executor: Option<RawExecutor>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Path(String),
    Private { private: bool },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStaticResponse {
    status_code: Option<u16>,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    body: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawExecutor {
    #[serde(rename = "type")]
    kind: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    description: Option<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    build: Option<RawBuild>,
    #[allow(dead_code)]
    tool: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    command: RawCommands,
    workdir: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawCommands {
    One(String),
    Many(Vec<String>),
}

/// Reads and validates a Spin manifest. Sources are resolved against the
/// manifest's folder but not required to exist yet (`docket build` makes them).
pub fn load(path: &Path) -> Result<App, ManifestError> {
    let text = std::fs::read_to_string(path).map_err(|source| ManifestError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(path, &text)
}

/// Parses manifest text as if it had been read from `path`.
pub fn parse(path: &Path, text: &str) -> Result<App, ManifestError> {
    let syntax = |message: String| ManifestError::Syntax {
        path: path.to_path_buf(),
        message,
    };
    let value: toml::Table = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
    check_version(path, value.get("spin_manifest_version"))?;
    let raw: RawManifest = toml::from_str(text).map_err(|e| syntax(e.to_string()))?;
    Validator {
        path,
        base_dir: manifest_folder(path),
    }
    .app(raw)
}

/// The manifest's folder as an absolute path; a bare file name (`spin.toml`)
/// has the empty path as its parent, which means the current directory.
fn manifest_folder(path: &Path) -> PathBuf {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::path::absolute(parent).unwrap_or_else(|_| parent.to_path_buf())
}

fn check_version(path: &Path, version: Option<&toml::Value>) -> Result<(), ManifestError> {
    match version {
        Some(toml::Value::Integer(2)) => Ok(()),
        Some(toml::Value::String(s)) if s == "2" => Ok(()),
        Some(other) => Err(ManifestError::invalid(
            path,
            "spin_manifest_version",
            format!("unsupported manifest version {other}; docket reads Spin manifest version 2"),
        )),
        None => Err(ManifestError::invalid(
            path,
            "spin_manifest_version",
            "missing; docket reads Spin manifest version 2 (`spin_manifest_version = 2`)",
        )),
    }
}

struct Validator<'a> {
    path: &'a Path,
    base_dir: PathBuf,
}

impl Validator<'_> {
    fn err(&self, field: impl Into<String>, message: impl Into<String>) -> ManifestError {
        ManifestError::invalid(self.path, field, message)
    }

    fn app(&self, raw: RawManifest) -> Result<App, ManifestError> {
        if raw.application.name.trim().is_empty() {
            return Err(self.err("application.name", "must not be empty"));
        }
        let variables = raw
            .variables
            .into_iter()
            .map(|(name, var)| Ok((name.clone(), self.variable(&name, var)?)))
            .collect::<Result<BTreeMap<_, _>, ManifestError>>()?;
        let components = raw
            .component
            .into_iter()
            .map(|(id, component)| Ok((id.clone(), self.component(&id, component, &variables)?)))
            .collect::<Result<BTreeMap<_, _>, ManifestError>>()?;
        let triggers = self.triggers(raw.trigger, &components)?;
        Ok(App {
            path: self.path.to_path_buf(),
            base_dir: self.base_dir.clone(),
            name: raw.application.name,
            version: raw.application.version,
            description: raw.application.description,
            variables,
            triggers,
            components,
        })
    }

    fn variable(&self, name: &str, raw: RawVariable) -> Result<Variable, ManifestError> {
        let field = format!("variables.{name}");
        check_variable_name(name).map_err(|reason| self.err(&field, reason))?;
        if raw.required && raw.default.is_some() {
            return Err(self.err(
                field,
                "a variable cannot be both `required` and have a `default`",
            ));
        }
        if !raw.required && raw.default.is_none() {
            return Err(self.err(field, "needs a `default` or `required = true`"));
        }
        Ok(Variable {
            default: raw.default,
            required: raw.required,
            secret: raw.secret,
        })
    }

    fn template(
        &self,
        field: &str,
        raw: &str,
        variables: &BTreeMap<String, Variable>,
    ) -> Result<Template, ManifestError> {
        let template = Template::parse(raw).map_err(|e| self.err(field, e.to_string()))?;
        if let Some(undefined) = template.variables().find(|v| !variables.contains_key(*v)) {
            return Err(self.err(
                field,
                format!("undefined variable `{undefined}` (declare it under [variables])"),
            ));
        }
        Ok(template)
    }

    fn component(
        &self,
        id: &str,
        raw: RawComponent,
        variables: &BTreeMap<String, Variable>,
    ) -> Result<Component, ManifestError> {
        let field = |name: &str| format!("component.{id}.{name}");
        check_component_id(id).map_err(|reason| self.err(format!("component.{id}"), reason))?;
        let source = match raw.source {
            toml::Value::String(source) if source.trim().is_empty() => {
                return Err(self.err(field("source"), "must not be empty"));
            }
            toml::Value::String(source) => self.base_dir.join(source),
            _ => {
                return Err(self.err(
                    field("source"),
                    "only a local file path is supported (no `url` or registry sources)",
                ));
            }
        };
        let allowed_outbound_hosts = raw
            .allowed_outbound_hosts
            .iter()
            .map(|entry| {
                let template = self.template(&field("allowed_outbound_hosts"), entry, variables)?;
                if template.variables().next().is_none() {
                    OutboundRule::parse(entry)
                        .map_err(|e| self.err(field("allowed_outbound_hosts"), e.to_string()))?;
                }
                Ok(template)
            })
            .collect::<Result<Vec<_>, ManifestError>>()?;
        for label in raw.key_value_stores.iter().chain(&raw.sqlite_databases) {
            check_label(label).map_err(|reason| {
                self.err(
                    field("key_value_stores / sqlite_databases"),
                    format!("{label:?}: {reason}"),
                )
            })?;
        }
        let component_variables = raw
            .variables
            .iter()
            .map(|(name, value)| {
                let var_field = field(&format!("variables.{name}"));
                check_variable_name(name).map_err(|reason| self.err(&var_field, reason))?;
                Ok((name.clone(), self.template(&var_field, value, variables)?))
            })
            .collect::<Result<BTreeMap<_, _>, ManifestError>>()?;
        let build = raw.build.map(|build| self.build(build));
        Ok(Component {
            id: id.to_string(),
            description: raw.description,
            source,
            allowed_outbound_hosts,
            key_value_stores: raw.key_value_stores,
            sqlite_databases: raw.sqlite_databases,
            environment: raw.environment,
            variables: component_variables,
            build,
        })
    }

    fn build(&self, raw: RawBuild) -> BuildConfig {
        let commands = match raw.command {
            RawCommands::One(command) => vec![command],
            RawCommands::Many(commands) => commands,
        };
        BuildConfig {
            commands,
            workdir: raw
                .workdir
                .map(|dir| self.base_dir.join(dir))
                .unwrap_or_else(|| self.base_dir.clone()),
            watch: raw.watch,
        }
    }

    fn triggers(
        &self,
        raw: BTreeMap<String, Vec<toml::Table>>,
        components: &BTreeMap<String, Component>,
    ) -> Result<Vec<HttpTrigger>, ManifestError> {
        let mut triggers = Vec::new();
        let mut shapes: HashMap<String, String> = HashMap::new();
        for (kind, tables) in raw {
            if kind != "http" {
                return Err(self.err(
                    format!("trigger.{kind}"),
                    "docket supports only HTTP triggers",
                ));
            }
            for (index, table) in tables.into_iter().enumerate() {
                let field = format!("trigger.http[{index}]");
                let raw: RawHttpTrigger = toml::Value::Table(table)
                    .try_into()
                    .map_err(|e: toml::de::Error| self.err(&field, e.message().to_string()))?;
                let trigger = self.http_trigger(&field, raw, components)?;
                if let TriggerRoute::Pattern(pattern) = &trigger.route {
                    let owner = describe_handler(&trigger.handler);
                    if let Some(previous) = shapes.insert(pattern.shape(), owner.clone()) {
                        return Err(self.err(
                            format!("{field}.route"),
                            format!(
                                "route {pattern} clashes with the same route of {previous}; routes must be unique"
                            ),
                        ));
                    }
                }
                triggers.push(trigger);
            }
        }
        Ok(triggers)
    }

    fn http_trigger(
        &self,
        field: &str,
        raw: RawHttpTrigger,
        components: &BTreeMap<String, Component>,
    ) -> Result<HttpTrigger, ManifestError> {
        if let Some(executor) = raw.executor
            && executor.kind != "spin"
        {
            return Err(self.err(
                format!("{field}.executor"),
                format!(
                    "executor {:?} is not supported (only \"spin\")",
                    executor.kind
                ),
            ));
        }
        let route = match raw.route {
            RawRoute::Private { private: true } => TriggerRoute::Private,
            RawRoute::Private { private: false } => {
                return Err(self.err(
                    format!("{field}.route"),
                    "must be a path pattern or `{ private = true }`",
                ));
            }
            RawRoute::Path(route) => {
                let pattern = RoutePattern::parse(&route)
                    .map_err(|e| self.err(format!("{field}.route"), e.to_string()))?;
                let normalized = format!("{}/", pattern.without_wildcard());
                if RESERVED_ROUTE_PREFIXES
                    .iter()
                    .any(|prefix| normalized.starts_with(prefix))
                {
                    return Err(self.err(
                        format!("{field}.route"),
                        format!("{route} is reserved for the host"),
                    ));
                }
                TriggerRoute::Pattern(pattern)
            }
        };
        let handler = match (raw.component, raw.static_response) {
            (Some(toml::Value::String(id)), None) => {
                if !components.contains_key(&id) {
                    return Err(self.err(
                        format!("{field}.component"),
                        format!(
                            "no component `{id}` is defined (expected a [component.{id}] table)"
                        ),
                    ));
                }
                HttpHandler::Component(id)
            }
            (Some(_), None) => {
                return Err(self.err(
                    format!("{field}.component"),
                    "inline component tables are not supported; name a [component.<id>]",
                ));
            }
            (None, Some(response)) => HttpHandler::Static(StaticResponse {
                status: response.status_code.unwrap_or(200),
                headers: response.headers,
                body: response.body,
            }),
            _ => {
                return Err(self.err(
                    field,
                    "needs exactly one of `component` or `static_response`",
                ));
            }
        };
        Ok(HttpTrigger { route, handler })
    }
}

fn describe_handler(handler: &HttpHandler) -> String {
    match handler {
        HttpHandler::Component(id) => format!("component `{id}`"),
        HttpHandler::Static(_) => "a static response".to_string(),
    }
}

/// Component ids are kebab-case words: lowercase letters and digits, words
/// separated by single hyphens, starting with a letter.
fn check_component_id(id: &str) -> Result<(), &'static str> {
    let valid = id.split('-').all(|word| {
        !word.is_empty()
            && word
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
    }) && id.starts_with(|c: char| c.is_ascii_lowercase());
    if valid {
        Ok(())
    } else {
        Err("a component id must be kebab-case (`todo-api`)")
    }
}

/// Store and database labels: letters, digits, `-` and `_`.
fn check_label(label: &str) -> Result<(), &'static str> {
    if !label.is_empty()
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        Ok(())
    } else {
        Err("labels may contain only letters, digits, `-` and `_`")
    }
}
