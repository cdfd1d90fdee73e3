//! E-mails: written in the member's language ([`super::texts`]), plain text and HTML, each with the operator's
//! identity, a link to choose what is received and a one-click unsubscribe (RFC 8058: `List-Unsubscribe` with an
//! HTTPS URL and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`); sent over SMTP with `lettre`. The
//! Message-ID is the delivery's id, so a retry after a crash repeats it and a reader can tell the copies apart.

use std::time::Duration;

use lettre::message::header::{Header, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde_json::Value;

use super::texts::{fill, is_rtl, text};
use crate::config::{OperatorSettings, SmtpSettings, SmtpTls};

/// `List-Unsubscribe: <https://…>`.
#[derive(Debug, Clone)]
struct ListUnsubscribe(String);

impl Header for ListUnsubscribe {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe")
    }
    fn parse(s: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self(s.to_owned()))
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), format!("<{}>", self.0))
    }
}

/// `List-Unsubscribe-Post: List-Unsubscribe=One-Click`.
#[derive(Debug, Clone)]
struct ListUnsubscribePost;

impl Header for ListUnsubscribePost {
    fn name() -> HeaderName {
        HeaderName::new_from_ascii_str("List-Unsubscribe-Post")
    }
    fn parse(_: &str) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Self)
    }
    fn display(&self) -> HeaderValue {
        HeaderValue::new(Self::name(), "List-Unsubscribe=One-Click".to_owned())
    }
}

/// An asset's symbol and decimals, to write amounts.
#[derive(Debug, Clone)]
pub struct AssetLabel {
    /// The symbol (BNB, USDT).
    pub symbol: String,
    /// Decimals of its base unit.
    pub decimals: u32,
}

/// `amount` (base units, decimal) in whole units with the symbol: `1.5 USDT`.
pub fn amount(base_units: &str, asset: &AssetLabel) -> String {
    let digits = base_units.trim_start_matches('0');
    let d = asset.decimals as usize;
    let padded = format!("{digits:0>width$}", width = d + 1);
    let (whole, fraction) = padded.split_at(padded.len() - d);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        format!("{whole} {}", asset.symbol)
    } else {
        format!("{whole}.{fraction} {}", asset.symbol)
    }
}

/// What a message says.
#[derive(Debug, Clone)]
pub struct Written {
    /// Its subject.
    pub subject: String,
    /// Its line(s).
    pub line: String,
    /// A link to act on or read more (the confirmation, the dApp).
    pub action: Option<(String, String)>,
    /// The transaction it is about, on the chain's explorer.
    pub transaction: Option<String>,
}

/// The words of a notification in `lang`.
pub fn notification(
    lang: &str,
    kind: &str,
    data: &Value,
    asset: &AssetLabel,
    explorer: Option<String>,
    app: &str,
) -> Written {
    let field = |name: &str| match data.get(name) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    };
    let money = |name: &str| amount(&field(name), asset);
    let payment = field("payment");
    let values = vec![
        ("amount", money("amount")),
        ("reserved", money("reserved")),
        ("held", money("held")),
        ("gross", money("gross")),
        ("fee", money("fee")),
        ("net", money("net")),
        ("total", money("total")),
        ("custody", money("custody")),
        ("due", money("due")),
        ("forfeited", money("forfeited")),
        ("to", field("to")),
        ("payment", payment),
        ("block", field("block_number")),
        ("period", field("period")),
        ("rank", field("rank")),
        ("batch", field("batch_id")),
        ("epoch", field("epoch")),
    ];
    Written {
        subject: fill(text(lang, &format!("{kind}.subject")), &values),
        line: fill(text(lang, &format!("{kind}.line")), &values),
        action: Some((text(lang, "open").to_owned(), format!("{app}/#notifications"))),
        transaction: explorer,
    }
}

/// The words of the confirmation message in `lang`.
pub fn confirmation(lang: &str, link: String) -> Written {
    Written {
        subject: text(lang, "confirm.subject").to_owned(),
        line: text(lang, "confirm.line").to_owned(),
        action: Some((text(lang, "confirm.button").to_owned(), link)),
        transaction: None,
    }
}

