//! Fuzz target for the card runtime: arbitrary bytes as a package's load file, streamed into the
//! loader; any applet it declares is installed, selected and sent commands with a small
//! instruction budget. The runtime must refuse or stop, never panic, hang or read out of bounds.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    oxicard_jcre::fuzzing::fuzz_load_and_run(data);
});
