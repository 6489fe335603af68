//! The golden applets run on the JVM, as an oracle for our VM and as the HotSpot side of the
//! benchmark.
//!
//! `tests/java/GoldenOracle.java` loads the golden class files (javac's output, not our CAP
//! files) and passes command APDUs to the applets' `process()`. It is compiled here with `javac`
//! against the API stub jar (`scripts/build-api.sh`), with the shadow API classes of
//! `tests/java/shadow` (which give `Util`, `APDU`, `JCSystem` and the exceptions their specified
//! behaviour) ahead of the stubs, into a temporary directory; then one `java` process serves all
//! requests over a pipe, because starting a JVM takes far longer than a request.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::Duration;

use anyhow::{anyhow, bail, Context, Result};

use crate::golden_card::{golden_dir, parse_hex, to_hex, GoldenApplet};

/// Golden folders whose `classes` go on the class path.
const CLASS_FOLDERS: [&str; 4] = ["bytecodes", "lib", "ints", "hello"];

/// The repository root.
fn repo_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Builds the API stub jar with `scripts/build-api.sh` (a no-op when it is current) and
/// returns its path.
pub fn stub_jar() -> Result<PathBuf> {
    let script = repo_dir().join("scripts/build-api.sh");
    let output = Command::new("bash")
        .arg(&script)
        .output()
        .with_context(|| format!("running {}", script.display()))?;
    if !output.status.success() {
        bail!(
            "{} failed:\n{}{}",
            script.display(),
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(repo_dir().join("build/api/oxicard-api.jar"))
}

/// Timing of one command repeated on the JVM.
#[derive(Clone, Debug)]
pub struct JvmTiming {
    /// Mean wall-clock nanoseconds per `process()` call (after warm-up).
    pub ns_per_call: f64,
    /// Timed calls.
    pub calls: u64,
    /// The response (data and SW) of the command.
    pub response: Vec<u8>,
}

/// A running `GoldenOracle` JVM.
pub struct JvmOracle {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
}

impl JvmOracle {
    /// Compiles the harness and starts `java` with `jvm_flags` (e.g. `-Xint`).
    pub fn start(jvm_flags: &[&str]) -> Result<Self> {
        let mut class_path = vec![stub_jar()?];
        class_path.extend(
            CLASS_FOLDERS
                .iter()
                .map(|f| golden_dir().join(f).join("classes")),
        );
        let classes = std::env::temp_dir().join(format!(
            "oxicard-jvm-oracle-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let started = compile_harness(&classes, &class_path).and_then(|()| {
            class_path.insert(0, classes.clone());
            Self::spawn(jvm_flags, &class_path)
        });
        // the harness has loaded every class of `classes` when it is READY
        let _ = std::fs::remove_dir_all(&classes);
        started
    }

    /// Starts the compiled harness and waits for its READY.
    fn spawn(jvm_flags: &[&str], class_path: &[PathBuf]) -> Result<Self> {
        let mut child = Command::new("java")
            .args(jvm_flags)
            .arg("-cp")
            .arg(join_paths(class_path)?)
            .arg("GoldenOracle")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting java")?;
        let stdin = child.stdin.take().ok_or_else(|| anyhow!("no stdin"))?;
        let stdout = BufReader::new(child.stdout.take().ok_or_else(|| anyhow!("no stdout"))?);
        let mut oracle = JvmOracle {
            child,
            stdin: Some(stdin),
            stdout,
        };
        if oracle.read_answer("start")? != "READY" {
            bail!("the JVM oracle did not start");
        }
        Ok(oracle)
    }

    /// Sends one request line and returns the answer line; an `ERR` answer is an error.
    fn request(&mut self, line: &str) -> Result<String> {
        let stdin = self
            .stdin
            .as_mut()
            .ok_or_else(|| anyhow!("oracle closed"))?;
        writeln!(stdin, "{line}").context("writing to the JVM oracle")?;
        stdin.flush().context("writing to the JVM oracle")?;
        self.read_answer(line)
    }

    /// Reads one answer line (to `request`); an `ERR` answer is an error.
    fn read_answer(&mut self, request: &str) -> Result<String> {
        let mut answer = String::new();
        if self.stdout.read_line(&mut answer)? == 0 {
            bail!("the JVM oracle exited (request {request:?})");
        }
        let answer = answer.trim_end().to_string();
        if let Some(message) = answer.strip_prefix("ERR") {
            bail!("JVM oracle: {} (request {request:?})", message.trim());
        }
        Ok(answer)
    }

    /// Creates an instance of `applet` named `name` (its constructor runs, as in install()).
    pub fn new_applet(&mut self, name: &str, applet: &GoldenApplet) -> Result<()> {
        self.request(&format!("new {name} {}", applet.class))?;
        Ok(())
    }

    /// Passes `command` to the `process()` of instance `name`; returns data and status word
    /// (an uncaught ISOException gives its reason, any other throwable 6F00).
    pub fn exchange(&mut self, name: &str, command: &[u8]) -> Result<Vec<u8>> {
        let answer = self.request(&format!("apdu {name} {}", to_hex(command)))?;
        parse_hex(&answer)
    }

    /// Times `command` on instance `name`: `warmup` first, then at least `min_time`.
    pub fn bench(
        &mut self,
        name: &str,
        command: &[u8],
        warmup: Duration,
        min_time: Duration,
    ) -> Result<JvmTiming> {
        let answer = self.request(&format!(
            "bench {name} {} {} {}",
            to_hex(command),
            warmup.as_millis(),
            min_time.as_millis().max(1)
        ))?;
        let mut words = answer.split_whitespace();
        let mut next = || {
            words
                .next()
                .ok_or_else(|| anyhow!("short answer {answer:?}"))
        };
        Ok(JvmTiming {
            ns_per_call: next()?.parse().context("ns per call")?,
            calls: next()?.parse().context("calls")?,
            response: parse_hex(next()?)?,
        })
    }
}

impl Drop for JvmOracle {
    fn drop(&mut self) {
        // end of input makes the harness exit; kill it if it does not within 5 s
        drop(self.stdin.take());
        let exited = (0..500).any(|_| {
            let done = !matches!(self.child.try_wait(), Ok(None));
            if !done {
                std::thread::sleep(Duration::from_millis(10));
            }
            done
        });
        if !exited {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Compiles `tests/java/GoldenOracle.java` and the shadow API classes into `out`, against
/// `class_path` (stub jar and golden class folders).
fn compile_harness(out: &Path, class_path: &[PathBuf]) -> Result<()> {
    let _ = std::fs::remove_dir_all(out);
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let java_dir = repo_dir().join("tests/java");
    let mut sources = vec![java_dir.join("GoldenOracle.java")];
    let shadow = java_dir.join("shadow/javacard/framework");
    for entry in
        std::fs::read_dir(&shadow).with_context(|| format!("listing {}", shadow.display()))?
    {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "java") {
            sources.push(path);
        }
    }
    let output = Command::new("javac")
        .args(["-nowarn", "-encoding", "UTF-8", "-d"])
        .arg(out)
        .arg("-cp")
        .arg(join_paths(class_path)?)
        .args(&sources)
        .output()
        .context("running javac (is a JDK installed?)")?;
    if !output.status.success() {
        bail!(
            "javac GoldenOracle failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// Joins class path entries with the platform separator.
fn join_paths(paths: &[PathBuf]) -> Result<std::ffi::OsString> {
    std::env::join_paths(paths).map_err(|e| anyhow!("class path: {e}"))
}

/// The first line of `java -version` (e.g. `openjdk version "17.0.15" 2025-04-15`), or `None`
/// if `java` or `javac` cannot be run.
pub fn java_version() -> Option<String> {
    let javac = Command::new("javac")
        .arg("-version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .ok()?;
    if !javac.success() {
        return None;
    }
    let output = Command::new("java").arg("-version").output().ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8_lossy(&output.stderr);
    text.lines().next().map(|l| l.trim().to_string())
}
