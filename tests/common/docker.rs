//! Docker helpers for the integration tests: the real daemon, the real
//! registry that `.ci/services up` starts, fixture base images made from the
//! fixture tree, reading files back out of images, a private daemon for
//! reproducibility, and a socket proxy that holds one request (to interrupt
//! a build at a known step).
//!
//! These tests need Docker and fail without it: run `.ci/services up` first.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::sync::mpsc;

use bollard::Docker;
use futures_util::StreamExt;

use super::{fixture, repo};

pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(f)
}

pub fn docker() -> Docker {
    let d = Docker::connect_with_defaults().expect("DOCKER_HOST is usable");
    if let Err(e) = block_on(d.ping()) {
        panic!("these tests need a Docker daemon ({e}); run `.ci/services up` (as root)");
    }
    d
}

/// A tar of `dir` with every path under `app/`.
pub fn tar_under_app(dir: &Path) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    b.append_dir_all("app", dir).unwrap();
    b.into_inner().unwrap()
}

/// Imports `dir` as a fresh base image (`docker import`: a new ID every
/// time), tagged `whitelabel-fixture/chatwoot:v3.15.0-<unique>`. Returns (tag, id).
pub fn import_base(dir: &Path) -> (String, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    let reference = format!("whitelabel-fixture/chatwoot:v3.15.0-{}-{n}", std::process::id());
    let id = import_as(&docker(), dir, &reference);
    (reference, id)
}

/// Imports `dir` (under `app/`) into `d` as `reference`; returns the image ID.
pub fn import_as(d: &Docker, dir: &Path, reference: &str) -> String {
    let (repo, tag) = reference.rsplit_once(':').unwrap();
    block_on(async {
        let opts =
            bollard::query_parameters::CreateImageOptionsBuilder::default().from_src("-").repo(repo).tag(tag).build();
        let mut s = d.create_image(Some(opts), Some(bollard::body_full(tar_under_app(dir).into())), None);
        while let Some(item) = s.next().await {
            item.expect("importing the fixture base");
        }
    });
    block_on(d.inspect_image(reference)).unwrap().id.unwrap()
}

/// The fixture tree as a base image.
pub fn fixture_base() -> (String, String) {
    import_base(&fixture())
}

/// Runs whitelabel with a private cache dir and extra environment.
pub fn wl(args: &[&str], cache: &Path, env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_whitelabel"));
    c.current_dir(repo()).args(args).env("WHITELABEL_CACHE_DIR", cache).env("WHITELABEL_STACKS", cache.join("stacks"));
    for k in ["WHITELABEL_REGISTRY_USER", "WHITELABEL_REGISTRY_PASSWORD", "SOURCE_DATE_EPOCH"] {
        c.env_remove(k);
    }
    c.envs(env.iter().copied());
    c.output().unwrap()
}

pub fn ok(o: &Output) -> serde_json::Value {
    assert!(
        o.status.success(),
        "whitelabel failed ({:?}):\n{}\n{}",
        o.status.code(),
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&o.stdout)))
}

/// Every regular file under `path` in `image`, relative to `path`
/// (created, never started, removed).
pub fn image_files(image: &str, path: &str) -> BTreeMap<String, Vec<u8>> {
    let d = docker();
    block_on(async {
        let body = bollard::models::ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(vec!["/none".into()]),
            ..Default::default()
        };
        let c = d.create_container(None::<bollard::query_parameters::CreateContainerOptions>, body).await.unwrap();
        let opts = bollard::query_parameters::DownloadFromContainerOptionsBuilder::default().path(path).build();
        let mut s = d.download_from_container(&c.id, Some(opts));
        let mut tar = Vec::new();
        while let Some(chunk) = s.next().await {
            tar.extend_from_slice(&chunk.unwrap());
        }
        let rm = bollard::query_parameters::RemoveContainerOptionsBuilder::default().force(true).build();
        d.remove_container(&c.id, Some(rm)).await.unwrap();
        let top = Path::new(path).file_name().unwrap().to_string_lossy().to_string();
        tar_files(&tar, &format!("{top}/"))
    })
}

