//! The loader and linker: checks the components of a CAP file (in Load File Data Block
//! order) and turns them into a linked package in NVM: a package record, one class record
//! per class (flattened virtual tables of resolved methods, interface maps, instance size),
//! the Method component (executed in place), the static field image with its initial
//! values, and the resolved constant pool: one tagged 32-bit entry per CP entry, so the
//! interpreter never resolves a reference twice. Any error leaves the card as it was.

use crate::api::NativeId;
use crate::class::native_ref;
use crate::error::{CodeAddress, Detail, InfoOffset, LinkError, Trap};
use crate::heap::{zero_fill, ArrayType};
use crate::layout::{self, ClassId, MethodRef, FIRST_USER_CLASS, NATIVE_PACKAGE};
use crate::reader::{Reader, Span};
use crate::{PackageInfo, Vm};
use heapless::Vec;
use oxicard_store::{Nvm, NvmError};

const TAG_HEADER: u8 = 1;
const TAG_DIRECTORY: u8 = 2;
const TAG_APPLET: u8 = 3;
const TAG_IMPORT: u8 = 4;
const TAG_CONSTANT_POOL: u8 = 5;
const TAG_CLASS: u8 = 6;
const TAG_METHOD: u8 = 7;
const TAG_STATIC_FIELD: u8 = 8;
const TAG_REF_LOCATION: u8 = 9;
const TAG_EXPORT: u8 = 10;

/// Bytes written after every linked Method component: the reserved opcode `impdep1`, as
/// many times as the longest instruction that advances the pc sequentially (5 bytes), so a
/// fall-through past the last instruction always lands on it.
pub(crate) const METHOD_GUARD: [u8; 8] = [0xFE; 8];

/// Package record field: u16 bit mask of the loaded packages it imports (bit q = package q).
const P_IMPORTS: usize = 76;
/// Package record field: 1 when [`P_IMPORTS`] was recorded at link time.
const P_IMPORTS_RECORDED: usize = 78;

/// Maximum classes in one package.
const MAX_PACKAGE_CLASSES: usize = 64;
/// Maximum virtual table length.
const MAX_VTABLE: usize = 128;

/// Where an import token points.
#[derive(Clone, Copy, Debug)]
enum Import {
    Api(u8),
    User(u8),
}

/// Header facts.
struct HeaderInfo {
    minor: u8,
    flags: u8,
    pkg_minor: u8,
    pkg_major: u8,
    aid: Vec<u8, 16>,
}

/// Parsed class_info / interface_info (positions into the Class component).
struct ClassEntry {
    offset: u16,
    interface: bool,
    shareable: bool,
    super_ref: u16,
    declared_cells: u8,
    pub_base: u8,
    pub_count: u8,
    pub_table: usize,
    pkg_base: u8,
    pkg_count: u8,
    pkg_table: usize,
    iface_count: u8,
    ifaces: usize,
}

fn lerr(t: Trap) -> LinkError {
    match t {
        Trap::Nvm(k) => LinkError::Nvm(k),
        Trap::OutOfMemory => LinkError::CapacityExceeded(Detail::Nvm),
        _ => LinkError::CapacityExceeded(Detail::Heap),
    }
}

fn nerr<E: NvmError>(e: E) -> LinkError {
    LinkError::Nvm(e.kind())
}

fn parse_header<N: Nvm>(nvm: &N, info: Span) -> Result<HeaderInfo, LinkError> {
    let mut r = Reader::new(info, TAG_HEADER);
    if r.u32(nvm, Detail::Magic)? != 0xDECA_FFED {
        return Err(Reader::new(info, TAG_HEADER).err(Detail::MagicDecaffed));
    }
    let minor = r.u8(nvm, Detail::MinorVersion)?;
    let major = r.u8(nvm, Detail::MajorVersion)?;
    if major != 2 || !(1..=3).contains(&minor) {
        return Err(Reader::at(info, TAG_HEADER, 4).err(Detail::CapFormat21To23));
    }
    let flags = r.u8(nvm, Detail::Flags)?;
    if flags & 0x08 != 0 {
        return Err(Reader::at(info, TAG_HEADER, 6).err(Detail::CompactNotExtendedCap));
    }
    let pkg_minor = r.u8(nvm, Detail::PackageMinor)?;
    let pkg_major = r.u8(nvm, Detail::PackageMajor)?;
    let aid_len = r.u8(nvm, Detail::AidLength)? as usize;
    if !(5..=16).contains(&aid_len) {
        return Err(r.err(Detail::AidLength5To16));
    }
    let mut aid = Vec::new();
    aid.resize(aid_len, 0)
        .map_err(|_| r.err(Detail::AidLength5To16))?;
    r.read(nvm, &mut aid, Detail::Aid)?;
    Ok(HeaderInfo {
        minor,
        flags,
        pkg_minor,
        pkg_major,
        aid,
    })
}

