//! A TCP relay in front of a Postgres server that counts what crosses it:
//! round trips (`ReadyForQuery`, the `'Z'` message the server sends when it
//! waits for the client again) and commits (a client's `Query` or `Parse`
//! whose SQL begins with `COMMIT`). Point a hub at [`PgProxy::url`] to see
//! how many round trips and commits its orders cost.
//!
//! Both directions are parsed as the protocol frames them: the client's
//! first message (startup, or an SSL / GSS encryption request) has no type
//! byte; every later message in either direction is a type byte and an
//! `i32` length that counts itself. An encryption request is answered `N`
//! by the relay itself (the relayed URL also says `sslmode=disable`), so
//! the server's side of the stream is always framed.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::net::{TcpListener, TcpStream};

const SSL_REQUEST: i32 = 80_877_103;
const GSSENC_REQUEST: i32 = 80_877_104;
const CANCEL_REQUEST: i32 = 80_877_102;
/// How much of a message body is kept for a look at its SQL.
const PREFIX: usize = 256;

#[derive(Default)]
struct Counters {
    round_trips: AtomicU64,
    commits: AtomicU64,
}

/// A counting relay on 127.0.0.1 in front of a Postgres URL. The relay runs
/// until the runtime ends (dropping the handle does not stop it).
pub struct PgProxy {
    upstream_url: String,
    port: u16,
    counters: Arc<Counters>,
}

impl PgProxy {
    /// Listens on 127.0.0.1 port 0 and relays every connection to the
    /// server `upstream_url` names.
    pub async fn start(upstream_url: &str) -> PgProxy {
        let (_, authority, _) = split_url(upstream_url);
        let upstream = upstream_address(authority);
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let counters = Arc::new(Counters::default());
        let c = counters.clone();
        tokio::spawn(async move {
            loop {
                let Ok((client, _)) = listener.accept().await else {
                    continue;
                };
                let (upstream, counters) = (upstream.clone(), c.clone());
                tokio::spawn(async move {
                    // A connection that fails ends; the client sees it closed.
                    let _ = relay(client, &upstream, counters).await;
                });
            }
        });
        PgProxy {
            upstream_url: upstream_url.to_string(),
            port,
            counters,
        }
    }

    /// The upstream URL with the relay's host and port, and
    /// `sslmode=disable`; its other parameters (user, database,
    /// `options[search_path]`...) as they were.
    pub fn url(&self) -> String {
        let (scheme, authority, rest) = split_url(&self.upstream_url);
        let user = authority
            .rfind('@')
            .map(|at| &authority[..=at])
            .unwrap_or("");
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (rest, None),
        };
        let mut params: Vec<&str> = query
            .map(|q| {
                q.split('&')
                    .filter(|p| !p.is_empty() && !p.starts_with("sslmode="))
                    .collect()
            })
            .unwrap_or_default();
        params.push("sslmode=disable");
        format!(
            "{scheme}{user}127.0.0.1:{}{path}?{}",
            self.port,
            params.join("&")
        )
    }

    /// `ReadyForQuery` messages the server sent since the start (or the
    /// last [`PgProxy::reset`]): one per round trip.
    pub fn round_trips(&self) -> u64 {
        self.counters.round_trips.load(Ordering::Relaxed)
    }

    /// `COMMIT`s the clients sent since the start (or the last reset).
    pub fn commits(&self) -> u64 {
        self.counters.commits.load(Ordering::Relaxed)
    }

    /// Sets both counts to zero.
    pub fn reset(&self) {
        self.counters.round_trips.store(0, Ordering::Relaxed);
        self.counters.commits.store(0, Ordering::Relaxed);
    }
}

/// `("postgres://", "user@host:port", "/db?params")`.
fn split_url(url: &str) -> (&str, &str, &str) {
    let start = url.find("://").map(|i| i + 3).unwrap_or(0);
    let end = url[start..]
        .find(['/', '?'])
        .map(|i| start + i)
        .unwrap_or(url.len());
    (&url[..start], &url[start..end], &url[end..])
}

/// `host:port` of an authority (`user:password@host:port`), port 5432 when
/// none is given.
fn upstream_address(authority: &str) -> String {
    let host_port = authority
        .rfind('@')
        .map(|at| &authority[at + 1..])
        .unwrap_or(authority);
    let host_port = if host_port.is_empty() {
        "localhost"
    } else {
        host_port
    };
    // `[::1]:5432`, `[::1]`, `host:5432`, `host`.
    let has_port = match host_port.rfind(']') {
        Some(close) => host_port[close..].contains(':'),
        None => host_port.contains(':'),
    };
    if has_port {
        host_port.to_string()
    } else {
        format!("{host_port}:5432")
    }
}

