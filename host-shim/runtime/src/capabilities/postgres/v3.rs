//! `spin:postgres/postgres@3.0.0`, served by the @4.0.0 implementation:
//! parameters widen losslessly; results narrow, with v4-only types reported
//! as `unsupported` / `other`.

use wasmtime::component::Resource;

use super::ConnectionHandle;
use crate::bindings::spin::postgres3_0_0::postgres as v3;
use crate::bindings::spin::postgres4_0_0::postgres as v4;
use crate::state::HostState;

fn param(value: v3::ParameterValue) -> v4::ParameterValue {
    use v3::ParameterValue as P3;
    use v4::ParameterValue as P4;
    match value {
        P3::Boolean(v) => P4::Boolean(v),
        P3::Int8(v) => P4::Int8(v),
        P3::Int16(v) => P4::Int16(v),
        P3::Int32(v) => P4::Int32(v),
        P3::Int64(v) => P4::Int64(v),
        P3::Floating32(v) => P4::Floating32(v),
        P3::Floating64(v) => P4::Floating64(v),
        P3::Str(v) => P4::Str(v),
        P3::Binary(v) => P4::Binary(v),
        P3::Date(v) => P4::Date(v),
        P3::Time(v) => P4::Time(v),
        P3::Datetime(v) => P4::Datetime(v),
        P3::Timestamp(v) => P4::Timestamp(v),
        P3::DbNull => P4::DbNull,
    }
}

fn value(value: v4::DbValue) -> v3::DbValue {
    use v3::DbValue as V3;
    use v4::DbValue as V4;
    match value {
        V4::Boolean(v) => V3::Boolean(v),
        V4::Int8(v) => V3::Int8(v),
        V4::Int16(v) => V3::Int16(v),
        V4::Int32(v) => V3::Int32(v),
        V4::Int64(v) => V3::Int64(v),
        V4::Floating32(v) => V3::Floating32(v),
        V4::Floating64(v) => V3::Floating64(v),
        V4::Str(v) => V3::Str(v),
        V4::Binary(v) => V3::Binary(v),
        V4::Date(v) => V3::Date(v),
        V4::Time(v) => V3::Time(v),
        V4::Datetime(v) => V3::Datetime(v),
        V4::Timestamp(v) => V3::Timestamp(v),
        V4::DbNull => V3::DbNull,
        _ => V3::Unsupported,
    }
}

fn data_type(ty: v4::DbDataType) -> v3::DbDataType {
    use v3::DbDataType as T3;
    use v4::DbDataType as T4;
    match ty {
        T4::Boolean => T3::Boolean,
        T4::Int8 => T3::Int8,
        T4::Int16 => T3::Int16,
        T4::Int32 => T3::Int32,
        T4::Int64 => T3::Int64,
        T4::Floating32 => T3::Floating32,
        T4::Floating64 => T3::Floating64,
        T4::Str => T3::Str,
        T4::Binary => T3::Binary,
        T4::Date => T3::Date,
        T4::Time => T3::Time,
        T4::Datetime => T3::Datetime,
        T4::Timestamp => T3::Timestamp,
        _ => T3::Other,
    }
}

fn error(err: v4::Error) -> v3::Error {
    match err {
        v4::Error::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
        v4::Error::BadParameter(m) => v3::Error::BadParameter(m),
        v4::Error::QueryFailed(v4::QueryError::Text(m)) => v3::Error::QueryFailed(m),
        v4::Error::QueryFailed(v4::QueryError::DbError(db)) => v3::Error::QueryFailed(db.as_text),
        v4::Error::ValueConversionFailed(m) => v3::Error::ValueConversionFailed(m),
        v4::Error::Other(m) => v3::Error::Other(m),
    }
}

fn row_set(rows: v4::RowSet) -> v3::RowSet {
    v3::RowSet {
        columns: rows
            .columns
            .into_iter()
            .map(|c| v3::Column {
                name: c.name,
                data_type: data_type(c.data_type),
            })
            .collect(),
        rows: rows
            .rows
            .into_iter()
            .map(|row| row.into_iter().map(value).collect())
            .collect(),
    }
}

impl v3::Host for HostState {}

impl v3::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<ConnectionHandle>, v3::Error>> {
        Ok(self.pg_open(address).await?.map_err(error))
    }

    async fn query(
        &mut self,
        handle: Resource<ConnectionHandle>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<v3::RowSet, v3::Error>> {
        let params = params.into_iter().map(param).collect();
        Ok(self
            .pg_query(&handle, &statement, params)
            .await?
            .map(row_set)
            .map_err(error))
    }

    async fn execute(
        &mut self,
        handle: Resource<ConnectionHandle>,
        statement: String,
        params: Vec<v3::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v3::Error>> {
        let params = params.into_iter().map(param).collect();
        Ok(self
            .pg_execute(&handle, &statement, params)
            .await?
            .map_err(error))
    }

    async fn drop(&mut self, handle: Resource<ConnectionHandle>) -> wasmtime::Result<()> {
        self.table.delete(handle)?;
        Ok(())
    }
}
