//! The one request alerts make: a POST to a destination, on a connection
//! of its own, to an address checked after DNS ([`super::addr`]), over
//! TLS for `https` (the Mozilla roots built in), HTTP/1.1, within one
//! timeout for everything (resolving, connecting, the handshake, the
//! answer), redirects never followed.

use super::addr::{first_private, host_port, resolve};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::rustls;

/// What a destination answered: its status and the start of its body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// At most [`ANSWER_CHARS`] characters of the body, lossily decoded.
    pub body: String,
}

/// How much of an answer's body is kept (for `touchpoint alert test`).
pub const ANSWER_CHARS: usize = 512;

/// Posts `body` to `url` with `headers`. `Err` says, for the delivery log,
/// why nothing was answered: never the URL (it may hold a credential).
pub async fn post(
    url: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
    allow_private: bool,
    timeout: Duration,
) -> Result<Answer, String> {
    match tokio::time::timeout(timeout, exchange(url, headers, body, allow_private)).await {
        Ok(result) => result,
        Err(_) => Err(format!("no answer within {} s", timeout.as_secs_f64())),
    }
}

async fn exchange(
    url: &str,
    headers: &[(&'static str, String)],
    body: Vec<u8>,
    allow_private: bool,
) -> Result<Answer, String> {
    let (host, port, https) = host_port(url).map_err(|_| "not a URL".to_owned())?;
    let addrs = resolve(&host, port)
        .await
        .map_err(|e| format!("the host does not resolve: {e}"))?;
    if !allow_private && let Some((_, kind)) = first_private(&addrs) {
        return Err(format!(
            "refused: the host resolves to a {kind} address (destinations must be public)"
        ));
    }
    let mut last = String::from("no address");
    let mut stream = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect: {e}"),
        }
    }
    let stream = stream.ok_or(last)?;
    let _ = stream.set_nodelay(true);
    let uri: axum::http::Uri = url.parse().map_err(|_| "not a URL".to_owned())?;
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let path = uri
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let mut request = hyper::Request::post(path)
        .header(hyper::header::HOST, authority)
        .header(hyper::header::CONTENT_TYPE, "application/json")
        .header(
            hyper::header::USER_AGENT,
            concat!("Touchpoint-Alerts/", env!("CARGO_PKG_VERSION")),
        );
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let request = request
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| format!("cannot build the request: {e}"))?;
    if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|_| "the host is not a valid TLS name".to_owned())?;
        let tls = tls()
            .connect(name, stream)
            .await
            .map_err(|e| format!("TLS handshake failed: {e}"))?;
        send(tls, request).await
    } else {
        send(stream, request).await
    }
}

async fn send<S>(stream: S, request: hyper::Request<Full<Bytes>>) -> Result<Answer, String>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| format!("HTTP handshake failed: {e}"))?;
    let conn = tokio::spawn(conn);
    let result = async {
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| format!("the request failed: {e}"))?;
        let status = response.status().as_u16();
        // Only the start of the answer: a destination cannot make us read more.
        let mut body = response.into_body();
        let mut kept = Vec::new();
        while kept.len() < ANSWER_CHARS * 4 {
            match body.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        kept.extend_from_slice(data);
                    }
                }
                Some(Err(_)) | None => break,
            }
        }
        let text: String = String::from_utf8_lossy(&kept)
            .chars()
            .take(ANSWER_CHARS)
            .collect();
        Ok(Answer { status, body: text })
    }
    .await;
    conn.abort();
    result
}

fn tls() -> TlsConnector {
    static CONNECTOR: OnceLock<TlsConnector> = OnceLock::new();
    CONNECTOR
        .get_or_init(|| {
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let config = rustls::ClientConfig::builder_with_provider(Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
            TlsConnector::from(Arc::new(config))
        })
        .clone()
}
