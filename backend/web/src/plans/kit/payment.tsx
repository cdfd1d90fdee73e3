// Paying the contract from the user's own wallet, for a registration or a retopup: the right network, enough
// balance, the token approval first (USDT), the transaction, and then its way through the chain and the
// ledger: sent → mined → confirmed → applied, each with its block number. An EVM wallet pays assets on EVM
// chains, TronLink those on TRON chains.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, post } from "../../lib/api";
import { phrase, t, tx } from "../../i18n";
import "../../i18n/member";
import { amount as amountText, clock, dateTime, localHuman } from "../../lib/format";
import { type AnyConnection, type TronConnection, isNative, isTronChain, networkText } from "../../lib/tron";
import type { AssetAmount, AssetPlan, RegistrationStatus, SignedPayment } from "../../lib/types";
import { type Connection, WalletError } from "../../lib/wallet";
import { type Wallet, approveOf } from "../../lib/any-wallet";
import { connectEvmWallet, connectTronLinkWallet, errorText, useTronLink, useWallets } from "../../ui/account";
import { Addr, Notice } from "../../ui/bits";
import {
  type InFlight,
  type Slot,
  begin,
  clear,
  drivenElsewhere,
  driving,
  forgetNotice,
  lastNotice,
  letGo,
  load,
  update,
  watch,
  whenReleased,
} from "./inflight";
import { PayFacts } from "./pay-facts";
import { badgeId, useVerdict } from "../../ui/solvency-verdict";

/** How long the ledger may take to apply a mined payment before the page says so. */
const APPLY_DEADLINE_MS = 180_000;

type StepState = "todo" | "active" | "done" | "failed";
export interface Step {
  id: string;
  label: string;
  state: StepState;
  detail?: string;
}

export function Steps(props: { steps: Step[] }) {
  return (
    <ol class="steps" aria-label={t("payment.progress")}>
      {props.steps.map((s) => (
        <li key={s.id} class={`step ${s.state}`} data-testid={`step-${s.id}`} data-state={s.state} aria-current={s.state === "active" ? "step" : undefined}>
          <span class="step-label">{s.label}</span>
          {s.detail && <span class="step-detail">{s.detail}</span>}
        </li>
      ))}
    </ol>
  );
}

/** The outcome the page reports once the payment is applied. */
export interface Applied {
  /** The ledger's answer about this payload (by its nonce). */
  status: RegistrationStatus;
  /** The block of the event that used it. */
  block: bigint;
}

