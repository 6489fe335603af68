//! oxicard-jcre: the Java Card runtime environment on top of oxicard-vm: the built-in API
//! (catalog and natives), the applet registry, SELECT and dispatch, the APDU object, the
//! one mapping from errors to status words, and the [`Card`] facade that tests, the
//! simulator and firmware use.
#![no_std]

pub mod api;
mod card_manager;
#[cfg(feature = "crypto")]
pub mod crypto;
// without the `crypto` feature: the API classes, no algorithm
#[cfg(not(feature = "crypto"))]
#[path = "crypto_absent.rs"]
pub mod crypto;
pub mod fuzzing;
mod natives;
mod registry;

pub use card_manager::ISD_AID;
use core::mem::MaybeUninit;
use heapless::Vec;
use oxicard_store::Nvm;
use oxicard_vm::heap::{ArrayType, ObjRef, GLOBAL, NULL, TRANSIENT_DESELECT, TRANSIENT_RESET};
use oxicard_vm::{Detail, LinkError, PackageLoader, SystemException, Trap, Value, Vm};

/// Maximum applet instances.
pub const MAX_APPLETS: usize = 16;
/// Size of the APDU buffer (5 header bytes + 255 data bytes + Le + 1).
pub const APDU_BUFFER_LEN: usize = 261;
/// Largest response: 256 data bytes and the status word.
pub const MAX_RESPONSE: usize = 258;

/// Slots of the runtime's table of preallocated exception objects (by class id).
pub(crate) const EXCEPTION_SLOTS: usize = 32;

/// Status word of a successful command.
pub const SW_OK: u16 = 0x9000;
/// Status word of any failure that is not an ISOException (JCRE §3.3), and of VM traps.
pub const SW_UNKNOWN: u16 = 0x6F00;
/// Status word when no applet can take the command.
pub const SW_FILE_NOT_FOUND: u16 = 0x6A82;
/// Status word when select() refused.
pub const SW_APPLET_SELECT_FAILED: u16 = 0x6999;

/// Why a host-side card operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardError {
    /// The package was refused by the loader/linker.
    Link(LinkError),
    /// The VM stopped (during install, or an internal failure).
    Trap(Trap),
    /// The package or applet AID is unknown.
    NoSuchApplet,
    /// The applet's install() did not register an instance, or the registry is full.
    InstallFailed(u16),
    /// The command APDU is malformed (shorter than 4 bytes or inconsistent Lc).
    BadCommand,
    /// The response buffer is too small.
    ResponseTooSmall,
}

impl From<LinkError> for CardError {
    fn from(e: LinkError) -> Self {
        CardError::Link(e)
    }
}

impl From<Trap> for CardError {
    fn from(e: Trap) -> Self {
        CardError::Trap(e)
    }
}

/// A package load in progress on a [`Card`] (see [`Card::begin_load`]).
pub struct LoadSession<'a, N: Nvm> {
    card: &'a mut Card<N>,
    loader: Option<PackageLoader>,
}

impl<N: Nvm> LoadSession<'_, N> {
    /// Takes the next block of the load file; block boundaries may fall anywhere.
    pub fn feed(&mut self, block: &[u8]) -> Result<(), CardError> {
        match self.loader.as_mut() {
            Some(l) => Ok(l.feed(&mut self.card.vm, block)?),
            None => Err(CardError::NoSuchApplet),
        }
    }

    /// Links the package. On failure the card is as it was before the load.
    pub fn finish(mut self) -> Result<(), CardError> {
        match self.loader.take() {
            Some(l) => {
                let r = l.finish(&mut self.card.vm);
                // linked or refused, the load is over: make it durable
                self.card.vm.checkpoint()?;
                r?;
                Ok(())
            }
            None => Err(CardError::NoSuchApplet),
        }
    }

    /// Abandons the load.
    pub fn abort(mut self) {
        if let Some(l) = self.loader.take() {
            l.abort(&mut self.card.vm);
        }
    }

    /// Bytes fed so far.
    pub fn bytes_fed(&self) -> usize {
        self.loader.as_ref().map_or(0, |l| l.bytes_fed())
    }
}

impl<N: Nvm> Drop for LoadSession<'_, N> {
    fn drop(&mut self) {
        if let Some(l) = self.loader.take() {
            l.abort(&mut self.card.vm);
        }
    }
}

