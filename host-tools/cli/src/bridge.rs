//! `oxicard bridge`: a card behind a serial line (oxicard firmware on a board, or under QEMU)
//! made visible to PC/SC. The bridge is the reader: it resets the card, reads its ATR and
//! speaks ISO/IEC 7816-3 T=1 to it ([`oxicard_firmware::t1::reader`]: IFSD negotiation,
//! chaining, waiting time extensions, retransmission); towards PC/SC it is a card in
//! vsmartcard's vpcd reader, served by the same vpcd loop as `oxicard sim`
//! ([`oxicard_sim::vpcd`]). The line is a TCP socket (an emulator's UART) or a tty.
//!
//! When the line goes down (QEMU ended, adapter unplugged) the card leaves the reader; the
//! bridge tries to reach the line again every second and puts the card back when it answers.

use std::io;
use std::path::PathBuf;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use oxicard_firmware::t1::reader::{ReaderConfig, ReaderError, ReaderLink, T1Reader, TcpLink};
use oxicard_sim::vpcd::{CardBackend, DEFAULT_PORT};
use oxicard_sim::SimError;

/// How long to wait before trying vpcd or the card's line again.
const RETRY: Duration = Duration::from_secs(1);

/// Arguments of `oxicard bridge`.
#[derive(Args, Debug)]
pub struct BridgeArgs {
    /// The card's serial line is a TCP socket, e.g. QEMU's UART (`-serial
    /// tcp:127.0.0.1:PORT,server=on,wait=on,nodelay=on`; without nodelay=on QEMU's small
    /// writes wait for TCP acknowledgements and a round trip takes about 50 ms).
    #[arg(long, value_name = "HOST:PORT", required_unless_present = "serial")]
    tcp: Option<String>,
    /// The card's serial line is this tty (e.g. a USB-serial adapter wired to the board's
    /// UART): raw mode, 8 data bits, no parity, one stop bit, at --baud.
    #[arg(long, value_name = "DEVICE", conflicts_with = "tcp")]
    serial: Option<PathBuf>,
    /// Baud rate of the --serial line.
    #[arg(long, default_value_t = 115_200)]
    baud: u32,
    /// Where vpcd listens: its first slot ("Virtual PCD 00 00") is port 35963, the next
    /// slot one more.
    #[arg(long, value_name = "HOST:PORT", default_value_t = format!("localhost:{DEFAULT_PORT}"))]
    vpcd: String,
    /// The IFSD announced to the card (largest block information field the bridge takes).
    #[arg(long, default_value_t = 254, value_parser = clap::value_parser!(u8).range(1..=254))]
    ifsd: u8,
    /// Block waiting time in milliseconds: how long the card may take to start an answer
    /// (a card that needs more asks for a waiting time extension).
    #[arg(long, value_name = "MS", default_value_t = 5000)]
    bwt_ms: u64,
    /// Character waiting time in milliseconds: the longest gap inside a block.
    #[arg(long, value_name = "MS", default_value_t = 500)]
    cwt_ms: u64,
    /// How long to keep trying to reach the card at start, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    wait: u64,
    /// Log every APDU and control message.
    #[arg(short, long)]
    verbose: bool,
}

/// Help text shown after the options of `oxicard bridge`.
pub const BRIDGE_HELP: &str = "\
The bridge resets the card with oxicard's line reset (FF C0 00 3F, for the RST contact a
UART does not have), reads its ATR, announces its IFSD, and then sends every command APDU
from PC/SC as T=1 blocks. Power-on and reset from pcscd reset the card the same way. It
needs pcscd with vsmartcard's vpcd driver (Debian/Ubuntu: apt-get install pcscd
vsmartcard-vpcd); the card then sits in \"Virtual PCD 00 00\" for every PC/SC program.
If the line goes down the card leaves the reader until it answers again. Ctrl-C ends it.

Examples:
  qemu-system-arm -machine lm3s6965evb -nographic -monitor none \\
      -semihosting-config enable=on,target=native -kernel oxicard-qemu \\
      -serial tcp:127.0.0.1:5550,server=on,wait=on,nodelay=on &
  oxicard bridge --tcp 127.0.0.1:5550 -v           the QEMU card in pcscd's reader
  oxicard bridge --serial /dev/ttyUSB0 --baud 115200   a board behind a USB-serial adapter
  oxicard bridge --tcp 127.0.0.1:5550 --vpcd localhost:35964   vpcd's second slot
  oxicard gp --reader 'Virtual PCD 00 00' install hello.cap
  opensc-tool -r 'Virtual PCD 00 00' -s 00A4040006F00000010101 -s 8002000000";