fn parse_class_entry<N: Nvm>(
    nvm: &N,
    r: &mut Reader,
    cap_minor: u8,
) -> Result<ClassEntry, LinkError> {
    let offset = r.pos() as u16;
    let bitfield = r.u8(nvm, Detail::ClassBitfield)?;
    let flags = bitfield >> 4;
    let iface_count = bitfield & 0x0F;
    if flags & 0x2 != 0 {
        return Err(r.err(Detail::NoRemoteClasses));
    }
    if flags & 0x8 != 0 {
        let ifaces = r.pos();
        r.skip(iface_count as usize * 2, Detail::Superinterfaces)?;
        return Ok(ClassEntry {
            offset,
            interface: true,
            shareable: flags & 0x4 != 0,
            super_ref: 0xFFFF,
            declared_cells: 0,
            pub_base: 0,
            pub_count: 0,
            pub_table: 0,
            pkg_base: 0,
            pkg_count: 0,
            pkg_table: 0,
            iface_count,
            ifaces,
        });
    }
    let super_ref = r.u16(nvm, Detail::SuperClassRef)?;
    let declared_cells = r.u8(nvm, Detail::DeclaredInstanceSize)?;
    r.u8(nvm, Detail::FirstReferenceToken)?;
    r.u8(nvm, Detail::ReferenceCount)?;
    let pub_base = r.u8(nvm, Detail::PublicMethodTableBase)?;
    let pub_count = r.u8(nvm, Detail::PublicMethodTableCount)?;
    let pkg_base = r.u8(nvm, Detail::PackageMethodTableBase)?;
    let pkg_count = r.u8(nvm, Detail::PackageMethodTableCount)?;
    let pub_table = r.pos();
    r.skip(pub_count as usize * 2, Detail::PublicVirtualMethodTable)?;
    let pkg_table = r.pos();
    r.skip(pkg_count as usize * 2, Detail::PackageVirtualMethodTable)?;
    let ifaces = r.pos();
    for _ in 0..iface_count {
        r.u16(nvm, Detail::InterfaceClassRef)?;
        let n = r.u8(nvm, Detail::InterfaceMethodCount)?;
        r.skip(n as usize, Detail::InterfaceMethodIndex)?;
    }
    if cap_minor >= 3 {
        r.skip(pub_base as usize + pub_count as usize, Detail::TokenMapping)?;
        r.u8(nvm, Detail::InheritableTokenCount)?;
    }
    Ok(ClassEntry {
        offset,
        interface: false,
        shareable: flags & 0x4 != 0,
        super_ref,
        declared_cells,
        pub_base,
        pub_count,
        pub_table,
        pkg_base,
        pkg_count,
        pkg_table,
        iface_count,
        ifaces,
    })
}

/// Linking state of one package.
struct Linker {
    pkg: u8,
    cap_minor: u8,
    imports: Vec<Import, 128>,
    class_map: Vec<(u16, ClassId), MAX_PACKAGE_CLASSES>,
    class_info: Span,
    method_len: u32,
    static_len: u32,
    static_addr: u32,
}

impl<N: Nvm> Vm<N> {
    /// Loads and links a package given as its load file (the complete components, tag and
    /// size included, in GlobalPlatform load order; any order of whole components is
    /// accepted). Returns the package index.
    pub fn load_package(&mut self, load_file: &[u8]) -> Result<u8, LinkError> {
        let mut loader = crate::load::PackageLoader::begin(self);
        if let Err(e) = loader.feed(self, load_file) {
            loader.abort(self);
            return Err(e);
        }
        loader.finish(self)
    }

    /// Links the staged components `comps` (indexed by tag). On failure the card's state
    /// (superblock, package table) is restored.
    pub(crate) fn link_staged(
        &mut self,
        comps: &[Option<Span>; crate::load::STAGED_TAGS],
    ) -> Result<u8, LinkError> {
        let saved_sb = self.sb;
        let saved_packages = self.packages.len();
        // the superblock is the commit point of a load: journaled, so a tear undoes it
        self.log_superblock().map_err(lerr)?;
        let r = self.link_staged_inner(comps);
        if r.is_err() {
            self.forget_headers();
            self.sb = saved_sb;
            self.packages.truncate(saved_packages);
            let _ = self.sb.write(&mut self.nvm);
        }
        r
    }

