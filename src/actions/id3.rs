//! `action = "id3"`: rewrites the text frames of an MP3's ID3v2 tag (and the
//! fixed fields of an ID3v1 trailer) through the rule's replacements. The
//! audio frames are copied unchanged.

use std::io::Cursor;

use id3::{Content, Frame, Tag, TagLike, Version};

use super::Outcome;

/// `replace` maps a text to its replacement and the number of matches.
pub fn apply(data: &[u8], slots: usize, replace: impl Fn(&str, &mut [usize]) -> String) -> Result<Outcome, String> {
    let mut counts = vec![0; slots];
    let mut out = Vec::with_capacity(data.len());
    let mut audio = data;
    if data.starts_with(b"ID3") && data.len() >= 10 {
        let tag = Tag::read_from2(Cursor::new(data)).map_err(|e| format!("has an unreadable ID3 tag: {e}"))?;
        let old_len = v2_len(data).ok_or("has a malformed ID3v2 header")?;
        let mut new_tag = Tag::with_version(tag.version());
        for frame in tag.frames() {
            match frame.content() {
                Content::Text(text) => {
                    new_tag.add_frame(Frame::text(frame.id(), replace(text, &mut counts)));
                }
                _ => {
                    new_tag.add_frame(frame.clone());
                }
            }
        }
        let version = match tag.version() {
            Version::Id3v22 => Version::Id3v23,
            v => v,
        };
        new_tag.write_to(&mut out, version).map_err(|e| format!("ID3 tag could not be written: {e}"))?;
        audio = &data[old_len.min(data.len())..];
    }
    out.extend_from_slice(audio);
    // ID3v1: 128 bytes at the end, fixed Latin-1 fields.
    let n = out.len();
    if n >= 128 && &out[n - 128..n - 125] == b"TAG" {
        for (offset, len) in [(3usize, 30usize), (33, 30), (63, 30)] {
            let field = &out[n - 128 + offset..n - 128 + offset + len];
            let text: String = field.iter().take_while(|b| **b != 0).map(|b| *b as char).collect();
            let new = replace(&text, &mut counts);
            if new != text {
                let mut bytes: Vec<u8> =
                    new.chars().map(|c| if (c as u32) < 256 { c as u8 } else { b'?' }).take(len).collect();
                bytes.resize(len, 0);
                out[n - 128 + offset..n - 128 + offset + len].copy_from_slice(&bytes);
            }
        }
    }
    Ok(if counts.iter().any(|c| *c > 0) { Outcome { bytes: Some(out), counts } } else { Outcome::unchanged(slots) })
}

/// Total length of the ID3v2 tag at the start of `data`, header included.
fn v2_len(data: &[u8]) -> Option<usize> {
    let size = data[6..10].iter().try_fold(0usize, |acc, b| (b & 0x80 == 0).then_some((acc << 7) | *b as usize))?;
    let footer = if data[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}