/// Regular files of a tar, with `strip` removed from their names.
pub fn tar_files(tar: &[u8], strip: &str) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for e in tar::Archive::new(tar).entries().unwrap() {
        let mut e = e.unwrap();
        if e.header().entry_type().is_file() {
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            e.read_to_end(&mut data).unwrap();
            out.insert(name.strip_prefix(strip).unwrap_or(&name).to_string(), data);
        }
    }
    out
}

/// Entry names of the image's top layer, from `docker save`.
pub fn top_layer_entries(image: &str) -> Vec<String> {
    let d = docker();
    let saved = block_on(async {
        let mut s = d.export_image(image);
        let mut all = Vec::new();
        while let Some(c) = s.next().await {
            all.extend_from_slice(&c.unwrap());
        }
        all
    });
    let mut members = BTreeMap::new();
    for e in tar::Archive::new(&saved[..]).entries().unwrap() {
        let mut e = e.unwrap();
        let name = e.path().unwrap().to_string_lossy().into_owned();
        let mut data = Vec::new();
        e.read_to_end(&mut data).unwrap();
        members.insert(name, data);
    }
    let manifest: serde_json::Value = serde_json::from_slice(&members["manifest.json"]).unwrap();
    let top = manifest[0]["Layers"].as_array().unwrap().last().unwrap().as_str().unwrap().to_string();
    tar::Archive::new(&members[&top][..])
        .entries()
        .unwrap()
        .map(|e| e.unwrap().path().unwrap().to_string_lossy().into_owned())
        .collect()
}

pub fn inspect(image: &str) -> Option<bollard::models::ImageInspect> {
    block_on(docker().inspect_image(image)).ok()
}

/// Containers (running or not) created from `image_id`.
pub fn containers_of(image_id: &str) -> Vec<String> {
    let d = docker();
    let filters = std::collections::HashMap::from([("ancestor".to_string(), vec![image_id.to_string()])]);
    let opts = bollard::query_parameters::ListContainersOptionsBuilder::default().all(true).filters(&filters).build();
    block_on(d.list_containers(Some(opts))).unwrap().into_iter().filter_map(|c| c.id).collect()
}

/// The test registry `.ci/services up` started: (address, user, password).
pub fn registry() -> (String, String, String) {
    let mut vars: BTreeMap<String, String> = std::env::vars().collect();
    if !vars.contains_key("WHITELABEL_TEST_REGISTRY_PASSWORD") {
        let file = repo().join("target/services/registry.env");
        let text = std::fs::read_to_string(&file)
            .unwrap_or_else(|_| panic!("no test registry: run `.ci/services up` (writes {})", file.display()));
        for line in text.lines() {
            if let Some((k, v)) = line.split_once('=') {
                vars.insert(k.to_string(), v.to_string());
            }
        }
    }
    let get = |k: &str| vars.get(k).cloned().unwrap_or_else(|| panic!("{k} is not set"));
    (get("WHITELABEL_TEST_REGISTRY"), get("WHITELABEL_TEST_REGISTRY_USER"), get("WHITELABEL_TEST_REGISTRY_PASSWORD"))
}

/// Asks the registry itself (not the daemon) for a manifest digest.
pub fn registry_digest(repo_path: &str, tag: &str) -> Option<String> {
    let (addr, user, password) = registry();
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-D", "-", "-u"])
        .arg(format!("{user}:{password}"))
        .args(["-H", "Accept: application/vnd.docker.distribution.manifest.v2+json"])
        .arg(format!("http://{addr}/v2/{repo_path}/manifests/{tag}"))
        .output()
        .unwrap_or_else(|e| panic!("{} ({e})", super::needs("curl")));
    let head = String::from_utf8_lossy(&o.stdout).to_string();
    if !head.starts_with("HTTP/1.1 200") {
        return None;
    }
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("docker-content-digest").then(|| v.trim().to_string())
    })
}

/// A dockerd of its own (own data root, socket, containerd, network), for
/// "same inputs, same image ID on a fresh daemon". Killed and wiped on drop.
pub struct PrivateDaemon {
    pub dir: tempfile::TempDir,
    child: Child,
}

