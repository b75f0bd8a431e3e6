//! The tower layer end to end: pass-through, punishments, delay, cap, exemptions.

// The request and ban fixtures below are shared by the tests; clippy.toml's
// test allowances only cover `#[test]` functions themselves.
#![allow(clippy::unwrap_used)]

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use chrono::Utc;
use futures::FutureExt;
use http::{Request, Response, StatusCode};
use moderation_core::http::ClientIp;
use moderation_core::{Actor, SystemClock, UserId};
use moderation_misery::{
    BanEntry, BanKind, BanList, BanTarget, FAKE_ERROR_PAGE, MiseryError, MiseryLayer, Percentages,
    parse_network,
};
use rand::SeedableRng;
use rand::rngs::SmallRng;
use tower::{Layer, Service, ServiceExt, service_fn};

const BANNED: &str = "203.0.113.7";
const NORMAL: &str = "198.51.100.1";

fn bans() -> BanList {
    BanList::with_entries(
        Arc::new(SystemClock),
        [BanEntry {
            id: 1,
            target: BanTarget::Network(parse_network("203.0.113.0/24").unwrap()),
            kind: BanKind::Misery,
            reason: "flooding".to_owned(),
            created_by: UserId::from(1_i64),
            created_at: Utc::now(),
            expires_at: None,
        }],
    )
}

fn request(ip: &str, path: &str) -> Request<String> {
    let mut request = Request::builder().uri(path).body(String::new()).unwrap();
    request
        .extensions_mut()
        .insert(ClientIp::new(ip.parse().unwrap()));
    request
}

async fn real_page(request: Request<String>) -> Result<Response<String>, Infallible> {
    let who = match request.extensions().get::<UserId>() {
        Some(user) => format!("hello {}", user.as_str()),
        None => "hello".to_owned(),
    };
    Ok(Response::new(who))
}

fn only(percentages: Percentages) -> moderation_misery::MiseryBuilder {
    MiseryLayer::builder(bans())
        .percentages(percentages)
        .delay(Duration::from_secs(6))
        .rng(SmallRng::seed_from_u64(1))
}

#[tokio::test(start_paused = true)]
async fn not_banned_client_passes_through_at_once() {
    let layer = only(Percentages {
        forbidden: 100,
        ..Percentages::NONE
    })
    .build()
    .unwrap();
    let service = layer.layer(service_fn(real_page));
    let response = service
        .oneshot(request(NORMAL, "/"))
        .now_or_never()
        .expect("a not-banned request is never delayed")
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "hello");
}

#[test]
fn percentages_over_100_are_a_build_error() {
    let err = only(Percentages {
        logout: 61,
        ..Percentages::default()
    })
    .build()
    .unwrap_err();
    assert!(matches!(
        err,
        MiseryError::PercentagesOverHundred { total: 101 }
    ));
    assert!(err.to_string().contains("101"));
}

#[tokio::test(start_paused = true)]
async fn delay_is_uniform_between_s_and_2s_and_blocks_no_thread() {
    let layer = only(Percentages::NONE).build().unwrap();
    let mut service = layer.layer(service_fn(real_page));
    // A task that ticks during the delay: on this single-threaded runtime it
    // can only make progress if the delay does not block the thread.
    let ticks = Arc::new(AtomicUsize::new(0));
    let ticker = tokio::spawn({
        let ticks = Arc::clone(&ticks);
        async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                ticks.fetch_add(1, Ordering::Relaxed);
            }
        }
    });
    let wall = std::time::Instant::now();
    for _ in 0..20 {
        let started = tokio::time::Instant::now();
        let response = service
            .ready()
            .await
            .unwrap()
            .call(request(BANNED, "/"))
            .await
            .unwrap();
        let waited = started.elapsed();
        assert_eq!(
            response.body(),
            "hello",
            "0 % everywhere serves the real page"
        );
        assert!(waited >= Duration::from_secs(6), "{waited:?}");
        assert!(waited <= Duration::from_secs(12), "{waited:?}");
    }
    assert!(
        ticks.load(Ordering::Relaxed) >= 20 * 12,
        "the ticker ran during the delays"
    );
    // The bound: 20 delays of at least 6 s took no real time to speak of.
    assert!(wall.elapsed() < Duration::from_secs(120));
    ticker.abort();
}

#[tokio::test(start_paused = true)]
async fn all_zero_percentages_never_punish() {
    let layer = only(Percentages::NONE).build().unwrap();
    let mut service = layer.layer(service_fn(real_page));
    for _ in 0..500 {
        let response = service
            .ready()
            .await
            .unwrap()
            .call(request(BANNED, "/"))
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        assert_eq!(response.body(), "hello");
    }
}

