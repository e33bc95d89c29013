//! The HTML report as a person sees it: rendered by a real headless Chromium, driven over the
//! DevTools protocol on a pipe (`--remote-debugging-pipe`; no port is opened). The test
//! takes a screenshot and asserts the page is not blank (pixel variance) and that every chart
//! the report model counts is a rendered `<svg>` with a non-zero size; on the hostile fixture
//! it also asserts that no script element exists. `UPDATE_SCREENSHOT=1` copies the screenshot
//! to docs/report-overview.png, which the README shows.
//!
//! Chromium is required, not optional: `.ci/run` installs it; without it this test fails and
//! says how to install it.

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::util::{TempDir, mt};

fn chromium() -> PathBuf {
    for name in [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ] {
        for dir in std::env::var("PATH").unwrap_or_default().split(':') {
            let p = Path::new(dir).join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "Chromium is not installed; install it (Debian: `apt-get install chromium fonts-dejavu-core`) — .ci/run does"
    );
}

/// A browser on a DevTools pipe, killed when dropped (also when a test fails).
struct Browser {
    child: Child,
    input: ChildStdin,
    messages: Receiver<Value>,
    next: u64,
    _profile: TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Browser {
    fn start() -> Browser {
        let profile = TempDir::new("chromium-profile");
        // fds 3 and 4 carry the protocol: the shell points them at our stdin and stdout pipes.
        let mut child = Command::new("sh")
            .arg("-c")
            .arg("exec \"$0\" \"$@\" 3<&0 4>&1 0</dev/null 1>/dev/null")
            .arg(chromium())
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--hide-scrollbars",
                "--remote-debugging-pipe",
            ])
            .arg(format!("--user-data-dir={}", profile.0.display()))
            .arg("about:blank")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("Chromium starts");
        let input = child.stdin.take().unwrap();
        let out = child.stdout.take().unwrap();
        let (tx, rx) = channel();
        std::thread::spawn(move || {
            let mut r = BufReader::new(out);
            let mut buf = Vec::new();
            while let Ok(n) = r.read_until(0, &mut buf) {
                if n == 0 {
                    break;
                }
                buf.pop();
                if let Ok(v) = serde_json::from_slice::<Value>(&buf)
                    && tx.send(v).is_err()
                {
                    break;
                }
                buf.clear();
            }
        });
        Browser {
            child,
            input,
            messages: rx,
            next: 1,
            _profile: profile,
        }
    }

    /// Sends a command (to a page session when `session` is given) and waits for its result.
    fn call(&mut self, session: Option<&str>, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        let mut msg = json!({"id": id, "method": method, "params": params});
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        let mut bytes = serde_json::to_vec(&msg).unwrap();
        bytes.push(0);
        self.input.write_all(&bytes).unwrap();
        self.input.flush().unwrap();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let m = self
                .messages
                .recv_timeout(left)
                .unwrap_or_else(|_| panic!("Chromium did not answer {method} within 60 s"));
            if m["id"] == json!(id) {
                assert!(m.get("error").is_none(), "{method}: {m}");
                return m["result"].clone();
            }
        }
    }

    /// Opens `file` in a new page of the given width; returns its session.
    fn open(&mut self, file: &Path, width: u32) -> String {
        let url = format!("file://{}", file.display());
        let t = self.call(None, "Target.createTarget", json!({"url": "about:blank"}));
        let target = t["targetId"].as_str().unwrap().to_string();
        let a = self.call(
            None,
            "Target.attachToTarget",
            json!({"targetId": target, "flatten": true}),
        );
        let s = a["sessionId"].as_str().unwrap().to_string();
        self.call(
            Some(&s),
            "Emulation.setDeviceMetricsOverride",
            json!({"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": false}),
        );
        self.call(Some(&s), "Page.navigate", json!({"url": url}));
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let r = self.eval(
                &s,
                "document.readyState === 'complete' && document.location.href",
            );
            if r.as_str() == Some(url.as_str()) {
                return s;
            }
            assert!(Instant::now() < deadline, "the page did not load: {r}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn eval(&mut self, session: &str, expr: &str) -> Value {
        let r = self.call(
            Some(session),
            "Runtime.evaluate",
            json!({"expression": expr, "returnByValue": true}),
        );
        r["result"]["value"].clone()
    }

    /// A PNG of the page from the top, at most `height` pixels high.
    fn screenshot(&mut self, session: &str, width: u32, height: f64) -> Vec<u8> {
        let r = self.call(
            Some(session),
            "Page.captureScreenshot",
            json!({"format": "png", "captureBeyondViewport": true,
                   "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}}),
        );
        base64_decode(r["data"].as_str().unwrap())
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => (c - b'A') as u32,
            b'a'..=b'z' => (c - b'a') as u32 + 26,
            b'0'..=b'9' => (c - b'0') as u32 + 52,
            b'+' => 62,
            b'/' => 63,
            _ => panic!("not base64: {c}"),
        }
    };
    let bytes: Vec<u8> = s
        .bytes()
        .filter(|&c| c != b'=' && !c.is_ascii_whitespace())
        .collect();
    let mut out = Vec::with_capacity(bytes.len() * 3 / 4);
    for chunk in bytes.chunks(4) {
        let mut n = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            n |= val(c) << (18 - 6 * i);
        }
        let k = chunk.len() - 1;
        for i in 0..k {
            out.push((n >> (16 - 8 * i)) as u8);
        }
    }
    out
}

