//! The precompressed bodies, at each format's best level: compression runs
//! once per build, decompression on every client.

use std::io::Write;

use brotli::enc::BrotliEncoderParams;
use flate2::Compression;
use flate2::write::GzEncoder;

/// Brotli's largest window that every browser decodes (RFC 7932 allows up
/// to 24 bits; larger is the non-standard "large window" mode).
const BROTLI_WINDOW_BITS: i32 = 24;

/// Gzip at level 9. `None` only if the encoder fails, which writing to
/// memory does not.
pub fn gzip(bytes: &[u8]) -> Option<Vec<u8>> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
    encoder.write_all(bytes).ok()?;
    encoder.finish().ok()
}

/// Brotli at quality 11.
pub fn brotli(bytes: &[u8]) -> Option<Vec<u8>> {
    let params = BrotliEncoderParams {
        quality: 11,
        lgwin: BROTLI_WINDOW_BITS,
        size_hint: bytes.len(),
        ..BrotliEncoderParams::default()
    };
    let mut out = Vec::new();
    brotli::BrotliCompress(&mut &bytes[..], &mut out, &params).ok()?;
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    const TEXT: &[u8] = b"function docket(){return 'docket'}function docket(){return 'docket'}";

    #[test]
    fn gzip_round_trips() {
        let compressed = gzip(TEXT).unwrap();
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&compressed[..])
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, TEXT);
    }

    #[test]
    fn brotli_round_trips() {
        let compressed = brotli(TEXT).unwrap();
        let mut out = Vec::new();
        brotli::Decompressor::new(&compressed[..], 4096)
            .read_to_end(&mut out)
            .unwrap();
        assert_eq!(out, TEXT);
    }

    #[test]
    fn the_same_input_gives_the_same_bytes() {
        assert_eq!(gzip(TEXT), gzip(TEXT));
        assert_eq!(brotli(TEXT), brotli(TEXT));
    }
}