type Problem =
  | { kind: "wrong_network"; have: number; want: number }
  | { kind: "insufficient"; text: string }
  | { kind: "expired"; text: string }
  | { kind: "rejected"; text: string }
  | { kind: "quarantined"; text: string }
  | { kind: "error"; text: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** What a payment needs to know of its asset: an auto-pool plan's or a generation plan's card will do. */
export type PayPlan = Pick<AssetPlan, "asset_id" | "chain_id" | "symbol" | "decimals" | "token">;

/**
 * Where the page stands with this slot's payment: nothing in flight (`idle`), looking at a stored one
 * (`checking`), asking the wallet (`driving`), following a sent one (`following`), another tab asking its wallet
 * (`elsewhere`), a payload out with no transaction recorded — paying it again pays the SAME payload (`resume`) —,
 * following stopped without an outcome (`stalled`), or a registration done (`done`).
 */
export type Phase = "idle" | "checking" | "driving" | "following" | "elsewhere" | "resume" | "stalled" | "done";

interface PaymentProps<C> {
  connection: C;
  plan: PayPlan;
  kind: "register" | "retopup";
  ask: () => Promise<SignedPayment>;
  onApplied: (a: Applied) => void;
  /** The payment reached the contract but the ledger refused it (quarantined). */
  onRefused?: () => void;
  actionLabel: string;
  /** What the button pays (shown with its fiat value and the network fee beside it); null while none is chosen. */
  amount: AssetAmount | null;
  /**
   * Told each phase, with the amount (base units) of the payload in flight when there is one: a page that lets the
   * payer choose the amount (a package) holds the choice to it while it is out.
   */
  onPhase?: (phase: Phase, inFlight: string | null) => void;
}

/**
 * Runs one payment; `ask` gets the signed payload from the API. An asset on a TRON chain is paid with TronLink,
 * any other from an EVM wallet; with the other kind of wallet connected, the page says which one to connect.
 */
export function Payment(props: PaymentProps<AnyConnection>) {
  const c = props.connection;
  const tron = isTronChain(props.plan.chain_id);
  if (tron && c.kind === "tron") return <TronPayment {...props} connection={c} />;
  if (!tron && c.kind === "evm") return <EvmPayment {...props} connection={c} />;
  return <WalletMismatch symbol={props.plan.symbol} chainId={props.plan.chain_id} />;
}

/** The asset is paid with the other kind of wallet than the one connected: which one, and a button to connect it. */
export function WalletMismatch(props: { symbol: string; chainId: number }) {
  const tron = isTronChain(props.chainId);
  const evm = useWallets();
  const tronLink = useTronLink();
  const [error, setError] = useState<string | null>(null);
  const go = (f: () => Promise<void>) => {
    setError(null);
    f().catch((e) => setError(errorText(e)));
  };
  return (
    <Notice kind="warn" testid="wallet-mismatch">
      {tron ? (
        <>
          {t("payment.paid_tronlink", { asset: t("asset.on_network", { symbol: props.symbol, network: networkText(props.chainId) }) })}{" "}
          {tronLink.present ? (
            <button type="button" onClick={() => go(connectTronLinkWallet)} data-testid="use-tronlink">
              {t("account.connect_tronlink")}
            </button>
          ) : (
            t("payment.no_tronlink")
          )}
        </>
      ) : (
        <>
          {t("payment.paid_evm", { asset: t("asset.on_network", { symbol: props.symbol, network: networkText(props.chainId) }) })}{" "}
          {evm.length === 0
            ? t("payment.no_evm")
            : evm.map((w) => (
                <button key={w.info.uuid} type="button" onClick={() => go(() => connectEvmWallet(w))} data-testid="use-evm">
                  {t("account.connect_named", { name: w.info.name })}
                </button>
              ))}
        </>
      )}
      {error && <p>{error}</p>}
    </Notice>
  );
}

/** Raised when the ledger refused a payment that reached the contract (quarantined): the amount and the reason. */
export class NotApplied extends Error {
  constructor(readonly status: RegistrationStatus) {
    super(notAppliedText(status));
  }
}

/** "Your payment of 20 BNB (transaction 0x…, block 42) was not applied: …; an admin can refund it." */
export function notAppliedText(s: { amount: { human: string }; event?: { tx_hash: string; block: number } | null; quarantine_reason?: string | null }) {
  const where = s.event ? t("payment.not_applied_where", { tx: short(s.event.tx_hash), block: String(s.event.block) }) : "";
  return t("payment.not_applied", { amount: localHuman(s.amount.human), where, reason: s.quarantine_reason ?? t("payment.no_reason") });
}

/** What a payment needs of a wallet, EVM or TronLink alike. */
interface Payer {
  /** "your wallet", "TronLink". */
  where: string;
  /** The 0x account (the session's). */
  account: string;
  network(): Promise<number | null>;
  /** Balance and fee checks before anything is sent: the problem, or null. */
  check(p: SignedPayment): Promise<Problem | null>;
  /** Whether the payment needs a token approval first. */
  token: boolean;
  allowance(p: SignedPayment): Promise<bigint>;
  approve(p: SignedPayment): Promise<string>;
  pay(p: SignedPayment): Promise<string>;
  mined(id: string): Promise<{ blockNumber: bigint }>;
  blockNumber(): Promise<bigint>;
  /** Whether the contract has spent the payload's nonce (it executed, whoever sent it). */
  nonceUsed(p: SignedPayment): Promise<boolean>;
}

/**
 * One payment, driven or followed by this page and kept in flight across reloads and tabs (./inflight): the
 * steps, the problem and the phase.
 */
function usePayment(props: PaymentProps<AnyConnection>, payer: Payer, approveLabel: string | null) {
  const kind = props.kind;
  const initial: Step[] = [
    ...(approveLabel ? [{ id: "approve", label: approveLabel, state: "todo" as StepState }] : []),
    { id: "sent", label: t("payment.step_sent"), state: "todo" },
    { id: "mined", label: t("payment.step_mined"), state: "todo" },
    { id: "confirmed", label: t("payment.step_confirmed"), state: "todo" },
    { id: "applied", label: t("payment.step_applied"), state: "todo" },
  ];
  const slot: Slot = { wallet: payer.account, asset_id: props.plan.asset_id, kind };
  const [steps, setSteps] = useState<Step[]>(initial);
  // A payment this page let go (expired) is still told after a reload or a re-render, until the next one starts.
  const [problem, setProblem] = useState<Problem | null>(() => {
    const text = load(slot) ? null : lastNotice(slot);
    return text ? { kind: "expired", text } : null;
  });
  const [phase, setPhaseState] = useState<Phase>(() => (load(slot) ? "checking" : "idle"));
  const { onPhase } = props;
  useEffect(() => onPhase?.(phase, load(slot)?.payment.amount.base ?? null), [phase]);
  /** Lets go of an expired payment, saying so here and to any later instance of this slot. */
  const expire = (nonce: string, text: string) => {
    letGo(slot, nonce, text);
    known.current = null;
    setProblem({ kind: "expired", text });
  };
  const [started, setStarted] = useState(false);
  const [amount, setAmount] = useState<string | null>(null);
  const alive = useRef(true);
  const phaseRef = useRef<Phase>(phase);
  /** The nonce this page follows now (so that a storage event does not start a second follower). */
  const following = useRef<string | null>(null);
  /** The last record this page knew: what a removed record was about. */
  const known = useRef<InFlight | null>(null);
  const setPhase = (p: Phase) => {
    phaseRef.current = p;
    if (alive.current) setPhaseState(p);
  };
  const set = (id: string, state: StepState, detail?: string) =>
    alive.current && setSteps((all) => all.map((s) => (s.id === id ? { ...s, state, detail: detail ?? s.detail } : s)));

  /** The steps a stored record has reached. */
  const showReached = (r: InFlight) => {
    known.current = r;
    setAmount(r.payment.amount.human);
    setStarted(true);
    setSteps(initial.map((s) => ({ ...s })));
    if (approveLabel) {
      if (r.tx) set("approve", "done", t("payment.approved"));
      else if (r.approve) set("approve", "active", t("payment.approval_sent", { tx: short(r.approve) }));
    }
    if (r.tx) {
      set("sent", "done", t("payment.transaction", { tx: short(r.tx) }));
      if (r.mined) set("mined", "done", t("payment.block", { block: r.mined }));
      else set("mined", "active", t("payment.waiting_block"));
    }
  };

  /** Marks every active step failed and shows the problem; a final one forgets the record. */
  const fail = (e: unknown, r: InFlight | null) => {
    if (!alive.current) return;
    setSteps((all) => all.map((s) => (s.state === "active" ? { ...s, state: "failed" } : s)));
    const payment = r?.payment ?? null;
    if (e instanceof NotApplied) {
      if (r) clear(slot, r.payment.nonce);
      set("confirmed", "done", e.status.event ? t("payment.event_confirmed", { block: String(e.status.event.block) }) : undefined);
      set("applied", "failed", t("payment.not_applied_step", { reason: e.status.quarantine_reason ?? t("payment.refused_by_ledger") }));
      setProblem({ kind: "quarantined", text: e.message });
      setPhase(kind === "register" ? "done" : "idle");
      props.onRefused?.();
      return;
    }
    if (e instanceof WalletError && e.kind === "reverted") {
      // Final: mined and refused by the contract; nothing was taken.
      if (r) clear(slot, r.payment.nonce);
      setPhase("idle");
      if (payment && payment.deadline * 1000 <= Date.now()) {
        setProblem({ kind: "expired", text: t("payment.mined_refused", { expired: expiredText(payment) }) });
        return;
      }
      setProblem({ kind: "error", text: paymentError(e) });
      return;
    }
    const rejected = e instanceof WalletError && e.kind === "rejected";
    const insufficient = e instanceof WalletError && e.kind === "insufficient_funds";
    setProblem({ kind: rejected ? "rejected" : insufficient ? "insufficient" : "error", text: paymentError(e) });
    // Not final: a sent payment may still apply (follow it again); a payload out unsent is paid again as it is.
    const stored = load(slot);
    setPhase(stored?.tx ? "stalled" : stored ? "resume" : "idle");
  };

  const applied = (a: Applied, r: InFlight) => {
    clear(slot, r.payment.nonce);
    following.current = null;
    set("confirmed", "done", t("payment.event_confirmed", { block: String(a.block) }));
    set("applied", "done", appliedText(kind, a));
    setPhase(kind === "register" ? "done" : "idle");
    props.onApplied(a);
  };

  /** From a sent transaction (its hash recorded) to the ledger's outcome. */
  const followTx = async (r: InFlight) => {
    following.current = r.payment.nonce;
    setPhase("following");
    let block: bigint;
    if (r.mined) {
      block = BigInt(r.mined);
    } else {
      set("mined", "active", t("payment.waiting_block"));
      try {
        block = (await payer.mined(r.tx!)).blockNumber;
      } catch (e) {
        // Refused because another transaction of the same payload executed first (a wallet that sent it after a
        // reload): that one is the payment; follow it.
        if (e instanceof WalletError && e.kind === "reverted" && (await payer.nonceUsed(r.payment).catch(() => false))) {
          await followNonce(r);
          return;
        }
        throw e;
      }
      r = update(r, { mined: block.toString() });
    }
    set("mined", "done", t("payment.block", { block: String(block) }));
    set("confirmed", "active", t("payment.waiting_confirmations"));
    const a = await follow(payer, r.payment, block, (head) =>
      set("confirmed", "active", t("payment.confirmations", { count: head - block + 1n, head: String(head) })),
    );
    applied(a, r);
  };

  /** The payload was used on-chain but this page has no hash of it (sent while the page reloaded): by its nonce. */
  const followNonce = async (r: InFlight) => {
    following.current = r.payment.nonce;
    setPhase("following");
    if (approveLabel) set("approve", "done", t("payment.approved"));
    set("sent", "done", t("payment.used_onchain"));
    set("mined", "active", t("payment.ledger_block"));
    const a = await follow(payer, r.payment, null, (head) => set("confirmed", "active", t("payment.waiting_head", { head: String(head) })));
    set("mined", "done", t("payment.block", { block: String(a.block) }));
    applied(a, r);
  };

  /** Follows what a stored record says (on load, or as another tab writes it); asks the wallet for nothing. */
  const resume = async (r: InFlight | null, signal: AbortSignal) => {
    if (phaseRef.current === "driving") return;
    if (!r) {
      // Gone: another tab reached an outcome (or gave up). One look at this payload's status tells which.
      const was = known.current;
      known.current = null;
      // Nothing this page knew of: the record went before this instance saw it (another tab, or an instance of
      // this page unmounted meanwhile, reached its outcome). Nothing is in flight here any more.
      if (!was && phaseRef.current === "checking") {
        setPhase("idle");
        return;
      }
      if (!was || following.current) return;
      if (phaseRef.current !== "elsewhere" && phaseRef.current !== "resume" && phaseRef.current !== "checking") return;
      try {
        const s = await confirm(was.payment.nonce);
        if (isApplied(s)) {
          showReached({ ...was, tx: s.event!.tx_hash, mined: String(s.event!.block) });
          applied({ status: s, block: BigInt(s.event!.block) }, was);
        } else if (s.status === "quarantined") {
          showReached({ ...was, tx: s.event?.tx_hash, mined: s.event ? String(s.event.block) : undefined });
          fail(new NotApplied(s), was);
        } else {
          setStarted(false);
          setPhase("idle");
        }
      } catch (e) {
        fail(e, null);
      }
      return;
    }
    if (following.current === r.payment.nonce) return;
    showReached(r);
    try {
      // Past the deadline, with the wallet's answer: an instance unmounted while it waited (the page re-rendered it)
      // leaves the record to the instance that replaced it, which asks again and tells the user.
      const expiredUnused =
        !!r.tx && !r.mined && (r.payment.deadline + 60) * 1000 <= Date.now() && !(await payer.nonceUsed(r.payment).catch(() => true));
      if (signal.aborted) return;
      if (expiredUnused) {
        // Sent but never executed, and its authorisation is past its deadline (with a minute for the chain's clock):
        // the contract refuses it now, so nothing can be charged for it any more.
        setSteps((all) => all.map((s) => (s.state === "active" ? { ...s, state: "failed" } : s)));
        expire(
          r.payment.nonce,
          t("payment.expired_unexecuted", { tx: short(r.tx!), time: clock(r.payment.deadline * 1000) }),
        );
        setPhase("idle");
        return;
      }
      if (r.tx) {
        await followTx(r);
        return;
      }
      const elsewhere = await drivenElsewhere(slot);
      if (signal.aborted) return;
      if (elsewhere) {
        setPhase("elsewhere");
        await whenReleased(slot, signal).catch(() => undefined);
        if (!signal.aborted) await resume(load(slot), signal);
        return;
      }
      const used = await payer.nonceUsed(r.payment).catch(() => false);
      if (signal.aborted) return;
      if (used) {
        await followNonce(r);
        return;
      }
      if (r.payment.deadline * 1000 <= Date.now()) {
        clear(slot, r.payment.nonce);
        known.current = null;
        setStarted(false);
        setPhase("idle");
        return;
      }
      setPhase("resume");
    } catch (e) {
      following.current = null;
      fail(e, r);
    }
  };

  // The storage listener calls this render's functions (the wallet's connection and the props may change).
  const latest = useRef(resume);
  latest.current = resume;
  // On load and whenever another tab writes this slot's record.
  useEffect(() => {
    alive.current = true;
    const abort = new AbortController();
    void latest.current(load(slot), abort.signal);
    const off = watch(slot, (r) => void latest.current(r, abort.signal));
    return () => {
      alive.current = false;
      abort.abort();
      off();
    };
  }, [slot.wallet, slot.asset_id, slot.kind]);

  /** The button: the stored payload (the same nonce) when one is out, else a new one from the API. */
  const drive = async () => {
    let r: InFlight | null = null;
    setProblem(null);
    setPhase("driving");
    try {
      const have = await payer.network();
      if (have !== null && have !== props.plan.chain_id) {
        setProblem({ kind: "wrong_network", have, want: props.plan.chain_id });
        setPhase(load(slot) ? "resume" : "idle");
        return;
      }
      const stored = load(slot);
      if (stored?.tx) {
        showReached(stored);
        await followTx(stored);
        return;
      }
      let again = false;
      if (stored && stored.payment.deadline * 1000 > Date.now()) {
        r = stored;
        again = true;
        showReached(stored);
      } else {
        if (stored) clear(slot, stored.payment.nonce);
        setSteps(initial);
        setStarted(true);
        const p = await props.ask();
        forgetNotice(slot);
        r = begin(slot, p);
        known.current = r;
        setAmount(p.amount.human);
        again = !!p.reissued;
      }
      const p = r.payment;
      // A payload given before may have been paid meanwhile (the wallet sent it after a reload): never twice.
      if (again && (await payer.nonceUsed(p).catch(() => false))) {
        await followNonce(r);
        return;
      }
      const expired = () => p.deadline * 1000 <= Date.now();
      if (expired()) {
        expire(p.nonce, expiredText(p));
        setPhase("idle");
        return;
      }
      const refused = await payer.check(p);
      if (refused) {
        setProblem(refused);
        setPhase("resume");
        return;
      }
      if (payer.token) {
        const amount = BigInt(p.amount.base);
        if (r.approve) {
          set("approve", "active", t("payment.approval_mining", { tx: short(r.approve) }));
          await payer.mined(r.approve);
        }
        if ((await payer.allowance(p)) < amount) {
          set("approve", "active", t("payment.approve_in", { amount: localHuman(p.amount.human), where: phrase(payer.where) }));
          const approveId = await payer.approve(p);
          r = update(r, { approve: approveId });
          set("approve", "active", t("payment.approval_mining", { tx: short(approveId) }));
          const mined = await payer.mined(approveId);
          set("approve", "done", t("payment.approved_in", { block: String(mined.blockNumber) }));
        } else {
          set("approve", "done", r.approve ? t("payment.approved") : t("payment.already_approved"));
        }
      }
      if (expired()) {
        expire(p.nonce, expiredText(p));
        setPhase("idle");
        return;
      }
      if (payer.token) {
        // The payment's own fees, now that the node can estimate it (its approval is in place).
        const unpaid = await payer.check(p);
        if (unpaid) {
          setProblem(unpaid);
          setPhase("resume");
          return;
        }
      }
      set("sent", "active", t("payment.confirm_in", { where: phrase(payer.where) }));
      const id = await payer.pay(p);
      r = update(r, { tx: id });
      set("sent", "done", t("payment.transaction", { tx: short(id) }));
      await followTx(r);
    } catch (e) {
      following.current = null;
      fail(e, r);
    }
  };

  const run = async () => {
    const ran = await driving(slot, async () => {
      await drive();
      return true;
    });
    if (ran === null) {
      // Another tab is asking its wallet for this payment right now: follow it from here.
      setPhase("elsewhere");
      const abort = new AbortController();
      await whenReleased(slot, abort.signal).catch(() => undefined);
      await resume(load(slot), abort.signal);
    }
  };

  const check = () => void resume(load(slot), new AbortController().signal);

  return { steps, problem, setProblem, phase, started, amount, run, check };
}

const isApplied = (s: RegistrationStatus) => s.status === "applied" && !!s.event && s.event.this_payload !== false;

const confirm = (nonce: string) => post<RegistrationStatus>("/v1/users/register/confirm", { nonce });

/** What the pay button says in each phase; `null`: no button. */
function buttonText(phase: Phase, action: string, amount: string | null, where: string): string | null {
  switch (phase) {
    case "idle":
      return action;
    case "checking":
      return t("payment.button_checking");
    case "driving":
      return t("payment.button_driving", { where: phrase(where) });
    case "following":
      return t("payment.button_following");
    case "elsewhere":
      return t("payment.button_elsewhere");
    case "resume":
      return t("payment.button_resume", { amount: amount ? localHuman(amount) : "" }).replace("  ", " ");
    case "stalled":
      return t("payment.button_stalled");
    case "done":
      return null;
  }
}

/** Scrolls to the asset's proof-of-solvency badge and moves the focus there (the notice's "See the check"). */
function showBadge(assetId: number) {
  const badge = document.getElementById(badgeId(assetId));
  if (!badge) return;
  badge.scrollIntoView({ block: "center" });
  badge.focus();
}

/** The button, the problem (with what to do about it) and the steps. */
function PaymentView(props: {
  kind: "register" | "retopup";
  state: ReturnType<typeof usePayment>;
  actionLabel: string;
  amount: AssetAmount | null;
  where: string;
  /** The warning while the wallet is on another network, and the problem's wording of it. */
  networkWarning: ComponentChildren;
  networkProblem: (have: number, want: number) => ComponentChildren;
  blocked: boolean;
  plan: PayPlan;
}) {
  const { state: st } = props;
  const problem = st.problem;
  const label = buttonText(st.phase, props.actionLabel, st.amount, props.where);
  // The asset's proof of solvency as the member's badge judged it: stale or failing, the page advises withholding new
  // payments and the button steps back; the member may still pay once they say they read why.
  const verdict = useVerdict(props.plan.asset_id);
  const [confirmed, setConfirmed] = useState(false);
  useEffect(() => setConfirmed(false), [verdict]);
  const doubtful = verdict === "stale" || verdict === "failed";
  const paysAnew = st.phase === "idle" || st.phase === "resume";
  const held = doubtful && paysAnew && !confirmed;
  const enabled = (st.phase === "idle" || st.phase === "resume" || st.phase === "stalled") && !props.blocked && !held;
  const click = st.phase === "stalled" ? st.check : () => void st.run();
  const noticeId = `pay-solvency-${props.kind}-${props.plan.asset_id}`;
  return (
    <div class="payment" data-testid={`payment-${props.kind}`} data-phase={st.phase} data-solvency={verdict ?? undefined}>
      {props.networkWarning}
      {doubtful && paysAnew && (
        <div class="notice warn pay-solvency" role="status" id={noticeId} data-testid="pay-solvency-notice" data-verdict={verdict}>
          <p>
            {t(verdict === "stale" ? "solvency.pay_notice_stale" : "solvency.pay_notice_failed", { symbol: props.plan.symbol })}{" "}
            <button type="button" onClick={() => showBadge(props.plan.asset_id)} data-testid="pay-solvency-why">
              {t("solvency.pay_see_why")}
            </button>
          </p>
          <label class="pay-solvency-confirm">
            <input type="checkbox" checked={confirmed} onChange={(e) => setConfirmed(e.currentTarget.checked)} data-testid="pay-solvency-confirm" />{" "}
            {t("solvency.pay_confirm")}
          </label>
        </div>
      )}
      {label !== null && (
        <button
          type="button"
          class={doubtful ? undefined : "primary"}
          onClick={click}
          disabled={!enabled}
          aria-describedby={doubtful && paysAnew ? noticeId : undefined}
          data-testid={`pay-${props.kind}`}
          data-phase={st.phase}
        >
          {label}
        </button>
      )}
      {paysAnew && <PayFacts assetId={props.plan.asset_id} symbol={props.plan.symbol} decimals={props.plan.decimals} amount={props.amount} first={props.kind === "register"} />}
      {st.phase === "elsewhere" && (
        <Notice kind="info" testid="paying-elsewhere">
          {t("payment.elsewhere")}
        </Notice>
      )}
      {st.phase === "resume" && (
        <Notice kind="info" testid="payment-resume">
          {t("payment.resume", { amount: st.amount ? localHuman(st.amount) : "" })}
        </Notice>
      )}
      {problem && (
        <Notice kind={problem.kind === "wrong_network" ? "warn" : "error"} testid={`problem-${problem.kind}`}>
          {problem.kind === "wrong_network" ? props.networkProblem(problem.have, problem.want) : problem.text}
          {problem.kind === "expired" && st.phase === "idle" && (
            <>
              {" "}
              <button type="button" onClick={() => void st.run()} disabled={held}>
                {t("payment.new_authorisation")}
              </button>
            </>
          )}
        </Notice>
      )}
      {st.started && <Steps steps={st.steps} />}
    </div>
  );
}

/**
 * The payment's needs of any wallet ([`Wallet`]): the balances first (a wallet would only say "insufficient funds"
 * without the figures), then the API's approve (a token) and payment calls, in the form the wallet sends them.
 */
function payerOf(c: Wallet, plan: PayPlan, seen: (network: number | null) => void): Payer {
  return {
    where: c.where,
    account: c.hex,
    token: !isNative(plan.token),
    async network() {
      const have = await c.network();
      seen(have);
      return have;
    },
    async check(p) {
      const amount = BigInt(p.amount.base);
      const native = await c.nativeBalance();
      const approve = approveOf(p);
      if (approve) {
        const balance = await c.tokenBalance(c.target(approve));
        if (balance < amount) {
          return {
            kind: "insufficient",
            text: t("payment.balance_short", { balance: amountText(balance, plan.decimals, plan.symbol), amount: localHuman(p.amount.human) }),
          };
        }
      } else if (native < amount) {
        return {
          kind: "insufficient",
          text: t("payment.balance_short_fee", {
            balance: amountText(native, plan.decimals, plan.symbol),
            amount: localHuman(p.amount.human),
            fee: phrase(c.fee.unit),
          }),
        };
      }
      if (c.feeProblem) {
        // What is still to be sent: the approval while the allowance is short, then the payment.
        const approving = approve && (await c.allowance(c.target(approve), c.target(p))) < amount;
        const sends = [...(approving ? [{ what: "approval", call: approve }] : []), { what: "payment", call: p }];
        const problem = await c.feeProblem(sends);
        return problem ? { kind: "insufficient", text: problem } : null;
      }
      if (approve && native === 0n) return { kind: "insufficient", text: c.fee.none };
      return null;
    },
    allowance(p) {
      const approve = approveOf(p);
      return approve ? c.allowance(c.target(approve), c.target(p)) : Promise.resolve(BigInt(p.amount.base));
    },
    approve(p) {
      const approve = approveOf(p);
      if (!approve) throw new Error(t("payment.no_approve"));
      return c.sendCall(approve, "approval");
    },
    pay: (p) => c.sendCall(p, "transaction"),
    mined: (id) => c.mined(id),
    blockNumber: () => c.blockNumber(),
    nonceUsed: (p) => c.nonceUsed(c.target(p), p.nonce),
  };
}

/** Paid from an EVM wallet: `eth_sendTransaction` of the API's transaction, after the token approval. */
function EvmPayment(props: PaymentProps<Connection>) {
  const { connection: c, plan } = props;
  const [chainId, setChainId] = useState<number | null>(null);
  useEffect(() => {
    void c.chainId().then(setChainId, () => undefined);
  }, [c]);
  const payer = payerOf(c, plan, setChainId);
  const st = usePayment(props, payer, isNative(plan.token) ? null : t("payment.step_approve", { symbol: plan.symbol }));
  const { setProblem } = st;
  const wrongNetwork = chainId !== null && chainId !== plan.chain_id;

  const switchNetwork = async () => {
    setProblem(null);
    try {
      await c.switchChain(plan.chain_id);
      setChainId(await c.chainId());
    } catch (e) {
      const unknown = e instanceof WalletError && e.kind === "unknown_chain";
      setProblem({
        kind: "error",
        text: unknown ? t("payment.add_network", { chain: String(plan.chain_id) }) : errorText(e),
      });
    }
  };

  return (
    <PaymentView
      kind={props.kind}
      state={st}
      actionLabel={props.actionLabel}
      amount={props.amount}
      where="your wallet"
      blocked={wrongNetwork}
      plan={plan}
      networkWarning={
        wrongNetwork &&
        st.phase !== "driving" && (
          <Notice kind="warn" testid="wrong-network">
            {t("payment.wrong_network", { have: String(chainId), symbol: plan.symbol, want: String(plan.chain_id) })}{" "}
            <button type="button" onClick={switchNetwork} data-testid="switch-network">
              {t("payment.switch_to", { chain: String(plan.chain_id) })}
            </button>
          </Notice>
        )
      }
      networkProblem={(have, want) => (
        <>
          {t("payment.wrong_network_problem", { have: String(have), want: String(want) })}{" "}
          <button type="button" onClick={switchNetwork} data-testid="switch-network-problem">
            {t("payment.switch_network")}
          </button>
        </>
      )}
    />
  );
}

/**
 * Paid with TronLink: the API's `tron` call (and its `approve` first, for a token) built by TronLink's
 * `triggerSmartContract`, signed in TronLink and broadcast; mined per `getTransactionInfo`, confirmed and applied
 * per the ledger. TronLink cannot be switched to another network by a page: when its node is on another TRON
 * network than the asset's, the page says so and reads it again on TronLink's `setNode` or "Check again".
 */
function TronPayment(props: PaymentProps<TronConnection>) {
  const { connection: c, plan } = props;
  const [network, setNetwork] = useState<number | null>(null);
  useEffect(() => {
    void c.network().then(setNetwork);
  }, [c]);
  const wrongNetwork = network !== null && network !== plan.chain_id;
  const recheck = async () => {
    setProblem(null);
    setNetwork(await c.network());
  };
  const payer = payerOf(c, plan, setNetwork);
  const st = usePayment(props, payer, isNative(plan.token) ? null : t("payment.step_approve", { symbol: plan.symbol }));
  const { setProblem } = st;

  const other = (have: number) => (
    <>
      {tx("payment.tron_other", {
        have: networkText(have),
        symbol: plan.symbol,
        want: networkText(plan.chain_id),
        check: (
          <button type="button" onClick={recheck} data-testid="recheck-network">
            {t("payment.check_again")}
          </button>
        ),
      })}
    </>
  );
  return (
    <PaymentView
      kind={props.kind}
      state={st}
      actionLabel={props.actionLabel}
      amount={props.amount}
      where="TronLink"
      blocked={wrongNetwork}
      plan={plan}
      networkWarning={
        wrongNetwork &&
        st.phase !== "driving" && (
          <Notice kind="warn" testid="wrong-network">
            {other(network)}
          </Notice>
        )
      }
      networkProblem={(have) => other(have)}
    />
  );
}

function short(h: string) {
  return `${h.slice(0, 10)}…${h.slice(-6)}`;
}

function expiredText(p: SignedPayment) {
  return t("payment.expired", { time: clock(p.deadline * 1000) });
}

function appliedText(kind: "register" | "retopup", a: Applied): string {
  if (kind === "register" && a.status?.user) return t("payment.you_are_user", { user: String(a.status.user.user_no), block: String(a.block) });
  return t("payment.recorded", { block: String(a.block) });
}

function paymentError(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "already_registered":
        return t("payment.err_already_registered");
      case "unknown_sponsor":
        return t("payment.err_unknown_sponsor");
      case "sponsor_frozen":
        return t("payment.err_sponsor_frozen");
      case "self_sponsor":
        return t("payment.err_self_sponsor");
      case "user_frozen":
        return t("payment.err_user_frozen");
      case "payment_outstanding": {
        // Asked for in another browser or device (this one would pay the payload it holds): say which and until when,
        // in the reader's words, number form and zone (the API's details; its message is English, kept for an API
        // without them).
        const amount = e.details?.amount as { human?: unknown } | undefined;
        const until = e.details?.until;
        if (typeof amount?.human === "string" && typeof until === "string")
          return t("payment.err_outstanding_at", { amount: localHuman(amount.human), until: dateTime(until) });
        return t("payment.err_outstanding", { message: e.message });
      }
      case "not_a_package":
      case "package_required":
        return t("payment.err_not_a_package", { message: e.message });
      case "signer_unavailable":
      case "signer_refused":
      case "chain_not_configured":
        return t("payment.err_unavailable", { message: e.message });
    }
  }
  return errorText(e);
}

/**
 * Polls the ledger about THIS payload (by its nonce, for a registration and a retopup alike) until it is applied
 * (or the deadline passes), reporting the chain head meanwhile; a payment the ledger refused throws [`NotApplied`].
 * `minedBlock` is null when the page knows the payload was used but not its transaction.
 */
async function follow(
  c: { blockNumber(): Promise<bigint> },
  payment: SignedPayment,
  minedBlock: bigint | null,
  progress: (head: bigint) => void,
): Promise<Applied> {
  const until = Date.now() + APPLY_DEADLINE_MS;
  while (Date.now() < until) {
    const head = await c.blockNumber().catch(() => minedBlock ?? 0n);
    progress(head);
    const status = await confirm(payment.nonce);
    if (isApplied(status)) return { status, block: BigInt(status.event!.block) };
    if (status.status === "quarantined") throw new NotApplied(status);
    // `expired` with a mined transaction: its block is not confirmed yet (it still shows `applied` once it is).
    await sleep(1000);
  }
  throw new Error(t("payment.not_applied_in_time"));
}

export function SponsorLine(props: { sponsor: string }) {
  return (
    <span>
      {tx("payment.sponsor", { address: <Addr a={props.sponsor} testid="sponsor" /> })}
    </span>
  );
}