/// A registered applet instance.
#[derive(Clone, Debug)]
pub(crate) struct AppletEntry {
    pub(crate) aid: Vec<u8, 16>,
    pub(crate) obj: ObjRef,
    pub(crate) package: u8,
    pub(crate) aid_obj: ObjRef,
}

/// State of the APDU object during one command.
#[derive(Clone, Debug, Default)]
pub(crate) struct ApduState {
    /// The command's CLA byte (the applet may overwrite the buffer).
    pub(crate) cla: u8,
    /// setOutgoingNoChaining was used.
    pub(crate) no_chaining: bool,
    /// setOutgoingAndSend sent the whole response.
    pub(crate) sent_all: bool,
    pub(crate) state: i8,
    pub(crate) lc: u16,
    pub(crate) le: u16,
    pub(crate) out_len: u16,
    pub(crate) response: Vec<u8, MAX_RESPONSE>,
}

/// The runtime state that natives act on.
#[derive(Clone)]
pub(crate) struct Runtime {
    pub(crate) applets: Vec<AppletEntry, MAX_APPLETS>,
    pub(crate) selected: Option<usize>,
    pub(crate) selecting: bool,
    /// During install: the instance being installed registers here.
    pub(crate) installing: Option<(u8, Vec<u8, 16>)>,
    pub(crate) registered: Option<ObjRef>,
    pub(crate) apdu_obj: ObjRef,
    pub(crate) apdu_buffer: ObjRef,
    pub(crate) apdu: ApduState,
    /// Preallocated throwable of each built-in exception class, by class id.
    pub(crate) exceptions: [ObjRef; 32],
    /// An NVM failure (power loss) stopped the current command: no response goes out.
    pub(crate) nvm_fault: Option<Trap>,
    /// The crypto engine and random source of the board (nothing without `crypto`).
    #[cfg_attr(not(feature = "crypto"), allow(dead_code))]
    pub(crate) platform: crypto::Platform,
    /// `JCSystem.requestObjectDeletion` was called: collect at the end of the command.
    pub(crate) deletion_requested: bool,
}

/// A Java Card: VM, runtime and NVM. All a host needs: load, install, reset, transmit.
///
/// Every operation (a command APDU, an install, a load) is atomic across power loss:
/// creating a card on an NVM that holds an image recovers it (the journal rolls back an
/// interrupted operation) with its packages, applets and their state.
#[derive(Clone)]
pub struct Card<N: Nvm> {
    vm: Vm<N>,
    rt: Runtime,
    /// The card manager (the ISD), selected when no applet is.
    cm: card_manager::CardManager,
}

impl<N: Nvm> Card<N> {
    /// Powers a card up on `nvm`: an empty NVM is formatted (no packages, no applets); an
    /// existing image is recovered (an operation a power loss interrupted is rolled back)
    /// and reopened with its packages, applets and their state. No applet is selected: the
    /// card manager (see [`ISD_AID`]) takes the commands.
    /// Cryptography uses [`crypto::Platform::default`] (software engine; the host's random
    /// generator when oxicard-crypto has its `std` feature).
    pub fn new(nvm: N) -> Result<Self, CardError> {
        Self::with_platform(nvm, crypto::Platform::default())
    }

    /// [`Card::new`] with the board's crypto engine and random source.
    pub fn with_platform(nvm: N, platform: crypto::Platform) -> Result<Self, CardError> {
        let mut card = Self::unbooted(nvm, platform);
        card.boot()?;
        Ok(card)
    }

    /// [`Card::with_platform`] built and powered up in `slot`, where it stays: a card is
    /// about 11 KB (the VM's RAM areas), and this is how a firmware keeps it in a static
    /// without a copy of it on the stack. On failure `slot` holds a card that never booted
    /// and nothing can reach it.
    pub fn new_in(
        slot: &mut MaybeUninit<Self>,
        nvm: N,
        platform: crypto::Platform,
    ) -> Result<&mut Self, CardError> {
        let card = slot.write(Self::unbooted(nvm, platform));
        card.boot()?;
        Ok(card)
    }

    /// The card before power-up: empty RAM state, the NVM not read yet (cheap, cannot fail).
    fn unbooted(nvm: N, platform: crypto::Platform) -> Self {
        Card {
            vm: Vm::unopened(nvm, &api::CATALOG),
            rt: Runtime {
                applets: Vec::new(),
                selected: None,
                selecting: false,
                installing: None,
                registered: None,
                apdu_obj: NULL,
                apdu_buffer: NULL,
                apdu: ApduState::default(),
                exceptions: [NULL; EXCEPTION_SLOTS],
                nvm_fault: None,
                platform,
                deletion_requested: false,
            },
            cm: card_manager::CardManager::default(),
        }
    }