    fn link_staged_inner(
        &mut self,
        comps: &[Option<Span>; crate::load::STAGED_TAGS],
    ) -> Result<u8, LinkError> {
        let get = |tag: u8| -> Result<Span, LinkError> {
            comps
                .get(tag as usize)
                .copied()
                .flatten()
                .ok_or(LinkError::MissingComponent(tag))
        };
        let header = parse_header(&self.nvm, get(TAG_HEADER)?)?;
        get(TAG_DIRECTORY)?;
        if self.find_package(&header.aid).is_some() {
            return Err(LinkError::AlreadyLoaded);
        }
        if self.sb.package_count as usize >= layout::MAX_PACKAGES {
            return Err(LinkError::CapacityExceeded(Detail::Packages));
        }
        let pkg = self.sb.package_count;
        let mut lk = Linker {
            pkg,
            cap_minor: header.minor,
            imports: Vec::new(),
            class_map: Vec::new(),
            class_info: get(TAG_CLASS)?,
            method_len: 0,
            static_len: 0,
            static_addr: 0,
        };

        // Import: match every imported package by AID and version.
        let mut r = Reader::new(get(TAG_IMPORT)?, TAG_IMPORT);
        let count = r.u8(&self.nvm, Detail::ImportCount)?;
        for i in 0..count {
            let minor = r.u8(&self.nvm, Detail::ImportMinor)?;
            let major = r.u8(&self.nvm, Detail::ImportMajor)?;
            let len = r.u8(&self.nvm, Detail::ImportAidLength)? as usize;
            let mut aid_buf = [0u8; 16];
            let aid = aid_buf
                .get_mut(..len)
                .ok_or(r.err(Detail::ImportAidLengthUpTo16))?;
            r.read(&self.nvm, aid, Detail::ImportAid)?;
            let aid = &*aid;
            let target = match self.catalog.find_package(aid, major, minor) {
                Some((p, true)) => Import::Api(p),
                Some((_, false)) => return Err(LinkError::VersionMismatch(i)),
                None => match self.find_package(aid) {
                    Some(q) => {
                        let rec = layout::package_record(q) as usize;
                        let qmin = self.nvm.read_u8(rec + layout::P_MINOR).map_err(nerr)?;
                        let qmaj = self.nvm.read_u8(rec + layout::P_MAJOR).map_err(nerr)?;
                        if qmaj != major || qmin < minor {
                            return Err(LinkError::VersionMismatch(i));
                        }
                        Import::User(q)
                    }
                    None => return Err(LinkError::MissingImport(i)),
                },
            };
            lk.imports
                .push(target)
                .map_err(|_| LinkError::CapacityExceeded(Detail::Imports))?;
        }

        // Method component: copied and executed in place.
        let method = get(TAG_METHOD)?;
        let method_addr = self.copy_to_nvm(method)?;
        // the guard after the code: a method that runs off the end of the component hits a
        // reserved opcode, so the interpreter needs no end check per instruction
        // (followed by the verifier's bitmap of methods proven for fast mode, all clear)
        let fast_map_len = crate::verify::fast_map_len(method.len);
        let guard = self
            .alloc_bytes(METHOD_GUARD.len() + fast_map_len)
            .map_err(lerr)?;
        self.nvm
            .write(guard as usize, &METHOD_GUARD)
            .map_err(nerr)?;
        zero_fill(
            &mut self.nvm,
            guard as usize + METHOD_GUARD.len(),
            fast_map_len,
        )
        .map_err(lerr)?;
        lk.method_len = method.len as u32;
        let handler_count =
            Reader::new(method, TAG_METHOD).u8(&self.nvm, Detail::HandlerCount)? as usize;
        if 1 + handler_count * 8 > method.len {
            return Err(Reader::new(method, TAG_METHOD).err(Detail::ExceptionHandlerTable));
        }

        // Static field image.
        let sf = get(TAG_STATIC_FIELD)?;
        let mut r = Reader::new(sf, TAG_STATIC_FIELD);
        let image_size = r.u16(&self.nvm, Detail::ImageSize)? as u32;
        let ref_count = r.u16(&self.nvm, Detail::ReferenceCount)? as u32;
        let array_init_count = r.u16(&self.nvm, Detail::ArrayInitCount)?;
        let array_inits = r.pos();
        for _ in 0..array_init_count {
            let ty = r.u8(&self.nvm, Detail::ArrayInitType)?;
            if !(2..=5).contains(&ty) {
                return Err(r.err(Detail::ArrayInitType2To5));
            }
            let n = r.u16(&self.nvm, Detail::ArrayInitEntryCount)? as usize;
            r.skip(n, Detail::ArrayInitValues)?;
        }
        let default_count = r.u16(&self.nvm, Detail::DefaultValueCount)? as u32;
        let nondefault_count = r.u16(&self.nvm, Detail::NonDefaultValueCount)? as u32;
        let values = r.bytes(nondefault_count as usize, Detail::NonDefaultValues)?;
        if ref_count * 2 + default_count + nondefault_count != image_size
            || array_init_count as u32 > ref_count
        {
            return Err(Reader::new(sf, TAG_STATIC_FIELD).err(Detail::ConsistentStaticImageSizes));
        }
        lk.static_addr = self.alloc_bytes(image_size as usize).map_err(lerr)?;
        lk.static_len = image_size;
        zero_fill(&mut self.nvm, lk.static_addr as usize, image_size as usize).map_err(lerr)?;
        self.copy_within_nvm(
            values,
            (lk.static_addr + ref_count * 2 + default_count) as usize,
        )?;

        let export_addr = match comps.get(TAG_EXPORT as usize).copied().flatten() {
            Some(e) => (self.copy_to_nvm(e)?, e.len as u32),
            None => (0, 0),
        };
        let applet_addr = match comps.get(TAG_APPLET as usize).copied().flatten() {
            Some(a) => (self.copy_to_nvm(a)?, a.len as u32),
            None => (0, 0),
        };

        // Register the package early so method headers of this package can be read.
        let cp = get(TAG_CONSTANT_POOL)?;
        let cp_count = Reader::new(cp, TAG_CONSTANT_POOL).u16(&self.nvm, Detail::CpCount)?;
        let cp_addr = self.alloc_bytes(cp_count as usize * 4).map_err(lerr)?;
        self.packages
            .push(PackageInfo {
                method_addr,
                method_len: lk.method_len,
                cp_addr,
                cp_count,
                static_addr: lk.static_addr,
                static_len: image_size,
            })
            .map_err(|_| LinkError::CapacityExceeded(Detail::Packages))?;

        // Classes.
        self.link_classes(&mut lk)?;
        let classmap_addr = self.alloc_bytes(lk.class_map.len() * 4).map_err(lerr)?;
        for (i, (off, id)) in lk.class_map.iter().enumerate() {
            let a = classmap_addr as usize + i * 4;
            self.nvm.write_u16(a, *off).map_err(nerr)?;
            self.nvm.write_u16(a + 2, *id).map_err(nerr)?;
        }

        // Constant pool. Method entries also keep the words their method returns (found by
        // the verifier's walk; the free NVM above the image holds its map).
        let mut verifier = crate::verify::Verifier::new(self.sb.top as usize, self.alloc_limit);
        let mut r = Reader::new(cp, TAG_CONSTANT_POOL);
        r.u16(&self.nvm, Detail::CpCount)?;
        for i in 0..cp_count as usize {
            let at = r.pos();
            let mut e = [0u8; 4];
            r.read(&self.nvm, &mut e, Detail::CpInfo)?;
            let (mut v, method) = self.resolve_cp(&lk, e, at)?;
            if let Some(m) = method {
                if let Some(words) = self.return_words(&mut verifier, m) {
                    v |= (words as u32 + 1) << (24 + layout::CP_RET_SHIFT);
                }
            }
            self.nvm
                .write_u32(cp_addr as usize + i * 4, v)
                .map_err(nerr)?;
        }

        // RefLocation: every CP index operand must be in range.
        let rl = get(TAG_REF_LOCATION)?;
        let mut r = Reader::new(rl, TAG_REF_LOCATION);
        for width in [1usize, 2] {
            let n = r.u16(&self.nvm, Detail::OffsetsCount)?;
            let mut loc = 0usize;
            for _ in 0..n {
                let d = r.u8(&self.nvm, Detail::OffsetDelta)?;
                loc += d as usize;
                if d == 255 {
                    continue;
                }
                let a = method_addr as usize + loc;
                let idx = match width {
                    _ if loc + width > method.len => None,
                    1 => self.nvm.read_u8(a).ok().map(u16::from),
                    _ => self.nvm.read_u16(a).ok(),
                };
                match idx {
                    Some(i) if i < cp_count => {}
                    _ => return Err(r.err(Detail::CpIndexOperandInRange)),
                }
            }
        }

        // Verification: the methods this package's references can start prove their facts
        // for the interpreter's fast mode (the others run checked).
        // Then the proven code's hot sequences become superinstructions (verify::fused).
        if cfg!(feature = "proven-loop") {
            let covered = self
                .begin_cover(&mut verifier, lk.pkg, method.len)
                .is_some();
            self.verify_package(&lk, &mut verifier, cp_addr, cp_count, applet_addr)?;
            if covered {
                self.fuse_covered(&mut verifier);
            }
        }

        // Static arrays (segment 1 of the image), owned by the package's context.
        let saved_ctx = self.context;
        self.context = Self::package_context(pkg);
        let mut r = Reader::at(sf, TAG_STATIC_FIELD, array_inits);
        for i in 0..array_init_count as u32 {
            let ty = r.u8(&self.nvm, Detail::ArrayInitType)?;
            let n = r.u16(&self.nvm, Detail::ArrayInitEntryCount)? as usize;
            let vals = r.bytes(n, Detail::ArrayInitValues)?;
            let at = match ty {
                2 => ArrayType::Boolean,
                3 => ArrayType::Byte,
                4 => ArrayType::Short,
                _ => ArrayType::Int,
            };
            let size = at.element_size();
            if n / size * size != n || n / size > i16::MAX as usize {
                self.context = saved_ctx;
                return Err(r.err(Detail::ArrayInitWholeElements));
            }
            let arr = self.new_array(at, (n / size) as i16, 0, 0);
            let arr = match arr {
                Ok(a) => a,
                Err(t) => {
                    self.context = saved_ctx;
                    return Err(lerr(t));
                }
            };
            let addr = self.object_addr(arr).map_err(lerr)?;
            self.copy_within_nvm(vals, addr as usize + crate::heap::HDR)?;
            self.nvm
                .write_u16((lk.static_addr + i * 2) as usize, arr)
                .map_err(nerr)?;
        }
        self.context = saved_ctx;

        // Package record, then the superblock: the commit point.
        let rec = layout::package_record(pkg) as usize;
        let mut b = [0u8; layout::PKG_REC];
        let put32 = |b: &mut [u8; layout::PKG_REC], o: usize, v: u32| {
            if let Some(d) = b.get_mut(o..o + 4) {
                d.copy_from_slice(&v.to_be_bytes());
            }
        };
        b[layout::P_AID_LEN] = header.aid.len() as u8;
        if let Some(d) = b.get_mut(layout::P_AID..layout::P_AID + header.aid.len()) {
            d.copy_from_slice(&header.aid);
        }
        b[layout::P_MINOR] = header.pkg_minor;
        b[layout::P_MAJOR] = header.pkg_major;
        b[layout::P_FLAGS] = header.flags;
        put32(&mut b, layout::P_METHOD_ADDR, method_addr);
        put32(&mut b, layout::P_METHOD_LEN, lk.method_len);
        put32(&mut b, layout::P_CP_ADDR, cp_addr);
        b[layout::P_CP_COUNT..layout::P_CP_COUNT + 2].copy_from_slice(&cp_count.to_be_bytes());
        put32(&mut b, layout::P_STATIC_ADDR, lk.static_addr);
        put32(&mut b, layout::P_STATIC_LEN, image_size);
        put32(&mut b, layout::P_EXPORT_ADDR, export_addr.0);
        put32(&mut b, layout::P_EXPORT_LEN, export_addr.1);
        put32(&mut b, layout::P_CLASSMAP_ADDR, classmap_addr);
        put32(&mut b, layout::P_CLASSMAP_COUNT, lk.class_map.len() as u32);
        put32(&mut b, layout::P_APPLET_ADDR, applet_addr.0);
        put32(&mut b, layout::P_APPLET_LEN, applet_addr.1);
        let imported = lk.imports.iter().fold(0u16, |mask, i| match i {
            Import::User(q) => mask | 1u16.checked_shl(*q as u32).unwrap_or(0),
            Import::Api(_) => mask,
        });
        b[P_IMPORTS..P_IMPORTS + 2].copy_from_slice(&imported.to_be_bytes());
        b[P_IMPORTS_RECORDED] = 1;
        self.nvm.write(rec, &b).map_err(nerr)?;
        self.sb.package_count = pkg + 1;
        self.sb.write(&mut self.nvm).map_err(lerr)?;
        Ok(pkg)
    }

