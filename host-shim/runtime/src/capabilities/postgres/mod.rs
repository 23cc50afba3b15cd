//! PostgreSQL: `spin:postgres/postgres@4.0.0` and, mapped onto it, `@3.0.0`.
//! Connections come from a pool per address; the address must be allowed by
//! the component's `allowed_outbound_hosts` (`postgres://host:port`).
// The WIT-generated `error` (with its `db-error` record) is the value handed
// to the guest, so it is returned as-is rather than boxed.
#![allow(clippy::result_large_err)]

mod pg_types;
mod rows;
mod v3;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::config::{Host, SslMode};
use wasmtime::component::{HasSelf, Linker, Resource};

use crate::bindings::spin::postgres4_0_0::postgres::{
    self as v4, Error, ParameterValue, QueryError, RowSet,
};
use crate::state::HostState;

/// Connections kept open per address.
const POOL_SIZE: usize = 16;

/// Pools shared by every component, keyed by the full address string (which
/// may hold a password: it is never logged).
#[derive(Default)]
pub struct PostgresClients {
    pools: Mutex<HashMap<String, Pool>>,
}

/// The host side of a guest's `connection` resource.
pub struct ConnectionHandle {
    client: deadpool_postgres::Object,
}

pub fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    fn state(s: &mut HostState) -> &mut HostState {
        s
    }
    v4::add_to_linker::<_, HasSelf<HostState>>(linker, state)?;
    crate::bindings::spin::postgres3_0_0::postgres::add_to_linker::<_, HasSelf<HostState>>(
        linker, state,
    )
}

impl PostgresClients {
    fn pool(&self, address: &str, config: tokio_postgres::Config) -> Result<Pool, Error> {
        let mut pools = self
            .pools
            .lock()
            .map_err(|_| Error::Other("postgres pool lock poisoned".into()))?;
        if let Some(pool) = pools.get(address) {
            return Ok(pool.clone());
        }
        let manager_config = ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        };
        let manager = if config.get_ssl_mode() == SslMode::Disable {
            Manager::from_config(config, tokio_postgres::NoTls, manager_config)
        } else {
            Manager::from_config(config, tls_connector(), manager_config)
        };
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| Error::ConnectionFailed(e.to_string()))?;
        pools.insert(address.to_string(), pool.clone());
        Ok(pool)
    }
}

/// One connection made outside any guest (docket's own probes), with TLS
/// chosen exactly as for the guests' pools. The URL may hold a password:
/// errors name neither.
pub async fn connect(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let config = tokio_postgres::Config::from_str(url)?;
    let client = if config.get_ssl_mode() == SslMode::Disable {
        let (client, connection) = config.connect(tokio_postgres::NoTls).await?;
        tokio::spawn(connection);
        client
    } else {
        let (client, connection) = config.connect(tls_connector()).await?;
        tokio::spawn(connection);
        client
    };
    Ok(client)
}

fn tls_connector() -> tokio_postgres_rustls::MakeRustlsConnect {
    let roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map(|builder| builder.with_root_certificates(roots).with_no_client_auth())
    .unwrap_or_else(|_| unreachable!("ring supports the default protocol versions"));
    tokio_postgres_rustls::MakeRustlsConnect::new(config)
}

fn query_failed(err: tokio_postgres::Error) -> Error {
    if lost_connection(&err) {
        return Error::ConnectionFailed(error_chain(&err));
    }
    Error::QueryFailed(match err.as_db_error() {
        Some(db) => QueryError::DbError(v4::DbError {
            as_text: db.to_string(),
            severity: db.severity().to_string(),
            code: db.code().code().to_string(),
            message: db.message().to_string(),
            detail: db.detail().map(str::to_string),
            extras: [
                ("hint", db.hint()),
                ("table", db.table()),
                ("column", db.column()),
                ("constraint", db.constraint()),
            ]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v.to_string())))
            .collect(),
        }),
        None => QueryError::Text(error_chain(&err)),
    })
}

/// The server went away under the statement (restarted, network cut): the
/// connection, not the statement, failed, so the guest may answer "try
/// again" rather than treat it as a broken query. The pool drops the closed
/// connection on its next recycle.
fn lost_connection(err: &tokio_postgres::Error) -> bool {
    use std::error::Error as _;
    err.is_closed()
        || err
            .source()
            .is_some_and(|cause| cause.is::<std::io::Error>())
}

/// tokio-postgres puts the useful part of an error in its sources.
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

