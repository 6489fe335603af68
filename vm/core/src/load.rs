//! The streaming loader: takes a package as the byte stream that GlobalPlatform LOAD
//! commands carry (the CAP components, tag + u2 size + info each, in load order), in blocks
//! of any size, and stages each component in NVM as it arrives. RAM holds only a few words
//! of framing state and one span per component; nothing of the file is kept in RAM.
//!
//! Components are staged downward from the top of free NVM; while a load is open the VM
//! allocates nothing above the staged data. [`PackageLoader::finish`] links the staged
//! components into the image (see [`crate::link`]); the staged bytes then become free space
//! again. A failure anywhere (malformed framing, NVM full, link error) leaves the linked
//! image, the superblock and every table as they were; only free NVM may hold stale bytes.

use crate::error::{Detail, InfoOffset, LinkError};
use crate::reader::Span;
use crate::Vm;
use oxicard_store::{Nvm, NvmError};

/// Component tags staged by the loader (1 Header … 11 Descriptor); others are skipped.
pub(crate) const STAGED_TAGS: usize = 12;

/// The state of one package load in progress. It borrows nothing: the caller passes the
/// VM to each step, so a card manager can keep it across LOAD commands.
#[derive(Debug)]
pub struct PackageLoader {
    /// Staged components, by tag.
    comps: [Option<Span>; STAGED_TAGS],
    /// Lowest staged byte (staging grows downward).
    stage_low: usize,
    /// Component header bytes (tag, size) read so far.
    header: [u8; 3],
    /// How many of `header` are filled.
    header_len: u8,
    /// Bytes of the current component's info still to come.
    remaining: usize,
    /// Where the next info byte goes (`None`: the component is skipped).
    dest: Option<usize>,
    /// Bytes fed so far (for error offsets).
    fed: usize,
    /// The first error; every later step reports it again.
    failed: Option<LinkError>,
}

impl PackageLoader {
    /// Starts a load: nothing is staged yet.
    pub fn begin<N: Nvm>(vm: &mut Vm<N>) -> Self {
        let top = vm.heap_limit();
        vm.alloc_limit = top;
        PackageLoader {
            comps: [None; STAGED_TAGS],
            stage_low: top,
            header: [0; 3],
            header_len: 0,
            remaining: 0,
            dest: None,
            fed: 0,
            failed: None,
        }
    }

    /// Takes the next block of the load file (any length, any boundary).
    pub fn feed<N: Nvm>(&mut self, vm: &mut Vm<N>, block: &[u8]) -> Result<(), LinkError> {
        if let Some(e) = self.failed {
            return Err(e);
        }
        let r = self.feed_inner(vm, block);
        if let Err(e) = r {
            self.failed = Some(e);
        }
        r
    }

    fn feed_inner<N: Nvm>(&mut self, vm: &mut Vm<N>, mut block: &[u8]) -> Result<(), LinkError> {
        while let Some((&first, rest)) = block.split_first() {
            if self.remaining == 0 && self.header_len < 3 {
                if let Some(slot) = self.header.get_mut(self.header_len as usize) {
                    *slot = first;
                }
                self.header_len += 1;
                self.fed += 1;
                block = rest;
                if self.header_len == 3 {
                    self.start_component(vm)?;
                }
                continue;
            }
            let n = self.remaining.min(block.len());
            let (chunk, rest) = block.split_at(n);
            if let Some(dest) = self.dest {
                vm.nvm
                    .write(dest, chunk)
                    .map_err(|e| LinkError::Nvm(e.kind()))?;
                self.dest = Some(dest + n);
            }
            self.remaining -= n;
            self.fed += n;
            if self.remaining == 0 {
                self.header_len = 0;
            }
            block = rest;
        }
        Ok(())
    }

    /// A component header (tag, size) is complete: reserve its staging space.
    fn start_component<N: Nvm>(&mut self, vm: &mut Vm<N>) -> Result<(), LinkError> {
        let [tag, hi, lo] = self.header;
        let size = u16::from_be_bytes([hi, lo]) as usize;
        self.remaining = size;
        self.dest = None;
        if size == 0 {
            self.header_len = 0;
        }
        let err = |expected| LinkError::Malformed {
            component: 0,
            offset: InfoOffset::new(self.fed - 3),
            expected,
        };
        match self.comps.get_mut(tag as usize) {
            Some(Some(_)) if tag != 0 => return Err(err(Detail::EachComponentOnce)),
            Some(slot) if tag != 0 => {
                let low = self
                    .stage_low
                    .checked_sub(size)
                    .filter(|&l| l >= vm.sb.top as usize)
                    .ok_or(LinkError::CapacityExceeded(Detail::Nvm))?;
                self.stage_low = low;
                vm.alloc_limit = low;
                *slot = Some(Span {
                    addr: low,
                    len: size,
                });
                self.dest = Some(low);
            }
            _ => {} // Debug and custom components are skipped
        }
        Ok(())
    }

    /// Links the staged package; returns its package index. The card is unchanged if this
    /// fails.
    pub fn finish<N: Nvm>(self, vm: &mut Vm<N>) -> Result<u8, LinkError> {
        let r = match self.failed {
            Some(e) => Err(e),
            None if self.remaining != 0 || self.header_len != 0 => Err(LinkError::Malformed {
                component: 0,
                offset: InfoOffset::new(self.fed),
                expected: Detail::RestOfLastComponent,
            }),
            None => {
                // the package's extent, for the collector to give its space back on deletion
                let start = vm.sb.top;
                vm.link_staged(&self.comps).and_then(|pkg| {
                    vm.record_package_extent(pkg, start)
                        .map(|()| pkg)
                        .map_err(|_| LinkError::CapacityExceeded(Detail::PackageExtent))
                })
            }
        };
        vm.alloc_limit = vm.heap_limit();
        r
    }

    /// Abandons the load; the staged bytes become free space again.
    pub fn abort<N: Nvm>(self, vm: &mut Vm<N>) {
        vm.alloc_limit = vm.heap_limit();
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> usize {
        self.fed
    }
}
