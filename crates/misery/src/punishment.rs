//! What happens to a miserable request, and the odds of each outcome.

use rand::{Rng, RngExt};

use crate::MiseryError;

/// The outcome drawn for one miserable request, after its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Punishment {
    /// End the session through the application's [`LogoutHook`](crate::LogoutHook),
    /// then serve the real page.
    Logout,
    /// `403 Forbidden` with an empty body.
    Forbidden,
    /// `404 Not Found` with an empty body.
    NotFound,
    /// `200 OK` with an empty page.
    BlankPage,
    /// The fake server error page (status 200 unless configured).
    FakeErrorPage,
    /// The real page, only late.
    RealPage,
}

/// The percentage of miserable requests that get each outcome; the rest get
/// the real page. Defaults to 10 % each (so 50 % real pages).
///
/// `0` means exactly never: each outcome owns a range of `value` integers in
/// `0..100`, so an empty range can never be drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Percentages {
    /// Log the user out, then serve the real page.
    pub logout: u8,
    /// Respond `403 Forbidden`.
    pub forbidden: u8,
    /// Respond `404 Not Found`.
    pub not_found: u8,
    /// Respond with a blank `200` page.
    pub blank_page: u8,
    /// Respond with the fake error page.
    pub fake_error_page: u8,
}

impl Default for Percentages {
    fn default() -> Self {
        Self {
            logout: 10,
            forbidden: 10,
            not_found: 10,
            blank_page: 10,
            fake_error_page: 10,
        }
    }
}

impl Percentages {
    /// No punishment besides the delay: every miserable request gets the real page.
    pub const NONE: Self = Self {
        logout: 0,
        forbidden: 0,
        not_found: 0,
        blank_page: 0,
        fake_error_page: 0,
    };

    /// The sum of all outcome percentages.
    #[must_use]
    pub fn total(&self) -> u16 {
        self.table().iter().map(|(p, _)| u16::from(*p)).sum()
    }

    /// Checks that the percentages add up to at most 100.
    ///
    /// # Errors
    /// [`MiseryError::PercentagesOverHundred`].
    pub fn validate(self) -> Result<Self, MiseryError> {
        let total = self.total();
        if total > 100 {
            return Err(MiseryError::PercentagesOverHundred { total });
        }
        Ok(self)
    }

    /// Draws one outcome. Percentages must have been [validated](Self::validate);
    /// if they exceed 100 the later outcomes are under-represented.
    pub fn draw<R: Rng + ?Sized>(&self, rng: &mut R) -> Punishment {
        let mut roll = u16::from(rng.random_range(0..100_u8));
        for (percent, punishment) in self.table() {
            let percent = u16::from(percent);
            if roll < percent {
                return punishment;
            }
            roll -= percent;
        }
        Punishment::RealPage
    }

    fn table(self) -> [(u8, Punishment); 5] {
        [
            (self.logout, Punishment::Logout),
            (self.forbidden, Punishment::Forbidden),
            (self.not_found, Punishment::NotFound),
            (self.blank_page, Punishment::BlankPage),
            (self.fake_error_page, Punishment::FakeErrorPage),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::SmallRng;
    use std::collections::HashMap;

    const DRAWS: u32 = 100_000;

    fn shares(percentages: Percentages, seed: u64) -> HashMap<Punishment, f64> {
        let mut rng = SmallRng::seed_from_u64(seed);
        let mut counts: HashMap<Punishment, u32> = HashMap::new();
        for _ in 0..DRAWS {
            *counts.entry(percentages.draw(&mut rng)).or_default() += 1;
        }
        counts
            .into_iter()
            .map(|(k, v)| (k, f64::from(v) * 100.0 / f64::from(DRAWS)))
            .collect()
    }

    #[test]
    fn seeded_distribution_over_100_000_draws_is_within_one_point() {
        let percentages = Percentages {
            logout: 10,
            forbidden: 10,
            not_found: 10,
            blank_page: 10,
            fake_error_page: 10,
        };
        let got = shares(percentages, 7);
        let expected = [
            (Punishment::Logout, 10.0),
            (Punishment::Forbidden, 10.0),
            (Punishment::NotFound, 10.0),
            (Punishment::BlankPage, 10.0),
            (Punishment::FakeErrorPage, 10.0),
            (Punishment::RealPage, 50.0),
        ];
        for (punishment, want) in expected {
            let share = got.get(&punishment).copied().unwrap_or(0.0);
            assert!(
                (share - want).abs() <= 1.0,
                "{punishment:?}: {share} % vs {want} %"
            );
        }
    }

    #[test]
    fn uneven_percentages_are_honoured_within_one_point() {
        let percentages = Percentages {
            logout: 1,
            forbidden: 0,
            not_found: 37,
            blank_page: 2,
            fake_error_page: 60,
        };
        let got = shares(percentages, 99);
        assert!((got[&Punishment::NotFound] - 37.0).abs() <= 1.0);
        assert!((got[&Punishment::FakeErrorPage] - 60.0).abs() <= 1.0);
        assert!((got[&Punishment::Logout] - 1.0).abs() <= 1.0);
        assert!(
            !got.contains_key(&Punishment::Forbidden),
            "0 % must be never"
        );
        assert!(
            !got.contains_key(&Punishment::RealPage),
            "100 % total leaves no real page"
        );
    }

    #[test]
    fn all_zero_percentages_never_punish() {
        let got = shares(Percentages::NONE, 3);
        assert_eq!(got.len(), 1);
        assert_eq!(got.get(&Punishment::RealPage), Some(&100.0));
    }

    #[test]
    fn same_seed_gives_same_sequence() {
        let draw = |seed| {
            let mut rng = SmallRng::seed_from_u64(seed);
            (0..50)
                .map(|_| Percentages::default().draw(&mut rng))
                .collect::<Vec<_>>()
        };
        assert_eq!(draw(11), draw(11));
    }

    #[test]
    fn total_of_101_is_refused() {
        let percentages = Percentages {
            logout: 61,
            ..Percentages::default()
        };
        assert!(matches!(
            percentages.validate(),
            Err(MiseryError::PercentagesOverHundred { total: 101 })
        ));
    }
}
