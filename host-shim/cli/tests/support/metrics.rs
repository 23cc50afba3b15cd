//! Reading docket's Prometheus metrics in tests.

use super::Docket;

pub const METRICS_PATH: &str = "/.well-known/docket/metrics";

/// The metrics text, as Prometheus would scrape it.
pub fn scrape(docket: &Docket) -> String {
    let reply = docket.get(METRICS_PATH);
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body
}

/// The value of the sample `name` carrying every label in `labels`
/// (others may be present too), if there is one.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().find_map(|line| {
        let rest = line.strip_prefix(name)?;
        let (label_text, value) = match rest.strip_prefix('{') {
            Some(rest) => rest.rsplit_once("} ")?,
            None => ("", rest.strip_prefix(' ')?),
        };
        labels
            .iter()
            .all(|(k, v)| {
                label_text
                    .split(',')
                    .any(|pair| pair == format!("{k}={v:?}"))
            })
            .then(|| value.trim().parse().ok())?
    })
}

/// Like [`sample`], 0 when absent (a counter never touched).
pub fn count(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample(text, name, labels).unwrap_or(0.0)
}