/// Where the footer's links go.
#[derive(Debug, Clone)]
pub struct Footer {
    /// The dApp's page to choose what is received.
    pub manage: String,
    /// The dApp's page that unsubscribes (a person's click).
    pub unsubscribe_page: String,
    /// The API's one-click unsubscribe (a mail client's POST, RFC 8058).
    pub unsubscribe_post: String,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

/// The whole message.
pub fn message(
    from: &Mailbox,
    to: Mailbox,
    id: &str,
    lang: &str,
    written: &Written,
    operator: Option<&OperatorSettings>,
    footer: Option<&Footer>,
) -> Result<Message, lettre::error::Error> {
    let sent_by = operator.map(|o| {
        let values = [("name", o.name.clone()), ("legal_name", o.legal_name.clone()), ("address", o.address.clone())];
        fill(text(lang, "footer.sent_by"), &values)
    });
    let mut plain = format!("{}\n\n{}\n", written.subject, written.line);
    let dir = if is_rtl(lang) { "rtl" } else { "ltr" };
    let mut html = format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><body style=\"font-family:sans-serif\">\
         <h1 style=\"font-size:1.2em\">{}</h1><p>{}</p>",
        escape(&written.subject),
        escape(&written.line)
    );
    if let Some(tx) = &written.transaction {
        plain.push_str(&format!("\n{}: {tx}\n", text(lang, "transaction")));
        html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape(tx), text(lang, "transaction")));
    }
    if let Some((label, link)) = &written.action {
        plain.push_str(&format!("\n{label}: {link}\n"));
        html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape(link), escape(label)));
    }
    plain.push_str("\n--\n");
    html.push_str("<hr><p style=\"font-size:.85em;color:#555\">");
    if let Some(sent_by) = &sent_by {
        plain.push_str(&format!("{sent_by}\n"));
        html.push_str(&format!("{}<br>", escape(sent_by)));
    }
    if let Some(f) = footer {
        let (manage, unsubscribe) = (text(lang, "footer.manage"), text(lang, "footer.unsubscribe"));
        plain.push_str(&format!("{manage}: {}\n{unsubscribe}: {}\n", f.manage, f.unsubscribe_page));
        html.push_str(&format!(
            "<a href=\"{}\">{}</a> · <a href=\"{}\">{}</a>",
            escape(&f.manage),
            escape(manage),
            escape(&f.unsubscribe_page),
            escape(unsubscribe)
        ));
    }
    html.push_str("</p></body></html>");
    let domain = from.email.domain().to_owned();
    let mut builder = Message::builder()
        .from(from.clone())
        .to(to)
        .subject(written.subject.clone())
        .message_id(Some(format!("<{}@{domain}>", id.replace(':', "."))));
    if let Some(f) = footer {
        builder = builder.header(ListUnsubscribe(f.unsubscribe_post.clone())).header(ListUnsubscribePost);
    }
    builder.multipart(MultiPart::alternative_plain_html(plain, html))
}

/// The SMTP transport the settings describe.
pub fn transport(smtp: &SmtpSettings) -> Result<AsyncSmtpTransport<Tokio1Executor>, lettre::transport::smtp::Error> {
    let builder = match smtp.tls {
        SmtpTls::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.host),
        SmtpTls::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&smtp.host)?,
        SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&smtp.host)?,
    };
    let mut builder = builder.port(smtp.port).timeout(Some(Duration::from_secs(smtp.timeout_secs)));
    if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
        use secrecy::ExposeSecret;
        builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_owned()));
    }
    Ok(builder.build())
}

/// Sends a message; `Err((permanent, why))` when the server did not take it.
pub async fn send(transport: &AsyncSmtpTransport<Tokio1Executor>, message: Message) -> Result<(), (bool, String)> {
    match transport.send(message).await {
        Ok(_) => Ok(()),
        Err(e) => Err((e.is_permanent(), e.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_are_written_in_whole_units() {
        let usdt = AssetLabel { symbol: "USDT".into(), decimals: 6 };
        assert_eq!(amount("1500000", &usdt), "1.5 USDT");
        assert_eq!(amount("1", &usdt), "0.000001 USDT");
        assert_eq!(amount("0", &usdt), "0 USDT");
        assert_eq!(amount("25000000", &usdt), "25 USDT");
        let bnb = AssetLabel { symbol: "BNB".into(), decimals: 18 };
        assert_eq!(amount("100000000000000001", &bnb), "0.100000000000000001 BNB");
    }
}
