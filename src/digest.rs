//! Digests as whitelabel writes and reads them: the digest file
//! (`stacks/<brand>.digest`, one line `repository@sha256:<64 hex>`, written
//! by `build --push`, read by `stack` and `list`) and bare sha256 hex
//! strings in data files.
//!
//! Lower-case hex only, on write and on read. Upper case is refused rather
//! than folded: the OCI image spec allows only `[a-f0-9]{64}` for sha256,
//! Docker and the registry refuse anything else (`invalid checksum digest
//! format`), so a file holding one was not written by whitelabel and a stack
//! pinned to it would not deploy. Refusing it says so where it is read.

use std::io::Read as _;
use std::path::Path;

use crate::error::{Error, Result};
use crate::image_ref::ImageRef;

/// A digest file is one short line; more is not one.
const MAX_DIGEST_FILE: u64 = 4096;

/// What a digest file must hold, for messages.
pub const DIGEST_LINE: &str = "one line `repo@sha256:<64 lower-case hex digits>`";

/// `sha256:<64 lower-case hex>`.
pub fn is_sha256(digest: &str) -> bool {
    digest.strip_prefix("sha256:").is_some_and(|h| parse_sha256_hex(h).is_ok())
}

/// 64 lower-case hex digits → the 32 bytes.
pub fn parse_sha256_hex(hex: &str) -> std::result::Result<[u8; 32], String> {
    if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        return Err(format!("{hex:?} is not 64 lower-case hex digits"));
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(hex, &mut out).map_err(|e| e.to_string())?;
    Ok(out)
}

/// `repo[:tag]@sha256:<64 lower-case hex>`, parsed.
pub fn pinned(s: &str) -> std::result::Result<ImageRef, String> {
    let r = ImageRef::parse(s)?;
    match r.digest() {
        Some(d) if is_sha256(d) => Ok(r),
        Some(_) => Err(format!("`{s}` is not pinned by a sha256 digest of 64 lower-case hex digits")),
        None => Err(format!("`{s}` is not pinned by digest (repo@sha256:…)")),
    }
}

/// `repo@sha256:<64 hex>` → `sha256:<12 hex>` (the reference itself when it
/// is not pinned), for tables: the repository is in the tag beside it.
pub fn short(reference: &str) -> String {
    match ImageRef::parse(reference).ok().as_ref().and_then(ImageRef::digest) {
        Some(d) => d[..d.len().min("sha256:".len() + 12)].to_string(),
        None => reference.to_string(),
    }
}

/// Reads a digest file: `None` when it does not exist, else what is wrong
/// with it (the caller names the file) when it is not [`DIGEST_LINE`].
pub fn read(path: &Path) -> std::result::Result<Option<ImageRef>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let mut text = String::new();
    file.take(MAX_DIGEST_FILE).read_to_string(&mut text).map_err(|e| format!("cannot be read: {e}"))?;
    let lines: Vec<&str> = text.lines().map(str::trim).filter(|l| !l.is_empty()).collect();
    match lines.as_slice() {
        [one] => pinned(one).map(Some).map_err(|why| format!("is not {DIGEST_LINE}: {why}")),
        _ => Err(format!("is not {DIGEST_LINE}")),
    }
}

/// Writes `reference` (which must be pinned) as the digest file, creating
/// its directory; atomically, so a reader never sees half a line.
pub fn write(path: &Path, reference: &str) -> Result<()> {
    let r = pinned(reference).map_err(|why| Error::usage(why, "push first; the registry gives the digest"))?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("creating", dir, e))?;
    }
    crate::render::write_atomically(path, format!("{r}\n").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_then_read_and_only_canonical_lines_accepted() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("stacks/x.digest");
        assert_eq!(read(&p), Ok(None));
        let good = format!("127.0.0.1:5000/acme/chatwoot@sha256:{}", "a".repeat(64));
        write(&p, &good).unwrap();
        assert_eq!(std::fs::read_to_string(&p).unwrap(), format!("{good}\n"));
        assert_eq!(read(&p).unwrap().unwrap().as_str(), good);
        std::fs::write(&p, format!("\n  {good}  \n\n")).unwrap();
        assert_eq!(read(&p).unwrap().unwrap().as_str(), good, "blank lines and spaces around are fine");
        for bad in [
            "127.0.0.1:5000/acme/chatwoot:latest".to_string(),
            "x@sha256:00".to_string(),
            format!("{good}\n{good}"),
            good.replace("aaaa", "AAAA"),
        ] {
            std::fs::write(&p, &bad).unwrap();
            let e = read(&p).unwrap_err();
            assert!(e.contains("is not one line") && e.contains("lower-case"), "{bad}: {e}");
        }
        assert!(write(&p, "acme/chatwoot:latest").is_err());
    }

    #[test]
    fn sha256_hex_is_lower_case() {
        assert!(parse_sha256_hex(&"0f".repeat(32)).is_ok());
        assert!(parse_sha256_hex(&"0F".repeat(32)).is_err());
        assert!(parse_sha256_hex("0f").is_err());
        assert!(is_sha256(&format!("sha256:{}", "0".repeat(64))));
        assert!(!is_sha256(&format!("sha512:{}", "0".repeat(64))));
    }
}
