//! The applet firewall against the conformance applets in applets/conformance/firewall: a
//! server package sharing a Vault SIO (some of its methods leak references) and an attacker
//! package that tries 24 ways of reaching the server's data, plus a forged reference made
//! by patching the attacker's CAP. Both are built at test time (javac against the API
//! stubs, then oxicard-convert, the attacker against the server's export file).
//!
//! The oracle is the Java Card runtime environment specification, chapter 6: every attack
//! must end in SecurityException (the attacker maps it to 6982), the server's state must be
//! unchanged afterwards, and every legitimate way of sharing must keep working.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use oxicard_jcre::Card;
use oxicard_store::RamNvm;
use oxicard_vm::Vm;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

mod common;

const REPO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
const LIB_PACKAGE: &str = "F00000030401";
const SERVER_PACKAGE: &str = "F00000030201";
const SERVER_APPLET: &str = "F0000003020101";
const ATTACKER_PACKAGE: &str = "F00000030301";
const ATTACKER_APPLET: &str = "F0000003030101";
/// Number of attacks the attacker applet implements (INS 10, P1 = 1..=ATTACKS).
const ATTACKS: u8 = 24;
const NVM: usize = 256 * 1024;
const SW_SECURITY: u16 = 0x6982;

type TestCard = Card<RamNvm<NVM>>;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// javac of every source under `dir` into `classes`, against the API jar and `extra`.
fn javac(dir: &Path, classes: &Path, extra: &[&Path]) {
    let repo = Path::new(REPO);
    let jar = repo.join("build/api/oxicard-api.jar");
    if !jar.exists() {
        let ok = Command::new("bash")
            .arg(repo.join("scripts/build-api.sh"))
            .status()
            .expect("bash runs")
            .success();
        assert!(ok, "scripts/build-api.sh failed");
    }
    let mut cp = jar.display().to_string();
    for e in extra {
        cp = format!("{cp}:{}", e.display());
    }
    let sources: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "java"))
        .collect();
    std::fs::create_dir_all(classes).unwrap();
    let out = Command::new("javac")
        .args([
            "-nowarn",
            "-Xlint:-options",
            "-g",
            "-source",
            "7",
            "-target",
            "7",
        ])
        .args(["-encoding", "UTF-8", "-cp", &cp, "-d"])
        .arg(classes)
        .args(&sources)
        .output()
        .expect("javac runs");
    assert!(
        out.status.success(),
        "javac: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Compiles and converts package `name` (in applets/conformance/firewall/`folder`, Java
/// package org.oxicard.conformance.firewall.`name`) with applet `applet` (class, AID);
/// `imports`: (classes, export file) of the packages it uses. Returns its classes folder,
/// its export file and its load file.
fn build(
    tmp: &Path,
    folder: &str,
    name: &str,
    aid: &str,
    applet: Option<(&str, &str)>,
    imports: &[&(PathBuf, PathBuf, Vec<u8>)],
) -> (PathBuf, PathBuf, Vec<u8>) {
    let java_package = format!("org.oxicard.conformance.firewall.{name}");
    let src = Path::new(REPO)
        .join("applets/conformance/firewall")
        .join(folder)
        .join("src")
        .join(java_package.replace('.', "/"));
    let classes = tmp.join(name);
    let class_paths: Vec<&Path> = imports.iter().map(|i| i.0.as_path()).collect();
    javac(&src, &classes, &class_paths);
    let out = oxicard_convert::convert_package(&oxicard_convert::ConvertOptions {
        classdir: classes.clone(),
        export_paths: imports.iter().map(|i| i.1.clone()).collect(),
        applets: applet
            .map(|(class, aid)| oxicard_convert::AppletSpec {
                aid: hex(aid),
                class_name: format!("{java_package}.{class}"),
            })
            .into_iter()
            .collect(),
        package_name: java_package,
        package_aid: hex(aid),
        version: (1, 0),
        ..Default::default()
    })
    .unwrap_or_else(|e| panic!("{name} converts: {e:?}"));
    let exp = tmp.join(format!("{name}.exp"));
    std::fs::write(&exp, &out.export).unwrap();
    (classes, exp, out.load_file)
}

/// Load files of the library, the server and the attacker, built once per test binary.
fn load_files() -> &'static [Vec<u8>; 3] {
    static FILES: OnceLock<[Vec<u8>; 3]> = OnceLock::new();
    FILES.get_or_init(|| {
        let tmp = std::env::temp_dir().join(format!("oxicard-firewall-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&tmp);
        let lib = build(&tmp, "1-lib", "lib", LIB_PACKAGE, None, &[]);
        let server = build(
            &tmp,
            "2-server",
            "server",
            SERVER_PACKAGE,
            Some(("FirewallServer", SERVER_APPLET)),
            &[&lib],
        );
        let attacker = build(
            &tmp,
            "3-attacker",
            "attacker",
            ATTACKER_PACKAGE,
            Some(("FirewallAttacker", ATTACKER_APPLET)),
            &[&lib, &server],
        );
        let _ = std::fs::remove_dir_all(&tmp);
        [lib.2, server.2, attacker.2]
    })
}

fn send(card: &mut TestCard, apdu: &[u8]) -> (Vec<u8>, u16) {
    let mut resp = [0u8; 300];
    let n = card.transmit(apdu, &mut resp).unwrap();
    (
        resp[..n - 2].to_vec(),
        u16::from_be_bytes([resp[n - 2], resp[n - 1]]),
    )
}

fn select(card: &mut TestCard, aid: &str) {
    let aid = hex(aid);
    let mut apdu = vec![0x00, 0xA4, 0x04, 0x00, aid.len() as u8];
    apdu.extend_from_slice(&aid);
    assert_eq!(send(card, &apdu), (vec![], 0x9000), "SELECT");
}

fn cmd(card: &mut TestCard, ins: u8, p1: u8, data: &[u8]) -> (Vec<u8>, u16) {
    let mut apdu = vec![0x80, ins, p1, 0];
    if !data.is_empty() {
        apdu.push(data.len() as u8);
        apdu.extend_from_slice(data);
    }
    apdu.push(0);
    send(card, &apdu)
}

/// A card with both packages loaded (the attacker's load file as given), both applets
/// installed, the attacker selected.
fn card_with(attacker: &[u8]) -> Box<TestCard> {
    let [lib, server, _] = load_files();
    let mut card = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
    card.load_cap(lib).unwrap();
    card.load_cap(server).unwrap();
    card.load_cap(attacker).unwrap();
    let (s, a) = (hex(SERVER_APPLET), hex(ATTACKER_APPLET));
    card.install(&hex(SERVER_PACKAGE), &s, &s, &[]).unwrap();
    card.install(&hex(ATTACKER_PACKAGE), &a, &a, &[]).unwrap();
    select(&mut card, ATTACKER_APPLET);
    card
}

/// The server's own view of its data: secret | transient secret | hidden value | static
/// array | static object's value | "kept a buffer" flag.
const SERVER_STATE: &str = "53454352 54545454 1234 11223344 5678 00";

/// Replays applets/conformance/firewall/firewall.apdu (golden transcript syntax: `load`,
/// `install`, `> command`, `< expected response`, `#` comments) on a card with the given
/// attacker load file, checking the invariants after every exchange; returns the number of
/// exchanges whose expected status word is 6982 (denied).
fn replay_script(attacker: &[u8]) -> usize {
    let text =
        std::fs::read_to_string(Path::new(REPO).join("applets/conformance/firewall/firewall.apdu"))
            .unwrap();
    let [lib, server, _] = load_files();
    let mut card = Box::new(Card::new(RamNvm::<NVM>::new()).unwrap());
    let mut command: Option<(usize, Vec<u8>)> = None;
    let mut denied = 0;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap().trim();
        let words: Vec<&str> = line.split_whitespace().collect();
        match words.first() {
            None => {}
            Some(&"load") => {
                let lf = match words[1] {
                    LIB_PACKAGE => lib.as_slice(),
                    SERVER_PACKAGE => server.as_slice(),
                    ATTACKER_PACKAGE => attacker,
                    other => panic!("line {}: unknown package {other}", i + 1),
                };
                card.load_cap(lf).unwrap();
            }
            Some(&"install") => {
                let (pkg, applet) = (hex(words[1]), hex(words[2]));
                card.install(&pkg, &applet, &applet, &[]).unwrap();
            }
            Some(&">") => command = Some((i + 1, hex(&line[1..]))),
            Some(&"<") => {
                let (at, apdu) = command.take().expect("a response follows a command");
                let want = hex(&line[1..]);
                let got = {
                    let (mut data, sw) = send(&mut card, &apdu);
                    data.extend_from_slice(&sw.to_be_bytes());
                    data
                };
                assert_eq!(got, want, "line {at}: {raw}");
                if want.as_slice() == SW_SECURITY.to_be_bytes() {
                    denied += 1;
                }
                card.check_invariants().unwrap();
            }
            Some(other) => panic!("line {}: unknown directive {other}", i + 1),
        }
    }
    denied
}

#[test]
fn the_conformance_script_passes_every_attack_denied() {
    common::in_thread(|| {
        let denied = replay_script(&load_files()[2]);
        assert_eq!(denied, ATTACKS as usize, "attacks denied by the script");
    });
}

/// The bytecode of `FirewallAttacker.forge(short)`: aconst_null astore_1 aload_1 sconst_0
/// baload sreturn. The patch turns aconst_null into sload_0, so the array reference is
/// the short argument: a reference forged from a number, which no verifier-checked
/// Java source can produce.
const FORGE_CODE: [u8; 6] = [0x01, 0x2C, 0x19, 0x03, 0x25, 0x78];
const SLOAD_0: u8 = 0x1C;

fn forged_attacker() -> Vec<u8> {
    let mut lf = load_files()[2].clone();
    let at: Vec<usize> = lf
        .windows(FORGE_CODE.len())
        .enumerate()
        .filter(|(_, w)| *w == FORGE_CODE)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(at.len(), 1, "forge() bytecode found once in the load file");
    lf[at[0]] = SLOAD_0;
    lf
}

#[test]
fn forged_references_reach_no_other_context() {
    common::in_thread(|| {
        let mut card = card_with(&forged_attacker());
        let server_ctx = Vm::<RamNvm<NVM>>::package_context(1);
        let attacker_ctx = Vm::<RamNvm<NVM>>::package_context(2);
        let (mut denied, mut readable_own, mut other) = (0, 0, 0);
        for handle in 1u16..=600 {
            let (data, sw) = cmd(&mut card, 0x30, 0, &handle.to_be_bytes());
            let header = card.vm().header(handle).ok();
            let server_array =
                header.is_some_and(|h| h.owner == server_ctx && h.array_type().is_some());
            if server_array {
                assert_eq!(
                    sw, SW_SECURITY,
                    "server array {handle} read through a forged reference"
                );
            }
            match sw {
                SW_SECURITY => denied += 1,
                0x9000 => {
                    let h = header.expect("a readable handle is an object");
                    assert!(
                        h.owner == attacker_ctx || h.flags & oxicard_vm::heap::GLOBAL != 0,
                        "handle {handle} (owner {}) read: {data:02X?}",
                        h.owner
                    );
                    readable_own += 1;
                }
                _ => other += 1,
            }
        }
        // the server owns 5 arrays (secret, transient secret, the static array, ...): all denied
        assert!(denied >= 3, "denied {denied}");
        assert!(readable_own >= 1, "the attacker's own array is readable");
        assert!(other > 0);
        card.check_invariants().unwrap();
        select(&mut card, SERVER_APPLET);
        assert_eq!(cmd(&mut card, 0x10, 0, &[]), (hex(SERVER_STATE), 0x9000));
    });
}

/// `JCSystem.requestObjectDeletion`: garbage is reclaimed when the command that requested
/// deletion ends; without the request it stays.
#[test]
fn request_object_deletion_reclaims_garbage() {
    common::in_thread(|| {
        let mut card = card_with(&load_files()[2]);
        // the first collection also packs what installation left behind
        let installed = card.available_persistent();
        assert_eq!(cmd(&mut card, 0x40, 0, &[]), (vec![], 0x9000));
        let start = card.available_persistent();
        assert!(start >= installed);
        for _ in 0..10 {
            assert_eq!(cmd(&mut card, 0x41, 0, &[]), (vec![], 0x9000));
            assert_eq!(cmd(&mut card, 0x41, 0, &[]), (vec![], 0x9000));
            let littered = card.available_persistent();
            assert!(littered + 2 * 110 <= start, "two 100-byte arrays stay");
            assert_eq!(cmd(&mut card, 0x40, 0, &[]), (vec![], 0x9000));
            assert_eq!(card.available_persistent(), start, "all garbage reclaimed");
            card.check_invariants().unwrap();
        }
        // the applet's live objects survived the collections
        assert_eq!(cmd(&mut card, 0x20, 7, &[]), (hex("4102"), 0x9000));
        assert_eq!(cmd(&mut card, 0x20, 0, &[]), (hex("1234"), 0x9000));
        assert_eq!(cmd(&mut card, 0x10, 1, &[]), (vec![], SW_SECURITY));
        select(&mut card, SERVER_APPLET);
        assert_eq!(cmd(&mut card, 0x10, 0, &[]), (hex(SERVER_STATE), 0x9000));
    });
}

/// GlobalPlatform DELETE of an applet instance is refused (6985) and changes nothing while
/// another context or another package's static field references its objects: first both
/// (the attacker keeps the server's SIO; the library's statics hold the server's array,
/// object and exception), then, once the attacker (whose objects nobody else reaches) is
/// deleted and its space has come back, the library's statics alone.
#[test]
fn deleting_an_applet_still_referenced_elsewhere_is_refused() {
    common::in_thread(|| {
        let mut card = card_with(&load_files()[2]);
        // SHARE 4 keeps the server's SIO (the server applet object) in an attacker field
        assert_eq!(cmd(&mut card, 0x20, 4, &[]), (hex("1234"), 0x9000));
        let isd = "00A4040008A000000151000000";
        assert_eq!(send(&mut card, &hex(isd)).1, 0x9000);
        let free = card.available_persistent();
        let delete_server = hex("80E40000094F07F0000003020101");
        assert_eq!(send(&mut card, &delete_server), (vec![], 0x6985));
        assert_eq!(card.available_persistent(), free);
        assert_eq!(card.applet_instances().count(), 2);
        card.check_invariants().unwrap();
        let delete_attacker = hex("80E40000094F07F0000003030101");
        assert_eq!(send(&mut card, &delete_attacker), (vec![0x00], 0x9000));
        assert_eq!(card.applet_instances().count(), 1);
        assert!(
            card.available_persistent() > free,
            "the attacker's objects are reclaimed"
        );
        // the library's static fields still reference the server's objects
        let free = card.available_persistent();
        assert_eq!(send(&mut card, &delete_server), (vec![], 0x6985));
        assert_eq!(card.available_persistent(), free);
        assert_eq!(card.applet_instances().count(), 1);
        card.check_invariants().unwrap();
        select(&mut card, SERVER_APPLET);
        assert_eq!(cmd(&mut card, 0x10, 0, &[]), (hex(SERVER_STATE), 0x9000));
    });
}
