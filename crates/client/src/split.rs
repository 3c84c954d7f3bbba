//! Incremental splitter for one bare top-level JSON array, chunk by chunk.
//!
//! MassPay's tax endpoint answers with a single array of every payee and no paging. Rather than
//! parse the whole body, the splitter finds each element's byte range as the bytes arrive (tracking
//! strings, escapes and nesting), so memory stays at one chunk plus the elements not yet consumed,
//! whatever the size of the response. Each element is then decoded on its own, which also lets a
//! malformed row be reported with its index while the other rows still decode.

use std::collections::VecDeque;
use std::ops::Range;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplitError {
    #[error("expected a JSON array, found {found:?} at byte {offset}")]
    NotAnArray { found: char, offset: u64 },
    #[error("unexpected {found:?} between array elements at byte {offset}")]
    Unexpected { found: char, offset: u64 },
    #[error("the array ended early (the body stopped inside element {element})")]
    Truncated { element: usize },
    #[error("the body is empty")]
    Empty,
    #[error("an array element is larger than {limit} bytes")]
    ElementTooLarge { limit: usize },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// Before the opening `[`.
    Start,
    /// Inside the array, between elements (after `[` or `,`).
    BeforeElement,
    /// Inside an element.
    InElement,
    /// After an element, expecting `,` or `]`.
    AfterElement,
    /// After the closing `]`.
    Done,
}

/// Splits a streamed JSON array into element byte ranges.
#[derive(Debug)]
pub struct ArraySplitter {
    state: State,
    depth: u32,
    in_string: bool,
    escape: bool,
    /// A scalar element (number, string, literal) is in progress.
    scalar: bool,
    offset: u64,
    elements: usize,
    buf: Vec<u8>,
    ready: VecDeque<Range<usize>>,
    current_start: usize,
    max_element: usize,
}

impl Default for ArraySplitter {
    fn default() -> Self {
        Self::new()
    }
}

impl ArraySplitter {
    /// One element may not exceed this size (a payee row is well under 4 KiB).
    pub const DEFAULT_MAX_ELEMENT: usize = 1 << 20;

    pub fn new() -> Self {
        ArraySplitter {
            state: State::Start,
            depth: 0,
            in_string: false,
            escape: false,
            scalar: false,
            offset: 0,
            elements: 0,
            buf: Vec::with_capacity(64 * 1024),
            ready: VecDeque::new(),
            current_start: 0,
            max_element: Self::DEFAULT_MAX_ELEMENT,
        }
    }

    /// Number of complete elements seen so far.
    pub fn elements(&self) -> usize {
        self.elements
    }

    /// Whether elements are waiting to be taken.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next complete element's bytes, if any. Valid until the next `push`.
    pub fn next_element(&mut self) -> Option<&[u8]> {
        let r = self.ready.pop_front()?;
        Some(&self.buf[r])
    }

