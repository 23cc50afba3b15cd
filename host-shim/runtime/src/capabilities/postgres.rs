//! PostgreSQL: `spin:postgres/postgres@3.0.0` and `@4.0.0`.

pub struct ConnectionHandle;
#[derive(Default)]
pub struct PostgresClients;
pub fn add_to_linker(
    _linker: &mut wasmtime::component::Linker<crate::state::HostState>,
) -> wasmtime::Result<()> {
    Ok(())
}