/// Where the card's serial line is.
#[derive(Clone, Debug)]
pub enum LineSpec {
    /// A TCP socket (an emulator's UART).
    Tcp(String),
    /// A tty at a baud rate.
    Serial(PathBuf, u32),
}

impl std::fmt::Display for LineSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineSpec::Tcp(address) => write!(f, "tcp {address}"),
            LineSpec::Serial(path, baud) => write!(f, "serial {} at {baud} baud", path.display()),
        }
    }
}

impl LineSpec {
    /// Opens the line.
    fn open(&self) -> io::Result<Line> {
        match self {
            LineSpec::Tcp(address) => Ok(Line::Tcp(TcpLink::new(std::net::TcpStream::connect(
                address,
            )?)?)),
            #[cfg(unix)]
            LineSpec::Serial(path, baud) => {
                Ok(Line::Serial(serial::SerialLink::open(path, *baud)?))
            }
            #[cfg(not(unix))]
            LineSpec::Serial(..) => Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "--serial needs a Unix tty",
            )),
        }
    }
}

/// An open line.
pub enum Line {
    /// A TCP connection.
    Tcp(TcpLink),
    /// A tty.
    #[cfg(unix)]
    Serial(serial::SerialLink),
}

impl ReaderLink for Line {
    fn read_byte(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
        match self {
            Line::Tcp(link) => link.read_byte(timeout),
            #[cfg(unix)]
            Line::Serial(link) => link.read_byte(timeout),
        }
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Line::Tcp(link) => link.write_all(bytes),
            #[cfg(unix)]
            Line::Serial(link) => link.write_all(bytes),
        }
    }
}

/// The card behind the line, as the vpcd loop sees it: power-on and reset are line resets,
/// APDUs go through the T=1 reader. A line that fails is dropped and opened again at the
/// next operation (or at [`CardBackend::ready`]).
pub struct LineCard {
    spec: LineSpec,
    config: ReaderConfig,
    /// How long to wait, right after opening the line, for the ATR a card sends by itself
    /// when it boots; without one the card is reset.
    boot_atr_wait: Duration,
    reader: Option<T1Reader<Line>>,
    atr: Vec<u8>,
    /// Why the line was last dropped, for the log.
    pub last_error: Option<String>,
}

impl LineCard {
    /// A card on `spec`; nothing is opened yet ([`LineCard::attach`]).
    pub fn new(spec: LineSpec, config: ReaderConfig, boot_atr_wait: Duration) -> LineCard {
        LineCard {
            spec,
            config,
            boot_atr_wait,
            reader: None,
            atr: Vec::new(),
            last_error: None,
        }
    }

    /// Opens the line, takes the card's ATR (the one it sends when it boots, or after a line
    /// reset) and announces the IFSD.
    pub fn attach(&mut self) -> Result<(), ReaderError> {
        self.reader = None;
        let mut reader = T1Reader::new(self.spec.open()?, self.config);
        let atr = match reader.read_atr(self.boot_atr_wait) {
            Ok(atr) => atr,
            Err(ReaderError::NoAtr(partial)) if partial.is_empty() => reader.reset()?,
            Err(e) => return Err(e),
        };
        reader.negotiate_ifsd()?;
        self.atr = atr;
        self.reader = Some(reader);
        self.last_error = None;
        Ok(())
    }

    /// Runs `step` on the reader, opening the line first when it is not; a line failure drops
    /// the line.
    fn with_reader<T>(
        &mut self,
        step: impl FnOnce(&mut T1Reader<Line>) -> Result<T, ReaderError>,
    ) -> Result<T, SimError> {
        if self.reader.is_none() {
            self.attach().map_err(|e| self.failed(e))?;
        }
        let Some(reader) = self.reader.as_mut() else {
            return Err(SimError::Card("the card's line is not open".into()));
        };
        step(reader).map_err(|e| self.failed(e))
    }

    /// Records a failure; an I/O error or a missing ATR closes the line.
    fn failed(&mut self, error: ReaderError) -> SimError {
        let message = format!("{} ({})", error, self.spec);
        if matches!(error, ReaderError::Io(_) | ReaderError::NoAtr(_)) {
            self.reader = None;
            self.last_error = Some(message.clone());
        }
        SimError::Card(message)
    }

