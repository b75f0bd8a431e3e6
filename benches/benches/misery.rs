//! Misery benches: the not-banned ban-list lookup at growing list sizes, a
//! trivial tower service with and without `MiseryLayer` for a client that is
//! not banned (in-process `Service::call`, no sockets), and the same
//! comparison for a trivial axum service over loopback HTTP.
//!
//! ```text
//! cargo bench -p moderation-benches --bench misery
//! cargo bench -p moderation-benches --bench misery -- loopback
//! ```

#![allow(missing_docs)]

use std::convert::Infallible;
use std::fmt::Display;
use std::hint::black_box;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use chrono::Utc;
use criterion::{
    BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use http::{Request, Response};
use ipnet::{IpNet, Ipv4Net};
use moderation_core::{SystemClock, UserId};
use moderation_misery::{
    BanEntry, BanKind, BanList, BanTarget, ClientIp, ClientIpLayer, ClientIpResolver, MiseryLayer,
};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::runtime::Runtime;
use tower::{Layer, Service, service_fn};

/// A client address no generated entry covers: generated entries stay
/// outside 192.0.0.0/8.
const NOT_BANNED: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 77));

/// `count` entries: one in sixteen a /24 network, the rest exact addresses,
/// spread over the IPv4 space except 192.0.0.0/8.
fn entries(count: usize) -> Vec<BanEntry> {
    let mut rng = SmallRng::seed_from_u64(42);
    let created_by = UserId::from(1_i64);
    let created_at = Utc::now();
    (0..count)
        .map(|i| {
            let mut bits: u32 = rng.random();
            if bits >> 24 == 192 {
                bits ^= 0x8000_0000;
            }
            let len = if i % 16 == 0 { 24 } else { 32 };
            let net = Ipv4Net::new(Ipv4Addr::from(bits), len)
                .map_or_else(|_| Ipv4Net::from(Ipv4Addr::from(bits)), |net| net.trunc());
            BanEntry {
                id: i as u64,
                target: BanTarget::Network(IpNet::V4(net)),
                kind: BanKind::Misery,
                reason: String::new(),
                created_by: created_by.clone(),
                created_at,
                expires_at: None,
            }
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("misery/lookup_not_banned");
    for count in [0, 1_000, 100_000, 1_000_000] {
        let list = BanList::with_entries(Arc::new(SystemClock), entries(count));
        group.bench_with_input(BenchmarkId::from_parameter(count), &list, |b, list| {
            b.iter(|| list.is_banned(Some(black_box(NOT_BANNED)), None, BanKind::Misery));
        });
    }
    group.finish();
}

async fn hello(_request: Request<String>) -> Result<Response<String>, Infallible> {
    Ok(Response::new(String::from("hello")))
}

fn request() -> Request<String> {
    let mut request = Request::new(String::new());
    request.extensions_mut().insert(ClientIp::new(NOT_BANNED));
    request
}

fn service(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    let mut group = c.benchmark_group("misery/service_not_banned");
    group.throughput(Throughput::Elements(1));

    // `service_fn` and `Misery` over it are always ready, so the loops call
    // without `poll_ready` to measure only the request path.
    let mut bare = service_fn(hello);
    group.bench_function("bare", |b| {
        b.to_async(&runtime).iter(|| {
            let call = bare.call(request());
            async move { black_box(call.await) }
        });
    });

    let bans = BanList::with_entries(Arc::new(SystemClock), entries(100_000));
    let Ok(layer) = MiseryLayer::builder(bans).build() else {
        return;
    };
    let mut layered = layer.layer(service_fn(hello));
    group.bench_function("with_misery_layer_100k_bans", |b| {
        b.to_async(&runtime).iter(|| {
            let call = layered.call(request());
            async move { black_box(call.await) }
        });
    });
    group.finish();
}

/// Requests sent per criterion iteration of the loopback benches. With 1 000,
/// criterion's time per iteration in milliseconds reads directly as
/// microseconds per request.
const BATCH: usize = 1_000;

/// Keep-alive connections sharing a batch: a few requests in flight at once,
/// as from several browsers, without exceeding what a 2-core machine serves.
const CONNECTIONS: usize = 4;

/// One keep-alive HTTP/1.1 request for the trivial page.
const GET_INDEX: &[u8] = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";

/// Stops the bench program with a message. A loopback bench that lost its
/// server or a connection has no figure left to report, and carrying on
/// would print timings of failed requests as if they were real.
// A bench program reports to the terminal; this is its one message.
#[allow(clippy::print_stderr)]
fn fail(what: &str, error: impl Display) -> ! {
    eprintln!("misery loopback bench: {what}: {error}");
    let _ = io::stderr().flush();
    std::process::exit(1);
}

/// The client address a resolver reports for a loopback connection: the TCP
/// peer as axum's `ConnectInfo` recorded it, as in `examples/forum-misery`.
fn client_ip_layer() -> ClientIpLayer {
    ClientIpLayer::new(ClientIpResolver::new(), |extensions| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip())
    })
}

/// Serves `app` on an ephemeral loopback port in `runtime` and returns the
/// address to connect to.
fn serve(runtime: &Runtime, app: Router) -> io::Result<SocketAddr> {
    let listener = runtime.block_on(TcpListener::bind((Ipv4Addr::LOCALHOST, 0)))?;
    let address = listener.local_addr()?;
    runtime.spawn(async move {
        let served = axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await;
        if let Err(error) = served {
            fail("server stopped", error);
        }
    });
    Ok(address)
}

/// A keep-alive client connection sending one request at a time.
struct Connection {
    stream: BufReader<TcpStream>,
    line: String,
}