    /// The context id of package `pkg` (0 is the runtime's own context).
    pub fn package_context(pkg: u8) -> u8 {
        pkg.wrapping_add(1)
    }

    /// The AID of loaded package `pkg`.
    pub fn package_aid(&self, pkg: u8) -> Option<Vec<u8, 16>> {
        if pkg >= self.sb.package_count {
            return None;
        }
        let rec = layout::package_record(pkg) as usize;
        let mut b = [0u8; 17];
        self.nvm.read(rec, &mut b).ok()?;
        let aid = b.get(1..1 + b[0] as usize)?;
        Vec::from_slice(aid).ok()
    }

    /// The loaded packages package `pkg` imports, as a bit mask by package index (bit q =
    /// package q); `None` when the record does not say (linked by an older version, which
    /// did not record its imports).
    pub fn package_imports(&self, pkg: u8) -> Option<u16> {
        if pkg >= self.sb.package_count {
            return None;
        }
        let rec = layout::package_record(pkg) as usize;
        let mut b = [0u8; 3];
        self.nvm.read(rec + P_IMPORTS, &mut b).ok()?;
        (b[2] == 1).then_some(u16::from_be_bytes([b[0], b[1]]))
    }

    /// Index of the loaded package with this AID.
    pub fn find_package(&self, aid: &[u8]) -> Option<u8> {
        (0..self.sb.package_count).find(|&p| {
            let rec = layout::package_record(p) as usize;
            let mut b = [0u8; 17];
            if self.nvm.read(rec, &mut b).is_err() {
                return false;
            }
            b.get(1..1 + b[0] as usize) == Some(aid)
        })
    }

