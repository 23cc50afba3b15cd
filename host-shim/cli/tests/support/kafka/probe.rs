//! A few raw Kafka requests on a plain connection: ApiVersions, which a
//! broker answers before any SASL handshake (a broker that answers it is up;
//! an open port alone is not), and Metadata, which it answers only to an
//! authenticated client when SASL is on.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const API_VERSIONS: i16 = 18;
const METADATA: i16 = 3;
const CORRELATION_ID: i32 = 0x646f_636b;

/// The number of APIs the broker at `addr` lists, or why it did not answer.
pub fn api_versions(addr: &str) -> Result<usize, String> {
    let mut reply = Reader(exchange(addr, API_VERSIONS, &[])?);
    let error = reply.i16()?;
    let count = reply.i32()?;
    match (error, count) {
        (0, n) if n > 0 => Ok(n as usize),
        (error, n) => Err(format!("ApiVersions error {error}, {n} APIs")),
    }
}

/// The topic names a Metadata (v0) request for all topics returns.
pub fn topic_names(addr: &str) -> Result<Vec<String>, String> {
    let mut reply = Reader(exchange(addr, METADATA, &0i32.to_be_bytes())?);
    for _ in 0..reply.i32()? {
        reply.i32()?;
        reply.string()?;
        reply.i32()?;
    }
    let mut names = Vec::new();
    for _ in 0..reply.i32()? {
        reply.i16()?;
        names.push(reply.string()?);
        for _ in 0..reply.i32()? {
            reply.i16()?;
            reply.i32()?;
            reply.i32()?;
            let replicas = reply.i32()?;
            reply.take(4 * replicas.max(0) as usize)?;
            let in_sync = reply.i32()?;
            reply.take(4 * in_sync.max(0) as usize)?;
        }
    }
    names.sort();
    Ok(names)
}

/// Sends one v0 request and returns the response body after its correlation id.
fn exchange(addr: &str, api_key: i16, body: &[u8]) -> Result<Vec<u8>, String> {
    let fail = |e: std::io::Error| e.to_string();
    let mut stream = TcpStream::connect(addr).map_err(fail)?;
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .map_err(fail)?;
    let client_id = b"docket-test";
    let mut request = Vec::new();
    request.extend_from_slice(&api_key.to_be_bytes());
    request.extend_from_slice(&0i16.to_be_bytes());
    request.extend_from_slice(&CORRELATION_ID.to_be_bytes());
    request.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    request.extend_from_slice(client_id);
    request.extend_from_slice(body);
    let mut frame = (request.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&request);
    stream.write_all(&frame).map_err(fail)?;

    let mut size = [0u8; 4];
    stream.read_exact(&mut size).map_err(fail)?;
    let mut reply = vec![0u8; i32::from_be_bytes(size).max(0) as usize];
    stream.read_exact(&mut reply).map_err(fail)?;
    let mut reader = Reader(reply);
    let correlation = reader.i32()?;
    if correlation != CORRELATION_ID {
        return Err(format!("reply to another request ({correlation})"));
    }
    Ok(reader.0)
}

struct Reader(Vec<u8>);

impl Reader {
    fn take(&mut self, n: usize) -> Result<Vec<u8>, String> {
        if self.0.len() < n {
            return Err(format!("reply ends early (wanted {n} more bytes)"));
        }
        let rest = self.0.split_off(n);
        Ok(std::mem::replace(&mut self.0, rest))
    }

    fn i16(&mut self) -> Result<i16, String> {
        Ok(i16::from_be_bytes(
            self.take(2)?.try_into().unwrap_or_default(),
        ))
    }

    fn i32(&mut self) -> Result<i32, String> {
        Ok(i32::from_be_bytes(
            self.take(4)?.try_into().unwrap_or_default(),
        ))
    }

    fn string(&mut self) -> Result<String, String> {
        let len = self.i16()?.max(0) as usize;
        Ok(String::from_utf8_lossy(&self.take(len)?).into_owned())
    }
}
