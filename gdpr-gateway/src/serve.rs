//! Serving the gateway's router on a TCP listener, in plain HTTP or TLS.
//!
//! Both set `TCP_NODELAY` on every accepted connection: a WADO-RS answer
//! is relayed in many writes, and with Nagle's algorithm on, the last
//! small write of an answer waits for the client's delayed ACK (up to
//! 40 ms on Linux) — that alone cost the gateway almost half its WADO
//! throughput (docs/gateway.md, Benchmark).

use std::future::Future;
use std::sync::Arc;

use axum::serve::ListenerExt as _;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_service::Service as _;

use crate::tls::ClientCertificate;

/// Serves `router` in plain HTTP on `listener` until `shutdown` completes,
/// then lets open requests finish.
///
/// # Errors
/// An I/O error of the listener.
pub async fn plain(
    listener: TcpListener,
    router: axum::Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let listener = listener.tap_io(|tcp| {
        let _ = tcp.set_nodelay(true);
    });
    axum::serve(listener, router)
        .with_graceful_shutdown(shutdown)
        .await
}

/// Serves `router` over TLS (HTTP/1.1) on `listener` until `shutdown`
/// completes, then lets open connections finish their requests. Each
/// request carries the connection's verified [`ClientCertificate`] as an
/// extension when the client presented one.
///
/// # Errors
/// Never for a failed handshake (that connection is dropped); an I/O
/// error only if accepting fails for good.
pub async fn tls(
    listener: TcpListener,
    router: axum::Router,
    config: Arc<rustls::ServerConfig>,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    tokio::pin!(shutdown);
    loop {
        let (tcp, _) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                // A transient accept error (too many open files): go on.
                Err(_) => continue,
            },
        };
        let _ = tcp.set_nodelay(true);
        let (acceptor, router, stop) = (acceptor.clone(), router.clone(), stop_rx.clone());
        connections.spawn(connection(acceptor, tcp, router, stop));
        while connections.try_join_next().is_some() {}
    }
    let _ = stop_tx.send(true);
    while connections.join_next().await.is_some() {}
    Ok(())
}

async fn connection(
    acceptor: tokio_rustls::TlsAcceptor,
    tcp: tokio::net::TcpStream,
    router: axum::Router,
    mut stop: watch::Receiver<bool>,
) {
    let handshake = tokio::time::timeout(std::time::Duration::from_secs(10), acceptor.accept(tcp));
    let Ok(Ok(stream)) = handshake.await else {
        return;
    };
    let client = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .and_then(ClientCertificate::of);
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        let mut request = request.map(axum::body::Body::new);
        if let Some(client) = &client {
            request.extensions_mut().insert(client.clone());
        }
        let mut router = router.clone();
        async move { router.call(request).await }
    });
    let conn =
        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    tokio::select! {
        _ = conn.as_mut() => {}
        () = async { let _ = stop.wait_for(|s| *s).await.is_ok(); } => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}
