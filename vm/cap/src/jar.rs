//! The CAP file's JAR (zip) container (feature `std`): reading the component entries
//! `<package path>/javacard/<Name>.cap` and writing a JAR like Oracle's converter does
//! (manifest deflated, components stored).

extern crate std;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write as _;
use std::io::{Cursor, Read, Write};

use crate::cap::{Cap, LOAD_ORDER};
use crate::component::{CapVersion, RawComponent};
use crate::error::{CapError, ComponentTag, ErrorKind};

/// Largest component entry accepted when reading (a component's size field is at most u4, but
/// a real CAP's components are far smaller; this bounds memory for hostile zip files).
pub const MAX_ENTRY_SIZE: u64 = 16 * 1024 * 1024;

/// The components of a CAP JAR.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapJar {
    /// The package path in internal form (`com/example/test`), from the component entries.
    pub package_path: String,
    /// Complete components (tag, size, info) in the order of their zip entries.
    pub components: Vec<(ComponentTag, Vec<u8>)>,
}

fn container(what: &'static str) -> CapError {
    CapError::new(None, 0, ErrorKind::Container { what })
}

fn tag_for_file(file: &str) -> Option<ComponentTag> {
    let stem = file
        .strip_suffix(".capx")
        .or_else(|| file.strip_suffix(".cap"))?;
    ComponentTag::STANDARD
        .iter()
        .copied()
        .find(|t| t.file_name().and_then(|f| f.strip_suffix(".cap")) == Some(stem))
}

/// Reads a CAP JAR: every `<package path>/javacard/<Name>.cap` entry with a known component
/// name, stored or deflated; other entries are ignored. Each entry must hold exactly one
/// component with the tag its name says, and all must share one package path.
pub fn read_cap_jar(bytes: &[u8]) -> Result<CapJar, CapError> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|_| container("not a zip file"))?;
    let mut package_path: Option<String> = None;
    let mut components: Vec<(ComponentTag, Vec<u8>)> = Vec::new();
    for index in 0..archive.len() {
        let mut entry = archive
            .by_index(index)
            .map_err(|_| container("unreadable zip entry"))?;
        let name = String::from(entry.name());
        let Some((path, file)) = name.rsplit_once("/javacard/") else {
            continue;
        };
        let Some(tag) = tag_for_file(file) else {
            continue;
        };
        match &package_path {
            Some(existing) if existing != path => {
                return Err(container("component entries of two package paths"))
            }
            Some(_) => {}
            None => package_path = Some(String::from(path)),
        }
        if components.iter().any(|(t, _)| *t == tag) {
            return Err(CapError::new(
                Some(tag),
                0,
                ErrorKind::DuplicateComponent { tag },
            ));
        }
        let mut data = Vec::new();
        entry
            .by_ref()
            .take(MAX_ENTRY_SIZE + 1)
            .read_to_end(&mut data)
            .map_err(|_| container("corrupt zip entry data"))?;
        if data.len() as u64 > MAX_ENTRY_SIZE {
            return Err(container("component entry larger than 16 MiB"));
        }
        RawComponent::parse_exact(&data, tag)?;
        components.push((tag, data));
    }
    let package_path = package_path.ok_or(container("no <package>/javacard/*.cap entries"))?;
    Ok(CapJar {
        package_path,
        components,
    })
}

impl CapJar {
    /// The complete component with `tag`, if present.
    pub fn component(&self, tag: ComponentTag) -> Option<&[u8]> {
        self.components
            .iter()
            .find(|(t, _)| *t == tag)
            .map(|(_, bytes)| bytes.as_slice())
    }

    /// The GlobalPlatform Load File Data Block: the components concatenated in [`LOAD_ORDER`]
    /// (Header, Directory, Import, Applet, Class, Method, StaticField, Export, ConstantPool,
    /// RefLocation), followed by the Descriptor if `with_descriptor`. Debug is never included.
    pub fn load_file_data_block(&self, with_descriptor: bool) -> Vec<u8> {
        let mut out = Vec::new();
        for tag in LOAD_ORDER {
            if tag == ComponentTag::Descriptor && !with_descriptor {
                continue;
            }
            if let Some(bytes) = self.component(tag) {
                out.extend_from_slice(bytes);
            }
        }
        out
    }

    /// Parses the components into a [`Cap`].
    pub fn cap(&self) -> Result<Cap<'_>, CapError> {
        Cap::from_components(self.components.iter().map(|(_, bytes)| bytes.as_slice()))
    }
}

/// Manifest values that are not in the components.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct ManifestInfo {
    /// `Created-By` (e.g. the JDK version), omitted when empty.
    pub created_by: String,
    /// `Java-Card-CAP-Creation-Time`, omitted when empty.
    pub creation_time: String,
    /// `Java-Card-Converter-Version`.
    pub converter_version: String,
    /// `Java-Card-Converter-Provider`.
    pub converter_provider: String,
    /// Applet class names, in Applet component order (`Java-Card-Applet-<n>-Name`).
    pub applet_names: Vec<String>,
}

fn hex_aid(aid: &[u8]) -> String {
    let mut out = String::new();
    for (i, byte) in aid.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "0x{byte:02x}");
    }
    out
}

