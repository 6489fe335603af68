//! Differential test: random straight-line arithmetic on shorts and bytes, compiled once with
//! javac, converted, and run on our card (`oxicard_jcre::Card`) and on the JVM (the same
//! class, the JDK's own java.lang, one JVM process for every case): identical results. The
//! methods come from a fixed seed and the inputs from proptest's deterministic runner, so a
//! failure reproduces.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use common::Rng;
use oxicard_convert::{convert_package, AppletSpec, ConvertOptions};
use oxicard_jcre::Card;
use oxicard_store::RamNvm;
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;

/// Number of generated methods.
const METHODS: usize = 64;
/// Inputs run per method.
const INPUTS_PER_METHOD: usize = 8;

/// An operand: a variable defined so far or a small constant.
fn operand(rng: &mut Rng, vars: &[String]) -> String {
    if rng.below(4) == 0 {
        format!("{}", rng.below(256) as i32 - 128)
    } else {
        vars[rng.below(vars.len())].clone()
    }
}

/// One method `static short fK(short a, short b)`: a few statements, each narrowing its
/// value to short or byte. Inner operations are the ones whose low 16 bits do not depend on
/// the upper bits of their int operands (+ - * & | ^ <<); division, remainder and right
/// shifts take variables (exact 16-bit values) directly, the divisor forced odd.
fn method(rng: &mut Rng, k: usize) -> String {
    let mut vars = vec!["a".to_string(), "b".to_string()];
    let mut body = String::new();
    for s in 0..2 + rng.below(5) {
        let x = operand(rng, &vars);
        let y = operand(rng, &vars);
        let expr = match rng.below(12) {
            0 => format!("{x} + {y}"),
            1 => format!("{x} - {y}"),
            2 => format!("{x} * {y}"),
            3 => format!("{x} & {y}"),
            4 => format!("{x} | {y}"),
            5 => format!("{x} ^ {y}"),
            6 => format!("{x} << ({y} & 15)"),
            7 => format!("{x} >> ({y} & 15)"),
            8 => format!("{x} >>> ({y} & 15)"),
            9 => format!("{x} / ({y} | 1)"),
            10 => format!("{x} % ({y} | 1)"),
            _ => {
                let z = operand(rng, &vars);
                format!("({x} * {y}) + {z}")
            }
        };
        let (ty, name) = if rng.below(3) == 0 {
            ("byte", format!("v{s}"))
        } else {
            ("short", format!("v{s}"))
        };
        writeln!(body, "        {ty} {name} = ({ty}) ({expr});").unwrap();
        vars.push(name);
    }
    let last = vars.last().unwrap();
    format!("    static short f{k}(short a, short b) {{\n{body}        return {last};\n    }}\n")
}

fn sources(dir: &std::path::Path) -> (PathBuf, PathBuf, PathBuf) {
    let mut rng = Rng(0xD1FF_5EED_0000_0001);
    let package = dir.join("src/diff");
    std::fs::create_dir_all(&package).unwrap();
    let mut ops = String::from("package diff;\n\npublic class Ops {\n");
    let mut dispatch = String::new();
    for k in 0..METHODS {
        ops.push_str(&method(&mut rng, k));
        writeln!(dispatch, "            case {k}: return f{k}(a, b);").unwrap();
    }
    write!(
        ops,
        "    public static short call(short k, short a, short b) {{\n        switch (k) {{\n{dispatch}            default: return 0;\n        }}\n    }}\n}}\n"
    )
    .unwrap();
    let applet = "package diff;\n\nimport javacard.framework.*;\n\n\
public class DiffApplet extends Applet {\n\
    public static void install(byte[] b, short o, byte l) { new DiffApplet().register(); }\n\
    public void process(APDU apdu) {\n\
        if (selectingApplet()) return;\n\
        byte[] buf = apdu.getBuffer();\n\
        apdu.setIncomingAndReceive();\n\
        short a = Util.getShort(buf, (short) 5);\n\
        short b = Util.getShort(buf, (short) 7);\n\
        Util.setShort(buf, (short) 0, Ops.call((short) buf[ISO7816.OFFSET_P1], a, b));\n\
        apdu.setOutgoingAndSend((short) 0, (short) 2);\n\
    }\n}\n";
    let main = "public class Main {\n\
    public static void main(String[] args) throws Exception {\n\
        java.io.BufferedReader in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in));\n\
        StringBuilder out = new StringBuilder();\n\
        for (String line; (line = in.readLine()) != null; ) {\n\
            String[] w = line.trim().split(\" \");\n\
            out.append(diff.Ops.call(Short.parseShort(w[0]), Short.parseShort(w[1]), Short.parseShort(w[2]))).append('\\n');\n\
        }\n\
        System.out.print(out);\n\
    }\n}\n";
    let (ops_path, applet_path, main_path) = (
        package.join("Ops.java"),
        package.join("DiffApplet.java"),
        dir.join("src/Main.java"),
    );
    std::fs::write(&ops_path, ops).unwrap();
    std::fs::write(&applet_path, applet).unwrap();
    std::fs::write(&main_path, main).unwrap();
    (ops_path, applet_path, main_path)
}

