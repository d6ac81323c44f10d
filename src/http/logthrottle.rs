//! Rate limiting for repeated log lines.
//!
//! Some lines are written once per event a client controls: a failed authentication, a refused
//! connection. Under attack that is hundreds of identical lines a second, which fills disks and
//! buries everything else in the log. A [`Throttle`] lets one line per key through per interval
//! and counts the ones it held back, so the next line that gets through can say how many there
//! were: nothing is hidden, only folded.
//!
//! ```ignore
//! static REFUSED: Throttle = Throttle::per_second();
//! if let Some(suppressed) = REFUSED.allow("authentication failed") {
//!     tracing::warn!(suppressed, "authentication failed");
//! }
//! ```

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// Lets at most one log line per key through per interval, counting the others.
///
/// Keys are `&'static str` (in practice the message itself), so the number of keys is bounded by
/// the program's text and a client cannot grow the table.
#[derive(Debug)]
pub struct Throttle {
    interval: Duration,
    /// Per key: when a line last got through, and how many were held back since.
    seen: Mutex<BTreeMap<&'static str, (Instant, u64)>>,
}

impl Throttle {
    /// One line per key per second. `const`, so a throttle can be a `static` next to the code
    /// that logs.
    pub const fn per_second() -> Throttle {
        Throttle::new(Duration::from_secs(1))
    }

    /// One line per key per `interval`.
    pub const fn new(interval: Duration) -> Throttle {
        Throttle {
            interval,
            seen: Mutex::new(BTreeMap::new()),
        }
    }

    /// Whether a line for `key` may be written now: `Some(n)` when it may, `n` being how many
    /// lines for `key` were held back since the last one written (log it as a field, e.g.
    /// `suppressed = n`); `None` when it must be left out (it is counted for the next one).
    pub fn allow(&self, key: &'static str) -> Option<u64> {
        self.allow_at(key, Instant::now())
    }

    /// [`Throttle::allow`] at a given instant (tests drive the clock).
    fn allow_at(&self, key: &'static str, now: Instant) -> Option<u64> {
        // A panic elsewhere while the lock was held leaves a table that is still consistent (every
        // update is a single assignment), so a poisoned lock is used as it is rather than
        // silencing the log for the rest of the process.
        let mut seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        match seen.get_mut(key) {
            Some((last, held)) if now.saturating_duration_since(*last) < self.interval => {
                *held = held.saturating_add(1);
                None
            }
            Some(entry) => {
                let held = entry.1;
                *entry = (now, 0);
                Some(held)
            }
            None => {
                seen.insert(key, (now, 0));
                Some(0)
            }
        }
    }
}

impl Default for Throttle {
    fn default() -> Self {
        Throttle::per_second()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_per_key_per_interval_with_the_count_held_back() {
        let throttle = Throttle::per_second();
        let start = Instant::now();
        assert_eq!(throttle.allow_at("a", start), Some(0));
        // 800 more within the second: all held back, and another key is not affected.
        for n in 1..=800u64 {
            let at = start + Duration::from_micros(n * 1_000);
            assert_eq!(throttle.allow_at("a", at), None, "line {n}");
        }
        assert_eq!(throttle.allow_at("b", start), Some(0));
        // The next second's first line reports them, and the count starts again.
        let later = start + Duration::from_secs(1);
        assert_eq!(throttle.allow_at("a", later), Some(800));
        assert_eq!(throttle.allow_at("a", later), None);
        assert_eq!(
            throttle.allow_at("a", later + Duration::from_secs(1)),
            Some(1)
        );
    }

    #[test]
    fn a_clock_going_backwards_holds_lines_back_rather_than_panicking() {
        let throttle = Throttle::per_second();
        let start = Instant::now() + Duration::from_secs(5);
        assert_eq!(throttle.allow_at("a", start), Some(0));
        assert_eq!(throttle.allow_at("a", start - Duration::from_secs(3)), None);
    }

    #[test]
    fn a_static_throttle_works_through_the_public_call() {
        static THROTTLE: Throttle = Throttle::per_second();
        assert_eq!(THROTTLE.allow("static"), Some(0));
        assert_eq!(THROTTLE.allow("static"), None);
    }
}
