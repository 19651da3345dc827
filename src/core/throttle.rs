//! Single-connection bandwidth throttling (OSS `x-oss-traffic-limit`): one stream
//! adapter that paces any byte stream, used for request bodies (uploads) and response
//! bodies (downloads) alike.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::Stream;
use tokio::time::{Instant, Sleep};

/// `inner` paced to `bytes_per_second`. Chunks are cut into pieces worth at most a tenth
/// of a second, and each piece waits (on a timer, never spinning) until the time the
/// pieces before it have paid for. Time spent waiting for the inner stream or the
/// consumer earns no credit, so a stalled transfer does not burst afterwards. Dropping
/// the stream drops the timer: nothing is left running.
pub struct Throttled<S> {
    inner: S,
    bytes_per_second: u64,
    piece: usize,
    /// The rest of the current chunk.
    pending: Bytes,
    /// When the next piece may go.
    next: Instant,
    sleep: Pin<Box<Sleep>>,
}

pub fn throttle<S>(inner: S, bytes_per_second: u64) -> Throttled<S> {
    let bytes_per_second = bytes_per_second.max(1);
    let now = Instant::now();
    Throttled {
        inner,
        bytes_per_second,
        piece: usize::try_from(bytes_per_second / 10)
            .unwrap_or(usize::MAX)
            .max(1),
        pending: Bytes::new(),
        next: now,
        sleep: Box::pin(tokio::time::sleep_until(now)),
    }
}

impl<S, E> Stream for Throttled<S>
where
    S: Stream<Item = Result<Bytes, E>> + Unpin,
{
    type Item = Result<Bytes, E>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        while this.pending.is_empty() {
            match Pin::new(&mut this.inner).poll_next(cx) {
                Poll::Ready(Some(Ok(chunk))) => this.pending = chunk,
                other => return other,
            }
        }
        if this.next > Instant::now() {
            if this.sleep.deadline() != this.next {
                this.sleep.as_mut().reset(this.next);
            }
            if this.sleep.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
        }
        let piece = this.pending.split_to(this.piece.min(this.pending.len()));
        let cost = Duration::from_secs_f64(piece.len() as f64 / this.bytes_per_second as f64);
        this.next = this.next.max(Instant::now()) + cost;
        Poll::Ready(Some(Ok(piece)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::StreamExt;

    fn chunks(sizes: &[usize]) -> impl Stream<Item = Result<Bytes, ()>> + Unpin {
        futures_util::stream::iter(
            sizes
                .iter()
                .map(|&n| Ok(Bytes::from(vec![7u8; n])))
                .collect::<Vec<_>>(),
        )
    }

    #[tokio::test]
    async fn paces_to_the_rate_and_keeps_every_byte() {
        let start = Instant::now();
        // 10 000 bytes/s: 3000 bytes in 1000-byte pieces, the first at once, take 0.2 s.
        let out: Vec<Bytes> = throttle(chunks(&[1000, 0, 2000]), 10_000)
            .map(|r| r.unwrap())
            .collect()
            .await;
        assert_eq!(out.iter().map(Bytes::len).sum::<usize>(), 3000);
        assert!(out.iter().all(|p| p.len() <= 1000));
        let elapsed = start.elapsed();
        assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    }

    #[tokio::test]
    async fn passes_errors_and_the_end_through() {
        let items = vec![Ok(Bytes::from_static(b"ab")), Err("broken")];
        // 10 bytes/s: one-byte pieces, 0.1 s apart.
        let mut s = throttle(futures_util::stream::iter(items), 10);
        assert_eq!(s.next().await, Some(Ok(Bytes::from_static(b"a"))));
        assert_eq!(s.next().await, Some(Ok(Bytes::from_static(b"b"))));
        assert_eq!(s.next().await, Some(Err("broken")));
        assert_eq!(s.next().await, None);
    }
}
