//! The `oxicard` command.
fn main() {}
