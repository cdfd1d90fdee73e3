// The devnet's e-mail as a member's mail client would read it: every message the backend sends is delivered by the local
// Postfix (scripts/mail.sh) into the Maildir `<REFERRAL_MAIL_DIR>/<recipient, lowercased>/new/`. A message is MIME as
// sent (parts base64 or quoted-printable, RFC 2047 encoded words in the subject): `parseMail` decodes it, `waitForMail`
// polls the Maildir with a deadline for a message not seen before that matches.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { until } from "./poll.mjs";

export const MAIL_DIR = process.env.REFERRAL_MAIL_DIR ?? "/var/lib/referral-mail/boxes";

/** The Maildir's `new/` folder of `address`. */
export const mailbox = (address) => join(MAIL_DIR, address.toLowerCase(), "new");

/** The file names delivered to `address` so far (none while its Maildir does not exist yet). */
export function delivered(address) {
  const dir = mailbox(address);
  return existsSync(dir) ? readdirSync(dir).sort() : [];
}

/** Bytes of a quoted-printable text, decoded (soft line breaks joined) as UTF-8. */
export function decodeQuotedPrintable(text) {
  const joined = text.replace(/=\r?\n/g, "");
  const bytes = [];
  for (let i = 0; i < joined.length; i++) {
    const c = joined[i];
    if (c === "=" && /^[0-9A-Fa-f]{2}$/.test(joined.slice(i + 1, i + 3))) {
      bytes.push(parseInt(joined.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(...Buffer.from(c, "utf8"));
    }
  }
  return Buffer.from(bytes).toString("utf8");
}

/** A header value with its RFC 2047 encoded words (`=?utf-8?B?…?=`, `=?utf-8?Q?…?=`) decoded. */
export function decodeWords(value) {
  return value
    .replace(/\?=\s+=\?/g, "?==?")
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, _charset, enc, text) =>
      enc.toUpperCase() === "B" ? Buffer.from(text, "base64").toString("utf8") : decodeQuotedPrintable(text.replace(/_/g, " ")),
    );
}

function splitHead(raw) {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : "";
  const headers = {};
  for (const line of head.replace(/\r?\n[ \t]+/g, " ").split(/\r?\n/)) {
    const at = line.indexOf(":");
    if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] ??= line.slice(at + 1).trim();
  }
  return { headers, body };
}

/** The decoded leaves (text parts) of a MIME entity. */
function leaves(raw) {
  const { headers, body } = splitHead(raw);
  const type = headers["content-type"] ?? "text/plain";
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const parts = body.split(new RegExp(`\\r?\\n?--${boundary.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}(?:--)?[ \\t]*\\r?\\n?`));
    return parts.slice(1).filter((p) => p.trim() !== "").flatMap(leaves);
  }
  const encoding = (headers["content-transfer-encoding"] ?? "7bit").toLowerCase();
  const text =
    encoding === "base64" ? Buffer.from(body.replace(/\s+/g, ""), "base64").toString("utf8") : encoding === "quoted-printable" ? decodeQuotedPrintable(body) : body;
  return [{ type: type.split(";")[0].trim().toLowerCase(), text }];
}

/** A delivered message: its headers (lower-case names), decoded subject and decoded text parts (`text`: all of them). */
export function parseMail(raw) {
  const { headers } = splitHead(raw);
  const parts = leaves(raw);
  return { headers, subject: decodeWords(headers.subject ?? ""), parts, text: parts.map((p) => p.text).join("\n") };
}

/** The first link in `mail` to the dApp's `#<fragment>=TOKEN` page: `{ url, token }`, or null. */
export function linkTo(mail, fragment) {
  const m = new RegExp(`(https?://[^\\s"'<>]*?/?)#${fragment}=([A-Za-z0-9._~%-]+)`).exec(mail.text);
  return m ? { url: `${m[1]}#${fragment}=${m[2]}`, token: decodeURIComponent(m[2]) } : null;
}

/**
 * Polls `address`'s Maildir until a message not among `seen` (file names) matches `match(mail)`; returns it with its
 * file name. Fails at the deadline naming what was delivered meanwhile.
 */
export async function waitForMail(address, what, match, { seen = [], timeout = 90_000 } = {}) {
  return until(`${what} in ${mailbox(address)}`, async () => {
    for (const name of delivered(address)) {
      if (seen.includes(name)) continue;
      const mail = parseMail(readFileSync(join(mailbox(address), name), "utf8"));
      if (match(mail)) return { ...mail, file: name };
    }
    return false;
  }, { timeout, every: 500 });
}
