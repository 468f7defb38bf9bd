//! Reaching Telegram: the HTTP client (with the proxy setting), and the first call at start-up,
//! retried with back-off while the network is down.
//!
//! Most users of this bot are in mainland China, where api.telegram.org is reachable only through
//! a proxy. `BRANCHBOT_PROXY` (http, https, socks5, socks5h) is used for every request; without
//! it reqwest honours the usual `HTTPS_PROXY` / `ALL_PROXY` / `NO_PROXY` variables. A failed
//! start says which URL failed and why (DNS, refused, timeout, TLS, proxy), and a rejected token
//! (401) is told apart from an unreachable server: the former stops start-up at once, the latter
//! is retried, so a bot started before the network is up comes up with it.

use std::time::Duration;

use teloxide::types::Me;
use teloxide::{ApiError, Bot, RequestError};

use crate::config::Config;
use crate::texts::setup as t;

/// Telegram's own Bot API server, when `TELOXIDE_API_URL` is not set.
pub const TELEGRAM_API_URL: &str = "https://api.telegram.org";

/// Longest wait between two start-up attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Why the first call to Telegram failed for good.
#[derive(Debug, thiserror::Error)]
pub enum ReachError {
    #[error("{0}")]
    Token(String),
    #[error("{0}")]
    Api(String),
    #[error("{0}")]
    Client(String),
}

/// The HTTP client for Telegram: teloxide's timeouts, and the configured proxy if any.
pub fn client(config: &Config) -> Result<reqwest::Client, ReachError> {
    let mut builder = teloxide::net::default_reqwest_settings();
    if let Some(proxy) = &config.proxy {
        let proxy = reqwest::Proxy::all(proxy.as_str())
            .map_err(|_| ReachError::Client(t::not_proxy_url(proxy.as_str())))?;
        builder = builder.proxy(proxy);
    }
    builder
        .build()
        .map_err(|e| ReachError::Client(innermost(&e)))
}

/// The bot on that client, pointed at `TELOXIDE_API_URL` if set.
pub fn make_bot(config: &Config) -> Result<Bot, ReachError> {
    let bot = Bot::with_client(&config.token, client(config)?);
    Ok(match &config.api_url {
        Some(url) => bot.set_api_url(url.clone()),
        None => bot,
    })
}

/// The API URL as an operator wrote it, without the token.
pub fn api_url_shown(config: &Config) -> String {
    config
        .api_url
        .as_ref()
        .map_or_else(|| TELEGRAM_API_URL.to_owned(), |u| u.to_string())
}

/// Calls getMe until it answers. Network trouble is logged in Chinese and retried after 1, 2, 4 …
/// up to [`MAX_BACKOFF`] seconds; a rejected token or another API error ends start-up.
pub async fn get_me_with_retry(bot: &Bot, config: &Config) -> Result<Me, ReachError> {
    let url = api_url_shown(config);
    let mut delay = Duration::from_secs(1);
    loop {
        let error = match teloxide::requests::Requester::get_me(bot).await {
            Ok(me) => return Ok(me),
            Err(RequestError::Api(ApiError::InvalidToken)) => {
                return Err(ReachError::Token(t::start_token_rejected(&url)))
            }
            Err(RequestError::Api(other)) => {
                return Err(ReachError::Api(t::start_api_error(
                    &url,
                    &other.to_string(),
                )))
            }
            Err(other) => other,
        };
        let mut cause = describe(&error, config.proxy.is_some());
        if let Some(proxy) = &config.proxy {
            cause.push_str(&t::via_proxy(&proxy_shown(proxy)));
        }
        tracing::warn!("{}", t::start_retry(&url, &cause, delay.as_secs()));
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(MAX_BACKOFF);
    }
}

/// A proxy URL without its password.
fn proxy_shown(proxy: &url::Url) -> String {
    let mut shown = proxy.clone();
    if shown.password().is_some() {
        let _ = shown.set_password(Some("***"));
    }
    shown.to_string()
}

/// Why a request failed, in Chinese, with the lowest-level error as detail.
pub fn describe(error: &RequestError, via_proxy: bool) -> String {
    let RequestError::Network(network) = error else {
        return t::cause_with_detail(t::CAUSE_NETWORK, &error.to_string());
    };
    let detail = innermost(network.as_ref());
    let cause = classify(network.as_ref(), &detail, via_proxy);
    t::cause_with_detail(cause, &detail)
}

