// A member's notifications and e-mail settings (`/#notifications`), and the pages the e-mails link to
// (`/#email-confirm=TOKEN`, `/#email-unsubscribe=TOKEN`, which need no wallet): loaded on demand (src/user/main.tsx),
// never with the first page. The notification centre lists the signed-in wallet's notifications newest first, each in
// the member's language with its amounts in the asset's units, its transaction on the chain's explorer and, for a
// payout, what was owed, the fee and what was sent; opening one marks it read. E-mail is double opt-in: an address
// receives nothing until the link sent to it is followed, and an unsubscribe link only unsubscribes when its page's
// button is pressed (RFC 8058: a mail scanner's GET must not).

import type { ComponentChildren } from "preact";
import { useEffect, useState } from "preact/hooks";
import { ApiError, call, get, publicCall } from "../lib/api";
import { dateTime } from "../lib/format";
import { explorerLink, networkName } from "../lib/networks";
import { LOCALES, type MemberKey, locale, t, tx } from "../i18n";
import "../i18n/member";
import type { Schema } from "../generated/api";
import type { PlannedAsset } from "../plans/kit/assets";
import { errorText, LoadFailed, useSignedIn } from "../ui/account";
import { Amount, Confirm, Loading, Notice, useChainTable, useLoad } from "../ui/bits";
import "./notifications.css";

type NotificationView = Schema<"NotificationView">;
type NotificationPage = Schema<"NotificationPage">;
type EmailSettings = Schema<"EmailSettings">;

/** How many notifications a page asks for. */
const PAGE = 20;

/** Tells the header's badge the unread count (src/user/main.tsx). */
const tellUnread = (n: number) => dispatchEvent(new CustomEvent("notes-unread", { detail: n }));

/** Each kind's name, as the e-mail settings offer it. */
const KIND_NAMES: Record<string, MemberKey> = {
  "payment.applied": "nk.payment_applied",
  "payment.expired": "nk.payment_expired",
  "reward.credited": "nk.reward_credited",
  "period.bonus": "nk.period_bonus",
  "rank.reached": "nk.rank_reached",
  "payout.sent": "nk.payout_sent",
  "payout.paid": "nk.payout_paid",
  "payout.deferred": "nk.payout_deferred",
  "account.frozen": "nk.account_frozen",
  "account.unfrozen": "nk.account_unfrozen",
  "solvency.committed": "nk.solvency_committed",
  "exit.opened": "nk.exit_opened",
  "member.left": "nk.member_left",
};
const kindName = (k: string) => (KIND_NAMES[k] ? t(KIND_NAMES[k]) : k);

/** A credit's kind in words. */
const REWARD_KINDS: Record<string, MemberKey> = {
  DIRECT: "nt.rk_direct",
  POOL_L1: "nt.rk_pool",
  POOL_L2: "nt.rk_pool",
  POOL_L3: "nt.rk_pool",
  LEVEL: "nt.rk_level",
  GENERATION: "nt.rk_generation",
  RANK_BONUS: "nt.rk_rank",
  BINARY_PAIR: "nt.rk_pair",
};

/** The view the hash names: a confirmation or unsubscribe link's page, else the notification centre. */
function route(): { page: "confirm" | "unsubscribe"; token: string } | { page: "centre" } {
  const m = /^#email-(confirm|unsubscribe)=([^&]*)/.exec(location.hash);
  if (!m) return { page: "centre" };
  let token = m[2];
  try {
    token = decodeURIComponent(token);
  } catch {
    // Not percent-encoded after all: the API says whether it is a token.
  }
  return { page: m[1] === "confirm" ? "confirm" : "unsubscribe", token };
}

export function NotesPage(props: { assets: PlannedAsset[] }) {
  const [r, setR] = useState(route);
  useEffect(() => {
    const follow = () => setR(route());
    addEventListener("hashchange", follow);
    return () => removeEventListener("hashchange", follow);
  }, []);
  if (r.page === "confirm") return <EmailConfirm key={r.token} token={r.token} />;
  if (r.page === "unsubscribe") return <EmailUnsubscribe key={r.token} token={r.token} />;
  return <Centre assets={props.assets} />;
}

