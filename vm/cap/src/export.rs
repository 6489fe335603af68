//! Export (.exp) files: see export-format.md.