    /// Powers the card up in place: opens (or formats) the VM's image, then reads the
    /// runtime's registry, or creates the runtime objects on a new card. Out of line: its
    /// temporaries (the registry read back, about 600 bytes) then leave the stack with it
    /// instead of staying in the caller's frame below everything the card does afterwards.
    #[inline(never)]
    fn boot(&mut self) -> Result<(), CardError> {
        let vm = &mut self.vm;
        vm.open()?;
        vm.set_context(0);
        let persistent = match registry::load(vm)? {
            Some(p) => p,
            None => {
                let p = Self::create_runtime_objects(vm)?;
                registry::format(vm, &p)?;
                vm.checkpoint()?;
                p
            }
        };
        Self::register_system_exceptions(vm, &persistent.exceptions);
        self.rt.applets = persistent.applets;
        self.rt.apdu_obj = persistent.apdu_obj;
        self.rt.apdu_buffer = persistent.apdu_buffer;
        self.rt.exceptions = persistent.exceptions;
        Ok(())
    }

    /// The objects the runtime preallocates on a new card: one throwable per built-in
    /// exception class, the APDU object and the APDU buffer.
    fn create_runtime_objects(vm: &mut Vm<N>) -> Result<registry::Persistent, CardError> {
        let mut exceptions = [NULL; 32];
        for (id, slot) in exceptions.iter_mut().enumerate() {
            let id = id as u16;
            if id <= api::C_USER_EXCEPTION
                && (id == api::C_THROWABLE
                    || vm.class_is_subtype(id, api::C_THROWABLE).unwrap_or(false))
                && !vm.class_is_interface(id).unwrap_or(true)
            {
                *slot = vm.new_instance(id)?;
            }
        }
        // reasons of the two framework exceptions the VM raises
        if let Some(&o) = exceptions.get(api::C_SYSTEM_EXCEPTION as usize) {
            vm.put_field(o, 0, 5)?; // NO_RESOURCE
        }
        if let Some(&o) = exceptions.get(api::C_TRANSACTION_EXCEPTION as usize) {
            vm.put_field(o, 0, 3)?; // BUFFER_FULL
        }
        let apdu_obj = vm.new_instance(api::C_APDU)?;
        let apdu_buffer = vm.new_array(
            ArrayType::Byte,
            APDU_BUFFER_LEN as i16,
            0,
            TRANSIENT_RESET | GLOBAL,
        )?;
        Ok(registry::Persistent {
            apdu_obj,
            apdu_buffer,
            exceptions,
            applets: Vec::new(),
        })
    }

    /// Tells the VM which preallocated object to throw for each exception it raises.
    fn register_system_exceptions(vm: &mut Vm<N>, exceptions: &[ObjRef; 32]) {
        let kinds = [
            (SystemException::NullPointer, api::C_NPE),
            (SystemException::ArrayIndexOutOfBounds, api::C_AIOOBE),
            (SystemException::Arithmetic, api::C_ARITHMETIC),
            (SystemException::ClassCast, api::C_CCE),
            (SystemException::NegativeArraySize, api::C_NASE),
            (SystemException::ArrayStore, api::C_ASE),
            (SystemException::Security, api::C_SECURITY),
            (SystemException::NoResource, api::C_SYSTEM_EXCEPTION),
            (
                SystemException::TransactionBufferFull,
                api::C_TRANSACTION_EXCEPTION,
            ),
        ];
        for (kind, class) in kinds {
            let obj = exceptions.get(class as usize).copied().unwrap_or(NULL);
            vm.set_system_exception(kind, obj);
        }
    }

    /// Gives the NVM back, e.g. to power a card up on it again.
    pub fn into_nvm(self) -> N {
        self.vm.into_nvm()
    }

    /// The NVM, mutable: for fault injection in tests (cutting a test device's power).
    pub fn nvm_mut(&mut self) -> &mut N {
        self.vm.nvm_mut()
    }

