//! Fuzz target for the export-file (`.exp`) parser of `oxicard-cap`: parse, walk every class,
//! field and method, and re-encode what parsed. Never a panic; a parsed file re-encodes to a
//! file that parses again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use oxicard_cap::export::ExportFile;

fuzz_target!(|data: &[u8]| {
    if let Ok(file) = ExportFile::parse(data) {
        let _ = (file.package_name(), file.package_aid(), file.version());
        for class in file.classes() {
            let _ = (class.name, class.superclass());
            for field in class.fields() {
                let _ = (field.name, field.descriptor, field.constant_value);
            }
            for method in class.methods() {
                let _ = (method.name, method.descriptor);
            }
        }
        if let Ok(bytes) = file.to_model().encode() {
            assert!(
                ExportFile::parse(&bytes).is_ok(),
                "re-encoded export file no longer parses"
            );
        }
    }
});