#[test]
fn random_short_and_byte_arithmetic_matches_the_jvm() {
    let dir = common::temp_dir("differential");
    let (ops, applet, main) = sources(&dir);
    // the card side: the package against the API stub sources
    let stubs = concat!(env!("CARGO_MANIFEST_DIR"), "/../../applets/api/src");
    let card_classes = dir.join("card");
    std::fs::create_dir_all(&card_classes).unwrap();
    common::javac(
        &[ops.clone(), applet],
        &card_classes,
        &["-source", "7", "-target", "7", "-sourcepath", stubs],
    );
    // the JVM side: Ops and Main on the JDK's java.lang
    let jvm_classes = dir.join("jvm");
    std::fs::create_dir_all(&jvm_classes).unwrap();
    common::javac(&[ops, main], &jvm_classes, &[]);

    let converted = convert_package(&ConvertOptions {
        classdir: card_classes,
        applets: vec![AppletSpec {
            aid: vec![0xF0, 0, 0, 0, 0x77, 1, 1],
            class_name: "diff.DiffApplet".into(),
        }],
        package_name: "diff".into(),
        package_aid: vec![0xF0, 0, 0, 0, 0x77, 1],
        version: (1, 0),
        ..ConvertOptions::default()
    })
    .unwrap_or_else(|e| panic!("{e}"));

    let mut runner = TestRunner::deterministic();
    let inputs: Vec<(usize, i16, i16)> = (0..METHODS)
        .flat_map(|k| {
            let tree = proptest::collection::vec(
                (proptest::num::i16::ANY, proptest::num::i16::ANY),
                INPUTS_PER_METHOD,
            )
            .new_tree(&mut runner)
            .unwrap();
            let mut pairs = tree.current();
            // the edges too
            pairs[0] = (i16::MIN, -1);
            pairs[1] = (i16::MAX, i16::MAX);
            pairs.into_iter().map(move |(a, b)| (k, a, b))
        })
        .collect();

    // the JVM, one process for every case
    let mut jvm = Command::new("java")
        .args(["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp"])
        .arg(&jvm_classes)
        .arg("Main")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("java runs");
    let mut stdin_text = String::new();
    for (k, a, b) in &inputs {
        writeln!(stdin_text, "{k} {a} {b}").unwrap();
    }
    jvm.stdin
        .take()
        .unwrap()
        .write_all(stdin_text.as_bytes())
        .unwrap();
    let output = jvm.wait_with_output().unwrap();
    assert!(output.status.success());
    let expected: Vec<i16> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    assert_eq!(expected.len(), inputs.len());

    // our card, in a thread with room for the RAM image
    let load_file = converted.load_file.clone();
    let cases = inputs.clone();
    let got: Vec<Result<i16, String>> = std::thread::Builder::new()
        .stack_size(64 << 20)
        .spawn(move || {
            let mut card = Card::new(RamNvm::<{ 128 * 1024 }>::new()).unwrap();
            card.load_cap(&load_file).unwrap();
            let package = [0xF0, 0, 0, 0, 0x77, 1];
            let applet = [0xF0, 0, 0, 0, 0x77, 1, 1];
            card.install(&package, &applet, &applet, &[]).unwrap();
            let mut resp = [0u8; 64];
            let select = [0x00, 0xA4, 0x04, 0x00, 7, 0xF0, 0, 0, 0, 0x77, 1, 1];
            assert_eq!(card.transmit(&select, &mut resp).unwrap(), 2);
            cases
                .iter()
                .map(|&(k, a, b)| {
                    let [a0, a1] = a.to_be_bytes();
                    let [b0, b1] = b.to_be_bytes();
                    let command = [0x80, 0x10, k as u8, 0, 4, a0, a1, b0, b1, 2];
                    match card.transmit(&command, &mut resp) {
                        Ok(4) if resp[2..4] == [0x90, 0] => {
                            Ok(i16::from_be_bytes([resp[0], resp[1]]))
                        }
                        Ok(n) => Err(format!("response {:02X?}", &resp[..n])),
                        Err(e) => Err(format!("{e:?}")),
                    }
                })
                .collect()
        })
        .unwrap()
        .join()
        .unwrap();

    let source = std::fs::read_to_string(dir.join("src/diff/Ops.java")).unwrap();
    let mut failures = Vec::new();
    for (((k, a, b), jvm), card) in inputs.iter().zip(&expected).zip(&got) {
        if card.as_ref() != Ok(jvm) {
            failures.push(format!("f{k}({a}, {b}): JVM {jvm}, card {card:?}"));
        }
    }
    if !failures.is_empty() {
        let first = failures.len().min(20);
        panic!(
            "{} of {} cases differ:\n{}\nsource:\n{source}",
            failures.len(),
            inputs.len(),
            failures[..first].join("\n")
        );
    }
    // a card that answered 0 (or one value) everywhere would not be a check
    let distinct: std::collections::BTreeSet<i16> = expected.iter().copied().collect();
    assert!(
        distinct.len() > inputs.len() / 4,
        "{} distinct results",
        distinct.len()
    );
    eprintln!(
        "{} cases over {METHODS} methods: card and JVM agree ({} distinct results)",
        inputs.len(),
        distinct.len()
    );
    let _ = std::fs::remove_dir_all(&dir);
}