fn write_line(out: &mut String, line: core::fmt::Arguments<'_>) {
    let _ = out.write_fmt(line);
    out.push_str("\r\n");
}

/// The manifest text for `cap` (lines end with CRLF as in Oracle's JARs).
pub fn manifest(cap: &Cap<'_>, package_path: &str, info: &ManifestInfo) -> String {
    let mut m = String::new();
    let package = cap.header.package;
    let rid = package.aid.get(..5).unwrap_or(package.aid);
    let pix = package.aid.get(5..).unwrap_or(&[]);
    let mut rid_hex = String::new();
    for b in rid {
        let _ = write!(rid_hex, "{b:02X}");
    }
    let mut pix_hex = String::new();
    for b in pix {
        let _ = write!(pix_hex, "{b:02X}");
    }
    write_line(&mut m, format_args!("Manifest-Version: 1.0"));
    if !info.created_by.is_empty() {
        write_line(&mut m, format_args!("Created-By: {}", info.created_by));
    }
    write_line(&mut m, format_args!("Runtime-Descriptor-Version: 3.0"));
    write_line(&mut m, format_args!("Application-Type: classic-applet"));
    write_line(
        &mut m,
        format_args!("Classic-Package-AID: //aid/{rid_hex}/{pix_hex}"),
    );
    write_line(&mut m, format_args!("Sealed: true"));
    m.push_str("\r\n");
    write_line(&mut m, format_args!("Name: {package_path}"));
    if !info.creation_time.is_empty() {
        write_line(
            &mut m,
            format_args!("Java-Card-CAP-Creation-Time: {}", info.creation_time),
        );
    }
    write_line(
        &mut m,
        format_args!("Java-Card-Converter-Version: {}", info.converter_version),
    );
    write_line(
        &mut m,
        format_args!("Java-Card-Converter-Provider: {}", info.converter_provider),
    );
    let CapVersion { major, minor } = cap.version();
    write_line(
        &mut m,
        format_args!("Java-Card-CAP-File-Version: {major}.{minor}"),
    );
    write_line(
        &mut m,
        format_args!(
            "Java-Card-Package-Version: {}.{}",
            package.major_version, package.minor_version
        ),
    );
    write_line(
        &mut m,
        format_args!("Java-Card-Package-Name: {}", package_path.replace('/', ".")),
    );
    write_line(
        &mut m,
        format_args!("Java-Card-Package-AID: {}", hex_aid(package.aid)),
    );
    if let Some(applets) = cap.applet {
        for (i, applet) in applets.applets.enumerate() {
            let n = i + 1;
            if let Some(name) = info.applet_names.get(i) {
                write_line(&mut m, format_args!("Java-Card-Applet-{n}-Name: {name}"));
            }
            write_line(
                &mut m,
                format_args!("Java-Card-Applet-{n}-AID: {}", hex_aid(applet.aid)),
            );
        }
    }
    for (i, import) in cap.import.packages.enumerate() {
        let n = i + 1;
        write_line(
            &mut m,
            format_args!(
                "Java-Card-Imported-Package-{n}-AID: {}",
                hex_aid(import.aid)
            ),
        );
        write_line(
            &mut m,
            format_args!(
                "Java-Card-Imported-Package-{n}-Version: {}.{}",
                import.major_version, import.minor_version
            ),
        );
    }
    let int = if cap.header.flags & crate::components::header::ACC_INT != 0 {
        "TRUE"
    } else {
        "FALSE"
    };
    write_line(
        &mut m,
        format_args!("Java-Card-Integer-Support-Required: {int}"),
    );
    m.push_str("\r\n");
    m
}

/// Writes a CAP JAR: `META-INF/MANIFEST.MF` (deflated) and each component as
/// `<package_path>/javacard/<Name>.cap` (stored), in tag order. `components` are complete
/// components; they must form a valid [`Cap`] (the manifest is derived from them).
pub fn write_cap_jar<'a, I>(
    components: I,
    package_path: &str,
    info: &ManifestInfo,
) -> Result<Vec<u8>, CapError>
where
    I: IntoIterator<Item = &'a [u8]>,
{
    let mut list: Vec<&'a [u8]> = components.into_iter().collect();
    let cap = Cap::from_components(list.iter().copied())?;
    list.sort_by_key(|bytes| bytes.first().copied().unwrap_or(0));
    let write_error = |_| container("zip writer failed");
    let mut zip = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let deflated = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    let stored =
        zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    zip.start_file("META-INF/MANIFEST.MF", deflated)
        .map_err(write_error)?;
    zip.write_all(manifest(&cap, package_path, info).as_bytes())
        .map_err(|_| container("zip writer failed"))?;
    for bytes in list {
        let tag = bytes.first().copied().and_then(ComponentTag::from_u8);
        let Some(file) = tag.and_then(ComponentTag::file_name) else {
            continue;
        };
        zip.start_file(alloc::format!("{package_path}/javacard/{file}"), stored)
            .map_err(write_error)?;
        zip.write_all(bytes)
            .map_err(|_| container("zip writer failed"))?;
    }
    let cursor = zip.finish().map_err(write_error)?;
    Ok(cursor.into_inner())
}