    /// Checks every persistent structure: the VM image
    /// ([`oxicard_vm::Vm::check_invariants`]) and the applet registry (live objects, known
    /// packages, unique AIDs, RAM copy equal to NVM).
    pub fn check_invariants(&self) -> Result<(), &'static str> {
        self.vm.check_invariants()?;
        registry::check(&self.vm, &self.rt.applets)
    }

    /// Sets the execution budget per VM entry (select, process, install...): backward
    /// branches cost the bytes they jump back over, calls 1 (see [`oxicard_vm::DEFAULT_BUDGET`]).
    pub fn set_instruction_budget(&mut self, budget: u64) {
        self.vm.set_budget(budget);
    }

    /// The VM (for inspection and benchmarks).
    pub fn vm(&self) -> &Vm<N> {
        &self.vm
    }

    /// True when a package with this AID is loaded.
    pub fn has_package(&self, aid: &[u8]) -> bool {
        self.vm.find_package(aid).is_some()
    }

    /// The AIDs of the installed applet instances, in installation order.
    pub fn applet_instances(&self) -> impl Iterator<Item = &[u8]> {
        self.rt.applets.iter().map(|applet| applet.aid.as_slice())
    }

    /// Loads and links a package from its load file: the concatenated CAP components
    /// (tag, size, info each), e.g. in GlobalPlatform load order. A convenience over
    /// [`Card::begin_load`] with the whole file as one block.
    pub fn load_cap(&mut self, load_file: &[u8]) -> Result<(), CardError> {
        let mut session = self.begin_load();
        session.feed(load_file)?;
        session.finish()
    }

    /// Starts a streamed package load: feed the load file in blocks of any size (e.g. the
    /// data of GlobalPlatform LOAD commands after the C4 length prefix), then finish. The
    /// components are staged in NVM, not RAM. A failure, an abort or dropping the session
    /// leaves the card as it was.
    pub fn begin_load(&mut self) -> LoadSession<'_, N> {
        let loader = PackageLoader::begin(&mut self.vm);
        LoadSession {
            card: self,
            loader: Some(loader),
        }
    }

    /// Free persistent memory in bytes (what `JCSystem.getAvailableMemory(MEMORY_TYPE_PERSISTENT)`
    /// reports, before clamping to a short).
    pub fn available_persistent(&self) -> usize {
        self.vm.available_persistent()
    }

    /// Creates an applet instance: runs `install(bArray, 0, len)` of applet `applet_aid`
    /// in package `package_aid`, with the GlobalPlatform parameter block built from
    /// `instance_aid` and the application parameters `params`.
    pub fn install(
        &mut self,
        package_aid: &[u8],
        applet_aid: &[u8],
        instance_aid: &[u8],
        params: &[u8],
    ) -> Result<(), CardError> {
        let pkg = self
            .vm
            .find_package(package_aid)
            .ok_or(CardError::NoSuchApplet)?;
        let install = self
            .vm
            .find_applet_install(pkg, applet_aid)?
            .ok_or(CardError::NoSuchApplet)?;
        if instance_aid.len() > 16 || params.len() > 128 || self.find_applet(instance_aid).is_some()
        {
            return Err(CardError::InstallFailed(SW_UNKNOWN));
        }
        // bArray = Li | instance AID | 01 | 00 | La | params
        let mut block: Vec<u8, 160> = Vec::new();
        let _ = block.push(instance_aid.len() as u8);
        let _ = block.extend_from_slice(instance_aid);
        let _ = block.extend_from_slice(&[1, 0, params.len() as u8]);
        let _ = block.extend_from_slice(params);
        let ctx = Vm::<N>::package_context(pkg);
        self.vm.set_context(0);
        let barray = self
            .vm
            .new_array(ArrayType::Byte, block.len() as i16, 0, GLOBAL)?;
        let h = self.vm.header(barray)?;
        self.vm.write_elements(&h, 0, &block, false)?;
        let mut aid: Vec<u8, 16> = Vec::new();
        let _ = aid.extend_from_slice(instance_aid);
        self.rt.installing = Some((pkg, aid));
        self.rt.registered = None;
        self.vm.set_context(ctx);
        let r = self.vm.run(
            &mut self.rt,
            install,
            &[barray as i16, 0, block.len() as i16],
        );
        self.vm.set_context(0);
        self.rt.installing = None;
        if self.vm.transaction_depth() != 0 {
            let _ = self.vm.abort_transaction();
        }
        let sw = status_word(&self.vm, &r);
        if sw != SW_OK || self.rt.registered.is_none() {
            // all or nothing: the instance, its objects and its registry entry go
            self.vm.rollback()?;
            self.rt.applets = registry::load_applets(&self.vm)?;
            return Err(CardError::InstallFailed(sw));
        }
        self.vm.checkpoint()?;
        Ok(())
    }

    /// Card reset (power cycle): transient arrays cleared, an open transaction aborted, no
    /// applet selected. `deselect()` is not called.
    pub fn reset(&mut self) -> Result<(), CardError> {
        self.vm.abort_transaction()?;
        self.vm
            .clear_transient(TRANSIENT_RESET | TRANSIENT_DESELECT)?;
        self.vm.reset_frames();
        self.vm.set_context(0);
        self.rt.selected = None;
        self.rt.selecting = false;
        self.leave_card_manager();
        self.vm.checkpoint()?;
        Ok(())
    }

    /// Sends a command APDU; writes the response (data and status word) into `response`
    /// and returns its length.
    pub fn transmit(&mut self, command: &[u8], response: &mut [u8]) -> Result<usize, CardError> {
        self.rt.nvm_fault = None;
        let r = self.exchange(command);
        // the command is over: an open transaction is aborted, the rest made durable
        self.abort_open_transaction();
        if core::mem::take(&mut self.rt.deletion_requested) && self.rt.nvm_fault.is_none() {
            self.collect_garbage()?;
        }
        self.vm.checkpoint()?;
        if let Some(t) = self.rt.nvm_fault.take() {
            return Err(CardError::Trap(t));
        }
        let (data, sw) = r?;
        let out = response
            .get_mut(..data + 2)
            .ok_or(CardError::ResponseTooSmall)?;
        let (d, s) = out.split_at_mut(data);
        d.copy_from_slice(self.rt.apdu.response.get(..data).unwrap_or(&[]));
        s.copy_from_slice(&sw.to_be_bytes());
        Ok(data + 2)
    }

    fn find_applet(&self, aid: &[u8]) -> Option<usize> {
        self.rt.applets.iter().position(|a| a.aid.as_slice() == aid)
    }

    /// Runs one command; returns (response data length, status word).
    fn exchange(&mut self, command: &[u8]) -> Result<(usize, u16), CardError> {
        let (lc, le) = parse_command(command)?;
        self.rt.apdu = ApduState {
            cla: command.first().copied().unwrap_or(0),
            no_chaining: false,
            sent_all: false,
            state: 0,
            lc,
            le,
            out_len: 0,
            response: Vec::new(),
        };
        // the APDU buffer gets the header (P3 = Lc or Le) and the command data
        let h = self.vm.header(self.rt.apdu_buffer)?;
        let mut header = [0u8; 5];
        for (d, s) in header.iter_mut().zip(command.iter()) {
            *d = *s;
        }
        self.vm.write_elements(&h, 0, &header, false)?;
        if lc > 0 {
            let body = command
                .get(5..5 + lc as usize)
                .ok_or(CardError::BadCommand)?;
            self.vm.write_elements(&h, 5, body, false)?;
        }
        let is_select = command.first() == Some(&0x00)
            && command.get(1) == Some(&0xA4)
            && command.get(2) == Some(&0x04);
        if is_select {
            let aid = command.get(5..5 + lc as usize).unwrap_or(&[]);
            if let Some(target) = self.select_target(aid) {
                return self.select(target);
            }
            if card_manager::names_isd(aid) {
                return self.select_card_manager();
            }
        }
        let Some(current) = self.rt.selected else {
            return self.card_manager_out_of_line(command, lc);
        };
        self.rt.selecting = false;
        let sw = self.process(current);
        Ok((self.rt.apdu.response.len(), sw))
    }

    /// A command to the card manager, in a frame of its own: its response buffers (about
    /// 1 KB for GET STATUS) are then not on the stack while an applet runs.
    #[inline(never)]
    fn card_manager_out_of_line(
        &mut self,
        command: &[u8],
        lc: u16,
    ) -> Result<(usize, u16), CardError> {
        self.card_manager_command(command, lc)
    }

    /// The applet a SELECT by AID names: full match first, then a partial (prefix) match.
    fn select_target(&self, aid: &[u8]) -> Option<usize> {
        if aid.is_empty() {
            return None;
        }
        self.find_applet(aid).or_else(|| {
            self.rt
                .applets
                .iter()
                .position(|a| a.aid.len() >= aid.len() && a.aid.get(..aid.len()) == Some(aid))
        })
    }

    fn select(&mut self, target: usize) -> Result<(usize, u16), CardError> {
        self.leave_card_manager();
        self.deselect_current()?;
        let r = self.call_applet(target, 6, &[]);
        if r != Ok(Value::Word(1)) {
            self.abort_open_transaction();
            return Ok((0, SW_APPLET_SELECT_FAILED));
        }
        self.rt.selected = Some(target);
        self.rt.selecting = true;
        let sw = self.process(target);
        self.rt.selecting = false;
        Ok((self.rt.apdu.response.len(), sw))
    }

    /// Deselects the selected applet, if any: `deselect()`, then its context's
    /// CLEAR_ON_DESELECT arrays are cleared.
    fn deselect_current(&mut self) -> Result<(), CardError> {
        if let Some(current) = self.rt.selected.take() {
            let _ = self.call_applet(current, 4, &[]);
            // single channel: no other applet of the deselected applet's context is active
            if let Some(a) = self.rt.applets.get(current) {
                let ctx = Vm::<N>::package_context(a.package);
                self.vm.clear_transient_of(TRANSIENT_DESELECT, Some(ctx))?;
            }
        }
        Ok(())
    }

    fn process(&mut self, applet: usize) -> u16 {
        let apdu = self.rt.apdu_obj as i16;
        let r = self.call_applet(applet, 7, &[apdu]);
        self.abort_open_transaction();
        let sw = status_word(&self.vm, &r);
        if sw != SW_OK {
            self.rt.apdu.response.clear();
        }
        sw
    }

    fn abort_open_transaction(&mut self) {
        if self.vm.transaction_depth() != 0 {
            let _ = self.vm.abort_transaction();
        }
    }

    /// Invokes virtual method `token` of the applet object with `args` after `this`.
    fn call_applet(&mut self, applet: usize, token: u8, args: &[i16]) -> Result<Value, Trap> {
        let entry = self
            .rt
            .applets
            .get(applet)
            .ok_or(Trap::Internal(Detail::Applet))?;
        let (obj, pkg) = (entry.obj, entry.package);
        let h = self.vm.header(obj)?;
        let m = self
            .vm
            .vtable_entry(h.class, token)?
            .ok_or(Trap::Internal(Detail::AppletMethod))?;
        let mut words = [0i16; 4];
        words[0] = obj as i16;
        for (d, s) in words.iter_mut().skip(1).zip(args.iter()) {
            *d = *s;
        }
        self.vm.set_context(Vm::<N>::package_context(pkg));
        let r = self
            .vm
            .run(&mut self.rt, m, words.get(..1 + args.len()).unwrap_or(&[]));
        self.vm.set_context(0);
        if let Err(t @ Trap::Nvm(_)) = r {
            self.rt.nvm_fault = Some(t);
        }
        r
    }
}