async fn relay(client: TcpStream, upstream: &str, counters: Arc<Counters>) -> std::io::Result<()> {
    client.set_nodelay(true)?;
    let server = TcpStream::connect(upstream).await?;
    server.set_nodelay(true)?;
    let (mut client_rx, mut client_tx) = client.into_split();
    let (server_rx, mut server_tx) = server.into_split();
    // The client's untyped first messages: encryption requests answered
    // here, then the startup message (or a cancel request) passed on.
    loop {
        let mut head = [0u8; 8];
        client_rx.read_exact(&mut head).await?;
        let len = i32::from_be_bytes(head[..4].try_into().unwrap());
        let code = i32::from_be_bytes(head[4..].try_into().unwrap());
        if !(8..=1 << 20).contains(&len) {
            return Err(std::io::Error::other("bad startup message length"));
        }
        let mut body = vec![0u8; len as usize - 8];
        client_rx.read_exact(&mut body).await?;
        if code == SSL_REQUEST || code == GSSENC_REQUEST {
            client_tx.write_all(b"N").await?;
            continue;
        }
        server_tx.write_all(&head).await?;
        server_tx.write_all(&body).await?;
        if code == CANCEL_REQUEST {
            // The server acts on it and closes the connection.
            let mut rest = Vec::new();
            let mut server_rx = server_rx;
            server_rx.read_to_end(&mut rest).await?;
            return Ok(());
        }
        break;
    }
    let up = pump(client_rx, server_tx, counters.clone(), Direction::ToServer);
    let down = pump(server_rx, client_tx, counters, Direction::ToClient);
    let _ = tokio::try_join!(up, down);
    Ok(())
}

#[derive(Clone, Copy, PartialEq)]
enum Direction {
    ToServer,
    ToClient,
}

