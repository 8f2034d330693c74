//! A hand-driven PostgreSQL client for sending bytes no driver would: logs in with
//! SCRAM-SHA-256, then lets a test write anything and read frames back.

#![allow(dead_code, clippy::unwrap_used)]

use postgres_protocol::authentication::sasl::{ChannelBinding, ScramSha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A raw connection.
pub struct Raw {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

fn frame(tag: u8, body: &[u8]) -> Vec<u8> {
    let mut v = vec![tag];
    v.extend_from_slice(&((body.len() + 4) as i32).to_be_bytes());
    v.extend_from_slice(body);
    v
}

impl Raw {
    /// Connects without logging in.
    pub async fn connect(port: u16) -> Raw {
        let stream = TcpStream::connect(("127.0.0.1", port)).await.unwrap();
        Raw {
            stream,
            buf: Vec::new(),
        }
    }

    /// Connects and logs in as app/app to database app; returns after ReadyForQuery.
    pub async fn login(port: u16) -> Raw {
        let mut raw = Raw::connect(port).await;
        let mut startup = Vec::new();
        startup.extend_from_slice(&196_608i32.to_be_bytes());
        for s in ["user", "app", "database", "app"] {
            startup.extend_from_slice(s.as_bytes());
            startup.push(0);
        }
        startup.push(0);
        let mut packet = ((startup.len() + 4) as i32).to_be_bytes().to_vec();
        packet.extend_from_slice(&startup);
        raw.send(&packet).await;
        let mut scram = ScramSha256::new(b"app", ChannelBinding::unsupported());
        loop {
            let (tag, body) = raw.read_frame().await.expect("login frame");
            match (
                tag,
                i32::from_be_bytes(body[..4.min(body.len())].try_into().unwrap_or([0; 4])),
            ) {
                (b'R', 10) => {
                    let mut b = b"SCRAM-SHA-256\0".to_vec();
                    b.extend_from_slice(&(scram.message().len() as i32).to_be_bytes());
                    b.extend_from_slice(scram.message());
                    raw.send(&frame(b'p', &b)).await;
                }
                (b'R', 11) => {
                    scram.update(&body[4..]).unwrap();
                    raw.send(&frame(b'p', scram.message())).await;
                }
                (b'R', 12) => scram.finish(&body[4..]).unwrap(),
                (b'Z', _) => return raw,
                (b'E', _) => panic!("login refused: {}", String::from_utf8_lossy(&body)),
                _ => {}
            }
        }
    }

    /// Writes bytes.
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.stream.write_all(bytes).await;
    }

    /// Writes a frame.
    pub async fn send_frame(&mut self, tag: u8, body: &[u8]) {
        self.send(&frame(tag, body)).await;
    }

    /// Reads the next frame; None on end of stream (or after 5 s).
    pub async fn read_frame(&mut self) -> Option<(u8, Vec<u8>)> {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
        loop {
            if self.buf.len() >= 5 {
                let len = i32::from_be_bytes(self.buf[1..5].try_into().unwrap()) as usize;
                if self.buf.len() > len {
                    let f: Vec<u8> = self.buf.drain(..len + 1).collect();
                    return Some((f[0], f[5..].to_vec()));
                }
            }
            let mut chunk = [0u8; 4096];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut chunk)).await;
            match n {
                Ok(Ok(n)) if n > 0 => self.buf.extend_from_slice(&chunk[..n]),
                _ => return None,
            }
        }
    }

    /// Reads frames until ReadyForQuery or end; returns their tags and the SQLSTATEs of
    /// errors.
    pub async fn read_until_ready(&mut self) -> (Vec<u8>, Vec<String>) {
        let mut tags = Vec::new();
        let mut codes = Vec::new();
        while let Some((tag, body)) = self.read_frame().await {
            tags.push(tag);
            if tag == b'E' {
                codes.push(sqlstate(&body));
            }
            if tag == b'Z' {
                break;
            }
        }
        (tags, codes)
    }

    /// True once the server has closed the connection.
    pub async fn closed(&mut self) -> bool {
        self.read_frame().await.is_none()
    }
}

/// The SQLSTATE of an ErrorResponse body.
pub fn sqlstate(body: &[u8]) -> String {
    let mut i = 0;
    while i < body.len() && body[i] != 0 {
        let field = body[i];
        let end = body[i + 1..]
            .iter()
            .position(|&b| b == 0)
            .map(|p| i + 1 + p)
            .unwrap_or(body.len());
        if field == b'C' {
            return String::from_utf8_lossy(&body[i + 1..end]).to_string();
        }
        i = end + 1;
    }
    String::new()
}