/// Parses a short command APDU: returns (Lc, Le) with Le = 256 for `00`, 0 when absent.
fn parse_command(c: &[u8]) -> Result<(u16, u16), CardError> {
    match c.len() {
        0..=3 => Err(CardError::BadCommand),
        4 => Ok((0, 0)),
        5 => Ok((0, if c[4] == 0 { 256 } else { c[4] as u16 })),
        n => {
            let lc = c[4] as usize;
            if lc == 0 {
                return Err(CardError::BadCommand);
            }
            if n == 5 + lc {
                Ok((lc as u16, 0))
            } else if n == 6 + lc {
                let le = c[5 + lc];
                Ok((lc as u16, if le == 0 { 256 } else { le as u16 }))
            } else {
                Err(CardError::BadCommand)
            }
        }
    }
}

/// The one mapping from the outcome of an applet entry point to a status word: normal
/// return 9000; an uncaught ISOException (or subclass) its reason; any other uncaught
/// exception, and every VM trap (budget, stack overflow, memory, malformed code), 6F00.
pub fn status_word<N: Nvm>(vm: &Vm<N>, outcome: &Result<Value, Trap>) -> u16 {
    match outcome {
        Ok(_) => SW_OK,
        Err(Trap::Throw(obj)) => match vm.header(*obj) {
            Ok(h) if vm.class_is_subtype(h.class, api::C_ISO_EXCEPTION) == Ok(true) => vm
                .get_field(*obj, 0)
                .map(|r| r as u16)
                .unwrap_or(SW_UNKNOWN),
            _ => SW_UNKNOWN,
        },
        Err(_) => SW_UNKNOWN,
    }
}
