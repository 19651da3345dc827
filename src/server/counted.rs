//! Bodies that count their bytes into the request's [`Exchange`], which logs the
//! request once both bodies are done.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Buf;
use hyper::body::{Body, Frame, SizeHint};

use crate::observe::Exchange;

#[derive(Clone, Copy)]
pub enum Direction {
    Received,
    Sent,
}

pub struct Counted<B> {
    inner: B,
    exchange: Arc<Exchange>,
    direction: Direction,
}

impl<B> Counted<B> {
    pub fn new(inner: B, exchange: Arc<Exchange>, direction: Direction) -> Self {
        Self {
            inner,
            exchange,
            direction,
        }
    }
}

impl<B> Body for Counted<B>
where
    B: Body + Unpin,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let polled = Pin::new(&mut self.inner).poll_frame(cx);
        if let Poll::Ready(Some(Ok(frame))) = &polled
            && let Some(data) = frame.data_ref()
        {
            match self.direction {
                Direction::Received => self.exchange.received(data.remaining()),
                Direction::Sent => self.exchange.sent(data.remaining()),
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
