//! A per-address request limit kept in memory (never a database write per request): a
//! fixed one-minute window per client address. Each server keeps its own; behind a proxy
//! the proxy may limit too (see docs/operations.md).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many addresses are remembered before old windows are swept.
const SWEEP_AT: usize = 100_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    windows: Mutex<HashMap<String, (Instant, u32)>>,
}

impl RateLimiter {
    /// `per_minute` requests per address per minute; 0 lifts the limit.
    pub fn new(per_minute: u32) -> Self {
        RateLimiter {
            per_minute,
            windows: Mutex::new(HashMap::new()),
        }
    }

    pub fn per_minute(&self) -> u32 {
        self.per_minute
    }

    /// Count a request from `address`: `Ok(())` when within the limit, or `Err(seconds)`
    /// until the address may ask again.
    pub fn check(&self, address: &str) -> Result<(), u64> {
        if self.per_minute == 0 {
            return Ok(());
        }
        let now = Instant::now();
        let window = Duration::from_secs(60);
        let Ok(mut map) = self.windows.lock() else {
            return Ok(());
        };
        if map.len() >= SWEEP_AT {
            map.retain(|_, (start, _)| now.duration_since(*start) < window);
        }
        let entry = map.entry(address.to_string()).or_insert((now, 0));
        if now.duration_since(entry.0) >= window {
            *entry = (now, 0);
        }
        if entry.1 >= self.per_minute {
            let wait = window.saturating_sub(now.duration_since(entry.0));
            return Err(wait.as_secs().max(1));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_limited_and_others_are_not() {
        let l = RateLimiter::new(3);
        for _ in 0..3 {
            assert!(l.check("192.0.2.1").is_ok());
        }
        let wait = l.check("192.0.2.1").expect_err("the fourth is refused");
        assert!((1..=60).contains(&wait));
        assert!(l.check("192.0.2.2").is_ok());
        let open = RateLimiter::new(0);
        for _ in 0..1000 {
            assert!(open.check("192.0.2.1").is_ok());
        }
    }
}
