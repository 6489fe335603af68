//! Benchmark: APDU round trips per second through pcscd, to the simulated card (the golden
//! wallet's GET BALANCE, served by the same vpcd code as `oxicard sim`) and, in the same run,
//! to a minimal native echo card written here (it speaks vpcd's protocol directly, with
//! TCP_QUICKACK before every read and TCP_NODELAY); the ratio shows what the card runtime
//! costs on top of the PC/SC path. Also: the same command in-process, without PC/SC.
//!
//! Needs pcscd with vsmartcard's vpcd, its first two readers empty ("Virtual PCD 00 00" and
//! "Virtual PCD 00 01"):
//!
//! ```text
//! scripts/pcsc-env.sh install start
//! cargo run --release -p oxicard-transport --example pcsc_bench [ROUND_TRIPS]
//! ```
//!
//! Both cards sit in pcscd at once, the echo card in the first reader and the simulated card
//! in the second, and one client alternates between them, one round trip each, ROUND_TRIPS
//! (default 20000) times, timing every round trip. Whatever else the machine does hits both
//! cards alike, so the ratio is steady even when the rates are not. Reported: each card's
//! round trips per second over its own round trips, the ratio, and the median latencies.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use oxicard_apdu::Aid;
use oxicard_sim::vpcd::{self, ATR};
use oxicard_sim::{CapPackage, SimCard};
use oxicard_transport::pcsc::{list_readers, wait_for_card, PcscChannel, ReaderSelector};
use oxicard_transport::{CardChannel, SimChannel};

/// The echo card's reader (vpcd's first slot) and the simulated card's (the second).
const ECHO_READER: &str = "Virtual PCD 00 00";
const SIM_READER: &str = "Virtual PCD 00 01";
const GET_BALANCE: [u8; 5] = [0x80, 0x30, 0x00, 0x00, 0x00];
const SELECT_WALLET: [u8; 11] = [
    0x00, 0xA4, 0x04, 0x00, 0x06, 0xF0, 0x00, 0x00, 0x01, 0x04, 0x01,
];
const WARM_UP: usize = 200;
/// Round trips per card, unless given.
const DEFAULT_ROUND_TRIPS: usize = 20000;

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

/// Connects a card to vpcd's slot `slot` (its port is the first slot's plus `slot`).
fn connect_vpcd(slot: u16) -> Result<TcpStream> {
    let address = format!("localhost:{}", vpcd::DEFAULT_PORT + slot);
    let stream = TcpStream::connect(&address)
        .map_err(|e| format!("vpcd at {address}: {e} (scripts/pcsc-env.sh start)"))?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

fn card_present(reader: &str) -> Result<bool> {
    Ok(list_readers()?
        .iter()
        .any(|r| r.name == reader && r.card_present))
}

/// What the alternating client measured: every round trip's time, per card.
struct Latencies {
    echo: Vec<Duration>,
    sim: Vec<Duration>,
}

/// Connects to both cards, SELECTs the wallet, warms up, then alternates GET BALANCE
/// between the echo card and the simulated card `n` times, checking every answer.
fn alternate(n: usize) -> Result<Latencies> {
    for reader in [ECHO_READER, SIM_READER] {
        wait_for_card(
            &ReaderSelector::Name(reader.into()),
            Duration::from_secs(30),
        )?;
    }
    let mut echo = PcscChannel::connect(&ReaderSelector::Name(ECHO_READER.into()))?;
    let mut sim = PcscChannel::connect(&ReaderSelector::Name(SIM_READER.into()))?;
    sim.transmit(&SELECT_WALLET)?;
    let mut echoed = GET_BALANCE.to_vec();
    echoed.extend_from_slice(&[0x90, 0x00]);
    let balance = [0x00, 0x64, 0x90, 0x00];
    let mut latencies = Latencies {
        echo: Vec::with_capacity(n),
        sim: Vec::with_capacity(n),
    };
    for i in 0..WARM_UP + n {
        for (channel, expected, times) in [
            (&mut echo, &echoed[..], &mut latencies.echo),
            (&mut sim, &balance[..], &mut latencies.sim),
        ] {
            let start = Instant::now();
            let response = channel.transmit(&GET_BALANCE)?;
            let took = start.elapsed();
            if response != expected {
                return Err(
                    format!("{}: unexpected answer {response:02X?}", channel.name()).into(),
                );
            }
            if i >= WARM_UP {
                times.push(took);
            }
        }
    }
    Ok(latencies)
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
    let n = match std::env::args().nth(1) {
        Some(text) => text.parse()?,
        None => DEFAULT_ROUND_TRIPS,
    };
    for reader in [ECHO_READER, SIM_READER] {
        if card_present(reader)? {
            return Err(format!("a card is already in {reader:?}: stop the other card").into());
        }
    }

    // The echo card on a thread of its own; the simulated card (served by oxicard-sim's vpcd
    // front end, as in `oxicard sim`) on this one; the client alternates between them.
    let mut echo_stream = connect_vpcd(0)?;
    let echo_closer = echo_stream.try_clone()?;
    let echo_thread = std::thread::spawn(move || {
        if let Err(e) = echo_card(&mut echo_stream) {
            eprintln!("echo card: {e}");
        }
    });
    let mut sim_stream = connect_vpcd(1)?;
    let sim_closer = sim_stream.try_clone()?;
    let client = std::thread::spawn(move || {
        let result = alternate(n).map_err(|e| e.to_string());
        let _ = echo_closer.shutdown(Shutdown::Both);
        let _ = sim_closer.shutdown(Shutdown::Both);
        result
    });
    let mut card = wallet_card()?;
    if let Err(e) = vpcd::serve(&mut sim_stream, &mut card, &mut |_| {}) {
        eprintln!("oxicard sim: {e}");
    }
    let latencies = client.join().map_err(|_| "the client thread panicked")??;
    let _ = echo_thread.join();

    let rate =
        |times: &[Duration]| times.len() as f64 / times.iter().sum::<Duration>().as_secs_f64();
    let median_us = |times: &[Duration]| {
        let micros: Vec<f64> = times.iter().map(|t| t.as_secs_f64() * 1e6).collect();
        median(&micros)
    };
    let (echo_rate, sim_rate) = (rate(&latencies.echo), rate(&latencies.sim));

    // The same command in-process.
    let mut in_process = SimChannel::new(wallet_card()?);
    in_process.transmit(&SELECT_WALLET)?;
    let in_process_rate = measure(
        &mut in_process,
        &GET_BALANCE,
        &[0x00, 0x64, 0x90, 0x00],
        n * 20,
    )?;

    println!(
        "{n} round trips to each card through pcscd, alternating, of GET BALANCE (80 30 00 00 00):"
    );
    println!(
        "  native echo card on vpcd ({ECHO_READER}):    {echo_rate:>6.0} round trips/s, median {:>6.1} us",
        median_us(&latencies.echo)
    );
    println!(
        "  oxicard sim, golden wallet ({SIM_READER}): {sim_rate:>6.0} round trips/s, median {:>6.1} us",
        median_us(&latencies.sim)
    );
    println!(
        "  oxicard sim / echo card: {:.3} in round trips per second, {:.3} in median latency (goal: at least 0.80)",
        sim_rate / echo_rate,
        median_us(&latencies.echo) / median_us(&latencies.sim)
    );
    println!("in-process (SimChannel, no PC/SC): {in_process_rate:.0} GET BALANCE/s");
    Ok(())
}