    /// Finds applet `aid` in package `pkg`: the MethodRef of its `install` method.
    pub fn find_applet_install(&self, pkg: u8, aid: &[u8]) -> Result<Option<MethodRef>, Trap> {
        for index in 0..=u8::MAX {
            match self.package_applet(pkg, index)? {
                Some((a, m)) if a.as_slice() == aid => return Ok(Some(m)),
                Some(_) => {}
                None => break,
            }
        }
        Ok(None)
    }

    /// Applet `index` of package `pkg` (in its Applet component): its AID and the
    /// MethodRef of its `install` method; `None` past the last applet.
    pub fn package_applet(
        &self,
        pkg: u8,
        index: u8,
    ) -> Result<Option<(Vec<u8, 16>, MethodRef)>, Trap> {
        if pkg >= self.sb.package_count {
            return Ok(None);
        }
        let rec = layout::package_record(pkg) as usize;
        let addr = self
            .nvm
            .read_u32(rec + layout::P_APPLET_ADDR)
            .map_err(crate::nvm_err)? as usize;
        let len = self
            .nvm
            .read_u32(rec + layout::P_APPLET_LEN)
            .map_err(crate::nvm_err)? as usize;
        if len == 0 {
            return Ok(None);
        }
        let count = self.nvm.read_u8(addr).map_err(crate::nvm_err)?;
        let mut p = addr + 1;
        for i in 0..count {
            let l = self.nvm.read_u8(p).map_err(crate::nvm_err)? as usize;
            if p + 3 + l > addr + len {
                return Err(Trap::Malformed {
                    pc: CodeAddress::new(p as u32),
                    what: Detail::AppletComponentEntry,
                });
            }
            if i == index {
                let mut aid = Vec::new();
                aid.resize(l, 0)
                    .map_err(|_| Trap::Internal(Detail::AppletAidLength))?;
                self.nvm.read(p + 1, &mut aid).map_err(crate::nvm_err)?;
                let off = self.nvm.read_u16(p + 1 + l).map_err(crate::nvm_err)?;
                return Ok(Some((aid, (pkg as u32) << 16 | off as u32)));
            }
            p += 3 + l;
        }
        Ok(None)
    }

    /// Copies a staged span to newly allocated image space; returns its address.
    fn copy_to_nvm(&mut self, data: Span) -> Result<u32, LinkError> {
        let addr = self.alloc_bytes(data.len).map_err(lerr)?;
        self.copy_within_nvm(data, addr as usize)?;
        Ok(addr)
    }

    /// Copies a staged span to NVM address `to`, through a small RAM buffer.
    fn copy_within_nvm(&mut self, data: Span, to: usize) -> Result<(), LinkError> {
        let mut buf = [0u8; 64];
        let mut done = 0;
        while done < data.len {
            let n = (data.len - done).min(buf.len());
            let chunk = buf
                .get_mut(..n)
                .ok_or(LinkError::CapacityExceeded(Detail::Copy))?;
            self.nvm.read(data.addr + done, chunk).map_err(nerr)?;
            self.nvm.write(to + done, chunk).map_err(nerr)?;
            done += n;
        }
        Ok(())
    }