impl Connection {
    async fn open(address: SocketAddr) -> io::Result<Self> {
        let stream = TcpStream::connect(address).await?;
        // Small requests answered one at a time: Nagle's algorithm would
        // hold each one back waiting for more bytes.
        stream.set_nodelay(true)?;
        Ok(Self {
            stream: BufReader::new(stream),
            line: String::new(),
        })
    }

    /// Sends one request and reads the whole response, so the connection is
    /// ready for the next one. Anything but `200 OK` is an error: a punished
    /// or failed request would make the comparison meaningless.
    async fn round_trip(&mut self) -> io::Result<()> {
        self.stream.get_mut().write_all(GET_INDEX).await?;
        let mut ok = false;
        let mut length = None;
        let mut first = true;
        loop {
            self.line.clear();
            if self.stream.read_line(&mut self.line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            if first {
                ok = self.line.starts_with("HTTP/1.1 200 ");
                first = false;
            } else if self.line == "\r\n" {
                break;
            } else if let Some((name, value)) = self.line.split_once(':')
                && name.eq_ignore_ascii_case("content-length")
            {
                length = value.trim().parse::<u64>().ok();
            }
        }
        if !ok {
            return Err(io::Error::other(format!(
                "unexpected response status: {}",
                self.line.trim_end()
            )));
        }
        let Some(length) = length else {
            return Err(io::Error::other("response without content-length"));
        };
        let body =
            tokio::io::copy(&mut (&mut self.stream).take(length), &mut tokio::io::sink()).await?;
        if body == length {
            Ok(())
        } else {
            Err(io::ErrorKind::UnexpectedEof.into())
        }
    }

    /// Sends `count` requests one after the other and hands the connection
    /// back for the next batch.
    async fn send(mut self, count: usize) -> io::Result<Self> {
        for _ in 0..count {
            self.round_trip().await?;
        }
        Ok(self)
    }
}

/// Opens the keep-alive connections to `address` and checks each with one
/// request, so connection set-up and first-request costs stay out of the
/// measured batches.
fn connect(runtime: &Runtime, address: SocketAddr) -> io::Result<Vec<Connection>> {
    runtime.block_on(async {
        let mut connections = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            connections.push(Connection::open(address).await?.send(1).await?);
        }
        Ok(connections)
    })
}

/// Sends `iters` batches of [`BATCH`] requests spread over `connections`
/// (each connection sequential, the connections concurrent) and returns the
/// time they took.
fn batches(
    runtime: &Runtime,
    connections: &mut Vec<Connection>,
    iters: u64,
) -> io::Result<Duration> {
    let per_connection = BATCH / CONNECTIONS;
    runtime.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            // Each connection runs as its own task so the runtime's worker
            // threads share the client side as they share the server side.
            let tasks: Vec<_> = connections
                .drain(..)
                .map(|connection| tokio::spawn(connection.send(per_connection)))
                .collect();
            for task in tasks {
                connections.push(task.await.map_err(io::Error::other)??);
            }
        }
        Ok(start.elapsed())
    })
}

/// Throughput of a trivial axum service over loopback HTTP for a client that
/// is not banned, bare and behind `MiseryLayer`. Both variants resolve the
/// client IP from the TCP peer in front, as a real deployment must for the
/// layer to work, so the difference between them is the misery layer alone.
fn loopback(c: &mut Criterion) {
    // Two workers for server and client tasks: the machines this runs on
    // have about two cores, and more threads would only add switching.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|error| fail("tokio runtime", error));

    let bans = BanList::with_entries(Arc::new(SystemClock), entries(100_000));
    // The generated entries avoid 192.0.0.0/8 only; make sure none of them
    // happens to cover the loopback client, or the bench would measure
    // punishment instead of the pass-through path.
    let client = IpAddr::V4(Ipv4Addr::LOCALHOST);
    if bans.is_banned(Some(client), None, BanKind::Misery) {
        fail("set-up", "the generated ban list covers 127.0.0.1");
    }
    let misery = MiseryLayer::builder(bans)
        .build()
        .unwrap_or_else(|error| fail("misery layer", error));

    let page = || async { "hello" };
    let bare = Router::new().route("/", get(page)).layer(client_ip_layer());
    // Layers run outside in: the resolver first, then misery, then the route.
    let layered = Router::new()
        .route("/", get(page))
        .layer(misery)
        .layer(client_ip_layer());

    // Both servers run for the whole group, so each variant is measured
    // while the other one idles in the same process.
    let mut bare_connections = serve(&runtime, bare)
        .and_then(|address| connect(&runtime, address))
        .unwrap_or_else(|error| fail("bare server", error));
    let mut layered_connections = serve(&runtime, layered)
        .and_then(|address| connect(&runtime, address))
        .unwrap_or_else(|error| fail("layered server", error));

    let mut group = c.benchmark_group("misery/loopback_not_banned");
    group.throughput(Throughput::Elements(BATCH as u64));
    // An iteration is a whole batch of about 10 ms or more: flat sampling
    // with fewer samples keeps a run within its measurement time.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);

    group.bench_function("bare", |b| {
        b.iter_custom(|iters| {
            batches(&runtime, &mut bare_connections, iters)
                .unwrap_or_else(|error| fail("bare batch", error))
        });
    });
    group.bench_function("with_misery_layer_100k_bans", |b| {
        b.iter_custom(|iters| {
            batches(&runtime, &mut layered_connections, iters)
                .unwrap_or_else(|error| fail("layered batch", error))
        });
    });
    group.finish();
}

criterion_group!(benches, lookup, service, loopback);
criterion_main!(benches);
