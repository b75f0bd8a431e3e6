//! Misery benches: the not-banned ban-list lookup at growing list sizes, and
//! a trivial tower service with and without `MiseryLayer` for a client that
//! is not banned (in-process `Service::call`, no sockets).
//!
//! ```text
//! cargo bench -p moderation-benches --bench misery
//! ```

#![allow(missing_docs)]

use std::convert::Infallible;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

use chrono::Utc;
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use http::{Request, Response};
use ipnet::{IpNet, Ipv4Net};
use moderation_core::{SystemClock, UserId};
use moderation_misery::{BanEntry, BanKind, BanList, BanTarget, ClientIp, MiseryLayer};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};
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

criterion_group!(benches, lookup, service);
criterion_main!(benches);