    fn link_classes(&mut self, lk: &mut Linker) -> Result<(), LinkError> {
        let info = lk.class_info;
        let mut r = Reader::new(info, TAG_CLASS);
        if lk.cap_minor >= 2 {
            let n = r.u16(&self.nvm, Detail::SignaturePoolLength)?;
            r.skip(n as usize, Detail::SignaturePool)?;
        }
        let first = r.pos();
        // Pass 1: assign class ids.
        let mut next = self.sb.class_count;
        while !r.is_empty() {
            let e = parse_class_entry(&self.nvm, &mut r, lk.cap_minor)?;
            if next as usize >= layout::MAX_CLASSES {
                return Err(LinkError::CapacityExceeded(Detail::Classes));
            }
            lk.class_map
                .push((e.offset, FIRST_USER_CLASS + next))
                .map_err(|_| LinkError::CapacityExceeded(Detail::ClassesPerPackage))?;
            next += 1;
        }
        // Pass 2: build records (supertypes come first in the component).
        let mut r = Reader::at(info, TAG_CLASS, first);
        while !r.is_empty() {
            let e = parse_class_entry(&self.nvm, &mut r, lk.cap_minor)?;
            let id = self.internal_class(lk, e.offset, e.offset as usize)?;
            let mut vt: Vec<MethodRef, MAX_VTABLE> = Vec::new();
            let mut pvt: Vec<MethodRef, MAX_VTABLE> = Vec::new();
            let mut super_id = 0xFFFF;
            let mut cells = 0u16;
            if !e.interface {
                let sup =
                    self.resolve_class_ref(lk, e.super_ref, TAG_CLASS, e.offset as usize + 1)?;
                super_id = sup;
                cells = self
                    .class_cells(sup)
                    .map_err(lerr)?
                    .checked_add(e.declared_cells as u16)
                    .ok_or(LinkError::CapacityExceeded(Detail::InstanceSize))?;
                let (svt, spvt) = self.vtable_lens(sup).map_err(lerr)?;
                for t in 0..svt {
                    let m = self
                        .vtable_entry(sup, t as u8)
                        .map_err(lerr)?
                        .unwrap_or(u32::MAX);
                    vt.push(m)
                        .map_err(|_| LinkError::CapacityExceeded(Detail::Vtable))?;
                }
                if self.class_package(sup).map_err(lerr)? == Some(lk.pkg) {
                    for t in 0..spvt {
                        let m = self
                            .vtable_entry(sup, 0x80 | t as u8)
                            .map_err(lerr)?
                            .unwrap_or(u32::MAX);
                        pvt.push(m)
                            .map_err(|_| LinkError::CapacityExceeded(Detail::Vtable))?;
                    }
                }
                self.overlay(lk, &mut vt, e.pub_base, e.pub_count, e.pub_table)?;
                self.overlay(lk, &mut pvt, e.pkg_base, e.pkg_count, e.pkg_table)?;
            }
            // Interfaces: (id, count, map) triples.
            let mut ir = Reader::at(info, TAG_CLASS, e.ifaces);
            let mut iface_bytes = 0usize;
            for _ in 0..e.iface_count {
                ir.u16(&self.nvm, Detail::Interface)?;
                if !e.interface {
                    let n = ir.u8(&self.nvm, Detail::Count)?;
                    ir.skip(n as usize, Detail::Index)?;
                    iface_bytes += 3 + n as usize;
                } else {
                    iface_bytes += 3;
                }
            }
            let size = layout::C_VTABLE + (vt.len() + pvt.len()) * 4 + iface_bytes;
            let rec = self.alloc_bytes(size).map_err(lerr)? as usize;
            let mut h = [0u8; layout::C_VTABLE];
            h[layout::C_SUPER..layout::C_SUPER + 2].copy_from_slice(&super_id.to_be_bytes());
            h[layout::C_PACKAGE] = lk.pkg;
            h[layout::C_FLAGS] = (e.interface as u8) | ((e.shareable as u8) << 1);
            h[layout::C_CELLS..layout::C_CELLS + 2].copy_from_slice(&cells.to_be_bytes());
            h[layout::C_VT_LEN] = vt.len() as u8;
            h[layout::C_PVT_LEN] = pvt.len() as u8;
            h[layout::C_IFACE_COUNT] = e.iface_count;
            self.nvm.write(rec, &h).map_err(nerr)?;
            let mut p = rec + layout::C_VTABLE;
            for m in vt.iter().chain(pvt.iter()) {
                self.nvm.write_u32(p, *m).map_err(nerr)?;
                p += 4;
            }
            let mut ir = Reader::at(info, TAG_CLASS, e.ifaces);
            for _ in 0..e.iface_count {
                let at = ir.pos();
                let cref = ir.u16(&self.nvm, Detail::Interface)?;
                let iid = self.resolve_class_ref(lk, cref, TAG_CLASS, at)?;
                self.nvm.write_u16(p, iid).map_err(nerr)?;
                if e.interface {
                    self.nvm.write(p + 2, &[0]).map_err(nerr)?;
                    p += 3;
                } else {
                    let n = ir.u8(&self.nvm, Detail::Count)?;
                    let map = ir.bytes(n as usize, Detail::Index)?;
                    self.nvm.write(p + 2, &[n]).map_err(nerr)?;
                    self.copy_within_nvm(map, p + 3)?;
                    p += 3 + n as usize;
                }
            }
            let index = id - FIRST_USER_CLASS;
            self.nvm
                .write_u32((layout::CLASS_DIR + index as u32 * 4) as usize, rec as u32)
                .map_err(nerr)?;
            self.sb.class_count = index + 1;
        }
        Ok(())
    }

    /// Overlays a class's own method table entries onto the inherited table.
    fn overlay(
        &self,
        lk: &Linker,
        table: &mut Vec<MethodRef, MAX_VTABLE>,
        base: u8,
        count: u8,
        pos: usize,
    ) -> Result<(), LinkError> {
        let mut r = Reader::at(lk.class_info, TAG_CLASS, pos);
        for i in 0..count as usize {
            let at = r.pos();
            let off = r.u16(&self.nvm, Detail::MethodTableEntry)?;
            let t = base as usize + i;
            while table.len() <= t {
                table
                    .push(u32::MAX)
                    .map_err(|_| LinkError::CapacityExceeded(Detail::Vtable))?;
            }
            if off != 0xFFFF && off != 0 {
                if off as u32 >= lk.method_len {
                    return Err(Reader::at(lk.class_info, TAG_CLASS, at).err(Detail::MethodOffset));
                }
                if let Some(slot) = table.get_mut(t) {
                    *slot = (lk.pkg as u32) << 16 | off as u32;
                }
            }
        }
        Ok(())
    }

