//! Fuzz target for the CAP parsers of `oxicard-cap`: a GlobalPlatform load file (the components
//! concatenated), its semantic checks, the method listing, and the JAR container. Any input must
//! give a value or an error, never a panic; whatever parses must re-encode to the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxicard_cap::{jar, model, Cap};

fuzz_target!(|data: &[u8]| {
    if let Ok(cap) = Cap::parse_load_file(data) {
        let _ = cap.check();
        for method in cap.methods() {
            if method.is_err() {
                break;
            }
        }
        if let Ok(encoded) = model::Cap::from_view(&cap).encode_components() {
            let again = Cap::from_components(encoded.iter().map(|(_, bytes)| bytes.as_slice()));
            assert!(again.is_ok(), "re-encoded CAP no longer parses");
        }
    }
    if let Ok(cap_jar) = jar::read_cap_jar(data) {
        let _ = cap_jar.cap().map(|cap| cap.check());
    }
});
