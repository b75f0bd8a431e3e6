//! A tiny forum where one address range is miserable.
//!
//! Run it:
//!
//! ```text
//! cargo run -p moderation-examples --example forum-misery
//! ```
//!
//! It listens on 127.0.0.1:3000. On Linux every 127.x.y.z address is
//! loopback, so curl can pick its source address:
//!
//! ```text
//! # A normal visitor: the plain page, at once.
//! curl -i http://127.0.0.1:3000/
//! # A visitor from the banned range 127.0.0.2/31: slow, and often broken.
//! curl -i --interface 127.0.0.2 http://127.0.0.1:3000/
//! # The same through the trusted local proxy (127.0.0.1 forwarding for 127.0.0.3).
//! curl -i -H 'X-Forwarded-For: 203.0.113.50, 127.0.0.3' http://127.0.0.1:3000/
//! # A client forging X-Forwarded-For from an untrusted address is ignored.
//! curl -i --interface 127.0.0.5 -H 'X-Forwarded-For: 127.0.0.1' http://127.0.0.1:3000/
//! # Exempt path: never punished.
//! curl -i --interface 127.0.0.2 http://127.0.0.1:3000/health
//! ```
//!
//! The delay is 300-600 ms here (6-12 s by default) so the demo stays quick.

#![allow(clippy::print_stdout)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request};
use axum::response::Html;
use axum::routing::get;
use chrono::Utc;
use http::{HeaderValue, header, request, response};
use moderation_core::{SystemClock, UserId};
use moderation_misery::{
    BanEntry, BanKind, BanList, BanTarget, ClientIp, ClientIpLayer, ClientIpResolver, LogoutHook,
    MiseryLayer, parse_network,
};

/// Ends the visitor's session: the real page is then served as anonymous,
/// with the session cookie cleared.
struct ClearSessionCookie;

impl LogoutHook for ClearSessionCookie {
    fn end_session(&self, request: &mut request::Parts) {
        request.headers.remove(header::COOKIE);
        request.extensions.remove::<UserId>();
    }

    fn on_response(&self, response: &mut response::Parts) {
        response.headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("session=; Max-Age=0; Path=/"),
        );
    }
}

async fn index(request: Request) -> Html<String> {
    let ip = request
        .extensions()
        .get::<ClientIp>()
        .map_or_else(|| "unknown".to_owned(), ToString::to_string);
    Html(format!(
        "<h1>Forum</h1><p>Welcome, visitor from {ip}. Nothing unusual here.</p>\n"
    ))
}

async fn health() -> &'static str {
    "ok\n"
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let bans = BanList::new(Arc::new(SystemClock));
    bans.replace([BanEntry {
        id: 1,
        target: BanTarget::Network(parse_network("127.0.0.2/31")?),
        kind: BanKind::Misery,
        reason: "demo: the troll's network".to_owned(),
        created_by: UserId::from(1_i64),
        created_at: Utc::now(),
        expires_at: None,
    }]);
    let misery = MiseryLayer::builder(bans)
        .delay(Duration::from_millis(300))
        .exempt_path("/health")
        .logout_hook(ClearSessionCookie)
        .build()?;
    // The peer is what axum's `ConnectInfo` recorded for the connection; only
    // the local proxy on 127.0.0.1 may speak for someone else.
    let client_ip = ClientIpLayer::new(
        ClientIpResolver::with_trusted_proxies(["127.0.0.1/32".parse()?]),
        |extensions| {
            extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|ConnectInfo(peer)| peer.ip())
        },
    );

    // Layers run outside in: the resolver first, then misery, then the routes.
    let app = Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .layer(misery)
        .layer(client_ip);

    let address = SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 3000);
    let listener = tokio::net::TcpListener::bind(address).await?;
    println!("forum-misery listening on http://{address}/");
    println!("  normal:    curl -i http://127.0.0.1:3000/");
    println!("  miserable: curl -i --interface 127.0.0.2 http://127.0.0.1:3000/");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}
