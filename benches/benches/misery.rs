//! Misery benches, on a ban list of realistic shape (mostly IPv4 /32 and
//! /24, some /16; IPv6 /128, /64 and /48; host bans crowded into the same
//! /24s and /48s, as blocklists are):
//!
//! - `misery/lookup_{random_miss,near_miss,hit}/{1000,100000,1000000}`:
//!   `BanList::is_banned` for addresses no ban is near, addresses inside a
//!   /24 or /48 holding bans but covered by none, and banned addresses;
//! - `misery/index_compare_1000000/{structure}/{probe}`: the same probes
//!   against the maintained IP prefix-lookup crates holding the same
//!   networks (a bare longest-prefix match, without kinds or expiry);
//! - `misery/snapshot_build/1000000` and `misery/index_rebuild/1000000`;
//!   bytes per ban (from the allocator) and each structure's memory are
//!   printed before the benches run;
//! - a trivial tower service and a trivial axum service over loopback HTTP,
//!   bare and behind `MiseryLayer` with 1 000 000 bans, for clients whose
//!   addresses sit next to bans; the loopback pair runs in 5 alternating
//!   rounds.
//!
//! ```text
//! cargo bench -p moderation-benches --bench misery -- --warm-up-time 1 --measurement-time 3 --sample-size 20
//! cargo bench -p moderation-benches --bench misery -- loopback
//! ```

#![allow(missing_docs)]

