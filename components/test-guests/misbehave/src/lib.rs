//! Test guest: misbehaves on purpose (trap, endless loop, memory hog, slow reply) so tests can
//! check host limits, and counts requests per instance (`/count`) to show instances are fresh.

use guest_support::{error, query_param, route_path, text};
use spin_sdk::http::{Request, Response};
use spin_sdk::http_component;
use std::hint::black_box;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Counts requests seen by this instance; a fresh instance per request always says 1.
static REQUESTS_SEEN: AtomicU32 = AtomicU32::new(0);

const MIB: usize = 1 << 20;

#[http_component]
fn handle(req: Request) -> Response {
    let seen = REQUESTS_SEEN.fetch_add(1, Ordering::Relaxed) + 1;
    match route_path(&req) {
        "/count" => text(200, seen.to_string()),
        "/ok" => text(200, "ok"),
        "/trap" => panic!("deliberate trap"),
        "/loop" => spin_forever(),
        "/hog" => hog_memory(),
        "/slow" => match query_param(&req, "ms").map(|ms| ms.parse::<u64>()) {
            Some(Ok(ms)) => {
                std::thread::sleep(Duration::from_millis(ms));
                text(200, "slow done")
            }
            _ => error(400, "`ms` must be a number of milliseconds"),
        },
        other => error(404, format!("no route for {other}")),
    }
}

/// Never returns; `black_box` keeps the optimizer from removing the loop.
fn spin_forever() -> ! {
    let mut counter = 0u64;
    loop {
        counter = black_box(counter.wrapping_add(1));
    }
}

/// Allocates and writes 1 MiB chunks, keeping them all alive, until allocation
/// fails (which aborts the guest) or the host stops it.
fn hog_memory() -> ! {
    let mut chunks: Vec<Vec<u8>> = Vec::new();
    loop {
        chunks.push(black_box(vec![0xA5; MIB]));
    }
}
