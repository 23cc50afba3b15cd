//! wasmtime 48 has its own error type; this adds anyhow-style context to it.

pub trait WasmtimeContext<T> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T>;
}

impl<T> WasmtimeContext<T> for Result<T, wasmtime::Error> {
    fn wasm_context(self, what: &str) -> anyhow::Result<T> {
        self.map_err(|e| anyhow::anyhow!("{what}: {e:#}"))
    }
}
