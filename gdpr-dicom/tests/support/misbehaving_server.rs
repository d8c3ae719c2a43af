//! A deliberately misbehaving HTTP server on 127.0.0.1 for robustness tests:
//! it answers 500, hangs, closes connections or sends malformed JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// How the server misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Every request gets HTTP 500.
    ServerError,
    /// Requests are read and never answered.
    Hang,
    /// The connection is closed without an answer.
    Close,
    /// HTTP 200 with a body that is not JSON.
    MalformedJson,
    /// HTTP 500 for the first two requests, then `[]`.
    FlakyThenEmpty,
}

/// A running server.
pub struct Misbehaving {
    pub url: String,
    pub requests: Arc<AtomicU32>,
}

impl Misbehaving {
    pub fn requests(&self) -> u32 {
        self.requests.load(Ordering::SeqCst)
    }
}

/// Starts a server in `mode` on a free loopback port.
pub async fn start(mode: Mode) -> Misbehaving {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/", listener.local_addr().unwrap());
    let requests = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&requests);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let counter = Arc::clone(&counter);
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65536];
                let mut seen = Vec::new();
                // Read the request head (and whatever body came with it).
                while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => seen.extend_from_slice(&buf[..n]),
                    }
                }
                let n = counter.fetch_add(1, Ordering::SeqCst);
                let answer: &[u8] = match mode {
                    Mode::ServerError => {
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    }
                    Mode::Hang => {
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    Mode::Close => return,
                    Mode::MalformedJson => {
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 9\r\nConnection: close\r\n\r\n{\"ID\": [,"
                    }
                    Mode::FlakyThenEmpty if n < 2 => {
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    }
                    Mode::FlakyThenEmpty => {
                        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n[]"
                    }
                };
                let _ = socket.write_all(answer).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    Misbehaving { url, requests }
}
