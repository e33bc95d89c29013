//! A real PostgreSQL for the tests that need one: a fresh database on the server named by
//! `METRICTREE_TEST_PG_URL` (what `.ci/run` starts), or else a throwaway server this test
//! starts itself (`initdb` into a temporary directory, `pg_ctl start` on a free loopback
//! port, stopped on drop). When neither is possible the test fails and says why: it never
//! passes without a server.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::util::TempDir;

/// The superuser password of servers started here (the tests check it is never printed).
pub const PASSWORD: &str = "s3cret-Pa55word";

pub struct Pg {
    /// Connection string of this test's own database.
    pub url: String,
    /// Connection string of the maintenance database (to drop ours at the end).
    admin: String,
    pub db: String,
    server: Option<Server>,
}

struct Server {
    bin: PathBuf,
    data: PathBuf,
    as_postgres: bool,
    _dir: TempDir,
}

/// Runs `sql` (several statements allowed) on `url`; returns the first column of the
/// last statement's rows as text.
pub fn sql(url: &str, sql: &str) -> Result<Vec<String>, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .map_err(|e| format!("connect: {e}"))?;
        tokio::spawn(conn);
        let msgs = client
            .simple_query(sql)
            .await
            .map_err(|e| format!("{sql}: {e:?}"))?;
        Ok(msgs
            .iter()
            .filter_map(|m| match m {
                tokio_postgres::SimpleQueryMessage::Row(r) => {
                    Some(r.get(0).unwrap_or("NULL").to_string())
                }
                _ => None,
            })
            .collect())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free loopback port")
}

/// A loopback port where nothing listens (for the unreachable-server test).
pub fn closed_port() -> u16 {
    free_port()
}

fn bindir() -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").is_file())
        .collect();
    dirs.sort_by_key(|p| {
        p.parent()
            .and_then(|v| v.file_name())
            .and_then(|v| v.to_str())
            .and_then(|v| v.parse::<u32>().ok())
            .unwrap_or(0)
    });
    if let Some(d) = dirs.pop() {
        return Some(d);
    }
    let out = Command::new("pg_config").arg("--bindir").output().ok()?;
    let d = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    d.join("initdb").is_file().then_some(d)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Server {
    fn run(&self, tool: &str, args: &[&str]) -> std::process::Output {
        let exe = self.bin.join(tool);
        let mut c = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        c.args(args)
            .output()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()))
    }

    fn start(name: &str) -> Result<(Server, u16), String> {
        let bin = bindir().ok_or(
            "PostgreSQL server binaries not found (looked in /usr/lib/postgresql/*/bin and `pg_config --bindir`); \
             install them (`apt-get install postgresql`) or set METRICTREE_TEST_PG_URL to a server where this user may create databases",
        )?;
        let dir = TempDir::new(&format!("pg-{name}"));
        let as_postgres = is_root();
        let data = dir.0.join("data");
        let pwfile = dir.0.join("pw");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| e.to_string())?;
        if as_postgres {
            // initdb refuses to run as root: the server runs as the `postgres` user.
            let ok = Command::new("chown")
                .args(["-R", "postgres"])
                .arg(&dir.0)
                .status()
                .map(|s| s.success())
                .unwrap_or(false);
            if !ok {
                return Err("running as root, and cannot hand a directory to the `postgres` user (is the postgresql package installed?)".into());
            }
        }
        let server = Server {
            bin,
            data: data.clone(),
            as_postgres,
            _dir: dir,
        };
        let d = data.to_string_lossy().to_string();
        let pw = pwfile.to_string_lossy().to_string();
        let out = server.run(
            "initdb",
            &[
                "-D",
                &d,
                "-U",
                "metrictree",
                "--pwfile",
                &pw,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
        );
        if !out.status.success() {
            return Err(format!(
                "initdb failed: {}",
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let sock = server
            .data
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_default();
        let log = sock.join("log").to_string_lossy().to_string();
        for _ in 0..3 {
            let port = free_port();
            let opts = format!(
                "-p {port} -c listen_addresses=127.0.0.1 -k {} -c fsync=off -c full_page_writes=off",
                sock.display()
            );
            let out = server.run(
                "pg_ctl",
                &["-D", &d, "-o", &opts, "-l", &log, "-w", "start"],
            );
            if out.status.success() {
                return Ok((server, port));
            }
        }
        let log = std::fs::read_to_string(&log).unwrap_or_default();
        Err(format!("pg_ctl start failed three times:\n{log}"))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let d = self.data.to_string_lossy().to_string();
        let _ = self.run("pg_ctl", &["-D", &d, "-m", "immediate", "-w", "stop"]);
    }
}

impl Pg {
    /// A database of its own for the calling test.
    #[track_caller]
    pub fn start(name: &str) -> Pg {
        static N: AtomicUsize = AtomicUsize::new(0);
        let db = format!(
            "mt_{name}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let (admin, server) = match std::env::var("METRICTREE_TEST_PG_URL") {
            Ok(url) => (url, None),
            Err(_) => {
                let (server, port) = Server::start(name).unwrap_or_else(|e| {
                    panic!("this test needs a PostgreSQL server and none is available: {e}")
                });
                (
                    format!("postgres://metrictree:{PASSWORD}@127.0.0.1:{port}/postgres"),
                    Some(server),
                )
            }
        };
        sql(&admin, &format!("CREATE DATABASE {db}"))
            .unwrap_or_else(|e| panic!("cannot create the test database: {e}"));
        let url = match admin.rsplit_once('/') {
            Some((base, _)) => format!("{base}/{db}"),
            None => panic!("METRICTREE_TEST_PG_URL must end in /DBNAME"),
        };
        Pg {
            url,
            admin,
            db,
            server,
        }
    }

    /// The password in this test's connection string (which no output may contain).
    pub fn password(&self) -> String {
        let (_, rest) = self.url.split_once("://").expect("a URL");
        let (creds, _) = rest.split_once('@').expect("credentials in the URL");
        creds
            .split_once(':')
            .map(|(_, p)| p.to_string())
            .unwrap_or_default()
    }

    /// The connection string with another password.
    pub fn url_with_password(&self, password: &str) -> String {
        let (scheme, rest) = self.url.split_once("://").expect("a URL");
        let (_, host) = rest.split_once('@').expect("credentials in the URL");
        let user = rest.split(':').next().unwrap_or("metrictree");
        format!("{scheme}://{user}:{password}@{host}")
    }
}

impl Drop for Pg {
    fn drop(&mut self) {
        if self.server.is_none() {
            let _ = sql(
                &self.admin,
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.db),
            );
        }
    }
}
