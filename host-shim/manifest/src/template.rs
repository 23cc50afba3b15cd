//! `{{ variable }}` templates as used in component variables and outbound hosts.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Literal(String),
    Variable(String),
}

/// A string with `{{ name }}` placeholders referring to application variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    raw: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TemplateError {
    #[error("unclosed `{{{{` in {0:?}")]
    Unclosed(String),
    #[error("invalid variable name {name:?} in {raw:?}: {reason}")]
    BadName {
        raw: String,
        name: String,
        reason: &'static str,
    },
    #[error("no value for variable `{0}`")]
    Missing(String),
}

impl Template {
    pub fn parse(raw: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = raw;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or_else(|| TemplateError::Unclosed(raw.to_string()))?;
            let name = after[..end].trim();
            check_variable_name(name).map_err(|reason| TemplateError::BadName {
                raw: raw.to_string(),
                name: name.to_string(),
                reason,
            })?;
            parts.push(Part::Variable(name.to_string()));
            rest = &after[end + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self {
            raw: raw.to_string(),
            parts,
        })
    }

    pub fn raw(&self) -> &str {
        &self.raw
    }

    /// The application variables this template reads.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Variable(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    pub fn resolve(&self, values: &BTreeMap<String, String>) -> Result<String, TemplateError> {
        let mut out = String::with_capacity(self.raw.len());
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.push_str(text),
                Part::Variable(name) => out.push_str(
                    values
                        .get(name)
                        .ok_or_else(|| TemplateError::Missing(name.clone()))?,
                ),
            }
        }
        Ok(out)
    }
}

/// Spin's rule for variable names: lowercase ASCII letters, digits and
/// underscores, starting with a letter, no double or trailing underscore.
pub fn check_variable_name(name: &str) -> Result<(), &'static str> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err("a name must not be empty"),
        Some(c) if !c.is_ascii_lowercase() => {
            return Err("a name must start with a lowercase letter");
        }
        _ => {}
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
    {
        return Err("only lowercase letters, digits and `_` are allowed");
    }
    if name.contains("__") || name.ends_with('_') {
        return Err("`_` must separate words");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn resolves_literals_and_variables() {
        let template = Template::parse("postgres://{{ db_host }}:{{port}}/x").unwrap();
        assert_eq!(
            template.variables().collect::<Vec<_>>(),
            ["db_host", "port"]
        );
        let out = template
            .resolve(&values(&[("db_host", "db"), ("port", "5432")]))
            .unwrap();
        assert_eq!(out, "postgres://db:5432/x");
    }

    #[test]
    fn reports_missing_value() {
        let template = Template::parse("{{ a }}").unwrap();
        assert_eq!(
            template.resolve(&values(&[])),
            Err(TemplateError::Missing("a".into()))
        );
    }

    #[test]
    fn rejects_unclosed_and_bad_names() {
        assert!(matches!(
            Template::parse("x {{ a"),
            Err(TemplateError::Unclosed(_))
        ));
        assert!(matches!(
            Template::parse("{{ Bad }}"),
            Err(TemplateError::BadName { .. })
        ));
        assert!(matches!(
            Template::parse("{{ a__b }}"),
            Err(TemplateError::BadName { .. })
        ));
    }
}