/// Sorts a reqwest error into the causes an operator can act on.
fn classify(error: &reqwest::Error, detail: &str, via_proxy: bool) -> &'static str {
    let chain = chain_text(error).to_lowercase();
    let kind = io_kind(error);
    let refused = kind == Some(std::io::ErrorKind::ConnectionRefused);
    // rustls reports a failed handshake as invalid data: a bad certificate, an alert from the
    // server, or a server that does not speak TLS at all ("corrupt message").
    let tls_words = [
        "certificate",
        "tls",
        "handshake",
        "corrupt message",
        "alert",
    ];
    // Through a proxy, invalid data may as well be the proxy's protocol going wrong.
    let tls = tls_words.iter().any(|word| chain.contains(word))
        || (!via_proxy && kind == Some(std::io::ErrorKind::InvalidData));
    if error.is_timeout() || chain.contains("timed out") {
        t::CAUSE_TIMEOUT
    } else if chain.contains("dns error") || chain.contains("failed to lookup address") {
        t::CAUSE_DNS
    } else if tls {
        t::CAUSE_TLS
    } else if via_proxy
        && (error.is_connect() || chain.contains("proxy") || chain.contains("socks"))
    {
        t::CAUSE_PROXY
    } else if refused || detail.to_lowercase().contains("refused") {
        t::CAUSE_REFUSED
    } else {
        t::CAUSE_NETWORK
    }
}

/// Every message in the error's source chain, joined.
fn chain_text(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// The last error in the source chain: the concrete cause (and free of the request URL, which
/// holds the token).
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut last: &(dyn std::error::Error + 'static) = error;
    while let Some(inner) = last.source() {
        last = inner;
    }
    last.to_string()
}

fn io_kind(error: &(dyn std::error::Error + 'static)) -> Option<std::io::ErrorKind> {
    let mut source = Some(error);
    while let Some(inner) = source {
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return Some(io.kind());
        }
        source = inner.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vars: &[(&str, &str)]) -> Config {
        let vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|key| {
            vars.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v.clone())
                .or_else(|| (key == "TELOXIDE_TOKEN").then(|| "1:a".to_owned()))
                .or_else(|| (key == "BRANCHBOT_CONFIG").then(|| "/dev/null".to_owned()))
        })
        .unwrap()
    }

    async fn failure(vars: &[(&str, &str)]) -> String {
        let config = config(vars);
        let bot = make_bot(&config).unwrap();
        let error = teloxide::requests::Requester::get_me(&bot)
            .await
            .unwrap_err();
        describe(&error, config.proxy.is_some())
    }

    #[tokio::test]
    async fn a_closed_port_reads_as_refused() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = format!("http://127.0.0.1:{port}");
        let cause = failure(&[("TELOXIDE_API_URL", &url)]).await;
        assert!(cause.starts_with(t::CAUSE_REFUSED), "{cause}");
        let cause = failure(&[
            ("TELOXIDE_API_URL", "http://127.0.0.1:9"),
            ("BRANCHBOT_PROXY", &format!("socks5://127.0.0.1:{port}")),
        ])
        .await;
        assert!(cause.starts_with(t::CAUSE_PROXY), "{cause}");
    }

    /// An https URL at a server that does not speak TLS: the handshake fails.
    #[tokio::test]
    async fn a_failed_handshake_reads_as_tls() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = socket
                    .write_all(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
                    .await;
            }
        });
        let url = format!("https://127.0.0.1:{port}");
        let cause = failure(&[("TELOXIDE_API_URL", &url)]).await;
        assert!(cause.starts_with(t::CAUSE_TLS), "{cause}");
    }

    #[tokio::test]
    async fn an_unknown_host_reads_as_dns() {
        let cause = failure(&[("TELOXIDE_API_URL", "http://no-such-host.invalid")]).await;
        assert!(cause.starts_with(t::CAUSE_DNS), "{cause}");
    }

    #[test]
    fn a_proxy_password_is_not_shown() {
        let url = url::Url::parse("socks5://user:secret@127.0.0.1:1080").unwrap();
        assert!(!proxy_shown(&url).contains("secret"));
    }
}
