//! Edit lists: where a rule replaced bytes, so positions in the base file can
//! be followed into the patched one (source-map mappings must move with the
//! code they point at).

/// One replacement, in the coordinates of the text it was applied to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Edit {
    pub at: usize,
    pub old_len: usize,
    pub new_len: usize,
}

/// The edit lists of the rules applied to one file, in order. `None` in a
/// file's result means a rule changed it without saying where.
pub type Chain = Vec<Vec<Edit>>;

/// Maps offsets through one edit list. Offsets must be asked in increasing
/// order; an offset inside a replaced span maps to the span's start.
struct Cursor<'e> {
    edits: &'e [Edit],
    next: usize,
    shift: isize,
}

impl Cursor<'_> {
    fn map(&mut self, offset: usize) -> usize {
        while let Some(e) = self.edits.get(self.next) {
            if e.at + e.old_len > offset {
                if e.at < offset {
                    return (e.at as isize + self.shift) as usize;
                }
                break;
            }
            self.shift += e.new_len as isize - e.old_len as isize;
            self.next += 1;
        }
        (offset as isize + self.shift) as usize
    }
}

/// Maps increasing `offsets` of the original text through every list of `chain`.
pub fn map_offsets(chain: &Chain, offsets: &[usize]) -> Vec<usize> {
    let mut out = offsets.to_vec();
    for edits in chain {
        let mut cursor = Cursor { edits, next: 0, shift: 0 };
        for o in out.iter_mut() {
            *o = cursor.map(*o);
        }
    }
    out
}

/// Converts between (line, UTF-16 column) positions, as source maps count
/// them, and byte offsets, for positions asked in increasing order.
pub struct Positions<'t> {
    text: &'t str,
    line: usize,
    /// Byte offset and UTF-16 column of the cursor on `line`.
    byte: usize,
    col: usize,
}

impl<'t> Positions<'t> {
    pub fn new(text: &'t str) -> Positions<'t> {
        Positions { text, line: 0, byte: 0, col: 0 }
    }

    /// Byte offset of (line, col); past the end of a line clamps to its end.
    pub fn offset(&mut self, line: usize, col: usize) -> usize {
        while self.line < line {
            match self.text[self.byte..].find('\n') {
                Some(nl) => {
                    self.byte += nl + 1;
                    self.line += 1;
                    self.col = 0;
                }
                None => return self.text.len(),
            }
        }
        let rest = &self.text[self.byte..];
        let mut chars = rest.char_indices();
        while self.col < col {
            match chars.next() {
                Some((_, '\n')) | None => break,
                Some((_, c)) => {
                    self.col += c.len_utf16();
                    self.byte += c.len_utf8();
                }
            }
        }
        self.byte
    }

    /// (line, col) of a byte offset.
    pub fn position(&mut self, offset: usize) -> (usize, usize) {
        let offset = offset.min(self.text.len());
        for c in self.text[self.byte..offset].chars() {
            if c == '\n' {
                self.line += 1;
                self.col = 0;
            } else {
                self.col += c.len_utf16();
            }
        }
        self.byte = offset;
        (self.line, self.col)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_follow_replacements() {
        // "a Chatwoot b Chatwoot c" → "a Nexa b Nexa c"
        let chain = vec![vec![Edit { at: 2, old_len: 8, new_len: 4 }, Edit { at: 13, old_len: 8, new_len: 4 }]];
        assert_eq!(map_offsets(&chain, &[0, 2, 5, 11, 13, 22]), vec![0, 2, 2, 7, 9, 14]);
        // Two rules in a row compose.
        let chain = vec![vec![Edit { at: 0, old_len: 1, new_len: 3 }], vec![Edit { at: 5, old_len: 2, new_len: 0 }]];
        assert_eq!(map_offsets(&chain, &[1, 4, 8]), vec![3, 5, 8]);
    }

    #[test]
    fn utf16_columns() {
        let text = "ab\nção😀x\ny";
        let mut p = Positions::new(text);
        assert_eq!(p.offset(0, 1), 1);
        assert_eq!(p.offset(1, 3), 3 + "ção".len());
        assert_eq!(p.offset(1, 5), 3 + "ção😀".len());
        assert_eq!(p.offset(2, 0), text.len() - 1);
        let mut p = Positions::new(text);
        assert_eq!(p.position(3 + "ção😀".len()), (1, 5));
        assert_eq!(p.position(text.len()), (2, 1));
    }
}
