//! The local mail server's mailboxes (`scripts/mail.sh`: Postfix delivering every recipient into a Maildir under
//! `$REFERRAL_MAIL_DIR`, default `/var/lib/referral-mail/boxes`), read as a member's mail client would: messages with
//! their base64 and quoted-printable parts decoded, their headers, the links they carry.

/// The directory holding one Maildir per recipient (`REFERRAL_MAIL_DIR`, or the default of `scripts/mail.sh`).
pub fn mail_dir() -> std::path::PathBuf {
    std::env::var("REFERRAL_MAIL_DIR").unwrap_or_else(|_| "/var/lib/referral-mail/boxes".into()).into()
}

/// The local SMTP server's port (`REFERRAL_SMTP_PORT`, or the default of `scripts/mail.sh`).
pub fn smtp_port() -> u16 {
    std::env::var("REFERRAL_SMTP_PORT").ok().and_then(|p| p.parse().ok()).unwrap_or(2525)
}

/// The messages in `address`'s Maildir (`new/`), as text.
pub fn mailbox(address: &str) -> Vec<String> {
    let dir = mail_dir().join(address.to_lowercase()).join("new");
    let Ok(entries) = std::fs::read_dir(&dir) else { return vec![] };
    let mut messages: Vec<(std::time::SystemTime, String)> = entries
        .filter_map(|e| e.ok())
        .map(|e| (e.metadata().unwrap().modified().unwrap(), std::fs::read_to_string(e.path()).unwrap()))
        .collect();
    messages.sort();
    messages.into_iter().map(|(_, m)| decoded(&m)).collect()
}

/// A message with its base64 and quoted-printable parts decoded in place (headers as they are).
pub fn decoded(message: &str) -> String {
    use base64::Engine;
    #[derive(PartialEq)]
    enum Encoding {
        Plain,
        Base64,
        QuotedPrintable,
    }
    let flush = |encoding: &Encoding, chunk: &mut String, out: &mut String| {
        match encoding {
            Encoding::Base64 => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(chunk.replace(['\r', '\n'], "")).unwrap();
                out.push_str(&String::from_utf8(bytes).unwrap());
            }
            Encoding::QuotedPrintable => {
                let joined = chunk.replace("=\r\n", "").replace("=\n", "");
                let mut bytes = Vec::new();
                let raw = joined.as_bytes();
                let mut i = 0;
                while i < raw.len() {
                    let escaped = (raw[i] == b'=' && i + 2 < raw.len())
                        .then(|| u8::from_str_radix(&joined[i + 1..i + 3], 16).ok())
                        .flatten();
                    if let Some(b) = escaped {
                        bytes.push(b);
                        i += 3;
                        continue;
                    }
                    bytes.push(raw[i]);
                    i += 1;
                }
                out.push_str(&String::from_utf8(bytes).unwrap());
            }
            Encoding::Plain => out.push_str(chunk),
        }
        out.push('\n');
        chunk.clear();
    };
    let mut out = String::new();
    let mut encoding = Encoding::Plain;
    let mut in_body = false;
    let mut chunk = String::new();
    for line in message.lines() {
        if line.starts_with("--") {
            flush(&encoding, &mut chunk, &mut out);
            encoding = Encoding::Plain;
            in_body = false;
        } else if line.eq_ignore_ascii_case("Content-Transfer-Encoding: base64") {
            encoding = Encoding::Base64;
        } else if line.eq_ignore_ascii_case("Content-Transfer-Encoding: quoted-printable") {
            encoding = Encoding::QuotedPrintable;
        } else if line.is_empty() && encoding != Encoding::Plain && !in_body {
            in_body = true;
            continue;
        }
        if in_body {
            chunk.push_str(line);
            chunk.push('\n');
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    flush(&encoding, &mut chunk, &mut out);
    out
}

/// The value of the link whose fragment starts with `marker` in a message.
pub fn link(message: &str, marker: &str) -> String {
    let start = message.find(marker).unwrap_or_else(|| panic!("no {marker} in {message}")) + marker.len();
    message[start..].chars().take_while(|c| c.is_ascii_hexdigit() || *c == '.').collect()
}

/// A header's value, unfolded (a long one continues on lines starting with white space).
pub fn header(message: &str, name: &str) -> Option<String> {
    let mut lines = message.lines().skip_while(|l| !l.starts_with(&format!("{name}: ")));
    let mut value = lines.next()?.split_once(": ")?.1.to_owned();
    for more in lines.take_while(|l| l.starts_with([' ', '\t'])) {
        value.push_str(more.trim_start());
    }
    Some(value)
}
