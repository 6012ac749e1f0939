//! A small TCP fault proxy between kmigrate and the API server: it forwards bytes, and on
//! command cuts every connection, adds latency, refuses new connections, or does something
//! to one large request (a Job's create): loses its answer, drops it, or holds it back.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use crate::harness::local;

/// A running proxy; stops accepting when dropped.
pub struct FaultProxy {
    /// Where clients connect.
    pub addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: SocketAddr,
    latency_ms: AtomicU64,
    refuse: AtomicBool,
    stop: AtomicBool,
    open: Mutex<Vec<TcpStream>>,
    /// What to do to the next client chunk of at least so many bytes.
    request_fault: Mutex<Option<(usize, RequestFault)>>,
    /// How many requests a fault was done to.
    faulted: AtomicUsize,
}

/// What happens to one large request.
#[derive(Clone, Copy)]
enum RequestFault {
    /// Forwarded, its answer dropped and the connection cut.
    LoseAnswer,
    /// Never forwarded; the connection is cut.
    Drop,
    /// Forwarded after a while.
    Hold(Duration),
}

/// One proxied connection: its two sockets, and whether its answers are being dropped.
struct Conn {
    client: TcpStream,
    server: TcpStream,
    swallow: AtomicBool,
}

impl FaultProxy {
    /// Listen on a free loopback port and forward to `upstream`.
    pub fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let addr = listener.local_addr().expect("proxy address");
        let shared = Arc::new(Shared {
            upstream,
            latency_ms: AtomicU64::new(0),
            refuse: AtomicBool::new(false),
            stop: AtomicBool::new(false),
            open: Mutex::new(Vec::new()),
            request_fault: Mutex::new(None),
            faulted: AtomicUsize::new(0),
        });
        let s = shared.clone();
        thread::spawn(move || {
            for conn in listener.incoming() {
                if s.stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = conn else { continue };
                if s.refuse.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(s.upstream) else {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                {
                    let mut open = s.open.lock().unwrap();
                    open.push(client.try_clone().unwrap());
                    open.push(server.try_clone().unwrap());
                }
                let conn = Arc::new(Conn {
                    client: client.try_clone().unwrap(),
                    server: server.try_clone().unwrap(),
                    swallow: AtomicBool::new(false),
                });
                pump(client, server, Direction::Request, conn.clone(), s.clone());
                let (from, to) = (conn.server.try_clone(), conn.client.try_clone());
                pump(
                    from.unwrap(),
                    to.unwrap(),
                    Direction::Answer,
                    conn,
                    s.clone(),
                );
            }
        });
        Self { addr, shared }
    }

    /// Delay every chunk forwarded in either direction.
    pub fn set_latency(&self, d: Duration) {
        self.shared
            .latency_ms
            .store(d.as_millis() as u64, Ordering::SeqCst);
    }

    /// Close new connections at once.
    pub fn refuse(&self, on: bool) {
        self.shared.refuse.store(on, Ordering::SeqCst);
    }

    /// The next time the client sends at least `bytes` in one piece (a large request, such
    /// as a Job's create), forward it, then drop the server's answer and cut that
    /// connection: the request was sent and its answer lost. Once only.
    pub fn lose_answer_to_request(&self, bytes: usize) {
        self.arm(bytes, RequestFault::LoseAnswer);
    }

    /// The same, but the request never reaches the server.
    pub fn drop_request(&self, bytes: usize) {
        self.arm(bytes, RequestFault::Drop);
    }

    /// The same, but the request reaches the server after `d`, whatever the client did
    /// in the meantime.
    pub fn hold_request(&self, bytes: usize, d: Duration) {
        self.arm(bytes, RequestFault::Hold(d));
    }

    fn arm(&self, bytes: usize, fault: RequestFault) {
        *self.shared.request_fault.lock().unwrap() = Some((bytes, fault));
    }

    /// How many requests a fault was done to.
    pub fn faulted(&self) -> usize {
        self.shared.faulted.load(Ordering::SeqCst)
    }

    /// A copy of the admin kubeconfig that talks to the API server through this proxy.
    pub fn kubeconfig(&self) -> PathBuf {
        let text = std::fs::read_to_string(&local().admin).unwrap();
        let path = crate::support::scratch_dir("proxy").join("kubeconfig");
        std::fs::write(
            &path,
            text.replace(&apiserver_url(), &format!("https://{}", self.addr)),
        )
        .unwrap();
        path
    }

    /// Cut every open connection, as a network failure would.
    pub fn cut_all(&self) {
        for s in self.shared.open.lock().unwrap().drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.cut_all();
        let _ = TcpStream::connect(self.addr);
    }
}

/// The API server's URL, from the admin kubeconfig.
fn apiserver_url() -> String {
    let text = std::fs::read_to_string(&local().admin).unwrap();
    text.lines()
        .find_map(|l| l.trim().strip_prefix("server: "))
        .expect("server in admin kubeconfig")
        .trim()
        .to_owned()
}

/// The API server's address, for [`FaultProxy::start`].
pub fn apiserver_addr() -> SocketAddr {
    apiserver_url()
        .trim_start_matches("https://")
        .parse()
        .expect("the API server address is ip:port")
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    Request,
    Answer,
}

fn pump(mut from: TcpStream, mut to: TcpStream, dir: Direction, conn: Arc<Conn>, s: Arc<Shared>) {
    thread::spawn(move || {
        let mut buf = vec![0u8; 64 * 1024];
        let mut held = false;
        loop {
            let n = match from.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let delay = s.latency_ms.load(Ordering::SeqCst);
            if delay > 0 {
                thread::sleep(Duration::from_millis(delay));
            }
            if dir == Direction::Answer && conn.swallow.load(Ordering::SeqCst) {
                let _ = conn.client.shutdown(Shutdown::Both);
                let _ = conn.server.shutdown(Shutdown::Both);
                break;
            }
            if dir == Direction::Request {
                let fault = {
                    let mut armed = s.request_fault.lock().unwrap();
                    match *armed {
                        Some((at, fault)) if n >= at => {
                            *armed = None;
                            Some(fault)
                        }
                        _ => None,
                    }
                };
                if fault.is_some() {
                    s.faulted.fetch_add(1, Ordering::SeqCst);
                }
                match fault {
                    Some(RequestFault::Drop) => {
                        let _ = conn.client.shutdown(Shutdown::Both);
                        let _ = conn.server.shutdown(Shutdown::Both);
                        break;
                    }
                    // Before forwarding: the answer must not slip through.
                    Some(RequestFault::LoseAnswer) => conn.swallow.store(true, Ordering::SeqCst),
                    Some(RequestFault::Hold(d)) => {
                        thread::sleep(d);
                        held = true;
                    }
                    None => {}
                }
            }
            if to.write_all(&buf[..n]).is_err() {
                break;
            }
            if std::mem::take(&mut held) {
                // The client may have gone meanwhile: give the server time to act on the
                // request before it sees the end of the connection and cancels it.
                thread::sleep(Duration::from_secs(2));
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}