    fn internal_class(&self, lk: &Linker, offset: u16, at: usize) -> Result<ClassId, LinkError> {
        lk.class_map
            .iter()
            .find(|(o, _)| *o == offset)
            .map(|(_, id)| *id)
            .ok_or(LinkError::Malformed {
                component: TAG_CLASS,
                offset: InfoOffset::new(at),
                expected: Detail::ClassRefToClassInfo,
            })
    }

    fn resolve_class_ref(
        &self,
        lk: &Linker,
        cref: u16,
        component: u8,
        at: usize,
    ) -> Result<ClassId, LinkError> {
        if cref & 0x8000 == 0 {
            let mut id = self.internal_class(lk, cref, at);
            if let Err(LinkError::Malformed { .. }) = id {
                id = Err(LinkError::Malformed {
                    component,
                    offset: InfoOffset::new(at),
                    expected: Detail::ClassRefToClassInfo,
                });
            }
            return id;
        }
        let bad = LinkError::BadToken {
            component,
            offset: InfoOffset::new(at),
        };
        let token = (cref & 0xFF) as u8;
        match lk.imports.get(((cref >> 8) & 0x7F) as usize) {
            Some(Import::Api(p)) => self.catalog.find_class(*p, token).ok_or(bad),
            Some(Import::User(q)) => {
                let (class_offset, _) = self.export_entry(*q, token).map_err(|_| bad)?;
                self.user_class_at(*q, class_offset).ok_or(bad)
            }
            None => Err(bad),
        }
    }

    /// Class id of the class at `offset` in package `q`'s Class component.
    fn user_class_at(&self, q: u8, offset: u16) -> Option<ClassId> {
        let rec = layout::package_record(q) as usize;
        let addr = self.nvm.read_u32(rec + layout::P_CLASSMAP_ADDR).ok()? as usize;
        let n = self.nvm.read_u32(rec + layout::P_CLASSMAP_COUNT).ok()? as usize;
        (0..n).find_map(|i| {
            let o = self.nvm.read_u16(addr + i * 4).ok()?;
            if o == offset {
                self.nvm.read_u16(addr + i * 4 + 2).ok()
            } else {
                None
            }
        })
    }

    /// Export entry `token` of package `q`: (class_offset, NVM address of the field count).
    fn export_entry(&self, q: u8, token: u8) -> Result<(u16, usize), ()> {
        let rec = layout::package_record(q) as usize;
        let addr = self
            .nvm
            .read_u32(rec + layout::P_EXPORT_ADDR)
            .map_err(|_| ())? as usize;
        let len = self
            .nvm
            .read_u32(rec + layout::P_EXPORT_LEN)
            .map_err(|_| ())? as usize;
        if len == 0 {
            return Err(());
        }
        let count = self.nvm.read_u8(addr).map_err(|_| ())?;
        if token >= count {
            return Err(());
        }
        let mut p = addr + 1;
        for i in 0..=token {
            if p + 4 > addr + len {
                return Err(());
            }
            let off = self.nvm.read_u16(p).map_err(|_| ())?;
            let fc = self.nvm.read_u8(p + 2).map_err(|_| ())? as usize;
            let mc = self.nvm.read_u8(p + 3).map_err(|_| ())? as usize;
            if i == token {
                return Ok((off, p + 2));
            }
            p += 4 + 2 * fc + 2 * mc;
        }
        Err(())
    }

    /// Static method (`field = false`) or static field offset `token` of exported class
    /// `class_token` of package `q`.
    fn export_member(&self, q: u8, class_token: u8, token: u8, field: bool) -> Result<u16, ()> {
        let (_, p) = self.export_entry(q, class_token)?;
        let fc = self.nvm.read_u8(p).map_err(|_| ())?;
        let mc = self.nvm.read_u8(p + 1).map_err(|_| ())?;
        let base = p + 2;
        if field {
            if token >= fc {
                return Err(());
            }
            self.nvm.read_u16(base + token as usize * 2).map_err(|_| ())
        } else {
            if token >= mc {
                return Err(());
            }
            self.nvm
                .read_u16(base + fc as usize * 2 + token as usize * 2)
                .map_err(|_| ())
        }
    }

    /// Argument words of a resolved method.
    pub(crate) fn method_nargs(&self, m: MethodRef) -> Result<u8, Trap> {
        let pkg = m >> 16;
        let off = m & 0xFFFF;
        if pkg == NATIVE_PACKAGE {
            let n = self
                .catalog
                .natives
                .get(off as usize)
                .ok_or(Trap::Internal(Detail::BadNativeId))?;
            return Ok(n.nargs);
        }
        let info = self
            .packages
            .get(pkg as usize)
            .ok_or(Trap::Internal(Detail::BadPackage))?;
        let a = (info.method_addr + off) as usize;
        let b0 = self.nvm.read_u8(a).map_err(crate::nvm_err)?;
        if b0 & 0x80 != 0 {
            self.nvm.read_u8(a + 2).map_err(crate::nvm_err)
        } else {
            Ok(self.nvm.read_u8(a + 1).map_err(crate::nvm_err)? >> 4)
        }
    }

