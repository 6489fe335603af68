//! oxicard-convert: turns javac output for Java Card packages into CAP and export files.
//!
//! The stages so far: [`classfile`] reads class files, [`bytecode`] decodes method bodies
//! into JVM instructions, [`descriptor`] parses type descriptors, and [`subset`] refuses
//! whatever a Java Card VM cannot run, naming the source file and line.

pub mod bytecode;
pub mod classfile;
pub mod descriptor;
pub mod subset;
