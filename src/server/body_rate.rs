//! Minimum request-body rate: a body that delivers fewer than `min_rate` bytes per second
//! over a window fails, so a trickling upload cannot hold a connection (and a blob
//! writer) for ever. The failure is reported as OSS `RequestTimeout` by the caller,
//! which sees the shared `tripped` flag.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The rule: at least `min_rate` bytes per second, measured over each `window`.
#[derive(Debug, Clone, Copy)]
pub struct MinRate {
    pub min_rate: u64,
    pub window: Duration,
}

impl MinRate {
    fn needed(&self) -> u64 {
        (self.min_rate as f64 * self.window.as_secs_f64()).ceil() as u64
    }
}

pub struct MinRateBody<B> {
    inner: B,
    rule: MinRate,
    deadline: Pin<Box<Sleep>>,
    received: u64,
    tripped: Arc<AtomicBool>,
}

impl<B> MinRateBody<B> {
    pub fn new(inner: B, rule: MinRate, tripped: Arc<AtomicBool>) -> Self {
        Self {
            inner,
            rule,
            deadline: Box::pin(tokio::time::sleep(rule.window)),
            received: 0,
            tripped,
        }
    }
}

/// The error a too-slow body ends with.
#[derive(Debug, thiserror::Error)]
#[error("the request body arrived slower than {0} bytes per second")]
pub struct TooSlow(u64);

impl<B> Body for MinRateBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len() as u64;
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(Into::into))),
            // Time counts only while waiting on the client, never while the handler is
            // busy elsewhere: the window is checked when its deadline fires during a wait.
            Poll::Pending => {
                if this.deadline.as_mut().poll(cx).is_pending() {
                    return Poll::Pending;
                }
                if this.received < this.rule.needed() {
                    this.tripped.store(true, Ordering::Release);
                    return Poll::Ready(Some(Err(Box::new(TooSlow(this.rule.min_rate)))));
                }
                this.received = 0;
                let next = Instant::now() + this.rule.window;
                this.deadline.as_mut().reset(next);
                // Register the new deadline's waker.
                let _ = this.deadline.as_mut().poll(cx);
                Poll::Pending
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::{BodyExt, StreamBody};

    fn rule() -> MinRate {
        MinRate {
            min_rate: 1000,
            window: Duration::from_millis(200),
        }
    }

    #[tokio::test]
    async fn a_trickle_fails_and_trips_the_flag() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(50)).await;
                if tx
                    .send(Ok(Frame::data(Bytes::from_static(b"x"))))
                    .await
                    .is_err()
                {
                    break;
                }
            }
        });
        let tripped = Arc::new(AtomicBool::new(false));
        let body = MinRateBody::new(
            StreamBody::new(tokio_stream_from(rx)),
            rule(),
            tripped.clone(),
        );
        assert!(body.collect().await.is_err());
        assert!(tripped.load(Ordering::Acquire));
    }

    #[tokio::test]
    async fn a_steady_body_passes() {
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        tokio::spawn(async move {
            for _ in 0..10 {
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = tx.send(Ok(Frame::data(Bytes::from(vec![0; 100])))).await;
            }
        });
        let tripped = Arc::new(AtomicBool::new(false));
        let body = MinRateBody::new(
            StreamBody::new(tokio_stream_from(rx)),
            rule(),
            tripped.clone(),
        );
        let bytes = body.collect().await.unwrap().to_bytes();
        assert_eq!(bytes.len(), 1000);
        assert!(!tripped.load(Ordering::Acquire));
    }

    fn tokio_stream_from<T>(
        mut rx: tokio::sync::mpsc::Receiver<T>,
    ) -> impl futures_util::Stream<Item = T> {
        futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
    }
}