    /// Feeds the next chunk of the body. Call only once [`Self::has_ready`] is false, so the
    /// buffer can be compacted.
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), SplitError> {
        debug_assert!(self.ready.is_empty());
        // Compact: keep only the element in progress.
        if self.state == State::InElement {
            self.buf.drain(..self.current_start);
        } else {
            self.buf.clear();
        }
        self.current_start = 0;
        let mut i = 0;
        while i < chunk.len() {
            if self.state == State::InElement && !self.scalar {
                // Inside an object or array: scan to its end (or the chunk's) and copy the run
                // at once; strings are skipped with `memchr` to their closing quote.
                let start = i;
                let done = self.scan_nested(chunk, &mut i);
                self.buf.extend_from_slice(&chunk[start..i]);
                self.offset += (i - start) as u64;
                if done {
                    self.complete();
                }
                continue;
            }
            self.step(chunk[i])?;
            self.offset += 1;
            i += 1;
        }
        if self.state == State::InElement && self.buf.len() - self.current_start > self.max_element
        {
            return Err(SplitError::ElementTooLarge {
                limit: self.max_element,
            });
        }
        Ok(())
    }

    /// Declares the end of the body.
    pub fn finish(&mut self) -> Result<(), SplitError> {
        match self.state {
            State::Done => Ok(()),
            State::Start => Err(SplitError::Empty),
            State::InElement if self.scalar && self.depth == 0 && !self.in_string => {
                // A scalar can only end with `,` or `]`; the array was not closed.
                Err(SplitError::Truncated {
                    element: self.elements,
                })
            }
            _ => Err(SplitError::Truncated {
                element: self.elements,
            }),
        }
    }

    #[inline]
    fn step(&mut self, b: u8) -> Result<(), SplitError> {
        match self.state {
            State::Start => match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                0xEF | 0xBB | 0xBF if self.offset < 3 => {} // UTF-8 BOM
                b'[' => self.state = State::BeforeElement,
                _ => {
                    return Err(SplitError::NotAnArray {
                        found: b as char,
                        offset: self.offset,
                    });
                }
            },
            State::BeforeElement | State::AfterElement => match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                b']' => self.state = State::Done,
                b',' if self.state == State::AfterElement => self.state = State::BeforeElement,
                b',' => {
                    return Err(SplitError::Unexpected {
                        found: ',',
                        offset: self.offset,
                    });
                }
                _ if self.state == State::AfterElement => {
                    return Err(SplitError::Unexpected {
                        found: b as char,
                        offset: self.offset,
                    });
                }
                _ => {
                    self.state = State::InElement;
                    self.current_start = self.buf.len();
                    self.buf.push(b);
                    self.scalar = false;
                    match b {
                        b'{' | b'[' => self.depth = 1,
                        b'"' => {
                            self.scalar = true;
                            self.in_string = true;
                        }
                        _ => self.scalar = true,
                    }
                }
            },
            State::InElement => {
                if self.in_string {
                    self.buf.push(b);
                    if self.escape {
                        self.escape = false;
                    } else if b == b'\\' {
                        self.escape = true;
                    } else if b == b'"' {
                        self.in_string = false;
                    }
                    return Ok(());
                }
                if self.scalar && self.depth == 0 {
                    // Scalars end at `,`, `]` or whitespace.
                    match b {
                        b',' | b']' | b' ' | b'\t' | b'\r' | b'\n' => {
                            self.complete();
                            return self.step(b);
                        }
                        b'"' => {
                            self.buf.push(b);
                            self.in_string = true;
                        }
                        _ => self.buf.push(b),
                    }
                    return Ok(());
                }
                // A nested element (`push` scans these in runs): the same tracking, one byte.
                self.buf.push(b);
                if self.scan_nested(&[b], &mut 0) {
                    self.complete();
                }
            }
            State::Done => match b {
                b' ' | b'\t' | b'\r' | b'\n' => {}
                _ => {
                    return Err(SplitError::Unexpected {
                        found: b as char,
                        offset: self.offset,
                    });
                }
            },
        }
        Ok(())
    }

    /// Advances `i` through a nested element's bytes, tracking strings, escapes and depth, as
    /// [`Self::step`] does byte by byte; true once the element's closing bracket is passed.
    #[inline]
    fn scan_nested(&mut self, chunk: &[u8], i: &mut usize) -> bool {
        while *i < chunk.len() {
            if self.in_string {
                if self.escape {
                    self.escape = false;
                    *i += 1;
                    continue;
                }
                match memchr::memchr2(b'"', b'\\', &chunk[*i..]) {
                    None => *i = chunk.len(),
                    Some(k) => {
                        *i += k;
                        if chunk[*i] == b'\\' {
                            self.escape = true;
                        } else {
                            self.in_string = false;
                        }
                        *i += 1;
                    }
                }
                continue;
            }
            let b = chunk[*i];
            *i += 1;
            match b {
                b'"' => self.in_string = true,
                b'{' | b'[' => self.depth += 1,
                b'}' | b']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        return true;
                    }
                }
                _ => {}
            }
        }
        false
    }

    fn complete(&mut self) {
        self.ready.push_back(self.current_start..self.buf.len());
        self.elements += 1;
        self.state = State::AfterElement;
        self.scalar = false;
        self.current_start = self.buf.len();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split_all(body: &[u8], chunk: usize) -> Result<Vec<String>, SplitError> {
        let mut s = ArraySplitter::new();
        let mut out = Vec::new();
        for c in body.chunks(chunk.max(1)) {
            s.push(c)?;
            while let Some(e) = s.next_element() {
                out.push(String::from_utf8(e.to_vec()).unwrap());
            }
        }
        s.finish()?;
        Ok(out)
    }

    #[test]
    fn splits_objects_across_any_chunking() {
        let body = br#" [ {"a":"x,}]{\"","b":[1,{"c":2}]} , {"d":null},1.5e3,"s]",null ] "#;
        for chunk in [1, 2, 3, 7, 1000] {
            let parts = split_all(body, chunk).unwrap();
            assert_eq!(
                parts,
                vec![
                    r#"{"a":"x,}]{\"","b":[1,{"c":2}]}"#,
                    r#"{"d":null}"#,
                    "1.5e3",
                    r#""s]""#,
                    "null"
                ],
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn escapes_and_nesting_split_at_every_byte() {
        let body = br#"[{"a":"q\"}\\","b":{"c":["]",{"d":"\\\""}]}},{"e":"\u005d"}]"#;
        let whole = split_all(body, body.len()).unwrap();
        assert_eq!(
            whole,
            vec![
                r#"{"a":"q\"}\\","b":{"c":["]",{"d":"\\\""}]}}"#,
                r#"{"e":"\u005d"}"#
            ]
        );
        for chunk in 1..body.len() {
            assert_eq!(split_all(body, chunk).unwrap(), whole, "chunk size {chunk}");
        }
    }

    #[test]
    fn empty_array_and_errors() {
        assert_eq!(split_all(b"[]", 1).unwrap(), Vec::<String>::new());
        assert_eq!(
            split_all(b"\xEF\xBB\xBF[ ]\n", 1).unwrap(),
            Vec::<String>::new()
        );
        assert!(matches!(
            split_all(br#"{"message":"x"}"#, 4),
            Err(SplitError::NotAnArray { .. })
        ));
        assert_eq!(split_all(b"", 4), Err(SplitError::Empty));
        assert_eq!(
            split_all(br#"[{"a":1},{"b""#, 4),
            Err(SplitError::Truncated { element: 1 })
        );
        assert_eq!(
            split_all(br#"[{"a":1}"#, 4),
            Err(SplitError::Truncated { element: 1 })
        );
        assert!(matches!(
            split_all(br#"[{"a":1} {"b":2}]"#, 4),
            Err(SplitError::Unexpected { .. })
        ));
        assert!(matches!(
            split_all(br#"[,]"#, 4),
            Err(SplitError::Unexpected { .. })
        ));
        assert!(matches!(
            split_all(br#"[1] x"#, 4),
            Err(SplitError::Unexpected { .. })
        ));
    }
}