    /// Line reset: the card resets and sends its ATR; the IFSD is announced again.
    fn reset_card(&mut self) -> Result<(), SimError> {
        self.atr = self.with_reader(|reader| {
            let atr = reader.reset()?;
            reader.negotiate_ifsd()?;
            Ok(atr)
        })?;
        Ok(())
    }
}

impl CardBackend for LineCard {
    fn power_on(&mut self) -> Result<(), SimError> {
        self.reset_card()
    }

    fn power_off(&mut self) -> Result<(), SimError> {
        // A UART has no power contact: the next power-on resets the card.
        Ok(())
    }

    fn reset(&mut self) -> Result<(), SimError> {
        self.reset_card()
    }

    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, SimError> {
        self.with_reader(|reader| reader.transceive(command))
    }

    fn ready(&mut self) -> bool {
        self.reader.is_some() || self.attach().is_ok()
    }
}

/// Reaches the card, then serves it to vpcd until the process is ended.
pub fn run(args: &BridgeArgs) -> anyhow::Result<std::process::ExitCode> {
    let spec = match (&args.tcp, &args.serial) {
        (Some(address), _) => LineSpec::Tcp(address.clone()),
        (None, Some(path)) => LineSpec::Serial(path.clone(), args.baud),
        (None, None) => anyhow::bail!("give the card's line: --tcp HOST:PORT or --serial DEVICE"),
    };
    #[cfg(unix)]
    if let LineSpec::Serial(_, baud) = &spec {
        serial::baud_rate(*baud).map_err(|e| crate::Malformed(e.to_string()))?;
    }
    let config = ReaderConfig {
        bwt: Duration::from_millis(args.bwt_ms),
        cwt: Duration::from_millis(args.cwt_ms),
        ifsd: args.ifsd,
        ..ReaderConfig::default()
    };
    let mut card = LineCard::new(spec.clone(), config, Duration::from_secs(3));
    let deadline = Instant::now() + Duration::from_secs(args.wait);
    loop {
        match card.attach() {
            Ok(()) => break,
            Err(e) if Instant::now() < deadline => {
                if args.verbose {
                    eprintln!("card on {spec}: {e}; retrying");
                }
                std::thread::sleep(RETRY / 4);
            }
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("no card answered on {spec} within {} s", args.wait))
            }
        }
    }
    eprintln!("card on {spec}: ATR {}", oxicard_apdu::hex::Hex(card.atr()));
    let verbose = args.verbose;
    let mut last_failure = None;
    let never = AtomicBool::new(false);
    oxicard_sim::vpcd::run_client(&args.vpcd, &mut card, RETRY, &never, &mut |event| {
        crate::sim::log_event(event, verbose, &mut last_failure)
    });
    Ok(std::process::ExitCode::SUCCESS)
}

/// A tty as the card's line (Unix termios).
#[cfg(unix)]
pub mod serial {
    use std::fs::{File, OpenOptions};
    use std::io::{self, Read, Write};
    use std::os::fd::AsFd;
    use std::os::unix::fs::OpenOptionsExt;
    use std::path::Path;
    use std::time::Duration;

    use nix::fcntl::OFlag;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    use nix::sys::termios::{
        cfmakeraw, cfsetspeed, tcflush, tcgetattr, tcsetattr, BaudRate, ControlFlags, FlushArg,
        SetArg,
    };
    use oxicard_firmware::t1::reader::ReaderLink;

