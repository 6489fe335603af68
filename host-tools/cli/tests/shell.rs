//! `oxicard shell` driven through a real terminal: tmux runs it on the in-process card with
//! the golden hello applet installed; the test types with Tab completion, presses Enter and
//! reads the answers from the pane: the SELECT's status word explained, the golden HELLO
//! answer ("Hello", 9000), a response decoded as BER-TLV, and the history file written at
//! `quit`. tmux is required (scripts/setup.sh installs it); without it the test fails.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const GOLDEN: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/golden");
const LIMIT: Duration = Duration::from_secs(30);

/// A tmux server of the test's own (its own socket), killed when the test ends.
struct Tmux {
    socket: String,
    home: PathBuf,
}

impl Tmux {
    fn tmux(&self, args: &[&str]) -> String {
        let output = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs (scripts/setup.sh installs it)");
        assert!(
            output.status.success(),
            "tmux {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }

    fn pane(&self) -> String {
        self.tmux(&["capture-pane", "-p", "-J", "-t", "shell", "-S", "-200"])
    }

    fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "shell"];
        args.extend_from_slice(keys);
        self.tmux(&args);
    }

    /// Waits until the pane shows `text` `count` times; fails with the pane after [`LIMIT`].
    fn wait_for(&self, text: &str, count: usize) -> String {
        let deadline = Instant::now() + LIMIT;
        loop {
            let pane = self.pane();
            if pane.matches(text).count() >= count {
                return pane;
            }
            assert!(
                Instant::now() < deadline,
                "the pane did not show {text:?} ({count} times) within {LIMIT:?}:\n{pane}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn quote(path: &Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', r"'\''"))
}

#[test]
fn the_shell_selects_with_tab_completion_and_explains_the_answers() {
    let id = std::process::id();
    let home = std::env::temp_dir().join(format!("oxicard-shell-home-{id}"));
    std::fs::create_dir_all(&home).unwrap();
    let tmux = Tmux {
        socket: format!("oxicard-shell-test-{id}"),
        home: home.clone(),
    };
    let command = format!(
        "HOME={} NO_COLOR=1 {} shell --sim --cap {} --install F00000010100:F00000010101; \
         echo \"[exited $?]\"; sleep 60",
        quote(&home),
        quote(Path::new(env!("CARGO_BIN_EXE_oxicard"))),
        quote(&Path::new(GOLDEN).join("hello/hello.cap")),
    );
    tmux.tmux(&[
        "new-session",
        "-d",
        "-s",
        "shell",
        "-x",
        "160",
        "-y",
        "50",
        "sh",
        "-c",
        &command,
    ]);
    tmux.wait_for("oxicard> ", 1);

    // "sel" Tab completes the command, "F" Tab the only applet AID.
    tmux.keys(&["sel", "Tab"]);
    tmux.wait_for("oxicard> select ", 1);
    tmux.keys(&["F", "Tab"]);
    tmux.wait_for("oxicard> select F00000010101", 1);
    tmux.keys(&["Enter"]);
    let pane = tmux.wait_for("< 9000  OK", 1);
    assert!(
        pane.contains("> 00 A4 04 00 06 F0 00 00 01 01 01 00"),
        "the SELECT sent:\n{pane}"
    );

    // The golden HELLO answer, shown as text.
    tmux.keys(&["80 02 00 00 00", "Enter"]);
    tmux.wait_for("< 48 65 6C 6C 6F  \"Hello\"", 1);

    // ECHO of an FCI-like template comes back decoded as BER-TLV.
    tmux.keys(&["80 01 00 00 07 6F 05 84 03 F0 00 01 00", "Enter"]);
    let pane = tmux.wait_for("      84: F0 00 01", 1);
    assert!(pane.contains("  BER-TLV:\n    6F (5 bytes)\n"), "{pane}");

    // A status word other than 9000 is explained.
    tmux.keys(&["80 03 6A 82", "Enter"]);
    tmux.wait_for("< 6A82  file or application not found", 1);

    tmux.keys(&["quit", "Enter"]);
    tmux.wait_for("[exited 0]", 1);
    let history = std::fs::read_to_string(home.join(".oxicard_history")).unwrap();
    assert!(history.contains("select F00000010101"), "{history}");
    assert!(history.contains("80 03 6A 82"), "{history}");
}
