//! Export-file models of the API packages, built from the token tables for one platform.
//!
//! The files match what Oracle's converter reads from the export sets in its 3.2 kit:
//! export format 2.3, the package AID and version of the target platform, the classes
//! and members that platform has (rows with `since` not newer than the target), with
//! their tokens, flags, superclass chains, superinterfaces and constant values. The
//! constant pool order and the referenced-package list follow the converter (see
//! `oxicard_cap::export::model`), so the java.lang file starts with exactly the bytes of
//! the worked example in export-format.md.

use oxicard_cap::export::model::{
    ClassModel, ExportFileModel, FieldModel, MethodModel, PackageModel,
};
use oxicard_cap::export::{FormatVersion, ACC_ABSTRACT, ACC_LIBRARY, CONSTANT_FIELD_TOKEN};

use crate::tables::{ApiClass, ApiMember, ApiTables, MemberKind, Platform};
use crate::ApiError;

/// Internal form of a dotted name (`javacard.framework.APDU` → `javacard/framework/APDU`).
pub fn internal_name(dotted: &str) -> String {
    dotted.replace('.', "/")
}

/// Path of a package's export file relative to an export directory, in Oracle's layout:
/// `javacard/framework/javacard/framework.exp`.
pub fn export_file_path(package: &str) -> std::path::PathBuf {
    let mut path: std::path::PathBuf = package.split('.').collect();
    let last = package.rsplit('.').next().unwrap_or(package);
    path.push("javacard");
    path.push(format!("{last}.exp"));
    path
}

impl ApiTables {
    /// The export-file model of `package` (dotted) as shipped for `platform`; `None` if
    /// the package does not exist on that platform.
    pub fn export_model(
        &self,
        package: &str,
        platform: Platform,
    ) -> Result<Option<ExportFileModel>, ApiError> {
        let Some(api_package) = self.package(package) else {
            return Err(ApiError::Model(format!("unknown package {package}")));
        };
        let Some(version) = api_package.version(platform) else {
            return Ok(None);
        };
        let classes = self
            .classes_of(package)
            .filter(|class| class.since <= platform)
            .map(|class| self.class_model(class, platform))
            .collect::<Result<Vec<_>, _>>()?;
        let mut model = ExportFileModel {
            format: FormatVersion::V2_3,
            package: PackageModel {
                flags: if api_package.library { ACC_LIBRARY } else { 0 },
                name: internal_name(package),
                version,
                aid: api_package.aid.clone(),
            },
            referenced_packages: Vec::new(),
            classes,
        };
        model.referenced_packages = model
            .referenced_package_names()
            .iter()
            .map(|name| {
                let dotted = name.replace('/', ".");
                let referenced = self.package(&dotted).and_then(|p| {
                    Some(PackageModel {
                        flags: 0,
                        name: name.clone(),
                        version: p.version(platform)?,
                        aid: p.aid.clone(),
                    })
                });
                referenced.ok_or_else(|| {
                    ApiError::Model(format!(
                        "{package} refers to {dotted}, which is not an API package of {platform}"
                    ))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Some(model))
    }

    fn class_model(&self, class: &ApiClass, platform: Platform) -> Result<ClassModel, ApiError> {
        let members: Vec<&ApiMember> = self
            .members_of(class)
            .filter(|member| member.since <= platform)
            .collect();
        if let Some(member) = members.iter().find(|m| m.class_token != class.token) {
            return Err(ApiError::Model(format!(
                "{}.{}: member {} has class token {}, the class table says {}",
                class.package, class.name, member.name, member.class_token, class.token
            )));
        }
        let fields = members
            .iter()
            .filter(|member| member.kind.is_field())
            .map(|member| FieldModel {
                token: if member.kind == MemberKind::Constant {
                    CONSTANT_FIELD_TOKEN
                } else {
                    member.token
                },
                access_flags: member.access_flags,
                name: member.name.clone(),
                descriptor: member.descriptor.clone(),
                constant_value: member.constant_value,
            })
            .collect();
        let methods = members
            .iter()
            .filter(|member| !member.kind.is_field())
            .map(|member| MethodModel {
                token: member.token,
                access_flags: member.access_flags,
                name: member.name.clone(),
                descriptor: member.descriptor.clone(),
            })
            .collect();
        Ok(ClassModel {
            token: class.token,
            access_flags: class.access_flags,
            name: internal_name(&class.qualified_name()),
            supers: self.superclass_chain(class)?,
            interfaces: class
                .superinterfaces
                .iter()
                .map(|name| internal_name(name))
                .collect(),
            fields,
            methods,
            cap22_inheritable_method_count: cap22_inheritable_method_count(class, &members),
        })
    }

    /// All superclasses of `class` in internal form, root first.
    fn superclass_chain(&self, class: &ApiClass) -> Result<Vec<String>, ApiError> {
        let mut chain = Vec::new();
        let mut next = class.superclass.clone();
        while let Some(name) = next {
            if chain.len() > self.classes.len() {
                return Err(ApiError::Model(format!(
                    "superclass cycle at {}",
                    class.qualified_name()
                )));
            }
            let superclass = self.class(&name).ok_or_else(|| {
                ApiError::Model(format!(
                    "{}: superclass {name} is not in the class table",
                    class.qualified_name()
                ))
            })?;
            chain.push(internal_name(&name));
            next = superclass.superclass.clone();
        }
        chain.reverse();
        Ok(chain)
    }
}

/// `CAP22_inheritable_public_method_token_count` of a class with these members: one more
/// than the highest public/protected virtual method token, not counting abstract methods
/// added in 3.2.0 (which CAP 2.2 subclasses cannot have implemented). Interfaces have 0.
/// This reproduces the count of every class of the 3.2.0 export set (checked by a test);
/// for older targets the newer members are already filtered out.
fn cap22_inheritable_method_count(class: &ApiClass, members: &[&ApiMember]) -> u8 {
    if class.is_interface() {
        return 0;
    }
    members
        .iter()
        .filter(|member| member.kind == MemberKind::VirtualMethod)
        .filter(|member| {
            !(member.access_flags & ACC_ABSTRACT != 0 && member.since == Platform::V3_2_0)
        })
        .map(|member| member.token.saturating_add(1))
        .max()
        .unwrap_or(0)
}