impl HostState {
    async fn pg_open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, Error>> {
        let config = match tokio_postgres::Config::from_str(&address) {
            Ok(config) => config,
            Err(e) => {
                return Ok(Err(Error::ConnectionFailed(format!(
                    "invalid address: {e}"
                ))));
            }
        };
        if let Err(denied) = self.check_pg_hosts(&config) {
            return Ok(Err(denied));
        }
        let pool = match self.services.postgres.pool(&address, config) {
            Ok(pool) => pool,
            Err(e) => return Ok(Err(e)),
        };
        match pool.get().await {
            Ok(client) => Ok(Ok(self.table.push(ConnectionHandle { client })?)),
            Err(e) => Ok(Err(Error::ConnectionFailed(error_chain(&e)))),
        }
    }

    fn check_pg_hosts(&self, config: &tokio_postgres::Config) -> Result<(), Error> {
        let ports = config.get_ports();
        for (index, host) in config.get_hosts().iter().enumerate() {
            let port = ports.get(index).or(ports.first()).copied().unwrap_or(5432);
            let allowed = match host {
                Host::Tcp(name) => self.component.allowed_hosts.allows("postgres", name, port),
                Host::Unix(_) => false,
            };
            if !allowed {
                let shown = match host {
                    Host::Tcp(name) => format!("postgres://{name}:{port}"),
                    Host::Unix(path) => format!("unix socket {}", path.display()),
                };
                tracing::warn!(component = &*self.component.id, host = %shown, "postgres connection denied: add it to allowed_outbound_hosts");
                return Err(Error::ConnectionFailed(format!(
                    "{shown} is not allowed by the component's allowed_outbound_hosts"
                )));
            }
        }
        Ok(())
    }

    async fn pg_query(
        &mut self,
        handle: &Resource<ConnectionHandle>,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        let params = match pg_types::to_params(params) {
            Ok(params) => params,
            Err(e) => return Ok(Err(e)),
        };
        let client = &self.table.get(handle)?.client;
        let refs = pg_types::param_refs(&params);
        let prepared = match client.prepare_cached(statement).await {
            Ok(prepared) => prepared,
            Err(e) => return Ok(Err(query_failed(e))),
        };
        Ok(match client.query(&prepared, &refs).await {
            Ok(rows) => rows::to_row_set(prepared.columns(), &rows),
            Err(e) => Err(query_failed(e)),
        })
    }

    async fn pg_execute(
        &mut self,
        handle: &Resource<ConnectionHandle>,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        let params = match pg_types::to_params(params) {
            Ok(params) => params,
            Err(e) => return Ok(Err(e)),
        };
        let client = &self.table.get(handle)?.client;
        let refs = pg_types::param_refs(&params);
        Ok(client.execute(statement, &refs).await.map_err(query_failed))
    }
}

impl v4::Host for HostState {}

impl v4::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, Error>> {
        self.pg_open(address).await
    }

    async fn query(
        &mut self,
        handle: Resource<ConnectionHandle>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, Error>> {
        self.pg_query(&handle, &statement, params).await
    }

    async fn execute(
        &mut self,
        handle: Resource<ConnectionHandle>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, Error>> {
        self.pg_execute(&handle, &statement, params).await
    }

    async fn drop(&mut self, handle: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shared test server (`127.0.0.1:5432`, trust).
    const SERVER: &str = "host=127.0.0.1 port=5432 user=postgres dbname=postgres";

    #[tokio::test]
    async fn a_closed_connection_is_a_connection_failure() {
        let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
            .await
            .expect("the test Postgres server");
        // Dropping the connection half closes the client, as a server gone away does.
        drop(connection);
        let err = client.simple_query("SELECT 1").await.unwrap_err();
        assert!(
            matches!(query_failed(err), Error::ConnectionFailed(_)),
            "a lost connection must read as unavailable"
        );
    }

    #[tokio::test]
    async fn a_failed_statement_stays_a_query_failure() {
        let (client, connection) = tokio_postgres::connect(SERVER, tokio_postgres::NoTls)
            .await
            .expect("the test Postgres server");
        let driver = tokio::spawn(connection);
        let err = client.simple_query("SELECT nope").await.unwrap_err();
        match query_failed(err) {
            Error::QueryFailed(QueryError::DbError(db)) => assert_eq!(db.code, "42703"),
            other => panic!("expected a database error, got {other:?}"),
        }
        driver.abort();
    }
}