impl PrivateDaemon {
    pub fn start() -> PrivateDaemon {
        let dir = tempfile::Builder::new().prefix("wld").tempdir_in("/tmp").unwrap();
        let p = |s: &str| dir.path().join(s);
        let log = std::fs::File::create(p("log")).unwrap();
        // In a network namespace of its own: a second dockerd on the host
        // network would take the shared docker0 bridge down with it.
        let child = Command::new("unshare")
            .args(["--net", "--", "dockerd"])
            .arg("--data-root")
            .arg(p("root"))
            .arg("--exec-root")
            .arg(p("exec"))
            .arg("--pidfile")
            .arg(p("pid"))
            .arg("-H")
            .arg(format!("unix://{}", p("sock").display()))
            .args(["--iptables=false", "--ip-masq=false", "--ip6tables=false"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("{} ({e})", super::needs("dockerd (Debian's docker.io)")));
        let me = PrivateDaemon { dir, child };
        for _ in 0..200 {
            if UnixStream::connect(me.socket()).is_ok() {
                let d = Docker::connect_with_unix(&me.host(), 30, bollard::API_DEFAULT_VERSION).unwrap();
                if block_on(d.ping()).is_ok() {
                    return me;
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        panic!("private dockerd did not start: {}", std::fs::read_to_string(me.dir.path().join("log")).unwrap());
    }

    pub fn socket(&self) -> PathBuf {
        self.dir.path().join("sock")
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.socket().display())
    }

    pub fn client(&self) -> Docker {
        Docker::connect_with_unix(&self.host(), 120, bollard::API_DEFAULT_VERSION).unwrap()
    }
}

impl PrivateDaemon {
    /// Makes this daemon a single-node swarm manager. Only ever on a private
    /// daemon: the shared one must never join a swarm. Its network namespace
    /// starts with the loopback down, and swarm needs an address to listen on.
    pub fn init_swarm(&self) {
        let pid = self.child.id().to_string();
        let o = Command::new("nsenter")
            .args(["--target", &pid, "--net", "ip", "link", "set", "lo", "up"])
            .output()
            .unwrap_or_else(|e| panic!("{} ({e})", super::needs("nsenter (util-linux) and ip (iproute2)")));
        assert!(o.status.success(), "bringing lo up: {}", String::from_utf8_lossy(&o.stderr));
        let req = bollard::models::SwarmInitRequest {
            listen_addr: Some("127.0.0.1:2377".into()),
            advertise_addr: Some("127.0.0.1".into()),
            ..Default::default()
        };
        block_on(self.client().init_swarm(req)).expect("swarm init on the private daemon");
    }

    /// The dockerd process, e.g. for `nsenter --target` into its network.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

/// Debian's static busybox (`.ci/services up` installs busybox-static):
/// the shell of the tiny images the tests run.
pub fn busybox() -> PathBuf {
    let path = PathBuf::from("/bin/busybox");
    let elf = std::fs::read(&path).unwrap_or_default();
    // A static ELF has no PT_INTERP (type 3) program header.
    let is_static = elf.len() > 64 && elf.starts_with(b"\x7fELF") && elf[4] == 2 && {
        let u16_at = |o: usize| u16::from_le_bytes([elf[o], elf[o + 1]]) as usize;
        let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
        (0..u16_at(0x38)).all(|i| {
            let o = phoff + i * u16_at(0x36);
            elf.get(o..o + 4).is_some_and(|t| u32::from_le_bytes(t.try_into().unwrap()) != 3)
        })
    };
    assert!(is_static, "{}", super::needs("a static busybox at /bin/busybox (Debian's busybox-static)"));
    path
}

/// A root filesystem like Alpine's userland: busybox with a symlink per
/// applet in /bin (sh, cat, id, ...), plus `files` as (path, bytes, mode).
pub fn busybox_rootfs(files: &[(&str, &[u8], u32)]) -> Vec<u8> {
    let bb = busybox();
    let list = Command::new(&bb).arg("--list").output().unwrap();
    let mut b = tar::Builder::new(Vec::new());
    let dir = |b: &mut tar::Builder<Vec<u8>>, p: &str| {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_size(0);
        b.append_data(&mut h, p, std::io::empty()).unwrap();
    };
    for d in ["bin", "tmp", "app"] {
        dir(&mut b, d);
    }
    let mut h = tar::Header::new_gnu();
    let data = std::fs::read(&bb).unwrap();
    h.set_mode(0o755);
    h.set_size(data.len() as u64);
    b.append_data(&mut h, "bin/busybox", &data[..]).unwrap();
    for applet in String::from_utf8_lossy(&list.stdout).lines().filter(|a| !a.is_empty() && *a != "busybox") {
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_size(0);
        b.append_link(&mut h, format!("bin/{applet}"), "busybox").unwrap();
    }
    for (path, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_mode(*mode);
        h.set_size(data.len() as u64);
        b.append_data(&mut h, path.trim_start_matches('/'), *data).unwrap();
    }
    b.into_inner().unwrap()
}

/// Imports a root filesystem tar into `d` as `reference`, with Dockerfile
/// `changes` (`WORKDIR /app`, `ENV ...`); returns the image ID.
pub fn import_rootfs(d: &Docker, rootfs: Vec<u8>, reference: &str, changes: &[&str]) -> String {
    let (repo, tag) = reference.rsplit_once(':').unwrap();
    block_on(async {
        let opts = bollard::query_parameters::CreateImageOptions {
            from_src: Some("-".into()),
            repo: Some(repo.into()),
            tag: Some(tag.into()),
            changes: changes.iter().map(|c| c.to_string()).collect(),
            ..Default::default()
        };
        let mut s = d.create_image(Some(opts), Some(bollard::body_full(rootfs.into())), None);
        while let Some(item) = s.next().await {
            item.expect("importing a busybox root filesystem");
        }
    });
    block_on(d.inspect_image(reference)).unwrap().id.unwrap()
}

impl Drop for PrivateDaemon {
    fn drop(&mut self) {
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM);
        }
        let _ = self.child.wait();
        // dockerd unmounts on a clean stop; remove what is left as root.
        let _ = Command::new("rm").arg("-rf").arg(self.dir.path()).status();
    }
}

/// A proxy in front of the daemon's socket that forwards everything, except
/// that it holds the first request whose request line contains `pattern`
/// and reports it: the request is in flight, the daemon has not answered.
pub struct HoldingProxy {
    pub dir: tempfile::TempDir,
    pub held: mpsc::Receiver<String>,
}

impl HoldingProxy {
    pub fn start(pattern: &'static str) -> HoldingProxy {
        let dir = tempfile::tempdir().unwrap();
        let listener = UnixListener::bind(dir.path().join("docker.sock")).unwrap();
        let (tx, held) = mpsc::channel();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { return };
                let tx = tx.clone();
                std::thread::spawn(move || forward(client, pattern, tx));
            }
        });
        HoldingProxy { dir, held }
    }

    pub fn host(&self) -> String {
        format!("unix://{}", self.dir.path().join("docker.sock").display())
    }
}

fn forward(mut client: UnixStream, pattern: &str, tx: mpsc::Sender<String>) {
    let Ok(mut upstream) = UnixStream::connect("/var/run/docker.sock") else { return };
    let (mut c2, mut u2) = (client.try_clone().unwrap(), upstream.try_clone().unwrap());
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut u2, &mut c2);
        let _ = c2.shutdown(std::net::Shutdown::Write);
    });
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match client.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        let chunk = String::from_utf8_lossy(&buf[..n]);
        if let Some(line) = chunk.lines().find(|l| l.contains(pattern) && l.contains(" HTTP/1.1")) {
            let _ = tx.send(line.to_string());
            // Hold: keep the connection open, forward nothing more, until the client goes.
            while let Ok(n) = client.read(&mut buf) {
                if n == 0 {
                    break;
                }
            }
            break;
        }
        if upstream.write_all(&buf[..n]).is_err() {
            break;
        }
    }
    let _ = upstream.shutdown(std::net::Shutdown::Both);
}
