//! Benchmark: APDU round trips per second through pcscd, to the simulated card (the golden
//! wallet's GET BALANCE, served by the same vpcd code as `oxicard sim`) and, in the same run,
//! to a minimal native echo card written here (it speaks vpcd's protocol directly, with
//! TCP_QUICKACK before every read and TCP_NODELAY); the ratio shows what the card runtime
//! costs on top of the PC/SC path. Also: the same command in-process, without PC/SC.
//!
//! Needs pcscd with vsmartcard's vpcd and an empty "Virtual PCD 00 00":
//!
//! ```text
//! scripts/pcsc-env.sh install start
//! cargo run --release -p oxicard-transport --example pcsc_bench [ROUND_TRIPS [ROUNDS]]
//! ```
//!
//! The two cards take turns, ROUNDS times each (default 10) with ROUND_TRIPS round trips a
//! turn (default 2000), so that load from other programs hits both alike. Reported: the best
//! and the median turn of each card, and the median of the ratios of neighbouring turns (each
//! simulated-card turn against the echo-card turn just before it), which cancels slow drift
//! of the machine's load.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oxicard_apdu::Aid;
use oxicard_sim::vpcd::{self, ATR};
use oxicard_sim::{CapPackage, SimCard};
use oxicard_transport::pcsc::{list_readers, wait_for_card, PcscChannel, ReaderSelector};
use oxicard_transport::{CardChannel, SimChannel};

const READER: &str = "Virtual PCD 00 00";
const GET_BALANCE: [u8; 5] = [0x80, 0x30, 0x00, 0x00, 0x00];
const SELECT_WALLET: [u8; 11] = [
    0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x00, 0x00, 0x01, 0x04, 0x01,
];
const WARM_UP: usize = 200;
/// Round trips per turn, unless given.
const DEFAULT_ROUND_TRIPS: usize = 2000;
/// Turns of echo card and simulated card, unless given.
const DEFAULT_ROUNDS: usize = 10;

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn golden() -> PathBuf {
    std::env::var_os("OXICARD_GOLDEN").map_or_else(
        || {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/golden"
            ))
        },
        PathBuf::from,
    )
}

fn aid(hex: &str) -> Result<Aid> {
    Ok(Aid::from_hex(hex)?)
}

/// The golden wallet installed (PIN 1234, balance 100), not selected.
fn wallet_card() -> Result<SimCard> {
    let mut card = SimCard::new()?;
    let package = CapPackage::read(&golden().join("wallet/wallet.cap"))?;
    let package_aid = package.aid;
    card.add_cap(package);
    card.load(&package_aid)?;
    let applet = aid("F00000010401")?;
    card.install(
        &package_aid,
        &applet,
        &applet,
        &[4, 0x31, 0x32, 0x33, 0x34, 0, 0x64],
    )?;
    Ok(card)
}

#[cfg(target_os = "linux")]
fn quickack(stream: &TcpStream) -> std::io::Result<()> {
    socket2::SockRef::from(stream).set_quickack(true)
}

#[cfg(not(target_os = "linux"))]
fn quickack(_stream: &TcpStream) -> std::io::Result<()> {
    Ok(())
}

/// The echo card: vpcd's framing (two-byte length, body), controls 00/01/02 unanswered, 04
/// answered with an ATR, every command answered with its own bytes and 90 00.
fn echo_card(stream: &mut TcpStream) -> std::io::Result<()> {
    loop {
        let mut length = [0u8; 2];
        quickack(stream)?;
        if stream.read_exact(&mut length).is_err() {
            return Ok(()); // vpcd or the benchmark closed the connection
        }
        let mut body = vec![0u8; usize::from(u16::from_be_bytes(length))];
        quickack(stream)?;
        stream.read_exact(&mut body)?;
        let reply = match body.as_slice() {
            [0x04] => ATR.to_vec(),
            [_] | [] => continue,
            command => {
                let mut reply = command.to_vec();
                reply.extend_from_slice(&[0x90, 0x00]);
                reply
            }
        };
        let mut frame = u16::try_from(reply.len())
            .unwrap_or(u16::MAX)
            .to_be_bytes()
            .to_vec();
        frame.extend_from_slice(&reply);
        stream.write_all(&frame)?;
    }
}

/// Attaches a card to vpcd and serves it on this thread (the simulated card stays on the
/// thread that made it) while `client` runs on another one; when the client is done the
/// connection is shut down, which ends `serve`. Returns what the client measured, once the
/// reader is empty again.
fn with_card_on_vpcd(
    serve: impl FnOnce(&mut TcpStream),
    client: impl FnOnce() -> std::result::Result<f64, String> + Send + 'static,
) -> Result<f64> {
    let address = format!("localhost:{}", vpcd::DEFAULT_PORT);
    let mut stream = TcpStream::connect(&address)
        .map_err(|e| format!("vpcd at {address}: {e} (scripts/pcsc-env.sh start)"))?;
    stream.set_nodelay(true)?;
    let closer = stream.try_clone()?;
    let thread = std::thread::spawn(move || {
        let result = wait_for_card(
            &ReaderSelector::Name(READER.into()),
            Duration::from_secs(30),
        )
        .map_err(|e| e.to_string())
        .and_then(|()| client());
        let _ = closer.shutdown(Shutdown::Both);
        result
    });
    serve(&mut stream);
    let rate = thread.join().map_err(|_| "the client thread panicked")??;
    wait_until_empty()?;
    Ok(rate)
}

