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
    Ok(if counts.iter().any(|c| *c > 0) { Outcome::whole(Some(out), counts) } else { Outcome::unchanged(slots) })
}

/// Total length of the ID3v2 tag at the start of `data`, header included.
fn v2_len(data: &[u8]) -> Option<usize> {
    let size = data[6..10].iter().try_fold(0usize, |acc, b| (b & 0x80 == 0).then_some((acc << 7) | *b as usize))?;
    let footer = if data[5] & 0x10 != 0 { 10 } else { 0 };
    Some(10 + size + footer)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of upstream's ding.mp3: an ID3v2.3 tag holding TYER, TDRC
    /// (a v2.4 frame) and TPE1 "Chatwoot", then MPEG frames.
    fn upstream_shaped() -> Vec<u8> {
        let mut frames = Vec::new();
        for (id, text) in [("TYER", "2020"), ("TDRC", "2020"), ("TPE1", "Chatwoot")] {
            frames.extend_from_slice(id.as_bytes());
            frames.extend_from_slice(&((text.len() + 1) as u32).to_be_bytes());
            frames.extend_from_slice(&[0, 0, 0]);
            frames.extend_from_slice(text.as_bytes());
        }
        let size = frames.len() as u32;
        let mut data = b"ID3\x03\x00\x00".to_vec();
        data.extend((0..4).rev().map(|i| ((size >> (7 * i)) & 0x7f) as u8));
        data.extend(frames);
        data.extend_from_slice(&[0xff, 0xfb, 0x90, 0x64, 1, 2, 3, 4]);
        data
    }

    #[test]
    fn rewrites_text_frames_and_keeps_the_audio() {
        let data = upstream_shaped();
        let out = apply(&data, 1, |t, c| {
            c[0] += t.matches("Chatwoot").count();
            t.replace("Chatwoot", "Nexa")
        })
        .unwrap();
        assert_eq!(out.counts, vec![1]);
        let bytes = out.bytes.unwrap();
        let tag = Tag::read_from2(Cursor::new(&bytes)).unwrap();
        assert_eq!(tag.artist(), Some("Nexa"));
        assert_eq!(tag.version(), Version::Id3v23);
        assert!(bytes.ends_with(&[0xff, 0xfb, 0x90, 0x64, 1, 2, 3, 4]));
    }

    #[test]
    fn files_without_the_word_are_left_alone() {
        let out = apply(b"\xff\xfb\x90\x64audio", 1, |t, _| t.to_string()).unwrap();
        assert!(out.bytes.is_none());
    }
}
