//! Every variable source, both guest interfaces, and secrets kept out of logs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use support::{Docket, Options, component, manifest};

const SECRET: &str = "s3cr3t-value-never-logged";

fn app_body() -> String {
    "[variables]\n\
     from_default = { default = \"default-value\" }\n\
     from_env = { default = \"overridden\" }\n\
     from_flag = { required = true }\n\
     from_dotenv = { required = true }\n\
     api_key = { required = true, secret = true }\n"
        .to_string()
        + &component(
            "vars",
            "/...",
            "variables",
            "[component.vars.variables]\n\
             default_var = \"{{ from_default }}\"\n\
             env_var = \"{{ from_env }}\"\n\
             flag_var = \"{{ from_flag }}\"\n\
             dotenv_var = \"prefix-{{ from_dotenv }}\"\n\
             key = \"{{ api_key }}\"\n",
        )
}

fn start() -> Docket {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("vars.env"),
        "SPIN_VARIABLE_FROM_DOTENV=from-file\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("runtime-config.toml"),
        "[[config_provider]]\ntype = \"env\"\ndotenv_path = \"vars.env\"\n",
    )
    .unwrap();
    let options = Options {
        args: vec![
            "--variable".into(),
            "from_flag=flag-value".into(),
            "--runtime-config-file".into(),
            dir.path().join("runtime-config.toml").display().to_string(),
        ],
        env: vec![
            ("SPIN_VARIABLE_FROM_ENV".into(), "env-value".into()),
            ("SPIN_VARIABLE_API_KEY".into(), SECRET.into()),
        ],
        ..Default::default()
    };
    let app = Docket::start_with(&manifest(&app_body()), options);
    drop(dir);
    app
}

#[test]
fn resolves_every_source_through_both_interfaces() {
    let app = start();
    for (name, expected) in [
        ("default_var", "default-value"),
        ("env_var", "env-value"),
        ("flag_var", "flag-value"),
        ("dotenv_var", "prefix-from-file"),
        ("key", SECRET),
    ] {
        for interface in ["spin", "config"] {
            let reply = app.get(&format!("/{interface}?name={name}"));
            assert_eq!(
                (reply.status, reply.body.as_str()),
                (200, expected),
                "{interface} {name}"
            );
        }
    }
    // Only the component's own variables are visible, not every app variable.
    for interface in ["spin", "config"] {
        let reply = app.get(&format!("/{interface}?name=from_default"));
        assert_eq!(reply.status, 404, "{interface}: {}", reply.body);
    }
    let invalid = app.get("/spin?name=Bad-Name");
    assert!(invalid.body.contains("InvalidName"), "{}", invalid.body);
}

#[test]
fn secret_values_never_reach_the_logs() {
    let app = start();
    assert_eq!(app.get("/spin?name=key").body, SECRET);
    app.wait_for_log("docket::request");
    let logs = app.logs();
    assert!(!logs.contains(SECRET), "secret leaked into logs:\n{logs}");
}

#[test]
fn refuses_to_start_without_a_required_value() {
    let output = Docket::refuses(&manifest(&app_body()), Options::default());
    for name in ["from_flag", "from_dotenv", "api_key"] {
        assert!(
            output.contains(&format!("`{name}`")),
            "{name} not named:\n{output}"
        );
    }
}
