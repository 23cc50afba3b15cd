//! Host bindings for the Spin interfaces in `wit/docket.wit`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "docket:host/spin-imports",
    imports: { default: async | trappable },
    with: {
        "fermyon:spin/sqlite.connection": crate::capabilities::sqlite::ConnectionHandle,
        "spin:sqlite/sqlite.connection": crate::capabilities::sqlite::ConnectionHandle,
        "fermyon:spin/key-value.store": crate::capabilities::key_value::StoreHandle,
        "spin:postgres/postgres@3.0.0.connection": crate::capabilities::postgres::ConnectionHandle,
        "spin:postgres/postgres@4.0.0.connection": crate::capabilities::postgres::ConnectionHandle,
    },
});