/// Mean and variance of the pixels' luminance, and the share that is not white.
fn pixel_stats(png_bytes: &[u8]) -> (f64, f64, f64, u32, u32) {
    let decoder = png::Decoder::new(std::io::Cursor::new(png_bytes));
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let px = &buf[..info.buffer_size()];
    let mut n = 0f64;
    let (mut sum, mut sq, mut ink) = (0f64, 0f64, 0f64);
    for p in px.chunks(channels) {
        let l = if channels >= 3 {
            0.2126 * p[0] as f64 + 0.7152 * p[1] as f64 + 0.0722 * p[2] as f64
        } else {
            p[0] as f64
        };
        n += 1.0;
        sum += l;
        sq += l * l;
        if l < 240.0 {
            ink += 1.0;
        }
    }
    let mean = sum / n;
    (mean, sq / n - mean * mean, ink / n, info.width, info.height)
}

const MEASURE: &str = "JSON.stringify({svgs: [...document.querySelectorAll('svg')].map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; }), scripts: document.scripts.length, height: document.documentElement.scrollHeight})";

#[test]
fn the_html_report_renders_in_chromium_with_every_chart() {
    let tmp = TempDir::new("browser");
    let out = tmp.0.join("r");
    mt(&[
        "report",
        "trees/handoff.yaml",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "html,json",
    ])
    .ok();
    let hostile = crate::report::hostile_report(&tmp.0, "html,json");

    let mut b = Browser::start();
    let width = 1000;
    let mut pages = vec![
        (out.join("overview.html"), out.join("overview.json")),
        (
            out.join("owner-support_ops.html"),
            out.join("owner-support_ops.json"),
        ),
        (hostile.join("overview.html"), hostile.join("overview.json")),
        (
            hostile.join("owner-ops.html"),
            hostile.join("owner-ops.json"),
        ),
    ];
    for (html, model) in pages.drain(..) {
        let model: Value = serde_json::from_slice(&std::fs::read(&model).unwrap()).unwrap();
        let s = b.open(&html, width);
        let m: Value = serde_json::from_str(b.eval(&s, MEASURE).as_str().unwrap()).unwrap();
        let svgs = m["svgs"].as_array().unwrap();
        let drawn = svgs
            .iter()
            .filter(|wh| wh[0].as_f64().unwrap() > 0.0 && wh[1].as_f64().unwrap() > 0.0)
            .count();
        assert_eq!(
            drawn as u64,
            model["chart_count"].as_u64().unwrap(),
            "{}: {m}",
            html.display()
        );
        assert_eq!(
            svgs.len(),
            drawn,
            "{}: an <svg> has no size: {m}",
            html.display()
        );
        assert_eq!(
            m["scripts"],
            0,
            "{}: a script element exists",
            html.display()
        );

        let height = m["height"].as_f64().unwrap().min(4000.0);
        let shot = b.screenshot(&s, width, height);
        let (mean, var, ink, w, h) = pixel_stats(&shot);
        assert_eq!(w, width);
        assert!(h as f64 >= height.min(900.0) - 1.0, "{h}");
        assert!(
            var > 200.0,
            "{}: the page looks blank (variance {var:.1}, mean {mean:.1})",
            html.display()
        );
        assert!(
            ink > 0.02 && ink < 0.6,
            "{}: {ink:.3} of the pixels are not white",
            html.display()
        );
        let name = html
            .file_name()
            .unwrap()
            .to_string_lossy()
            .replace(".html", ".png");
        let saved = tmp.0.join(format!(
            "{}-{name}",
            if html.starts_with(&hostile) {
                "hostile"
            } else {
                "example"
            }
        ));
        std::fs::write(&saved, &shot).unwrap();
        if html == out.join("overview.html") && std::env::var_os("UPDATE_SCREENSHOT").is_some() {
            std::fs::copy(&saved, crate::util::root().join("docs/report-overview.png")).unwrap();
        }
    }
    b.call(None, "Browser.close", json!({}));
}
