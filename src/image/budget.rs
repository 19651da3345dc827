//! The time budget and cancellation of one request, polled between steps and inside
//! long steps (blur and sharpen rows, animation frames).

use super::error::ImageError;
use super::limits::Limits;
use std::time::{Duration, Instant};

/// A deadline (`[image] max_time_ms` from the start of the work) and a cancellation
/// check supplied by the caller (the API: "the client has gone").
pub struct Budget<'a> {
    deadline: Instant,
    max_time_ms: u64,
    cancelled: &'a dyn Fn() -> bool,
}

impl<'a> Budget<'a> {
    /// Start the clock now.
    pub fn new(limits: &Limits, cancelled: &'a dyn Fn() -> bool) -> Self {
        Budget {
            deadline: Instant::now() + Duration::from_millis(limits.max_time_ms),
            max_time_ms: limits.max_time_ms,
            cancelled,
        }
    }

    /// No cancellation and a day of time.
    #[cfg(test)]
    pub fn unlimited() -> Budget<'static> {
        fn never() -> bool {
            false
        }
        Budget {
            deadline: Instant::now() + Duration::from_secs(86_400),
            max_time_ms: 86_400_000,
            cancelled: &never,
        }
    }

    /// An error once the request was cancelled or ran out of time.
    pub fn check(&self) -> Result<(), ImageError> {
        if (self.cancelled)() {
            return Err(ImageError::bad_request(
                "The request was cancelled: the client closed the connection.",
            ));
        }
        if Instant::now() >= self.deadline {
            // Like the other work limits a 400: the spec asks for more than the server
            // spends on one request; retrying it unchanged does not help.
            return Err(ImageError::too_large(format!(
                "Processing took longer than {} ms, the limit per request ([image] max_time_ms).",
                self.max_time_ms
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    #[test]
    fn cancel_and_deadline() {
        let limits = Limits::default();
        assert!(Budget::new(&limits, &|| false).check().is_ok());
        let gone = Cell::new(false);
        let check = || gone.get();
        let b = Budget::new(&limits, &check);
        assert!(b.check().is_ok());
        gone.set(true);
        assert!(b.check().unwrap_err().message.contains("cancelled"));
        let none = Limits {
            max_time_ms: 0,
            ..Limits::default()
        };
        let e = Budget::new(&none, &|| false).check().unwrap_err();
        assert_eq!((e.status, e.code), (400, "ImageTooLarge"));
        assert!(e.message.contains("[image] max_time_ms"), "{}", e.message);
    }
}
