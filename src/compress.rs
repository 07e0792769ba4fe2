//! Compressed siblings: Rails serves `x.gz`/`x.br` in place of `x` when they
//! exist, so every changed file that had one gets it regenerated from the new
//! bytes. Output is deterministic (no name, no mtime in the gzip header).

use std::io::Write;

pub fn gzip(data: &[u8]) -> Vec<u8> {
    let mut enc = flate2::GzBuilder::new().mtime(0).write(Vec::new(), flate2::Compression::best());
    enc.write_all(data).expect("writing to memory");
    enc.finish().expect("writing to memory")
}

pub fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams { quality: 11, lgwin: 22, ..Default::default() };
    brotli::BrotliCompress(&mut std::io::Cursor::new(data), &mut out, &params).expect("writing to memory");
    out
}

/// A compressor producing a sibling's bytes.
pub type Encoder = fn(&[u8]) -> Vec<u8>;

/// The sibling suffixes and their encoders.
pub const SIBLINGS: [(&str, Encoder); 2] = [(".gz", gzip), (".br", brotli)];

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn round_trips_and_is_deterministic() {
        let data = b"hello hello hello Nexa".repeat(10);
        let gz = gzip(&data);
        assert_eq!(gz, gzip(&data));
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..]).read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        let br = brotli(&data);
        let mut back = Vec::new();
        brotli::BrotliDecompress(&mut &br[..], &mut back).unwrap();
        assert_eq!(back, data);
    }
}