use std::alloc::System;
use std::convert::Infallible;
use std::fmt::Display;
use std::hint::black_box;
use std::io::{self, Write as _};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use chrono::{DateTime, Utc};
use criterion::{
    BatchSize, BenchmarkId, Criterion, SamplingMode, Throughput, criterion_group, criterion_main,
};
use http::{Request, Response};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use moderation_core::{SystemClock, UserId};
use moderation_misery::{
    BanEntry, BanKind, BanList, BanSnapshot, BanTarget, ClientIp, ClientIpLayer, ClientIpResolver,
    MiseryLayer,
};
use rand::rngs::SmallRng;
use rand::{Rng, RngExt, SeedableRng};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};
use tokio::io::{AsyncBufReadExt as _, AsyncReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::runtime::Runtime;
use tower::{Layer, Service, service_fn};

/// Counts every allocation, so the bench can tell how much a ban list holds.
#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const SIZES: [usize; 3] = [1_000, 100_000, 1_000_000];

/// The size of the comparison, the memory figures and the layer benches.
const LARGE: usize = 1_000_000;

/// Probe addresses per kind: enough to spread over the whole index, so the
/// lookups pay the cache misses a server's would.
const PROBES: usize = 4_096;

/// Bytes currently allocated. (stats_alloc counts what a reallocation
/// adds or frees in `bytes_allocated` or `bytes_deallocated` already.)
fn live_bytes() -> isize {
    let stats = GLOBAL.stats();
    stats.bytes_allocated as isize - stats.bytes_deallocated as isize
}

/// A ban list of `count` entries of realistic shape, and where its bans are.
struct Bans {
    entries: Vec<BanEntry>,
    /// Host bans (IPv4 /32, IPv6 /128) and IPv6 /64s, whose neighbours are
    /// the near misses.
    hosts: Vec<IpNet>,
}

/// 85 % IPv4 (72 % of them /32, mostly in a few "hot" /24s, 27.5 % /24,
/// 0.5 % /16), 15 % IPv6 (50 % /128 in hot /48s, 35 % /64, 15 % /48). 95 %
/// misery, 5 % hard bans; 40 reasons, 5 authors, one creation time per
/// import of 10 000, one in five expiring within 30 days. Nothing in
/// 127.0.0.0/8, where the loopback clients are.
fn bans(count: usize) -> Bans {
    let mut rng = SmallRng::seed_from_u64(42);
    let now = Utc::now();
    let hot_v4: Vec<u32> = (0..count / 40 + 1)
        .map(|_| v4_outside_loopback(&mut rng) & 0xffff_ff00)
        .collect();
    let providers: Vec<u128> = (0..count / 2_000 + 1)
        .map(|_| (0x2000_u128 << 112 | rng.random::<u128>() >> 3) & !(u128::MAX >> 32))
        .collect();
    let hot_v6: Vec<u128> = (0..count / 200 + 1)
        .map(|_| pick(&mut rng, &providers) | (u128::from(rng.random::<u16>()) << 80))
        .collect();
    let mut entries = Vec::with_capacity(count);
    let mut hosts = Vec::new();
    for i in 0..count {
        let roll = rng.random_range(0..1_000_u32);
        let net = if roll < 850 {
            let shape = rng.random_range(0..1_000_u32);
            let (bits, len) = if shape < 720 {
                let bits = if rng.random_range(0..10) < 7 {
                    pick(&mut rng, &hot_v4) | rng.random_range(0..256_u32)
                } else {
                    v4_outside_loopback(&mut rng)
                };
                (bits, 32)
            } else if shape < 995 {
                (v4_outside_loopback(&mut rng), 24)
            } else {
                (v4_outside_loopback(&mut rng), 16)
            };
            IpNet::V4(
                Ipv4Net::new(Ipv4Addr::from(bits), len)
                    .map_or_else(|_| Ipv4Net::default(), |net| net.trunc()),
            )
        } else {
            let shape = rng.random_range(0..100_u32);
            let (bits, len) = if shape < 50 {
                (pick(&mut rng, &hot_v6) | (rng.random::<u128>() >> 48), 128)
            } else if shape < 85 {
                (pick(&mut rng, &hot_v6) | (rng.random::<u128>() >> 48), 64)
            } else {
                (
                    pick(&mut rng, &providers) | (rng.random::<u128>() >> 32),
                    48,
                )
            };
            IpNet::V6(
                Ipv6Net::new(Ipv6Addr::from(bits), len)
                    .map_or_else(|_| Ipv6Net::default(), |net| net.trunc()),
            )
        };
        if matches!(net.prefix_len(), 32 | 128 | 64) {
            hosts.push(net);
        }
        let expires_at = (rng.random_range(0..5) == 0)
            .then(|| now + chrono::Duration::seconds(rng.random_range(3_600..30 * 86_400)));
        entries.push(BanEntry {
            id: i as u64 + 1,
            target: BanTarget::Network(net),
            kind: if rng.random_range(0..20) == 0 {
                BanKind::HardBan
            } else {
                BanKind::Misery
            },
            reason: format!(
                "blocklist import {}: abusive traffic",
                rng.random_range(0..40)
            ),
            created_by: UserId::from(rng.random_range(1..=5_i64)),
            created_at: now - chrono::Duration::hours((i / 10_000) as i64),
            expires_at,
        });
    }
    Bans { entries, hosts }
}

fn v4_outside_loopback(rng: &mut impl Rng) -> u32 {
    let bits: u32 = rng.random();
    if bits >> 24 == 127 {
        bits ^ 0x8000_0000
    } else {
        bits
    }
}

fn pick<T: Copy + Default>(rng: &mut impl Rng, from: &[T]) -> T {
    from.get(rng.random_range(0..from.len()))
        .copied()
        .unwrap_or_default()
}

/// Addresses made by `make` that `list` answers `banned` for, [`PROBES`] of them.
fn probes(
    list: &BanList,
    banned: bool,
    mut make: impl FnMut(&mut SmallRng) -> Option<IpAddr>,
) -> Vec<IpAddr> {
    let mut rng = SmallRng::seed_from_u64(7);
    let mut found = Vec::with_capacity(PROBES);
    let mut tries = 0;
    while found.len() < PROBES && tries < PROBES * 100 {
        tries += 1;
        if let Some(ip) = make(&mut rng)
            && list.is_banned(Some(ip), None, BanKind::Misery) == banned
        {
            found.push(ip);
        }
    }
    found
}

/// The three probe kinds for `bans` held in `list`.
fn probe_sets(bans: &Bans, list: &BanList) -> [(&'static str, Vec<IpAddr>); 3] {
    let random_miss = probes(list, false, |rng| {
        Some(if rng.random_range(0..100) < 85 {
            IpAddr::V4(Ipv4Addr::from(v4_outside_loopback(rng)))
        } else {
            IpAddr::V6(Ipv6Addr::from(
                0x2000_u128 << 112 | rng.random::<u128>() >> 3,
            ))
        })
    });
    let near_miss = probes(list, false, |rng| {
        Some(match pick(rng, &bans.hosts) {
            IpNet::V4(net) => IpAddr::V4(Ipv4Addr::from(
                u32::from(net.network()) & 0xffff_ff00 | rng.random_range(0..256_u32),
            )),
            IpNet::V6(net) => IpAddr::V6(Ipv6Addr::from(
                u128::from(net.network()) & !(u128::MAX >> 48) | rng.random::<u128>() >> 48,
            )),
        })
    });
    let hit = probes(list, true, |rng| {
        let entry = bans.entries.get(rng.random_range(0..bans.entries.len()))?;
        let BanTarget::Network(net) = entry.target else {
            return None;
        };
        Some(match net {
            IpNet::V4(net) => IpAddr::V4(Ipv4Addr::from(
                u32::from(net.network())
                    | rng.random::<u32>()
                        & !u32::MAX
                            .checked_shl(32 - u32::from(net.prefix_len()))
                            .unwrap_or(0),
            )),
            IpNet::V6(net) => IpAddr::V6(Ipv6Addr::from(
                u128::from(net.network())
                    | rng.random::<u128>()
                        & !u128::MAX
                            .checked_shl(128 - u32::from(net.prefix_len()))
                            .unwrap_or(0),
            )),
        })
    });
    [
        ("random_miss", random_miss),
        ("near_miss", near_miss),
        ("hit", hit),
    ]
}

/// Runs `lookup` over `probes` in turn, one probe per iteration.
fn bench_probes<T>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    id: BenchmarkId,
    probes: &[IpAddr],
    lookup: impl Fn(IpAddr) -> T,
) {
    group.bench_function(id, |b| {
        let mut cycle = probes.iter().copied().cycle();
        b.iter(|| cycle.next().map(|ip| lookup(black_box(ip))));
    });
}

fn lookup(c: &mut Criterion) {
    let lists: Vec<_> = SIZES
        .iter()
        .map(|&count| {
            let bans = bans(count);
            let list = BanList::with_entries(Arc::new(SystemClock), bans.entries.clone());
            let sets = probe_sets(&bans, &list);
            (count, list, sets)
        })
        .collect();
    for (kind, name) in ["random_miss", "near_miss", "hit"].into_iter().enumerate() {
        let mut group = c.benchmark_group(format!("misery/lookup_{name}"));
        for (count, list, sets) in &lists {
            if let Some((_, probes)) = sets.get(kind) {
                bench_probes(
                    &mut group,
                    BenchmarkId::from_parameter(count),
                    probes,
                    |ip| list.is_banned(Some(ip), None, BanKind::Misery),
                );
            }
        }
        group.finish();
    }
}

/// The networks the index holds for the misery kind (entries in force
/// now), each with the number of its first entry.
fn misery_networks(entries: &[BanEntry], now: DateTime<Utc>) -> Vec<(IpNet, u32)> {
    entries
        .iter()
        .enumerate()
        .filter(|(_, entry)| entry.kind == BanKind::Misery && entry.is_active(now))
        .filter_map(|(number, entry)| match entry.target {
            BanTarget::Network(net) => Some((net, u32::try_from(number).unwrap_or(u32::MAX))),
            BanTarget::User(_) => None,
        })
        .collect()
}

struct PrefixTrie {
    v4: prefix_trie::PrefixMap<Ipv4Net, u32>,
    v6: prefix_trie::PrefixMap<Ipv6Net, u32>,
}

impl PrefixTrie {
    fn new(networks: &[(IpNet, u32)]) -> Self {
        let mut map = Self {
            v4: prefix_trie::PrefixMap::new(),
            v6: prefix_trie::PrefixMap::new(),
        };
        for &(net, number) in networks {
            match net {
                IpNet::V4(net) => {
                    map.v4.entry(net).or_insert(number);
                }
                IpNet::V6(net) => {
                    map.v6.entry(net).or_insert(number);
                }
            }
        }
        map
    }

    fn lookup(&self, ip: IpAddr) -> Option<u32> {
        match ip {
            IpAddr::V4(ip) => self.v4.get_lpm(&Ipv4Net::from(ip)).map(|(_, &n)| n),
            IpAddr::V6(ip) => self.v6.get_lpm(&Ipv6Net::from(ip)).map(|(_, &n)| n),
        }
    }
}

fn network_table(networks: &[(IpNet, u32)]) -> ip_network_table::IpNetworkTable<u32> {
    let mut table = ip_network_table::IpNetworkTable::new();
    // `insert` replaces: insert from the last so the first entry stays.
    for &(net, number) in networks.iter().rev() {
        let converted = match net {
            IpNet::V4(net) => ip_network::Ipv4Network::new(net.network(), net.prefix_len())
                .map(ip_network::IpNetwork::V4)
                .ok(),
            IpNet::V6(net) => ip_network::Ipv6Network::new(net.network(), net.prefix_len())
                .map(ip_network::IpNetwork::V6)
                .ok(),
        };
        if let Some(converted) = converted {
            table.insert(converted, number);
        }
    }
    table
}

struct LcTrie {
    v4: iptrie::map::LCTrieMap<Ipv4Net, u32>,
    v6: iptrie::map::LCTrieMap<Ipv6Net, u32>,
}

impl LcTrie {
    fn new(networks: &[(IpNet, u32)]) -> Self {
        let mut v4 = iptrie::map::RTrieMap::with_root(u32::MAX);
        let mut v6 = iptrie::map::RTrieMap::with_root(u32::MAX);
        for &(net, number) in networks.iter().rev() {
            match net {
                IpNet::V4(net) => {
                    v4.insert(net, number);
                }
                IpNet::V6(net) => {
                    v6.insert(net, number);
                }
            }
        }
        Self {
            v4: v4.compress(),
            v6: v6.compress(),
        }
    }

    fn lookup(&self, ip: IpAddr) -> u32 {
        match ip {
            IpAddr::V4(ip) => *self.v4.lookup(&ip).1,
            IpAddr::V6(ip) => *self.v6.lookup(&ip).1,
        }
    }
}

/// Builds with `build`, returning what it built, the bytes it holds and the time it took.
fn measured<T>(build: impl FnOnce() -> T) -> (T, f64, Duration) {
    let before = live_bytes();
    let start = Instant::now();
    let built = build();
    let took = start.elapsed();
    (built, (live_bytes() - before) as f64, took)
}

/// The printed report: one line per figure.
// A bench program reports to the terminal.
#[allow(clippy::print_stdout)]
fn report(line: &str) {
    println!("{line}");
}

/// Bytes per ban and build times at 1 000 000 entries, for the ban index and
/// each crate, then their lookups side by side.
fn compare(c: &mut Criterion) {
    let bans = bans(LARGE);
    let unique_reasons: usize = {
        let mut reasons: Vec<&str> = bans.entries.iter().map(|e| e.reason.as_str()).collect();
        reasons.sort_unstable();
        reasons.dedup();
        reasons.iter().map(|r| r.len()).sum()
    };
    let now = Utc::now();
    // The copy is made inside the measurement and the list takes it: what
    // stays allocated afterwards is the snapshot alone.
    let before = live_bytes();
    let input = bans.entries.clone();
    let (list, _, took) = measured(|| BanList::with_entries(Arc::new(SystemClock), input));
    let bytes = (live_bytes() - before) as f64;
    let per_ban = bytes / LARGE as f64;
    report(&format!(
        "misery: ban list of {LARGE}: built in {:.0} ms, {per_ban:.1} bytes per ban \
         ({:.1} beyond the {unique_reasons} bytes of unique reason texts; snapshot reports {:.1})",
        took.as_secs_f64() * 1e3,
        (bytes - unique_reasons as f64) / LARGE as f64,
        list.snapshot().heap_bytes() as f64 / LARGE as f64,
    ));
    let networks = misery_networks(&bans.entries, now);
    let (trie, trie_bytes, trie_took) = measured(|| PrefixTrie::new(&networks));
    let (table, table_bytes, table_took) = measured(|| network_table(&networks));
    let (lc, lc_bytes, lc_took) = measured(|| LcTrie::new(&networks));
    for (name, bytes, took) in [
        ("prefix-trie 0.10 PrefixMap", trie_bytes, trie_took),
        ("ip_network_table 0.2 (treebitmap)", table_bytes, table_took),
        ("iptrie 0.11 LCTrieMap", lc_bytes, lc_took),
    ] {
        report(&format!(
            "misery: {name} over the same {} misery networks: built in {:.0} ms, {:.1} bytes per network",
            networks.len(),
            took.as_secs_f64() * 1e3,
            bytes / networks.len() as f64,
        ));
    }

    let sets = probe_sets(&bans, &list);
    let mut group = c.benchmark_group("misery/index_compare_1000000");
    for (probe, ips) in &sets {
        bench_probes(&mut group, BenchmarkId::new("ban_list", probe), ips, |ip| {
            list.is_banned(Some(ip), None, BanKind::Misery)
        });
        bench_probes(
            &mut group,
            BenchmarkId::new("prefix_trie", probe),
            ips,
            |ip| trie.lookup(ip),
        );
        bench_probes(
            &mut group,
            BenchmarkId::new("ip_network_table", probe),
            ips,
            |ip| table.longest_match(ip).map(|(_, &n)| n),
        );
        bench_probes(
            &mut group,
            BenchmarkId::new("iptrie_lctrie", probe),
            ips,
            |ip| lc.lookup(ip),
        );
    }
    group.finish();

    let mut group = c.benchmark_group("misery");
    group.sample_size(10);
    group.sampling_mode(SamplingMode::Flat);
    group.bench_function(BenchmarkId::new("snapshot_build", LARGE), |b| {
        b.iter_batched(
            || bans.entries.clone(),
            |entries| BanSnapshot::at(entries, now),
            BatchSize::PerIteration,
        );
    });
    let snapshot = list.snapshot();
    group.bench_function(BenchmarkId::new("index_rebuild", LARGE), |b| {
        b.iter(|| snapshot.rebuilt_at(now));
    });
    group.finish();
}

/// Loopback addresses next to bans: the clients are 127.0.0.1, .3, .5 and
/// .7; the bans cover .2, .4, .6, .8 and 127.0.1.0/24, so every client's /24
/// holds bans and none covers it.
const NEAR_LOOPBACK_BANS: [&str; 5] = [
    "127.0.0.2/32",
    "127.0.0.4/32",
    "127.0.0.6/32",
    "127.0.0.8/32",
    "127.0.1.0/24",
];

fn client_addresses() -> [IpAddr; 4] {
    [1, 3, 5, 7].map(|last| IpAddr::V4(Ipv4Addr::new(127, 0, 0, last)))
}

/// 1 000 000 realistic bans plus the ones next to the loopback clients.
fn list_near_clients() -> BanList {
    let mut entries = bans(LARGE).entries;
    for (i, text) in NEAR_LOOPBACK_BANS.iter().enumerate() {
        if let Ok(net) = text.parse::<IpNet>() {
            entries.push(BanEntry {
                id: (LARGE + i + 1) as u64,
                target: BanTarget::Network(net),
                kind: BanKind::Misery,
                reason: "next to the bench clients".to_owned(),
                created_by: UserId::from(1_i64),
                created_at: Utc::now(),
                expires_at: None,
            });
        }
    }
    let list = BanList::with_entries(Arc::new(SystemClock), entries);
    for client in client_addresses() {
        if list.is_banned(Some(client), None, BanKind::Misery) {
            fail("set-up", format!("the ban list covers the client {client}"));
        }
    }
    list
}

async fn hello(_request: Request<String>) -> Result<Response<String>, Infallible> {
    Ok(Response::new(String::from("hello")))
}

fn request(client: IpAddr) -> Request<String> {
    let mut request = Request::new(String::new());
    request.extensions_mut().insert(ClientIp::new(client));
    request
}

fn service(c: &mut Criterion) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
    else {
        return;
    };
    let client = IpAddr::V4(Ipv4Addr::new(127, 0, 0, 3));
    let mut group = c.benchmark_group("misery/service_near_bans");
    group.throughput(Throughput::Elements(1));

    // `service_fn` and `Misery` over it are always ready, so the loops call
    // without `poll_ready` to measure only the request path.
    let mut bare = service_fn(hello);
    group.bench_function("bare", |b| {
        b.to_async(&runtime).iter(|| {
            let call = bare.call(request(client));
            async move { black_box(call.await) }
        });
    });

    let Ok(layer) = MiseryLayer::builder(list_near_clients()).build() else {
        return;
    };
    let mut layered = layer.layer(service_fn(hello));
    group.bench_function("with_misery_layer_1m_bans", |b| {
        b.to_async(&runtime).iter(|| {
            let call = layered.call(request(client));
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
    /// Connects to `address` from `source`, a loopback address of its own.
    async fn open(address: SocketAddr, source: IpAddr) -> io::Result<Self> {
        let socket = TcpSocket::new_v4()?;
        socket.bind(SocketAddr::new(source, 0))?;
        let stream: TcpStream = socket.connect(address).await?;
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

/// Opens the keep-alive connections to `address`, one from each client
/// address, and checks each with one request, so connection set-up and
/// first-request costs stay out of the measured batches.
fn connect(runtime: &Runtime, address: SocketAddr) -> io::Result<Vec<Connection>> {
    runtime.block_on(async {
        let mut connections = Vec::with_capacity(CONNECTIONS);
        for source in client_addresses() {
            connections.push(Connection::open(address, source).await?.send(1).await?);
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

/// Throughput of a trivial axum service over loopback HTTP for clients
/// whose addresses sit next to bans, bare and behind `MiseryLayer` holding
/// 1 000 000 bans. Both variants resolve the client IP from the TCP peer in
/// front, as a real deployment must for the layer to work, so the difference
/// between them is the misery layer alone. Five rounds alternate the two, so
/// a change in the machine's load shows in both.
fn loopback(c: &mut Criterion) {
    // Two workers for server and client tasks: the machines this runs on
    // have about two cores, and more threads would only add switching.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|error| fail("tokio runtime", error));

    let misery = MiseryLayer::builder(list_near_clients())
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

    let mut group = c.benchmark_group("misery/loopback_near_bans");
    group.throughput(Throughput::Elements(BATCH as u64));
    // An iteration is a whole batch of about 10 ms or more: flat sampling
    // with fewer samples keeps a run within its measurement time.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    for round in 1..=5 {
        group.bench_function(BenchmarkId::new("bare", round), |b| {
            b.iter_custom(|iters| {
                batches(&runtime, &mut bare_connections, iters)
                    .unwrap_or_else(|error| fail("bare batch", error))
            });
        });
        group.bench_function(BenchmarkId::new("with_misery_layer_1m_bans", round), |b| {
            b.iter_custom(|iters| {
                batches(&runtime, &mut layered_connections, iters)
                    .unwrap_or_else(|error| fail("layered batch", error))
            });
        });
    }
    group.finish();
}

criterion_group!(benches, lookup, compare, service, loopback);
criterion_main!(benches);
