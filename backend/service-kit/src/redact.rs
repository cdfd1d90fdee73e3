//! Secrets kept out of everything a service prints. A provider's endpoint often carries its credentials in the URL —
//! `https://user:pass@node.example`, `https://bsc.provider.io/v1/<key>`, `https://rpc.example/?apikey=<key>` — and
//! such a URL reaches logs and messages through the configuration (`rpc_url`) and through the errors of HTTP
//! clients, which quote the URL they failed to reach. [`url`] shows a URL without them; [`text`] does so for every
//! URL in a message; [`crate::telemetry::init`] passes every log line through [`text`], so no service logs one.
//!
//! What is hidden (as [`HIDDEN`]): the user and password; every query value; the fragment; and each path segment
//! that looks like a key — at least 12 characters of letters, digits, `-` or `_` with a letter and a digit among
//! them (a UUID, 32 or 64 hex digits, a provider's token), or any segment of 24 characters or more. The scheme, the
//! host, the port and the ordinary path segments (`v1`, `jsonrpc`, `bsc-mainnet`) stay, so a message still says
//! which endpoint it is about.

/// What a hidden part of a URL is shown as.
pub const HIDDEN: &str = "***";

/// `url` as it may be shown: without its user and password, query values, fragment and key-like path segments. A
/// text that is not a URL with a host is shown as `<not a URL>`, never as written (it could be a key).
pub fn url(url: &str) -> String {
    let Ok(parsed) = reqwest::Url::parse(url) else { return "<not a URL>".to_owned() };
    let Some(host) = parsed.host_str() else { return "<not a URL>".to_owned() };
    let mut out = format!("{}://", parsed.scheme());
    if !parsed.username().is_empty() || parsed.password().is_some() {
        out.push_str(HIDDEN);
        out.push('@');
    }
    out.push_str(host);
    if let Some(port) = parsed.port() {
        out.push_str(&format!(":{port}"));
    }
    let path: Vec<&str> =
        parsed.path().split('/').map(|segment| if key_like(segment) { HIDDEN } else { segment }).collect();
    out.push_str(&path.join("/"));
    if let Some(query) = parsed.query() {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((name, _)) if !key_like(name) => format!("{name}={HIDDEN}"),
                None if !key_like(pair) && !pair.is_empty() => pair.to_owned(),
                _ => HIDDEN.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    if parsed.fragment().is_some() {
        out.push('#');
        out.push_str(HIDDEN);
    }
    out
}

/// Whether a path segment (or a query parameter's name) looks like a key rather than a word of an API's path.
fn key_like(segment: &str) -> bool {
    let word = segment.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    let mixed = segment.bytes().any(|b| b.is_ascii_digit()) && segment.bytes().any(|b| b.is_ascii_alphabetic());
    segment.len() >= 24 || (word && mixed && segment.len() >= 12) || (!word && segment.len() >= 12)
}

/// Characters that end a URL quoted in a message (and never occur in one unescaped): whitespace, quotes, brackets,
/// the backslash of a JSON escape.
fn ends_url(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '<' | '>' | '(' | ')' | '[' | ']' | '{' | '}' | '\\' | '|')
}

/// `message` with every URL in it (`scheme://…`) shown as [`url`] shows it; the rest as written.
pub fn text(message: &str) -> String {
    if !message.contains("://") {
        return message.to_owned();
    }
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(at) = rest.find("://") {
        // The scheme: the letters, digits, `+`, `-` and `.` right before `://`.
        let scheme_len = rest[..at]
            .chars()
            .rev()
            .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .map(char::len_utf8)
            .sum::<usize>();
        let start = at - scheme_len;
        let after = &rest[at + 3..];
        let mut len = after.find(ends_url).unwrap_or(after.len());
        // Punctuation that ends a sentence is the message's, not the URL's.
        while len > 0 && after[..len].ends_with(['.', ',', ';', ':', '!', '?']) {
            len -= 1;
        }
        out.push_str(&rest[..start]);
        if scheme_len == 0 || len == 0 {
            out.push_str(&rest[start..at + 3]);
            rest = after;
            continue;
        }
        out.push_str(&url(&rest[start..at + 3 + len]));
        rest = &after[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_keys_and_query_values_are_hidden_and_the_endpoint_stays_recognisable() {
        assert_eq!(url("https://user:pass@bsc.example:8443/rpc"), "https://***@bsc.example:8443/rpc");
        assert_eq!(url("https://token@bsc.example/"), "https://***@bsc.example/");
        assert_eq!(
            url("https://bsc.provider.io/v1/64a9df0874fb4a93b9d0a3849de012d3"),
            "https://bsc.provider.io/v1/***"
        );
        assert_eq!(
            url("https://bsc.getblock.io/2c1b4f7e-5a0d-4a8e-9f3b-1c2d3e4f5a6b/mainnet/"),
            "https://bsc.getblock.io/***/mainnet/"
        );
        assert_eq!(url("https://rpc.example/bsc?apikey=s3cr3t&x=1"), "https://rpc.example/bsc?apikey=***&x=***");
        assert_eq!(url("https://rpc.example/#s3cr3t"), "https://rpc.example/#***");
        // Ordinary endpoints are shown as they are.
        for plain in [
            "https://api.trongrid.io/jsonrpc",
            "http://127.0.0.1:8545/",
            "https://bsc-dataseed.bnbchain.org/",
            "https://nile.trongrid.io/wallet",
            "https://bnb-mainnet-archive.example/v2",
        ] {
            assert_eq!(url(plain), plain);
        }
        assert_eq!(url("not a url with a key 64a9df0874fb4a93b9d0a3849de012d3"), "<not a URL>");
    }

    #[test]
    fn every_url_in_a_message_is_redacted_and_the_message_kept() {
        let key = "64a9df0874fb4a93b9d0a3849de012d3";
        let said = text(&format!(
            "rpc_url https://bsc.provider.io/v1/{key} could not be read (error sending request for url \
             (https://u:p@bsc.provider.io/v1/{key})): the rest is unchecked. See https://docs.example/x."
        ));
        assert!(!said.contains(key) && !said.contains("u:p@"), "{said}");
        assert_eq!(
            said,
            "rpc_url https://bsc.provider.io/v1/*** could not be read (error sending request for url \
             (https://***@bsc.provider.io/v1/***)): the rest is unchecked. See https://docs.example/x."
        );
        // In a JSON log line, the URL ends at the string's quote or escape.
        let json = format!(r#"{{"message":"GET https://x.example/?key={key}","url":"wss://a:b@relay.example/\"q"}}"#);
        assert_eq!(text(&json), r#"{"message":"GET https://x.example/?key=***","url":"wss://***@relay.example/\"q"}"#);
        assert_eq!(text("no url here: a://"), "no url here: a://");
        assert_eq!(text("plain"), "plain");
    }
}
