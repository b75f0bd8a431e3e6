//! Hard bans (SPEC F9): refuse users by name, e-mail or network, at sign-up
//! or always.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use ipnet::IpNet;

use crate::pattern::BanPattern;

/// What a hard ban checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HardBanRule {
    /// The username.
    Username(BanPattern),
    /// The e-mail address.
    Email(BanPattern),
    /// The client address: a real CIDR instead of Misago's `83.*` text
    /// patterns. Build it with [`parse_network`](crate::parse_network).
    Network(IpNet),
}

/// One hard ban, with what the user and what staff are told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HardBan {
    /// The store's id for the ban.
    pub id: u64,
    /// What it checks.
    pub rule: HardBanRule,
    /// Shown to the banned user.
    pub user_message: Option<String>,
    /// Shown to staff only.
    pub staff_message: Option<String>,
    /// When the ban was created; the newest matching ban wins.
    pub created_at: DateTime<Utc>,
    /// When it stops applying; `None` for never.
    pub expires_at: Option<DateTime<Utc>>,
    /// Blocks sign-up only; signed-in users are not affected.
    pub registration_only: bool,
}

impl HardBan {
    /// Whether the ban applies at `now`.
    #[must_use]
    pub fn is_active(&self, now: DateTime<Utc>) -> bool {
        self.expires_at.is_none_or(|end| now < end)
    }

    fn matches(&self, who: &Applicant<'_>) -> bool {
        match &self.rule {
            HardBanRule::Username(pattern) => {
                who.username.is_some_and(|name| pattern.matches(name))
            }
            HardBanRule::Email(pattern) => who.email.is_some_and(|email| pattern.matches(email)),
            HardBanRule::Network(net) => who.ip.is_some_and(|ip| net.contains(&ip.to_canonical())),
        }
    }
}

/// The facts a hard ban is checked against; leave out what is unknown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applicant<'a> {
    /// The username.
    pub username: Option<&'a str>,
    /// The e-mail address.
    pub email: Option<&'a str>,
    /// The resolved client address.
    pub ip: Option<IpAddr>,
}

/// When a hard ban is checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Stage {
    /// A sign-up: every ban applies.
    Registration,
    /// A signed-in request or a sign-in: registration-only bans do not apply.
    SignedIn,
}

/// A set of hard bans.
#[derive(Debug, Clone, Default)]
pub struct HardBans {
    bans: Vec<HardBan>,
}

impl HardBans {
    /// A set holding `bans`.
    #[must_use]
    pub fn new(bans: impl IntoIterator<Item = HardBan>) -> Self {
        Self {
            bans: bans.into_iter().collect(),
        }
    }

    /// Adds a ban.
    pub fn push(&mut self, ban: HardBan) {
        self.bans.push(ban);
    }

    /// The ban that refuses `who` at `stage`, if any: among the active
    /// matching bans, the newest one, whose messages are the ones shown.
    #[must_use]
    pub fn check(&self, who: &Applicant<'_>, stage: Stage, now: DateTime<Utc>) -> Option<&HardBan> {
        let found = self
            .bans
            .iter()
            .filter(|ban| stage == Stage::Registration || !ban.registration_only)
            .filter(|ban| ban.is_active(now) && ban.matches(who))
            .max_by_key(|ban| (ban.created_at, ban.id));
        if let Some(ban) = found {
            tracing::info!(ban = ban.id, ?stage, "hard ban matched");
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_network;
    use chrono::{Duration, TimeZone};

    fn noon() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 3, 1, 12, 0, 0).unwrap()
    }

    fn ban(id: u64, rule: HardBanRule, age_days: i64) -> HardBan {
        HardBan {
            id,
            rule,
            user_message: Some(format!("banned by rule {id}")),
            staff_message: Some(format!("staff note {id}")),
            created_at: noon() - Duration::days(age_days),
            expires_at: None,
            registration_only: false,
        }
    }

    fn name(n: &str) -> Applicant<'_> {
        Applicant {
            username: Some(n),
            ..Applicant::default()
        }
    }

    fn from_ip(ip: &str) -> Applicant<'static> {
        Applicant {
            ip: Some(ip.parse().unwrap()),
            ..Applicant::default()
        }
    }

    #[test]
    fn username_wildcard_u_star_r_cases() {
        let bans = HardBans::new([ban(
            1,
            HardBanRule::Username(BanPattern::new("u*r").unwrap()),
            1,
        )]);
        assert!(bans.check(&name("User"), Stage::SignedIn, noon()).is_some());
        assert!(
            bans.check(&name("UserOther"), Stage::SignedIn, noon())
                .is_some()
        );
        assert!(
            bans.check(&name("NewUser"), Stage::SignedIn, noon())
                .is_none()
        );
    }

    #[test]
    fn cidr_83_slash_8_covers_83_1_2_3_not_183_1_2_3() {
        let bans = HardBans::new([ban(
            1,
            HardBanRule::Network(parse_network("83.0.0.0/8").unwrap()),
            1,
        )]);
        assert!(
            bans.check(&from_ip("83.1.2.3"), Stage::SignedIn, noon())
                .is_some()
        );
        assert!(
            bans.check(&from_ip("::ffff:83.1.2.3"), Stage::SignedIn, noon())
                .is_some()
        );
        assert!(
            bans.check(&from_ip("183.1.2.3"), Stage::SignedIn, noon())
                .is_none()
        );
    }

    #[test]
    fn registration_only_bans_block_sign_up_not_signed_in_use() {
        let mut only_signup = ban(
            1,
            HardBanRule::Email(BanPattern::new("*@spam.example").unwrap()),
            1,
        );
        only_signup.registration_only = true;
        let bans = HardBans::new([only_signup]);
        let who = Applicant {
            email: Some("eve@spam.example"),
            ..Applicant::default()
        };
        assert!(bans.check(&who, Stage::Registration, noon()).is_some());
        assert!(bans.check(&who, Stage::SignedIn, noon()).is_none());
    }

    #[test]
    fn newest_matching_ban_wins() {
        let bans = HardBans::new([
            ban(
                1,
                HardBanRule::Username(BanPattern::new("troll*").unwrap()),
                30,
            ),
            ban(
                2,
                HardBanRule::Network(parse_network("203.0.113.0/24").unwrap()),
                2,
            ),
            ban(
                3,
                HardBanRule::Username(BanPattern::new("trollface").unwrap()),
                10,
            ),
        ]);
        let who = Applicant {
            username: Some("TrollFace"),
            ip: Some("203.0.113.9".parse().unwrap()),
            ..Applicant::default()
        };
        let found = bans.check(&who, Stage::SignedIn, noon()).unwrap();
        assert_eq!(found.id, 2);
        assert_eq!(found.user_message.as_deref(), Some("banned by rule 2"));
        assert_eq!(found.staff_message.as_deref(), Some("staff note 2"));
    }

    #[test]
    fn expired_hard_bans_never_match() {
        let mut expired = ban(
            1,
            HardBanRule::Username(BanPattern::new("spammer").unwrap()),
            5,
        );
        expired.expires_at = Some(noon());
        let bans = HardBans::new([expired]);
        assert!(
            bans.check(&name("spammer"), Stage::Registration, noon())
                .is_none()
        );
        assert!(
            bans.check(
                &name("spammer"),
                Stage::Registration,
                noon() - Duration::seconds(1)
            )
            .is_some()
        );
    }
}
