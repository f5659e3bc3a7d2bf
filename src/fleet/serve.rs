//! `--serve ADDR`: an HTTP exporter of `/metrics` (and a landing page at
//! `/`) on hyper, chosen over a smaller server because it bounds what a
//! client may cost: the request head is limited in size (431 past it)
//! and in time (the connection is dropped), and connections are counted.
//!
//! One scan at a time: a scrape that arrives while a scan runs waits for
//! that scan's result rather than start another, and a result younger
//! than the cache age is served again. The scan itself is bounded by `-S`
//! (a stat on a stuck NFS or FUSE mount is given up), so a scrape is too.

use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

type Body = http_body_util::Full<Bytes>;

/// The largest request head read: Prometheus sends a few hundred bytes.
/// (hyper's smallest buffer limit.)
const MAX_REQUEST_HEAD: usize = 8192;
/// How long a client may take to send its request head.
pub(crate) const REQUEST_HEAD_TIME: Duration = Duration::from_secs(5);
/// Clients served at once; more wait in the listen queue.
const MAX_CONNECTIONS: usize = 64;
/// How long in-flight scrapes may finish after SIGTERM.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(3);

const TEXT_FORMAT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A scan producing the exposition text, or the error that stopped it.
pub(crate) type ScanFn = Box<dyn Fn() -> Result<String, String> + Send + Sync>;

#[derive(Default)]
struct ScanState {
    running: bool,
    /// Bumped when a scan ends: waiters know theirs is done.
    generation: u64,
    latest: Option<(Instant, Result<Arc<String>, String>)>,
    scans: u64,
    failures: u64,
}

/// One scan at a time, its result shared and reused while young.
pub(crate) struct SharedScan {
    scan: ScanFn,
    max_age: Duration,
    state: Mutex<ScanState>,
    done: Condvar,
}

impl SharedScan {
    pub(crate) fn new(scan: ScanFn, max_age: Duration) -> SharedScan {
        SharedScan {
            scan,
            max_age,
            state: Mutex::new(ScanState::default()),
            done: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, ScanState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A result young enough, the one of the scan in progress, or a new
    /// scan's.
    pub(crate) fn get(&self) -> Result<Arc<String>, String> {
        let mut state = self.lock();
        if let Some((at, Ok(text))) = &state.latest {
            if at.elapsed() < self.max_age {
                return Ok(Arc::clone(text));
            }
        }
        if state.running {
            let generation = state.generation;
            while state.running && state.generation == generation {
                state = self
                    .done
                    .wait(state)
                    .unwrap_or_else(PoisonError::into_inner);
            }
            if let Some((_, result)) = &state.latest {
                return result.clone();
            }
        }
        state.running = true;
        drop(state);
        // A panic in the scan must not leave every later scrape waiting.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| (self.scan)()))
            .unwrap_or_else(|_| Err("the scan failed unexpectedly".to_string()))
            .map(Arc::new);
        let mut state = self.lock();
        state.running = false;
        state.generation += 1;
        state.scans += 1;
        if result.is_err() {
            state.failures += 1;
        }
        state.latest = Some((Instant::now(), result.clone()));
        self.done.notify_all();
        result
    }

    /// The exporter's own counters, in the exposition format.
    fn own_metrics(&self) -> String {
        let state = self.lock();
        format!(
            "# HELP rlsof_exporter_scans_total Scans the exporter has made.\n\
             # TYPE rlsof_exporter_scans_total counter\n\
             rlsof_exporter_scans_total {}\n\
             # HELP rlsof_exporter_scan_failures_total Scans that failed.\n\
             # TYPE rlsof_exporter_scan_failures_total counter\n\
             rlsof_exporter_scan_failures_total {}\n",
            state.scans, state.failures
        )
    }
}

/// Binds `addr` now, so that a port in use or an address not on this
/// machine is an error before anything else.
pub(crate) fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, String> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| format!("--serve {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("--serve {addr}: {e}"))?;
    Ok(listener)
}

/// Serves until SIGTERM or SIGINT; Err(message) when it cannot start.
pub(crate) fn serve(listener: std::net::TcpListener, shared: SharedScan) -> Result<(), String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the HTTP server: {e}"))?;
    let shared = Arc::new(shared);
    let result = runtime.block_on(accept_until_stopped(listener, shared));
    // Scans still running are left to finish on their own thread; the
    // process exits without waiting for them.
    runtime.shutdown_timeout(Duration::from_millis(100));
    result
}

async fn accept_until_stopped(
    listener: std::net::TcpListener,
    shared: Arc<SharedScan>,
) -> Result<(), String> {
    use tokio::signal::unix::{signal, SignalKind};
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| e.to_string())?;
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut interrupt = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    let slots = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
    loop {
        let permit = tokio::select! {
            permit = Arc::clone(&slots).acquire_owned() => permit.map_err(|e| e.to_string())?,
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
        };
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = term.recv() => break,
            _ = interrupt.recv() => break,
        };
        let Ok((stream, _)) = accepted else {
            // Out of descriptors, or a connection reset before accept:
            // pause a little rather than spin.
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        let shared = Arc::clone(&shared);
        tokio::spawn(async move {
            let service = service_fn(move |request| respond(request, Arc::clone(&shared)));
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(REQUEST_HEAD_TIME)
                .max_buf_size(MAX_REQUEST_HEAD)
                .serve_connection(TokioIo::new(stream), service);
            let _ = connection.await;
            drop(permit);
        });
    }
    // Let scrapes in flight finish, for a moment.
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, slots.acquire_many(MAX_CONNECTIONS as u32)).await;
    Ok(())
}

