//! A small pool of SQLite connections to one database file. Work runs on
//! tokio's blocking threads so a slow query never stalls the request loop.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use anyhow::Context;
use rusqlite::Connection;
use tokio::sync::OwnedSemaphorePermit;

/// Idle connections kept per database beyond which returned ones are closed.
const MAX_IDLE: usize = 32;

pub struct SqlitePool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
    /// SQLite has one writer at a time. Writers queue here, in order, instead
    /// of in SQLite's busy handler, which polls with sleeps of up to 100 ms
    /// and lets a late writer overtake one that has waited for seconds.
    writer: Arc<tokio::sync::Semaphore>,
}

/// A connection checked out of its pool; it goes back when dropped.
pub struct PooledConnection {
    pool: Arc<SqlitePool>,
    conn: Option<Connection>,
}

impl SqlitePool {
    /// Opens (creating if needed) the database and applies `schema` once.
    pub fn open(path: &Path, schema: &str) -> anyhow::Result<Arc<Self>> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("failed to create {}", dir.display()))?;
        }
        let pool = Arc::new(Self {
            path: path.to_path_buf(),
            idle: Mutex::new(Vec::new()),
            writer: Arc::new(tokio::sync::Semaphore::new(1)),
        });
        let conn = pool.connect()?;
        conn.execute_batch(schema)
            .with_context(|| format!("failed to prepare {}", path.display()))?;
        pool.put_back(conn);
        Ok(pool)
    }

    fn connect(&self) -> anyhow::Result<Connection> {
        let conn = Connection::open(&self.path)
            .with_context(|| format!("failed to open {}", self.path.display()))?;
        // WAL keeps readers and one writer apart; NORMAL sync survives a
        // process crash (the WAL is on disk), which is what "durable" means here.
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
             PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
        )
        .with_context(|| format!("failed to configure {}", self.path.display()))?;
        Ok(conn)
    }

    /// Waits for the right to write; hold it until the write transaction ends.
    pub async fn write_turn(&self, wait: std::time::Duration) -> Option<OwnedSemaphorePermit> {
        tokio::time::timeout(wait, self.writer.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
    }

    pub fn get(self: &Arc<Self>) -> anyhow::Result<PooledConnection> {
        let idle = self.idle.lock().ok().and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.connect()?,
        };
        Ok(PooledConnection {
            pool: self.clone(),
            conn: Some(conn),
        })
    }

    fn put_back(&self, conn: Connection) {
        // A guest that trapped mid-transaction must not hand it to the next request.
        if !conn.is_autocommit() && conn.execute_batch("ROLLBACK").is_err() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE
        {
            idle.push(conn);
        }
    }

    /// Runs `work` on a pooled connection on a blocking thread.
    pub async fn run<R: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(&mut Connection) -> R + Send + 'static,
    ) -> anyhow::Result<R> {
        let mut conn = self.get()?;
        tokio::task::spawn_blocking(move || work(conn.connection()))
            .await
            .context("sqlite worker failed")
    }
}

impl PooledConnection {
    pub fn connection(&mut self) -> &mut Connection {
        self.conn
            .as_mut()
            .unwrap_or_else(|| unreachable!("connection is only taken on drop"))
    }
}

impl Drop for PooledConnection {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            self.pool.put_back(conn);
        }
    }
}