    /// Runs the verifier over every method a reference of package `lk.pkg` can start:
    /// internal static and super method entries of its constant pool, its classes' virtual
    /// tables and its applets' install methods.
    fn verify_package(
        &mut self,
        lk: &Linker,
        verifier: &mut crate::verify::Verifier,
        cp_addr: u32,
        cp_count: u16,
        applet: (u32, u32),
    ) -> Result<(), LinkError> {
        let mut done: Vec<MethodRef, 128> = Vec::new();
        let mut verify = |vm: &mut Self, m: MethodRef| {
            if m >> 16 == lk.pkg as u32 && !done.contains(&m) {
                vm.verify_method(verifier, m);
                let _ = done.push(m);
            }
        };
        for i in 0..cp_count as usize {
            let e = self.nvm.read_u32(cp_addr as usize + i * 4).map_err(nerr)?;
            let tag = (e >> 24) as u8 & layout::CP_TAG_MASK;
            if tag == layout::CP_SMETHOD || tag == layout::CP_SMETHOD_SUPER {
                verify(self, e & 0x00FF_FFFF);
            }
        }
        for (_, id) in lk.class_map.iter() {
            let index = (id - FIRST_USER_CLASS) as u32;
            let rec = self
                .nvm
                .read_u32((layout::CLASS_DIR + index * 4) as usize)
                .map_err(nerr)? as usize;
            let [vt, pvt]: [u8; 2] = self.read_bytes(rec + layout::C_VT_LEN).map_err(lerr)?;
            for t in 0..vt as usize + pvt as usize {
                let m = self
                    .nvm
                    .read_u32(rec + layout::C_VTABLE + 4 * t)
                    .map_err(nerr)?;
                verify(self, m);
            }
        }
        let (addr, len) = (applet.0 as usize, applet.1 as usize);
        if len > 0 {
            let count = self.nvm.read_u8(addr).map_err(nerr)?;
            let mut p = addr + 1;
            for _ in 0..count {
                let l = self.nvm.read_u8(p).map_err(nerr)? as usize;
                if p + 3 + l > addr + len {
                    break;
                }
                let off = self.nvm.read_u16(p + 1 + l).map_err(nerr)?;
                verify(self, (lk.pkg as u32) << 16 | off as u32);
                p += 3 + l;
            }
        }
        Ok(())
    }

    /// Resolves one constant-pool entry: its tagged value, and for method entries the
    /// method the reference (or, for a virtual one, the class named) resolves to.
    fn resolve_cp(
        &self,
        lk: &Linker,
        e: [u8; 4],
        at: usize,
    ) -> Result<(u32, Option<MethodRef>), LinkError> {
        let tag = e[0];
        let cref = u16::from_be_bytes([e[1], e[2]]);
        let bad = LinkError::BadToken {
            component: TAG_CONSTANT_POOL,
            offset: InfoOffset::new(at),
        };
        let mut method = None;
        let value: u32 = match tag {
            1 => self.resolve_class_ref(lk, cref, TAG_CONSTANT_POOL, at)? as u32,
            2 => {
                let id = self.resolve_class_ref(lk, cref, TAG_CONSTANT_POOL, at)?;
                let sup = self.class_super(id).map_err(lerr)?.ok_or(bad)?;
                let base = self.class_cells(sup).map_err(lerr)?;
                let own = self.class_cells(id).map_err(lerr)?;
                let cell = base as u32 + e[3] as u32;
                if cell >= own as u32 {
                    return Err(bad);
                }
                cell
            }
            3 => {
                let id = self.resolve_class_ref(lk, cref, TAG_CONSTANT_POOL, at)?;
                let m = self.vtable_entry(id, e[3]).map_err(lerr)?.ok_or(bad)?;
                let nargs = self.method_nargs(m).map_err(lerr)?;
                method = Some(m);
                (nargs as u32) << 8 | e[3] as u32
            }
            4 => {
                let id = self.resolve_class_ref(lk, cref, TAG_CONSTANT_POOL, at)?;
                let sup = self.class_super(id).map_err(lerr)?.ok_or(bad)?;
                let m = self.vtable_entry(sup, e[3]).map_err(lerr)?.ok_or(bad)?;
                method = Some(m);
                m
            }
            5 | 6 => {
                let field = tag == 5;
                if e[1] & 0x80 == 0 {
                    let off = u16::from_be_bytes([e[2], e[3]]) as u32;
                    if field {
                        if off >= lk.static_len {
                            return Err(bad);
                        }
                        lk.static_addr + off
                    } else {
                        if off >= lk.method_len {
                            return Err(bad);
                        }
                        (lk.pkg as u32) << 16 | off
                    }
                } else {
                    match lk.imports.get((e[1] & 0x7F) as usize) {
                        Some(Import::Api(p)) => {
                            if field {
                                return Err(bad);
                            }
                            let n: NativeId =
                                self.catalog.find_static(*p, e[2], e[3]).ok_or(bad)?;
                            native_ref(n)
                        }
                        Some(Import::User(q)) => {
                            let off = self.export_member(*q, e[2], e[3], field).map_err(|_| bad)?;
                            let info = self.packages.get(*q as usize).ok_or(bad)?;
                            if field {
                                info.static_addr + off as u32
                            } else {
                                (*q as u32) << 16 | off as u32
                            }
                        }
                        None => return Err(bad),
                    }
                }
            }
            _ => {
                return Err(LinkError::Malformed {
                    component: TAG_CONSTANT_POOL,
                    offset: InfoOffset::new(at),
                    expected: Detail::CpTag1To6,
                })
            }
        };
        if value > 0x00FF_FFFF {
            return Err(LinkError::CapacityExceeded(Detail::ResolvedReference));
        }
        if tag == layout::CP_SMETHOD {
            method = Some(value);
        }
        Ok(((tag as u32) << 24 | value, method))
    }
}
