//! Running one request through a component: a fresh Store from the
//! pre-instance, a deadline, a memory cap, and the guest in its own task so
//! the body streams while it is still running.

use std::sync::Arc;
use std::time::Instant;

use http::Request;
use hyper::body::Incoming;
use wasmtime::{Engine, Store, Trap, UpdateDeadline};
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use crate::config::RequestLimits;
use crate::registry::ComponentSlot;
use crate::state::{AppServices, HostState};

/// Why a component produced no response.
#[derive(Debug)]
pub enum Failure {
    /// The request itself was unusable (e.g. no Host header).
    BadRequest(String),
    Timeout,
    OutOfMemory,
    /// Every instance slot is busy.
    AtCapacity,
    Trap(String),
    /// The guest finished without setting a response, or set an error code.
    NoResponse(String),
}

impl Failure {
    /// The `kind` label of `docket_http_request_errors_total`.
    pub fn kind(&self) -> &'static str {
        match self {
            Failure::BadRequest(_) => "bad_request",
            Failure::Timeout => "timeout",
            Failure::OutOfMemory => "out_of_memory",
            Failure::AtCapacity => "at_capacity",
            Failure::Trap(_) => "trap",
            Failure::NoResponse(_) => "no_response",
        }
    }
}

pub async fn invoke(
    engine: &Engine,
    slot: &ComponentSlot,
    services: &Arc<AppServices>,
    limits: &RequestLimits,
    request: Request<Incoming>,
) -> Result<http::Response<HyperOutgoingBody>, Failure> {
    let started = Instant::now();
    let timeout = limits.timeout;
    let slot_permit =
        tokio::time::timeout(timeout, services.instance_slots.clone().acquire_owned())
            .await
            .ok()
            .and_then(Result::ok)
            .ok_or(Failure::AtCapacity)?;
    let loaded = slot.current();
    let state = HostState::new(slot.context.clone(), services.clone(), limits);
    let mut store = Store::new(engine, state);
    store.limiter(|state| &mut state.limiter);
    store.set_epoch_deadline(1);
    store.epoch_deadline_callback(move |_| {
        Ok(if started.elapsed() >= timeout {
            UpdateDeadline::Interrupt
        } else {
            UpdateDeadline::Yield(1)
        })
    });

    let (sender, receiver) = tokio::sync::oneshot::channel();
    let mut http = store.data_mut().http();
    let incoming = http
        .new_incoming_request(Scheme::Http, request)
        .map_err(|e| Failure::BadRequest(format!("{e:#}")))?;
    let outparam = http
        .new_response_outparam(sender)
        .map_err(|e| Failure::Trap(format!("{e:#}")))?;

    let pre = loaded.pre.clone();
    let task = tokio::spawn(async move {
        let result = async {
            let proxy = pre.instantiate_async(&mut store).await?;
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, incoming, outparam)
                .await
        }
        .await;
        let memory_hit = store.data().limiter.hit;
        // The pooling allocator frees the instance's slot with the store; the
        // permit for it goes only after that.
        drop(store);
        drop(slot_permit);
        (result, memory_hit)
    });

    let remaining = timeout.saturating_sub(started.elapsed());
    match tokio::time::timeout(remaining, receiver).await {
        Ok(Ok(Ok(response))) => Ok(response),
        Ok(Ok(Err(code))) => Err(Failure::NoResponse(error_code_text(&code))),
        Ok(Err(_no_response)) => Err(match task.await {
            Ok((Ok(()), _)) => Failure::NoResponse("the guest returned without a response".into()),
            Ok((Err(e), memory_hit)) => classify(e, memory_hit),
            Err(join) => Failure::Trap(format!("guest task failed: {join}")),
        }),
        Err(_elapsed) => {
            task.abort();
            Err(Failure::Timeout)
        }
    }
}

fn classify(error: wasmtime::Error, memory_hit: bool) -> Failure {
    if let Some(Trap::Interrupt) = error.downcast_ref::<Trap>() {
        return Failure::Timeout;
    }
    if error
        .downcast_ref::<wasmtime::PoolConcurrencyLimitError>()
        .is_some()
    {
        return Failure::AtCapacity;
    }
    if memory_hit {
        return Failure::OutOfMemory;
    }
    Failure::Trap(format!("{error:?}"))
}

fn error_code_text(code: &ErrorCode) -> String {
    format!("the guest answered with error {code:?}")
}