/// Copies one direction of a connection, counting its messages as they go
/// by; the bytes are passed on as they come, whole messages or not.
async fn pump(
    mut from: OwnedReadHalf,
    mut to: OwnedWriteHalf,
    counters: Arc<Counters>,
    direction: Direction,
) -> std::io::Result<()> {
    let mut buf = vec![0u8; 64 * 1024];
    let mut frames = Frames::default();
    loop {
        let n = from.read(&mut buf).await?;
        if n == 0 {
            // Tell the other side we are done; the other pump ends in turn.
            let _ = to.shutdown().await;
            return Ok(());
        }
        frames.feed(&buf[..n], |kind, body| match (direction, kind) {
            (Direction::ToClient, b'Z') => {
                counters.round_trips.fetch_add(1, Ordering::Relaxed);
            }
            (Direction::ToServer, b'Q') if is_commit(body) => {
                counters.commits.fetch_add(1, Ordering::Relaxed);
            }
            (Direction::ToServer, b'P') => {
                // Parse: the statement's name, then its SQL.
                if let Some(nul) = body.iter().position(|b| *b == 0) {
                    if is_commit(&body[nul + 1..]) {
                        counters.commits.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
            _ => {}
        });
        to.write_all(&buf[..n]).await?;
    }
}

fn is_commit(sql: &[u8]) -> bool {
    let start = sql
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(sql.len());
    let sql = &sql[start..];
    sql.len() >= 6
        && sql[..6].eq_ignore_ascii_case(b"COMMIT")
        && sql
            .get(6)
            .is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

/// Typed messages (a type byte, then an `i32` length counting itself and
/// the body) cut out of a stream that arrives in arbitrary pieces.
#[derive(Default)]
struct Frames {
    /// The header of the message being read (type and length).
    head: Vec<u8>,
    /// Body bytes still to come.
    left: usize,
    /// The first [`PREFIX`] bytes of the body.
    body: Vec<u8>,
}

impl Frames {
    /// Consumes `data`, calling `message(type, body prefix)` for every
    /// message it completes.
    fn feed(&mut self, mut data: &[u8], mut message: impl FnMut(u8, &[u8])) {
        while !data.is_empty() {
            if self.head.len() < 5 {
                let take = (5 - self.head.len()).min(data.len());
                self.head.extend_from_slice(&data[..take]);
                data = &data[take..];
                if self.head.len() < 5 {
                    return;
                }
                let len = i32::from_be_bytes(self.head[1..5].try_into().unwrap());
                self.left = (len.max(4) - 4) as usize;
                self.body.clear();
            }
            let take = self.left.min(data.len());
            let keep = take.min(PREFIX.saturating_sub(self.body.len()));
            self.body.extend_from_slice(&data[..keep]);
            self.left -= take;
            data = &data[take..];
            if self.left == 0 {
                message(self.head[0], &self.body);
                self.head.clear();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut m = vec![kind];
        m.extend_from_slice(&(body.len() as i32 + 4).to_be_bytes());
        m.extend_from_slice(body);
        m
    }

    #[test]
    fn frames_split_anywhere() {
        let mut stream = message(b'Q', b"COMMIT\0");
        stream.extend(message(b'Z', b"I"));
        stream.extend(message(b'P', b"sqlx_s_1\0commit\0\0\0"));
        stream.extend(message(b'D', &[7u8; 1000]));
        stream.extend(message(b'Q', b"  SELECT 1\0"));
        stream.extend(message(b'Q', b"COMMITTED\0"));
        for piece in [1, 2, 3, 5, 7, 64, stream.len()] {
            let mut frames = Frames::default();
            let mut seen = Vec::new();
            for chunk in stream.chunks(piece) {
                frames.feed(chunk, |kind, body| seen.push((kind, body.to_vec())));
            }
            let kinds: Vec<u8> = seen.iter().map(|(k, _)| *k).collect();
            assert_eq!(kinds, b"QZPDQQ", "pieces of {piece}");
            assert!(is_commit(&seen[0].1));
            assert!(!is_commit(&seen[4].1));
            assert!(!is_commit(&seen[5].1), "COMMITTED is not COMMIT");
            assert_eq!(seen[3].1.len(), PREFIX);
        }
    }

    #[test]
    fn relayed_url() {
        let proxy = PgProxy {
            upstream_url: "postgres://postgres:pw@db.example:6543/test?sslmode=require&options%5Bsearch_path%5D=s1".into(),
            port: 7,
            counters: Default::default(),
        };
        assert_eq!(
            proxy.url(),
            "postgres://postgres:pw@127.0.0.1:7/test?options%5Bsearch_path%5D=s1&sslmode=disable"
        );
        assert_eq!(
            upstream_address("postgres:pw@db.example:6543"),
            "db.example:6543"
        );
        assert_eq!(upstream_address("u@[::1]"), "[::1]:5432");
        assert_eq!(upstream_address("127.0.0.1"), "127.0.0.1:5432");
    }

    /// Through a real server (when `POSHUB_TEST_POSTGRES_URL` is set): a
    /// persistent statement costs two round trips the first time (prepare,
    /// then execute) and one after; a transaction is BEGIN and one COMMIT.
    #[tokio::test]
    async fn counts_round_trips_and_commits() {
        use sqlx::Connection;
        let Some(base) = crate::postgres_url() else {
            eprintln!("POSHUB_TEST_POSTGRES_URL is not set: skipping");
            return;
        };
        let proxy = PgProxy::start(&base).await;
        let mut conn = sqlx::PgConnection::connect(&proxy.url())
            .await
            .expect("connect through the proxy");
        assert!(proxy.round_trips() >= 1, "the startup ends ReadyForQuery");
        proxy.reset();
        let mut seen = Vec::new();
        for _ in 0..3 {
            let one: i32 = sqlx::query_scalar("SELECT 1")
                .persistent(true)
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(one, 1);
            seen.push(proxy.round_trips());
        }
        assert_eq!(seen, [2, 3, 4], "prepare + execute, then execute only");
        assert_eq!(proxy.commits(), 0);

        let mut tx = conn.begin().await.unwrap();
        sqlx::raw_sql("SELECT 2").execute(&mut *tx).await.unwrap();
        tx.commit().await.unwrap();
        assert_eq!(proxy.commits(), 1);
        assert_eq!(proxy.round_trips(), 7, "BEGIN, SELECT 2, COMMIT");

        // Many connections at once, each counted.
        proxy.reset();
        let pool = sqlx::postgres::PgPoolOptions::new()
            .max_connections(8)
            .test_before_acquire(false)
            .connect(&proxy.url())
            .await
            .unwrap();
        let before = proxy.round_trips();
        // Concurrent on one task (a spawned one would need the futures to
        // be Send, which `raw_sql` on a pooled connection is not).
        let tasks = (0..8).map(|_| {
            let pool = pool.clone();
            async move {
                let mut conn = pool.acquire().await.unwrap();
                for _ in 0..10 {
                    sqlx::raw_sql("SELECT 3").execute(&mut *conn).await.unwrap();
                }
                let mut tx = conn.begin().await.unwrap();
                sqlx::raw_sql("SELECT 4").execute(&mut *tx).await.unwrap();
                tx.commit().await.unwrap();
            }
        });
        futures::future::join_all(tasks).await;
        // Each task: 10 simple queries and a transaction of 3. Besides: up
        // to 8 startups, and sqlx's ping of a connection returned to the
        // pool (one per release, 9 with the pool's first connection; sent
        // from a spawned task, so the last may still be under way).
        let after = proxy.round_trips() - before;
        assert!(
            (8 * 13..=8 * 13 + 8 + 9).contains(&after),
            "{after} round trips"
        );
        assert_eq!(proxy.commits(), 8);
    }
}
