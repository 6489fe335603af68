//! Helpers shared by the integration tests: the golden transcript location, a reference
//! case classifier written straight from the ISO 7816-4 table, and a small deterministic
//! random generator for mutation tests.
#![allow(dead_code)]

use std::path::PathBuf;

use oxicard_apdu::Case;

/// `/work/shared/golden`, reached from this crate's manifest directory.
pub fn golden_dir() -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/golden"
    ))
}

/// One `>` command line of a transcript and the `<` response line after it.
pub struct GoldenExchange {
    /// `folder/transcript.apdu:line`.
    pub place: String,
    /// The command hex text (comment removed).
    pub command: String,
    /// The response hex text (comment removed).
    pub response: String,
}

/// Every command/response pair of every `*/transcript.apdu` under the golden folder.
pub fn golden_exchanges() -> Vec<GoldenExchange> {
    let mut folders: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .expect("golden folder is readable")
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.join("transcript.apdu").is_file())
        .collect();
    folders.sort();
    // README §1: every folder but `lib` has a transcript.
    assert!(
        folders.len() >= 7,
        "expected the 7 golden transcripts, found {folders:?}"
    );
    let mut out = Vec::new();
    for folder in folders {
        let path = folder.join("transcript.apdu");
        let text = std::fs::read_to_string(&path).expect("transcript is readable");
        let name = folder.file_name().unwrap().to_string_lossy().into_owned();
        let mut pending: Option<(String, String)> = None;
        for (number, line) in text.lines().enumerate() {
            let content = line.split('#').next().unwrap().trim();
            if let Some(command) = content.strip_prefix('>') {
                assert!(
                    pending.is_none(),
                    "{name}:{} command without a response",
                    number + 1
                );
                pending = Some((
                    format!("{name}/transcript.apdu:{}", number + 1),
                    command.trim().to_owned(),
                ));
            } else if let Some(response) = content.strip_prefix('<') {
                let (place, command) = pending.take().expect("response after a command");
                out.push(GoldenExchange {
                    place,
                    command,
                    response: response.trim().to_owned(),
                });
            }
        }
        assert!(pending.is_none(), "{name}: last command has no response");
    }
    out
}

/// The case(s) an APDU can be under the ISO 7816-4 §5.1 table, each checked separately by
/// its length formula. A well-formed APDU matches exactly one; a malformed one matches none.
pub fn reference_cases(apdu: &[u8]) -> Vec<(Case, usize, Option<usize>)> {
    let len = apdu.len();
    let mut found = Vec::new();
    if len < 4 {
        return found;
    }
    if len == 4 {
        found.push((Case::Case1, 0, None));
    }
    if len == 5 {
        let le = apdu[4] as usize;
        found.push((Case::Case2Short, 0, Some(if le == 0 { 256 } else { le })));
    }
    if len > 5 {
        let b4 = apdu[4] as usize;
        if b4 != 0 && len == 5 + b4 {
            found.push((Case::Case3Short, b4, None));
        }
        if b4 != 0 && len == 6 + b4 {
            let le = apdu[len - 1] as usize;
            found.push((Case::Case4Short, b4, Some(if le == 0 { 256 } else { le })));
        }
        if b4 == 0 && len == 7 {
            let le = (apdu[5] as usize) << 8 | apdu[6] as usize;
            found.push((
                Case::Case2Extended,
                0,
                Some(if le == 0 { 65536 } else { le }),
            ));
        }
        if b4 == 0 && len > 7 {
            let nc = (apdu[5] as usize) << 8 | apdu[6] as usize;
            if nc != 0 && len == 7 + nc {
                found.push((Case::Case3Extended, nc, None));
            }
            if nc != 0 && len == 9 + nc {
                let le = (apdu[len - 2] as usize) << 8 | apdu[len - 1] as usize;
                found.push((
                    Case::Case4Extended,
                    nc,
                    Some(if le == 0 { 65536 } else { le }),
                ));
            }
        }
    }
    found
}

/// xorshift64*: a small deterministic generator, so mutation runs are reproducible.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    /// A random byte.
    pub fn byte(&mut self) -> u8 {
        self.next_u64() as u8
    }
}
