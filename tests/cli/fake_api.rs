//! A stand-in Kubernetes API server over plain HTTP, for flows that need only a few reads:
//! it answers the requests a test lists (by method and path) with their JSON, anything
//! else with 404, and remembers what it was asked.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A running fake API server; it stops with the test process.
pub struct FakeApi {
    /// Its URL, for a kubeconfig.
    pub url: String,
    asked: Arc<Mutex<Vec<String>>>,
}

/// One answer: method, path, and the JSON body served with 200.
pub type Route = (&'static str, String, serde_json::Value);

impl FakeApi {
    /// Listen on a free loopback port and answer from `routes`.
    pub fn start(routes: Vec<Route>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind fake API");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let asked = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&asked);
        let routes = Arc::new(routes);
        std::thread::spawn(move || {
            for conn in listener.incoming().map_while(Result::ok) {
                let (routes, log) = (Arc::clone(&routes), Arc::clone(&log));
                std::thread::spawn(move || serve(conn, &routes, &log));
            }
        });
        Self { url, asked }
    }

    /// "METHOD /path" of every request so far, in order.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().expect("request log").clone()
    }
}

/// Answer one request, then close the connection (the client opens another).
fn serve(conn: TcpStream, routes: &[Route], log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(conn);
    let mut head = String::new();
    if reader.read_line(&mut head).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        if let Some((k, v)) = line.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut words = head.split_whitespace();
    let method = words.next().unwrap_or_default().to_owned();
    let path = words
        .next()
        .unwrap_or_default()
        .split('?')
        .next()
        .unwrap_or_default()
        .to_owned();
    log.lock()
        .expect("request log")
        .push(format!("{method} {path}"));
    let found = routes.iter().find(|(m, p, _)| *m == method && *p == path);
    let (status, json) = match found {
        Some((_, _, json)) => ("200 OK", json.clone()),
        None => (
            "404 Not Found",
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                "status": "Failure", "reason": "NotFound", "code": 404,
                "message": format!("{path} not found")}),
        ),
    };
    let text = json.to_string();
    let mut conn = reader.into_inner();
    let _ = write!(
        conn,
        "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
}