fn reply(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<Body> {
    let mut response = Response::new(Body::new(body.into()));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

const LANDING: &str = "<!DOCTYPE html>\n<html><head><title>rlsof exporter</title></head>\n\
<body><h1>rlsof exporter</h1>\n\
<p>Open files, descriptor limits, inotify, deleted-but-open space and listening sockets \
of this machine.</p>\n<p><a href=\"/metrics\">Metrics</a></p>\n</body></html>\n";

async fn respond(
    request: Request<Incoming>,
    shared: Arc<SharedScan>,
) -> Result<Response<Body>, Infallible> {
    let path = request.uri().path();
    if path != "/" && path != "/metrics" {
        return Ok(reply(StatusCode::NOT_FOUND, "text/plain", "not found\n"));
    }
    if request.method() != Method::GET {
        let mut response = reply(StatusCode::METHOD_NOT_ALLOWED, "text/plain", "only GET\n");
        response
            .headers_mut()
            .insert(hyper::header::ALLOW, HeaderValue::from_static("GET"));
        return Ok(response);
    }
    if path == "/" {
        return Ok(reply(StatusCode::OK, "text/html; charset=utf-8", LANDING));
    }
    let scanned = {
        let shared = Arc::clone(&shared);
        tokio::task::spawn_blocking(move || shared.get()).await
    };
    Ok(match scanned {
        Ok(Ok(text)) => {
            let mut body = String::with_capacity(text.len() + 512);
            body.push_str(&text);
            body.push_str(&shared.own_metrics());
            reply(StatusCode::OK, TEXT_FORMAT, body)
        }
        Ok(Err(message)) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            format!("scan failed: {message}\n"),
        ),
        Err(_) => reply(
            StatusCode::INTERNAL_SERVER_ERROR,
            "text/plain",
            "scan failed\n",
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn concurrent_requests_share_one_scan() {
        let count = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&count);
        let shared = Arc::new(SharedScan::new(
            Box::new(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(200));
                Ok("x 1\n".to_string())
            }),
            Duration::ZERO,
        ));
        let threads: Vec<_> = (0..4)
            .map(|_| {
                let shared = Arc::clone(&shared);
                std::thread::spawn(move || shared.get())
            })
            .collect();
        for t in threads {
            assert_eq!(t.join().unwrap().unwrap().as_str(), "x 1\n");
        }
        // The first scan, and at most one more for those that came after.
        assert!(count.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_young_result_is_reused() {
        let count = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&count);
        let shared = SharedScan::new(
            Box::new(move || Ok(format!("n {}\n", counted.fetch_add(1, Ordering::SeqCst)))),
            Duration::from_secs(60),
        );
        assert_eq!(shared.get().unwrap().as_str(), "n 0\n");
        assert_eq!(shared.get().unwrap().as_str(), "n 0\n");
        let failing = SharedScan::new(Box::new(|| Err("no".into())), Duration::from_secs(60));
        assert!(failing.get().is_err());
        assert!(failing
            .own_metrics()
            .contains("rlsof_exporter_scan_failures_total 1"));
    }
}
