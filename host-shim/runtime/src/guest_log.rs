//! Guest stdout/stderr as `tracing` events tagged with the component id.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};
use wasmtime_wasi::p2::{OutputStream, Pollable, StreamResult};

/// Longest line kept before it is logged in pieces.
const MAX_LINE: usize = 16 * 1024;

#[derive(Clone, Copy, Debug)]
pub enum GuestStream {
    Stdout,
    Stderr,
}

/// One guest output stream; every complete line becomes one log event.
#[derive(Clone)]
pub struct GuestLog {
    component: Arc<str>,
    stream: GuestStream,
}

impl GuestLog {
    pub fn new(component: Arc<str>, stream: GuestStream) -> Self {
        Self { component, stream }
    }
}

impl IsTerminal for GuestLog {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for GuestLog {
    fn p2_stream(&self) -> Box<dyn OutputStream> {
        Box::new(LineWriter::new(self.clone()))
    }

    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(LineWriter::new(self.clone()))
    }
}

struct LineWriter {
    target: GuestLog,
    pending: BytesMut,
}

impl LineWriter {
    fn new(target: GuestLog) -> Self {
        Self {
            target,
            pending: BytesMut::new(),
        }
    }

    fn push(&mut self, bytes: &[u8]) {
        self.pending.extend_from_slice(bytes);
        while let Some(end) = self.pending.iter().position(|b| *b == b'\n') {
            let line = self.pending.split_to(end + 1);
            self.emit(&line[..end]);
        }
        if self.pending.len() > MAX_LINE {
            let line = self.pending.split();
            self.emit(&line);
        }
    }

    fn emit(&self, line: &[u8]) {
        let line = String::from_utf8_lossy(line);
        let line = line.trim_end_matches('\r');
        let component = &*self.target.component;
        match self.target.stream {
            GuestStream::Stdout => {
                tracing::info!(target: "docket::guest", component, stream = "stdout", "{line}")
            }
            GuestStream::Stderr => {
                tracing::warn!(target: "docket::guest", component, stream = "stderr", "{line}")
            }
        }
    }
}

impl Drop for LineWriter {
    fn drop(&mut self) {
        if !self.pending.is_empty() {
            let rest = self.pending.split();
            self.emit(&rest);
        }
    }
}

#[async_trait::async_trait]
impl Pollable for LineWriter {
    async fn ready(&mut self) {}
}

impl OutputStream for LineWriter {
    fn write(&mut self, bytes: Bytes) -> StreamResult<()> {
        self.push(&bytes);
        Ok(())
    }

    fn flush(&mut self) -> StreamResult<()> {
        Ok(())
    }

    fn check_write(&mut self) -> StreamResult<usize> {
        Ok(MAX_LINE)
    }
}

impl AsyncWrite for LineWriter {
    fn poll_write(
        mut self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.push(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}