    /// The termios speed for a baud rate; the usual rates from 1200 to 921600.
    pub fn baud_rate(baud: u32) -> io::Result<BaudRate> {
        Ok(match baud {
            1200 => BaudRate::B1200,
            2400 => BaudRate::B2400,
            4800 => BaudRate::B4800,
            9600 => BaudRate::B9600,
            19_200 => BaudRate::B19200,
            38_400 => BaudRate::B38400,
            57_600 => BaudRate::B57600,
            115_200 => BaudRate::B115200,
            230_400 => BaudRate::B230400,
            460_800 => BaudRate::B460800,
            921_600 => BaudRate::B921600,
            other => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "--baud {other}: not a supported rate (1200, 2400, 4800, 9600, 19200, \
                         38400, 57600, 115200, 230400, 460800, 921600)"
                    ),
                ))
            }
        })
    }

    /// Puts a tty into raw mode: 8 data bits, no parity, one stop bit, no flow control, the
    /// receiver on, modem lines ignored; pending bytes are discarded.
    pub fn make_raw(tty: impl AsFd, baud: u32) -> io::Result<()> {
        let mut termios = tcgetattr(tty.as_fd())?;
        cfmakeraw(&mut termios);
        termios.control_flags |= ControlFlags::CLOCAL | ControlFlags::CREAD;
        termios.control_flags &=
            !(ControlFlags::CSTOPB | ControlFlags::PARENB | ControlFlags::CRTSCTS);
        cfsetspeed(&mut termios, baud_rate(baud)?)?;
        tcsetattr(tty.as_fd(), SetArg::TCSANOW, &termios)?;
        tcflush(tty.as_fd(), FlushArg::TCIOFLUSH)?;
        Ok(())
    }

    /// A file descriptor with a read buffer and reads that wait at most a timeout.
    pub struct SerialLink {
        file: File,
        buf: Vec<u8>,
        pos: usize,
    }

    impl SerialLink {
        /// Opens the tty at `path` (not as the controlling terminal) in raw mode at `baud`.
        pub fn open(path: &Path, baud: u32) -> io::Result<SerialLink> {
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .custom_flags(OFlag::O_NOCTTY.bits())
                .open(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            make_raw(&file, baud)?;
            Ok(SerialLink::from_file(file))
        }

        /// A link over an open file (a tty already configured, or a pty's master side).
        pub fn from_file(file: File) -> SerialLink {
            SerialLink {
                file,
                buf: Vec::new(),
                pos: 0,
            }
        }
    }

    impl ReaderLink for SerialLink {
        fn read_byte(&mut self, timeout: Duration) -> io::Result<Option<u8>> {
            if let Some(&b) = self.buf.get(self.pos) {
                self.pos += 1;
                return Ok(Some(b));
            }
            let millis = timeout.as_millis().clamp(1, i32::MAX as u128);
            let timeout = PollTimeout::try_from(millis).unwrap_or(PollTimeout::MAX);
            let mut fds = [PollFd::new(self.file.as_fd(), PollFlags::POLLIN)];
            if poll(&mut fds, timeout)? == 0 {
                return Ok(None);
            }
            let mut chunk = [0u8; 512];
            let n = self.file.read(&mut chunk)?;
            if n == 0 {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "the card's serial line closed",
                ));
            }
            self.buf.clear();
            self.buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
            self.pos = 1;
            Ok(self.buf.first().copied())
        }

        fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
            self.file.write_all(bytes)?;
            self.file.flush()
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use oxicard_firmware::t1::block::{LinkError, Wait};
    use oxicard_firmware::{serve, ApduHandler, CardLink, T1Card, ATR};

    /// Answers a command with its bytes reversed and 90 00; counts resets.
    struct Reverse {
        resets: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    }

    impl ApduHandler for Reverse {
        fn reset(&mut self) {
            self.resets
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        }
        fn process(&mut self, command: &[u8], response: &mut [u8]) -> usize {
            let n = command.len();
            for (out, b) in response.iter_mut().zip(command.iter().rev()) {
                *out = *b;
            }
            response[n..n + 2].copy_from_slice(&[0x90, 0x00]);
            n + 2
        }
    }

    fn expected(command: &[u8]) -> Vec<u8> {
        let mut r: Vec<u8> = command.iter().rev().copied().collect();
        r.extend_from_slice(&[0x90, 0x00]);
        r
    }

    /// The card side of a line, over any [`ReaderLink`] (a block waits forever, a character
    /// 200 ms).
    struct CardSide<L>(L);

    impl<L: ReaderLink> CardLink for CardSide<L> {
        type Error = String;
        fn read_byte(&mut self, wait: Wait) -> Result<u8, LinkError<String>> {
            let timeout = match wait {
                Wait::Block => Duration::from_secs(3600),
                Wait::Character => Duration::from_millis(200),
            };
            match self.0.read_byte(timeout) {
                Ok(Some(b)) => Ok(b),
                Ok(None) => Err(LinkError::Timeout),
                Err(e) => Err(LinkError::Io(e.to_string())),
            }
        }
        fn write_all(&mut self, bytes: &[u8]) -> Result<(), String> {
            self.0.write_all(bytes).map_err(|e| e.to_string())
        }
    }

    fn config() -> ReaderConfig {
        ReaderConfig {
            bwt: Duration::from_secs(5),
            cwt: Duration::from_millis(200),
            ifsd: 64,
            ..ReaderConfig::default()
        }
    }

    /// Drives `card` as vpcd would: power on, APDUs short and chained both ways, a reset.
    fn exercise(card: &mut LineCard, resets: &std::sync::atomic::AtomicUsize) {
        use std::sync::atomic::Ordering;
        assert_eq!(card.atr(), ATR);
        card.power_on().unwrap();
        assert_eq!(card.atr(), ATR);
        let after_power_on = resets.load(Ordering::SeqCst);
        assert!(after_power_on >= 1, "power-on is a line reset");
        // 5 bytes, then 206 (chained in I-blocks of at most IFSC 32), responses up to 208
        // bytes (chained in blocks of at most the announced IFSD, 64)
        let short = [0x80, 0x02, 0x00, 0x00, 0x00];
        assert_eq!(card.transmit(&short).unwrap(), expected(&short));
        let mut long = vec![0x80, 0x01, 0x00, 0x00, 200];
        long.extend((0..200u8).map(|b| b.wrapping_mul(7)));
        long.push(0x00);
        assert_eq!(card.transmit(&long).unwrap(), expected(&long));
        card.reset().unwrap();
        assert_eq!(resets.load(Ordering::SeqCst), after_power_on + 1);
        assert_eq!(card.transmit(&short).unwrap(), expected(&short));
    }

    #[test]
    fn a_card_on_a_tcp_line_is_reset_and_answers_chained_apdus() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let resets = Arc::new(AtomicUsize::new(0));
        let card_resets = resets.clone();
        let card_thread = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let mut t1 = T1Card::new(CardSide(TcpLink::new(stream).unwrap()), false);
            // the firmware sends its ATR when it boots, then serves until the line closes
            let error = serve(
                &mut t1,
                &mut Reverse {
                    resets: card_resets,
                },
                &ATR,
            );
            format!("{error:?}")
        });
        let mut card = LineCard::new(LineSpec::Tcp(address), config(), Duration::from_secs(5));
        assert!(card.ready(), "the line opens and the boot ATR is read");
        exercise(&mut card, &resets);
        // the card goes away: the command fails, the line is dropped, the card is not ready
        drop(card.reader.take());
        let stop = card_thread.join().unwrap();
        assert!(stop.contains("Link"), "{stop}");
        assert!(!card.ready());
        let error = card.transmit(&[0x80, 0x02, 0x00, 0x00, 0x00]).unwrap_err();
        assert!(error.to_string().contains("tcp 127.0.0.1:"), "{error}");
    }

    #[cfg(unix)]
    #[test]
    fn a_card_on_a_pty_is_reached_through_the_serial_line() {
        use std::sync::atomic::AtomicUsize;
        use std::sync::Arc;
        let pty = nix::pty::openpty(None, None).unwrap();
        let path = nix::unistd::ttyname(&pty.slave).unwrap();
        // raw before the card writes anything, so that no byte is echoed or translated
        serial::make_raw(&pty.slave, 115_200).unwrap();
        let resets = Arc::new(AtomicUsize::new(0));
        let card_resets = resets.clone();
        let master = std::fs::File::from(pty.master);
        let card_thread = std::thread::spawn(move || {
            let mut t1 = T1Card::new(CardSide(serial::SerialLink::from_file(master)), false);
            // no ATR at boot here: the bridge has to reset the card
            let mut handler = Reverse {
                resets: card_resets,
            };
            loop {
                if oxicard_firmware::serve_one(&mut t1, &mut handler, &ATR).is_err() {
                    break;
                }
            }
        });
        let mut card = LineCard::new(
            LineSpec::Serial(path, 115_200),
            config(),
            Duration::from_millis(300),
        );
        card.attach().unwrap();
        assert_eq!(resets.load(std::sync::atomic::Ordering::SeqCst), 1);
        exercise(&mut card, &resets);
        drop(card);
        drop(pty.slave);
        card_thread.join().unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn baud_rates_outside_the_table_are_refused() {
        assert!(serial::baud_rate(115_200).is_ok());
        let error = serial::baud_rate(115_000).unwrap_err();
        assert!(error.to_string().contains("115000"), "{error}");
    }
}