#[tokio::test(start_paused = true)]
async fn each_outcome_serves_its_response() {
    let cases = [
        (
            Percentages {
                forbidden: 100,
                ..Percentages::NONE
            },
            StatusCode::FORBIDDEN,
            "",
        ),
        (
            Percentages {
                not_found: 100,
                ..Percentages::NONE
            },
            StatusCode::NOT_FOUND,
            "",
        ),
        (
            Percentages {
                blank_page: 100,
                ..Percentages::NONE
            },
            StatusCode::OK,
            "",
        ),
        (
            Percentages {
                fake_error_page: 100,
                ..Percentages::NONE
            },
            StatusCode::OK,
            FAKE_ERROR_PAGE,
        ),
    ];
    for (percentages, status, body) in cases {
        let service = only(percentages)
            .build()
            .unwrap()
            .layer(service_fn(real_page));
        let response = service.oneshot(request(BANNED, "/")).await.unwrap();
        assert_eq!(response.status(), status);
        assert_eq!(response.body(), body);
    }
    assert!(FAKE_ERROR_PAGE.contains("Server Error in '/' Application."));
}

#[tokio::test(start_paused = true)]
async fn logout_calls_the_hook_then_serves_the_real_page() {
    let calls = Arc::new(AtomicUsize::new(0));
    let layer = only(Percentages {
        logout: 100,
        ..Percentages::NONE
    })
    .logout_hook({
        let calls = Arc::clone(&calls);
        move |parts: &mut http::request::Parts| {
            calls.fetch_add(1, Ordering::Relaxed);
            parts.extensions.remove::<UserId>();
        }
    })
    .build()
    .unwrap();
    let service = layer.layer(service_fn(real_page));
    let mut banned = request(BANNED, "/");
    banned.extensions_mut().insert(UserId::from(42_i64));
    let response = service.oneshot(banned).await.unwrap();
    assert_eq!(calls.load(Ordering::Relaxed), 1);
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.body(), "hello", "the real page, seen as anonymous");
}

#[tokio::test(start_paused = true)]
async fn concurrency_cap_answers_at_once_beyond_the_limit() {
    let layer = only(Percentages::NONE).max_delayed(2).build().unwrap();
    let service = layer.layer(service_fn(real_page));
    let mut pending = Vec::new();
    let mut immediate = Vec::new();
    for _ in 0..5 {
        let mut future = Box::pin(service.clone().oneshot(request(BANNED, "/")));
        match (&mut future).now_or_never() {
            Some(response) => immediate.push(response.unwrap()),
            None => pending.push(future),
        }
    }
    assert_eq!(pending.len(), 2, "two requests wait out their delay");
    assert_eq!(immediate.len(), 3, "the rest are answered at once");
    for response in &immediate {
        let error = response.status() != StatusCode::OK || response.body() == FAKE_ERROR_PAGE;
        assert!(
            error,
            "over the cap gets an error outcome, not the real page"
        );
    }
    for future in pending {
        assert_eq!(future.await.unwrap().body(), "hello");
    }
    // The slots are free again once the delays are over.
    let mut next = Box::pin(service.oneshot(request(BANNED, "/")));
    assert!(
        (&mut next).now_or_never().is_none(),
        "delayed again, not refused"
    );
    assert_eq!(next.await.unwrap().body(), "hello");
}

#[tokio::test(start_paused = true)]
async fn exempt_paths_and_staff_pass_untouched() {
    let layer = only(Percentages {
        forbidden: 100,
        ..Percentages::NONE
    })
    .exempt_path("/health")
    .exempt_group("moderators")
    .build()
    .unwrap();
    let service = layer.layer(service_fn(real_page));

    let health = service
        .clone()
        .oneshot(request(BANNED, "/health/live"))
        .now_or_never();
    assert_eq!(health.expect("not delayed").unwrap().body(), "hello");

    let mut staff = request(BANNED, "/");
    staff
        .extensions_mut()
        .insert(Actor::user(UserId::from(5_i64)).with_staff(true));
    let staff = service.clone().oneshot(staff).now_or_never();
    assert_eq!(staff.expect("not delayed").unwrap().body(), "hello");

    let mut moderator = request(BANNED, "/");
    moderator
        .extensions_mut()
        .insert(Actor::user(UserId::from(6_i64)).with_group("moderators"));
    let moderator = service.clone().oneshot(moderator).now_or_never();
    assert_eq!(moderator.expect("not delayed").unwrap().body(), "hello");

    let other = service.oneshot(request(BANNED, "/")).await.unwrap();
    assert_eq!(other.status(), StatusCode::FORBIDDEN);
}

#[tokio::test(start_paused = true)]
async fn banned_user_id_is_miserable_from_any_address() {
    let bans = BanList::with_entries(
        Arc::new(SystemClock),
        [BanEntry {
            id: 2,
            target: BanTarget::User(UserId::from(77_i64)),
            kind: BanKind::Misery,
            reason: "troll".to_owned(),
            created_by: UserId::from(1_i64),
            created_at: Utc::now(),
            expires_at: None,
        }],
    );
    let layer = MiseryLayer::builder(bans)
        .percentages(Percentages {
            not_found: 100,
            ..Percentages::NONE
        })
        .build()
        .unwrap();
    let service = layer.layer(service_fn(real_page));
    let mut troll = request(NORMAL, "/");
    troll.extensions_mut().insert(UserId::from(77_i64));
    assert_eq!(
        service.clone().oneshot(troll).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
    let mut via_actor = request(NORMAL, "/");
    via_actor
        .extensions_mut()
        .insert(Actor::user(UserId::from(77_i64)));
    assert_eq!(
        service.oneshot(via_actor).await.unwrap().status(),
        StatusCode::NOT_FOUND
    );
}