/// Connects to the card in the benchmark's reader, SELECTs when asked, and measures.
fn client(
    select: Option<&'static [u8]>,
    expected: Vec<u8>,
    n: usize,
) -> impl FnOnce() -> std::result::Result<f64, String> + Send + 'static {
    move || {
        let mut channel = PcscChannel::connect(&ReaderSelector::Name(READER.into()))
            .map_err(|e| e.to_string())?;
        if let Some(select) = select {
            channel.transmit(select).map_err(|e| e.to_string())?;
        }
        measure(&mut channel, &GET_BALANCE, &expected, n).map_err(|e| e.to_string())
    }
}

fn card_present() -> Result<bool> {
    Ok(list_readers()?
        .iter()
        .any(|r| r.name == READER && r.card_present))
}

fn wait_until_empty() -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs(30);
    while card_present()? {
        if Instant::now() > deadline {
            return Err(format!("a card stays in {READER:?}").into());
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    Ok(())
}

/// Round trips per second of `command` on `channel` (after a warm-up), checking every answer.
fn measure(
    channel: &mut dyn CardChannel,
    command: &[u8],
    expected: &[u8],
    n: usize,
) -> Result<f64> {
    for _ in 0..WARM_UP {
        channel.transmit(command)?;
    }
    let start = Instant::now();
    for _ in 0..n {
        let response = channel.transmit(command)?;
        if response != expected {
            return Err(format!("{}: unexpected answer {response:02X?}", channel.name()).into());
        }
    }
    Ok(n as f64 / start.elapsed().as_secs_f64())
}

/// The median (the mean of the middle two for an even count; 0 for none).
fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let middle = sorted.len() / 2;
    match (sorted.len() % 2, sorted.get(middle)) {
        (1, Some(&value)) => value,
        (_, Some(&upper)) => sorted
            .get(middle.wrapping_sub(1))
            .map_or(upper, |&lower| (lower + upper) / 2.0),
        (_, None) => 0.0,
    }
}

fn main() -> Result<()> {
    let argument = |index: usize, default: usize| -> Result<usize> {
        match std::env::args().nth(index) {
            Some(text) => Ok(text.parse()?),
            None => Ok(default),
        }
    };
    let n = argument(1, DEFAULT_ROUND_TRIPS)?;
    let rounds_wanted = argument(2, DEFAULT_ROUNDS)?.max(1);
    if card_present()? {
        return Err(format!("a card is already in {READER:?}: stop the other oxicard sim").into());
    }
    let balance_answer = [0x00, 0x64, 0x90, 0x00];

    // The native echo card and the simulated card (served by oxicard-sim's vpcd front end,
    // as in `oxicard sim`) in turns, so that both see the same load on the machine.
    let mut card = wallet_card()?;
    let mut echo_rates = Vec::new();
    let mut sim_rates = Vec::new();
    let mut echoed = GET_BALANCE.to_vec();
    echoed.extend_from_slice(&[0x90, 0x00]);
    for _ in 0..rounds_wanted {
        echo_rates.push(with_card_on_vpcd(
            |stream| {
                if let Err(e) = echo_card(stream) {
                    eprintln!("echo card: {e}");
                }
            },
            client(None, echoed.clone(), n),
        )?);
        sim_rates.push(with_card_on_vpcd(
            |stream| {
                if let Err(e) = vpcd::serve(stream, &mut card, &mut |_| {}) {
                    eprintln!("oxicard sim: {e}");
                }
            },
            client(Some(&SELECT_WALLET), balance_answer.to_vec(), n),
        )?);
    }
    let best = |rates: &[f64]| rates.iter().copied().fold(0.0, f64::max);
    let ratios: Vec<f64> = sim_rates
        .iter()
        .zip(&echo_rates)
        .map(|(sim, echo)| sim / echo)
        .collect();
    let rounds = |rates: &[f64]| {
        let texts: Vec<String> = rates.iter().map(|r| format!("{r:.0}")).collect();
        texts.join(", ")
    };

    // The same command in-process.
    let mut in_process = SimChannel::new(wallet_card()?);
    in_process.transmit(&SELECT_WALLET)?;
    let in_process_rate = measure(&mut in_process, &GET_BALANCE, &balance_answer, n * 20)?;

    println!(
        "{} turns of {n} round trips through pcscd ({READER}) of GET BALANCE (80 30 00 00 00):",
        echo_rates.len()
    );
    for (name, rates) in [
        ("native echo card on vpcd:   ", &echo_rates),
        ("oxicard sim (golden wallet):", &sim_rates),
    ] {
        println!(
            "  {name} best {:>6.0}, median {:>6.0} round trips/s ({})",
            best(rates),
            median(rates),
            rounds(rates)
        );
    }
    println!(
        "  oxicard sim / echo card:     best {:.2}, median {:.2}, median of paired turns {:.2} \
         (goal: at least 0.80)",
        best(&sim_rates) / best(&echo_rates),
        median(&sim_rates) / median(&echo_rates),
        median(&ratios)
    );
    println!("in-process (SimChannel, no PC/SC): {in_process_rate:.0} GET BALANCE/s");
    Ok(())
}
