//! Lingering close, as nginx and OSS's front ends do it. A connection that ends with
//! part of a request body unread (an error answered before the upload was read) must
//! not simply close: the kernel would reset it, and a client still sending its body
//! may then lose the response it was sent (EPIPE instead of the 403). So the write
//! side is shut down first, and what the client still sends is read and dropped
//! until it closes too, for at most [`MAX_LINGER`] bytes and [`LINGER_TIME`] (with
//! [`LINGER_IDLE`] between reads).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::{Instant, Sleep};

const MAX_LINGER: u64 = 64 * 1024 * 1024;
const LINGER_TIME: Duration = Duration::from_secs(5);
const LINGER_IDLE: Duration = Duration::from_secs(1);

pub struct Lingering<I> {
    inner: I,
    state: State,
}

enum State {
    Open,
    Draining {
        until: Instant,
        idle: Pin<Box<Sleep>>,
        drained: u64,
    },
    Closed,
}

impl<I> Lingering<I> {
    pub fn new(inner: I) -> Self {
        Self {
            inner,
            state: State::Open,
        }
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Lingering<I> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<I: AsyncRead + AsyncWrite + Unpin> AsyncWrite for Lingering<I> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        loop {
            match &mut this.state {
                State::Open => {
                    ready!(Pin::new(&mut this.inner).poll_shutdown(cx))?;
                    this.state = State::Draining {
                        until: Instant::now() + LINGER_TIME,
                        idle: Box::pin(tokio::time::sleep(LINGER_IDLE)),
                        drained: 0,
                    };
                }
                State::Draining {
                    until,
                    idle,
                    drained,
                } => {
                    if idle.as_mut().poll(cx).is_ready()
                        || Instant::now() >= *until
                        || *drained >= MAX_LINGER
                    {
                        this.state = State::Closed;
                        continue;
                    }
                    let mut scratch = [0u8; 16 * 1024];
                    let mut buf = ReadBuf::new(&mut scratch);
                    match Pin::new(&mut this.inner).poll_read(cx, &mut buf) {
                        Poll::Pending => return Poll::Pending,
                        // The client closed too, or the connection failed: done.
                        Poll::Ready(Ok(())) if buf.filled().is_empty() => {
                            this.state = State::Closed
                        }
                        Poll::Ready(Err(_)) => this.state = State::Closed,
                        Poll::Ready(Ok(())) => {
                            *drained += buf.filled().len() as u64;
                            let next = (Instant::now() + LINGER_IDLE).min(*until);
                            idle.as_mut().reset(next);
                        }
                    }
                }
                State::Closed => return Poll::Ready(Ok(())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn shutdown_drains_what_the_peer_still_sends() {
        let (client, server) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server);
        let (mut client_read, mut client_write) = tokio::io::split(client);
        let sender = tokio::spawn(async move {
            // More than the pipe holds: without draining this would block forever.
            for _ in 0..64 {
                client_write.write_all(&[7u8; 1024]).await.unwrap();
            }
            client_write.shutdown().await.unwrap();
        });
        server.write_all(b"403").await.unwrap();
        server.shutdown().await.unwrap();
        sender.await.unwrap();
        let mut got = Vec::new();
        client_read.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"403");
    }

    #[tokio::test]
    async fn a_silent_peer_is_given_up_on() {
        let (_client, server) = tokio::io::duplex(1024);
        let mut server = Lingering::new(server);
        let started = Instant::now();
        server.shutdown().await.unwrap();
        assert!(started.elapsed() >= LINGER_IDLE && started.elapsed() < LINGER_TIME);
    }
}