function Centre(props: { assets: PlannedAsset[] }) {
  const signed = useSignedIn();
  return (
    <section class="notes" aria-labelledby="notes-title" data-testid="notifications">
      <h2 id="notes-title">{t("nt.title")}</h2>
      {signed ? (
        <>
          <NotificationList key={signed.session.address} assets={props.assets} />
          <EmailPanel key={`email-${signed.session.address}`} />
        </>
      ) : (
        <Notice kind="info" testid="notes-sign-in">
          {t("nt.sign_in")}
        </Notice>
      )}
    </section>
  );
}

/** The centre's filters (the API's groups): news (a proof of solvency every few minutes) is off unless asked for. */
const GROUPS = ["money", "account", "news"] as const;
type Group = (typeof GROUPS)[number];
const GROUP_NAMES: Record<Group, MemberKey> = { money: "nt.g_money", account: "nt.g_account", news: "nt.g_news" };

function NotificationList(props: { assets: PlannedAsset[] }) {
  const [items, setItems] = useState<NotificationView[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [unread, setUnread] = useState(0);
  const [groups, setGroups] = useState<Group[]>(["money", "account"]);
  const [byGroup, setByGroup] = useState<Schema<"UnreadByGroup"> | null>(null);
  const [latest, setLatest] = useState<NotificationView[]>([]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [tick, setTick] = useState(0);
  useChainTable();

  const load = async (cursor?: number) => {
    setBusy(true);
    setError(null);
    try {
      const p = await get<NotificationPage>("/v1/users/notifications", { cursor, limit: PAGE, groups: groups.join(",") });
      setItems((old) => (cursor === undefined ? p.items : [...old, ...p.items.filter((i) => !old.some((o) => o.id === i.id))]));
      setNext(p.next_cursor ?? null);
      setUnread(p.unread);
      setByGroup(p.unread_by_group);
      setLatest(p.latest_news);
      // The header's badge counts what the centre shows by default: money and account.
      tellUnread(p.unread_by_group.money + p.unread_by_group.account);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  useEffect(() => void load(), [tick, groups.join(",")]);

  const read = async (body: Schema<"MarkRead">, ids: string[] | "all") => {
    try {
      const r = await call<Schema<"Unread">>("POST", "/v1/users/notifications/read", body);
      setItems((old) => old.map((i) => (ids === "all" || ids.includes(i.id) ? { ...i, read: true } : i)));
      const shown = groups.reduce((sum, g) => sum + r.unread_by_group[g], 0);
      setUnread(shown);
      setByGroup(r.unread_by_group);
      tellUnread(r.unread);
    } catch (e) {
      setError(e);
    }
  };
  const open = (n: NotificationView) => {
    if (!n.read) void read({ ids: [n.id] }, [n.id]);
  };

  const assets = new Map(props.assets.map((a) => [a.asset_id, a]));
  const toggle = (g: Group) => setGroups((old) => (old.includes(g) ? old.filter((x) => x !== g) : GROUPS.filter((x) => x === g || old.includes(x))));
  return (
    <>
      <fieldset class="notes-filters" data-testid="notes-filters">
        <legend>{t("nt.show")}</legend>
        {GROUPS.map((g) => (
          <label key={g}>
            <input type="checkbox" checked={groups.includes(g)} onChange={() => toggle(g)} data-testid={`notes-group-${g}`} />{" "}
            {t(GROUP_NAMES[g])}
            {byGroup && byGroup[g] > 0 && (
              <>
                {" "}
                <span class="badge" data-testid={`notes-group-${g}-unread`} data-count={byGroup[g]}>
                  {t("nt.unread", { count: byGroup[g] })}
                </span>
              </>
            )}
          </label>
        ))}
      </fieldset>
      {!groups.includes("news") && latest.length > 0 && (
        <ul class="notes-latest" data-testid="notes-latest-news">
          {latest.map((n) => {
            const a = assets.get(n.asset_id);
            return (
              <li key={n.id} data-testid="latest-proof" data-asset={n.asset_id} data-epoch={String(n.data.epoch ?? "")}>
                {tx("nt.latest_proof", {
                  asset: assetName(a, n.asset_id),
                  epoch: String(n.data.epoch ?? ""),
                  date: <time dateTime={n.created_at}>{dateTime(n.created_at)}</time>,
                  check: <a href="#solvency">{t("nt.check_entry")}</a>,
                })}
              </li>
            );
          })}
        </ul>
      )}
      <div class="notes-bar">
        <p class="muted" data-testid="notes-unread" data-count={unread}>
          {t("nt.unread", { count: unread })}
        </p>
        <button type="button" disabled={unread === 0} onClick={() => void read({ all: true }, "all")} data-testid="mark-all-read">
          {t("nt.mark_all")}
        </button>
      </div>
      {error !== null && <LoadFailed error={error} what={t("nt.what")} retry={() => setTick((x) => x + 1)} />}
      {next === undefined && busy && <Loading what={t("nt.what")} />}
      {next !== undefined && items.length === 0 && (
        <p class="muted" data-testid="notes-none">
          {t("nt.none")}
        </p>
      )}
      <ol class="notes-list">
        {items.map((n) => (
          <li
            key={n.id}
            class={n.read ? "note" : "note unread"}
            data-testid="notification"
            data-kind={n.kind}
            data-id={n.id}
            data-read={n.read ? "true" : "false"}
            onClick={() => open(n)}
          >
            <Note n={n} asset={assets.get(n.asset_id)} />
            {!n.read && (
              <button
                type="button"
                class="copy"
                onClick={(e) => {
                  e.stopPropagation();
                  open(n);
                }}
                data-testid="notification-read"
              >
                {t("nt.mark_read")}
              </button>
            )}
          </li>
        ))}
      </ol>
      {next != null && (
        <button type="button" disabled={busy} onClick={() => void load(next)} data-testid="notes-more">
          {busy ? t("nt.loading_more") : t("nt.more")}
        </button>
      )}
    </>
  );
}

const str = (v: unknown) => (v === undefined || v === null ? "" : String(v));

/** An asset as every notification names it: its symbol and its network ("USDT · TRON Nile"), since one symbol may be
 *  on two networks. */
const assetName = (a: PlannedAsset | undefined, id: number) => (a ? `${a.symbol} · ${networkName(a.chain_id)}` : t("nt.asset", { id: String(id) }));

/** One notification: what happened in words, when, its transaction and, for a payout, the figures. */
function Note(props: { n: NotificationView; asset: PlannedAsset | undefined }) {
  const { n, asset } = props;
  const d = n.data;
  const money = (key: string, testid?: string): ComponentChildren => {
    const base = str(d[key]);
    if (!/^\d+$/.test(base)) return "—";
    return asset ? <Amount base={base} decimals={asset.decimals} symbol={asset.symbol} testid={testid} /> : <code dir="ltr">{base}</code>;
  };
  const symbol = assetName(asset, n.asset_id);
  const block = str(d.block_number);
  const batch = str(d.batch_id);
  let line: ComponentChildren[];
  let extra: ComponentChildren = null;
  switch (n.kind) {
    case "payment.applied":
      line = tx(d.payment === "registration" ? "nt.payment_registration" : d.payment === "retopup" ? "nt.payment_retopup" : "nt.payment", {
        amount: money("amount"),
        block,
      });
      break;
    case "payment.expired":
      line = tx("nt.payment_expired", { amount: money("amount") });
      break;
    case "reward.credited": {
      const kinds = Array.isArray(d.kinds) ? (d.kinds as unknown[]).map((k) => (REWARD_KINDS[String(k)] ? t(REWARD_KINDS[String(k)]) : String(k))) : [];
      line = tx("nt.reward", { amount: money("amount"), count: Number(d.rewards ?? 1), kinds: [...new Set(kinds)].join(", ") });
      extra = kept(d, money);
      break;
    }
    case "period.bonus":
      line = tx(d.bonus === "BINARY_PAIR" ? "nt.bonus_pair" : "nt.bonus_rank", { amount: money("amount"), period: str(d.period) });
      extra = kept(d, money);
      break;
    case "rank.reached":
      line = tx("nt.rank", { rank: str(d.rank), period: str(d.period) });
      break;
    case "payout.sent":
      line = tx("nt.payout_sent", { net: money("net"), batch });
      break;
    case "payout.paid":
      line = tx("nt.payout_paid", { net: money("net"), batch, block });
      break;
    case "payout.deferred":
      line = tx("nt.payout_deferred", { net: money("net"), batch, dashboard: <a href="#main">{t("nt.dashboard")}</a> });
      break;
    case "account.frozen":
      line = tx("nt.frozen", { symbol });
      break;
    case "account.unfrozen":
      line = tx("nt.unfrozen", { symbol });
      break;
    case "solvency.committed":
      line = tx("nt.solvency", { symbol, epoch: str(d.epoch), total: money("total"), custody: money("custody") });
      extra = <a href="#solvency">{t("nt.check_entry")}</a>;
      break;
    case "exit.opened":
      line = tx("nt.exit", { symbol, custody: money("custody"), exit: <a href="/exit.html">{t("nt.exit_page")}</a> });
      break;
    case "member.left":
      line = tx("nt.member_left", { symbol, amount: money("amount"), due: money("due"), to: <code dir="ltr">{str(d.to)}</code> });
      if (/^[1-9]\d*$/.test(str(d.forfeited))) extra = tx("nt.member_left_forfeited", { forfeited: money("forfeited") });
      break;
    default:
      line = tx("nt.other", { kind: n.kind, symbol });
  }
  const chain = Number(d.chain_id);
  const hash = str(d.tx_hash);
  const href = chain && hash ? explorerLink(chain, "tx", hash) : null;
  const payout = n.kind.startsWith("payout.") && d.gross !== undefined;
  return (
    <div class="note-body">
      <p class="note-line" data-testid="notification-text">
        {!n.read && <span class="badge note-new">{t("nt.new")}</span>} {n.news && <span class="badge">{t("nt.news", { symbol })}</span>} {line}
      </p>
      {payout && (
        <p class="note-figures" data-testid="notification-payout">
          {tx("nt.figures", { gross: money("gross", "notification-gross"), fee: money("fee", "notification-fee"), net: money("net", "notification-net") })}
        </p>
      )}
      {extra && <p class="note-extra">{extra}</p>}
      <p class="muted note-meta">
        <time dateTime={n.created_at}>{dateTime(n.created_at)}</time>
        {hash && (
          <>
            {" · "}
            {href ? (
              <a href={href} target="_blank" rel="noopener noreferrer" class="explorer" data-testid="notification-link">
                {t("nt.view_tx", { hash: shortHash(hash) })}
              </a>
            ) : (
              <span>
                {t("nt.tx")} <code dir="ltr" title={hash} data-testid="notification-tx">{shortHash(hash)}</code>
              </span>
            )}
          </>
        )}
      </p>
    </div>
  );
}

const shortHash = (h: string) => (h.length <= 20 ? h : `${h.slice(0, 10)}…${h.slice(-6)}`);

/** "Of it, X reserved and Y held", when any is. */
function kept(d: Record<string, unknown>, money: (key: string) => ComponentChildren): ComponentChildren {
  const reserved = str(d.reserved);
  const held = str(d.held);
  if ((reserved === "" || reserved === "0") && (held === "" || held === "0")) return null;
  return tx("nt.kept", { reserved: money("reserved"), held: money("held") });
}

// ---- E-mail settings ----

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
/** What a new address receives unless the member picks otherwise: everything about them (not every asset's news). */
const DEFAULT_KINDS = (all: string[]) => all.filter((k) => k !== "solvency.committed");

function EmailPanel() {
  const [tick, setTick] = useState(0);
  const s = useLoad(() => get<EmailSettings>("/v1/users/email"), [tick]);
  const [done, setDone] = useState<{ kind: "inbox" | "saved" | "erased"; text: string } | null>(null);
  const reload = () => setTick((x) => x + 1);
  return (
    <section class="panel email" aria-labelledby="email-title" data-testid="email-settings">
      <h3 id="email-title">{t("em.title")}</h3>
      {s.loading && !s.data && <Loading what={t("em.what")} />}
      {s.error && <LoadFailed error={s.error} what={t("em.what")} retry={s.reload} />}
      {s.data && !s.data.available && (
        <Notice kind="info" testid="email-unavailable">
          {t("em.unavailable")}
        </Notice>
      )}
      {s.data && <EmailState s={s.data} />}
      {done && (
        <Notice kind="ok" testid={done.kind === "inbox" ? "email-check-inbox" : done.kind === "saved" ? "email-saved" : "email-erased"}>
          {done.text}
        </Notice>
      )}
      {s.data && (
        <EmailForm
          key={`${s.data.address ?? ""}|${s.data.language}|${s.data.kinds.join(",")}|${s.data.confirmed}|${s.data.unsubscribed}`}
          s={s.data}
          done={(kind, text) => {
            setDone({ kind, text });
            reload();
          }}
        />
      )}
    </section>
  );
}

function EmailState(props: { s: EmailSettings }) {
  const { s } = props;
  if (!s.address) {
    return (
      <p data-testid="email-status" data-state="none">
        {t("em.none")}
      </p>
    );
  }
  const state = s.unsubscribed ? "unsubscribed" : s.confirmed ? "confirmed" : "unconfirmed";
  return (
    <div data-testid="email-status" data-state={state}>
      <p>
        {tx("em.address", { address: <code dir="ltr" data-testid="email-address">{s.address}</code> })}{" "}
        <span class={`badge email-${state}`}>{t(state === "confirmed" ? "em.badge_confirmed" : state === "unsubscribed" ? "em.badge_unsubscribed" : "em.badge_unconfirmed")}</span>
      </p>
      <p class="muted">{t(state === "confirmed" ? "em.confirmed" : state === "unsubscribed" ? "em.unsubscribed" : "em.unconfirmed")}</p>
    </div>
  );
}

function EmailForm(props: { s: EmailSettings; done: (kind: "inbox" | "saved" | "erased", text: string) => void }) {
  const { s } = props;
  const mine = locale();
  const [email, setEmail] = useState("");
  const [language, setLanguage] = useState(s.address ? s.language : s.languages.includes(mine) ? mine : s.language);
  const [kinds, setKinds] = useState<string[]>(s.address ? s.kinds : DEFAULT_KINDS(s.all_kinds));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const [erasing, setErasing] = useState(false);
  const e = email.trim();
  const invalid = e !== "" && !EMAIL.test(e);
  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await f();
    } catch (x) {
      setError(x);
    } finally {
      setBusy(false);
    }
  };
  const saveAddress = () =>
    act(async () => {
      await call<EmailSettings>("PUT", "/v1/users/email", { email: e, language, kinds });
      props.done("inbox", t("em.check_inbox", { address: e }));
    });
  const savePreferences = () =>
    act(async () => {
      await call<EmailSettings>("PUT", "/v1/users/email/preferences", { language, kinds });
      props.done("saved", t("em.saved"));
    });
  const erase = () =>
    act(async () => {
      setErasing(false);
      const r = await call<Schema<"Erased">>("DELETE", "/v1/users/email");
      props.done("erased", t(r.erased ? "em.erased" : "em.nothing_erased"));
    });
  const toggle = (k: string, on: boolean) => setKinds((old) => (on ? [...old.filter((x) => x !== k), k] : old.filter((x) => x !== k)));
  const names = new Map<string, string>(LOCALES.map((l) => [l.code, l.name]));
  return (
    <div class="email-form">
      {s.available && (
        <>
          <div class="form-grid">
            <label>
              {t(s.address ? "em.new_address" : "em.address_label")}
              <input
                type="email"
                autoComplete="email"
                value={email}
                maxLength={254}
                onInput={(x) => setEmail((x.target as HTMLInputElement).value)}
                aria-invalid={invalid}
                aria-describedby={invalid ? "email-invalid" : undefined}
                data-testid="email-input"
              />
              {invalid && (
                <span class="field-error" id="email-invalid">
                  {t("em.invalid")}
                </span>
              )}
            </label>
            <label>
              {t("em.language")}
              <select value={language} onChange={(x) => setLanguage((x.target as HTMLSelectElement).value)} data-testid="email-language">
                {s.languages.map((code) => (
                  <option key={code} value={code} lang={code}>
                    {names.get(code) ?? code}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <fieldset class="email-kinds" data-testid="email-kinds">
            <legend>{t("em.kinds")}</legend>
            {s.all_kinds.map((k) => (
              <label key={k} class="inline">
                <input type="checkbox" value={k} checked={kinds.includes(k)} onChange={(x) => toggle(k, (x.target as HTMLInputElement).checked)} data-testid="email-kind" />{" "}
                {kindName(k)}
              </label>
            ))}
          </fieldset>
          <p class="actions-row">
            <button type="button" class="primary" disabled={busy || e === "" || invalid} onClick={() => void saveAddress()} data-testid="email-save">
              {t(s.address ? "em.change_address" : "em.save_address")}
            </button>{" "}
            {s.address && (
              <button type="button" disabled={busy} onClick={() => void savePreferences()} data-testid="email-save-preferences">
                {t("em.save_preferences")}
              </button>
            )}
          </p>
        </>
      )}
      {s.address && (
        <p class="email-erase">
          <button type="button" class="danger" disabled={busy} onClick={() => setErasing(true)} data-testid="email-erase">
            {t("em.erase")}
          </button>{" "}
          <span class="muted">{t("em.erase_note")}</span>
        </p>
      )}
      {erasing && (
        <Confirm title={t("em.erase_title")} confirmLabel={t("em.erase")} danger onConfirm={() => void erase()} onCancel={() => setErasing(false)}>
          <p>{t("em.erase_text")}</p>
        </Confirm>
      )}
      {error !== null && (
        <Notice kind="error" testid="email-error">
          {errorText(error)}
        </Notice>
      )}
    </div>
  );
}

// ---- The e-mails' links ----

type LinkState = { k: "working" } | { k: "done"; address: string } | { k: "expired" } | { k: "invalid" } | { k: "failed"; e: unknown };

function linkFailure(e: unknown): LinkState {
  if (e instanceof ApiError && e.status === 409) return { k: "expired" };
  if (e instanceof ApiError && (e.status === 400 || e.status === 404 || e.status === 422)) return { k: "invalid" };
  return { k: "failed", e };
}

function LinkOutcome(props: { state: LinkState; testid: string; done: string }) {
  const s = props.state;
  if (s.k === "working") return <Loading what={t("em.what_link")} />;
  if (s.k === "done")
    return (
      <Notice kind="ok" testid={props.testid}>
        <span data-state="done">{props.done}</span>
      </Notice>
    );
  return (
    <Notice kind="error" testid={props.testid}>
      <span data-state={s.k}>{s.k === "expired" ? t("em.link_expired") : s.k === "invalid" ? t("em.link_invalid") : t("em.link_failed", { message: errorText(s.e) })}</span>
    </Notice>
  );
}

/** `#email-confirm=TOKEN`: confirms the address on load (the link was sent to it; following it is the confirmation). */
function EmailConfirm(props: { token: string }) {
  const [state, setState] = useState<LinkState>({ k: "working" });
  useEffect(() => {
    let live = true;
    publicCall<Schema<"LinkDone">>("POST", "/v1/public/email/confirm", { token: props.token }).then(
      (r) => live && setState({ k: "done", address: r.address }),
      (e) => live && setState(linkFailure(e)),
    );
    return () => {
      live = false;
    };
  }, [props.token]);
  return (
    <section class="notes" aria-labelledby="link-title" data-testid="email-confirm">
      <h2 id="link-title">{t("em.confirm_title")}</h2>
      <LinkOutcome state={state} testid="email-confirm-result" done={state.k === "done" ? t("em.confirmed_done", { address: state.address }) : ""} />
      <p>
        <a href="#notifications" data-testid="to-notifications">
          {t("em.to_notifications")}
        </a>
      </p>
    </section>
  );
}

/** `#email-unsubscribe=TOKEN`: unsubscribes only when the button is pressed (never on load: RFC 8058). */
function EmailUnsubscribe(props: { token: string }) {
  const [state, setState] = useState<LinkState | null>(null);
  const go = () => {
    setState({ k: "working" });
    publicCall<Schema<"LinkDone">>("POST", `/v1/public/email/unsubscribe?token=${encodeURIComponent(props.token)}`).then(
      (r) => setState({ k: "done", address: r.address }),
      (e) => setState(linkFailure(e)),
    );
  };
  return (
    <section class="notes" aria-labelledby="link-title" data-testid="email-unsubscribe-page">
      <h2 id="link-title">{t("em.unsub_title")}</h2>
      {state === null || state.k === "working" ? (
        <>
          <p>{t("em.unsub_text")}</p>
          <button type="button" class="primary" disabled={state !== null} onClick={go} data-testid="email-unsubscribe">
            {state ? t("em.working") : t("em.unsub_button")}
          </button>
        </>
      ) : (
        <LinkOutcome state={state} testid="email-unsubscribe-result" done={state.k === "done" ? t("em.unsub_done", { address: state.address }) : ""} />
      )}
      <p>
        <a href="#notifications" data-testid="to-notifications">
          {t("em.to_notifications")}
        </a>
      </p>
    </section>
  );
}
