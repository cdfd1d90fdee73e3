// Paying the contract from the user's own wallet, for a registration or a retopup: the right network, enough
// balance, the token approval first (USDT), the transaction, and then its way through the chain and the
// ledger: sent → mined → confirmed → applied, each with its block number. An EVM wallet pays assets on EVM
// chains, TronLink those on TRON chains.

import type { ComponentChildren } from "preact";
import { useEffect, useRef, useState } from "preact/hooks";
import { type Address, type Hex, getAddress } from "viem";
import { ApiError, get, post } from "../lib/api";
import { human } from "../lib/format";
import { type AnyConnection, type TronConnection, isNative, isTronChain, networkText } from "../lib/tron";
import type { AssetPlan, Profile, RegistrationStatus, SignedPayment } from "../lib/types";
import { type Connection, WalletError } from "../lib/wallet";
import { connectEvmWallet, connectTronLinkWallet, errorText, useTronLink, useWallets } from "../ui/account";
import { Addr, Notice } from "../ui/bits";

const ZERO = "0x0000000000000000000000000000000000000000";
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
    <ol class="steps" aria-label="Progress">
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
  status?: RegistrationStatus;
  profile?: Profile;
  block: bigint;
}

type Problem =
  | { kind: "wrong_network"; have: number; want: number }
  | { kind: "insufficient"; text: string }
  | { kind: "expired"; text: string }
  | { kind: "rejected"; text: string }
  | { kind: "error"; text: string };

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface PaymentProps<C> {
  connection: C;
  plan: AssetPlan;
  kind: "register" | "retopup";
  ask: () => Promise<SignedPayment>;
  onApplied: (a: Applied) => void;
  actionLabel: string;
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
          {props.symbol} on {networkText(props.chainId)} is paid with TronLink.{" "}
          {tronLink.present ? (
            <button type="button" onClick={() => go(connectTronLinkWallet)} data-testid="use-tronlink">
              Connect TronLink
            </button>
          ) : (
            "TronLink was not found: install the TronLink extension to pay in it."
          )}
        </>
      ) : (
        <>
          {props.symbol} on {networkText(props.chainId)} is paid from an EVM wallet.{" "}
          {evm.length === 0
            ? "No EVM wallet was found: install one to pay in it."
            : evm.map((w) => (
                <button key={w.info.uuid} type="button" onClick={() => go(() => connectEvmWallet(w))} data-testid="use-evm">
                  Connect {w.info.name}
                </button>
              ))}
        </>
      )}
      {error && <p>{error}</p>}
    </Notice>
  );
}

/** The steps, the problem and the run state one payment shows; `fail` reports what stopped it. */
function usePaymentState(kind: "register" | "retopup", approve: string | null) {
  const initial: Step[] = [
    ...(approve ? [{ id: "approve", label: approve, state: "todo" as StepState }] : []),
    { id: "sent", label: "Sent", state: "todo" },
    { id: "mined", label: "Mined", state: "todo" },
    { id: "confirmed", label: "Confirmed", state: "todo" },
    { id: "applied", label: "Applied", state: "todo" },
  ];
  const [steps, setSteps] = useState<Step[]>(initial);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [running, setRunning] = useState(false);
  /** A registration happens once: after it, the steps stay but the button goes. */
  const [finished, setFinished] = useState(false);
  const [started, setStarted] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    return () => {
      alive.current = false;
    };
  }, []);
  const set = (id: string, state: StepState, detail?: string) =>
    alive.current && setSteps((all) => all.map((s) => (s.id === id ? { ...s, state, detail: detail ?? s.detail } : s)));
  return {
    steps,
    problem,
    setProblem,
    running,
    finished,
    started,
    alive,
    set,
    begin() {
      setProblem(null);
      setSteps(initial);
      setRunning(true);
      setStarted(true);
    },
    end() {
      if (alive.current) setRunning(false);
    },
    done(applied: Applied) {
      set("confirmed", "done", `Event in block ${applied.block} confirmed`);
      set("applied", "done", appliedText(kind, applied));
      if (kind === "register") setFinished(true);
    },
    fail(e: unknown, payment: SignedPayment | null) {
      if (!alive.current) return;
      setSteps((all) => all.map((s) => (s.state === "active" ? { ...s, state: "failed" } : s)));
      // A payload that reached the chain too late reverts: say why.
      if (e instanceof WalletError && e.kind === "reverted" && payment && payment.deadline * 1000 <= Date.now()) {
        setProblem({ kind: "expired", text: `${expiredText(payment)} The transaction was mined but refused by the contract.` });
        return;
      }
      const rejected = e instanceof WalletError && e.kind === "rejected";
      const insufficient = e instanceof WalletError && e.kind === "insufficient_funds";
      setProblem({ kind: rejected ? "rejected" : insufficient ? "insufficient" : "error", text: paymentError(e) });
    },
  };
}

/** The button, the problem (with what to do about it) and the steps. */
function PaymentView(props: {
  kind: "register" | "retopup";
  state: ReturnType<typeof usePaymentState>;
  run: () => void;
  actionLabel: string;
  /** The warning while the wallet is on another network, and the problem's wording of it. */
  networkWarning: ComponentChildren;
  networkProblem: (have: number, want: number) => ComponentChildren;
  blocked: boolean;
}) {
  const { state: st } = props;
  const problem = st.problem;
  return (
    <div class="payment" data-testid={`payment-${props.kind}`}>
      {props.networkWarning}
      {!st.finished && (
        <button type="button" class="primary" onClick={props.run} disabled={st.running || props.blocked} data-testid={`pay-${props.kind}`}>
          {props.actionLabel}
        </button>
      )}
      {problem && (
        <Notice kind={problem.kind === "wrong_network" ? "warn" : "error"} testid={`problem-${problem.kind}`}>
          {problem.kind === "wrong_network" ? props.networkProblem(problem.have, problem.want) : problem.text}
          {problem.kind === "expired" && (
            <>
              {" "}
              <button type="button" onClick={props.run}>
                Get a new authorisation
              </button>
            </>
          )}
        </Notice>
      )}
      {st.started && <Steps steps={st.steps} />}
    </div>
  );
}

/** Paid from an EVM wallet: `eth_sendTransaction` of the API's transaction, after the token approval. */
function EvmPayment(props: PaymentProps<Connection>) {
  const { connection: c, plan } = props;
  const token = plan.token === ZERO ? null : (getAddress(plan.token) as Address);
  const st = usePaymentState(props.kind, token ? `Approve ${plan.symbol}` : null);
  const { set, setProblem } = st;
  const [chainId, setChainId] = useState<number | null>(null);
  useEffect(() => {
    void c.chainId().then(setChainId, () => undefined);
  }, [c]);

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
        text: unknown ? `Add the network with chain id ${plan.chain_id} to your wallet, then try again.` : errorText(e),
      });
    }
  };

  const run = async () => {
    let payment: SignedPayment | null = null;
    st.begin();
    try {
      const have = await c.chainId();
      setChainId(have);
      if (have !== plan.chain_id) {
        setProblem({ kind: "wrong_network", have, want: plan.chain_id });
        return;
      }
      const p = await props.ask();
      payment = p;
      const amount = BigInt(p.amount.base);
      const expired = () => p.deadline * 1000 <= Date.now();
      if (expired()) {
        setProblem({ kind: "expired", text: expiredText(p) });
        return;
      }
      // Balance first: a wallet would only say "insufficient funds" without the figures.
      const native = await c.nativeBalance();
      if (token) {
        const balance = await c.tokenBalance(token);
        if (balance < amount) {
          setProblem({
            kind: "insufficient",
            text: `Your balance is ${human(balance, plan.decimals)} ${plan.symbol}; this needs ${p.amount.human}.`,
          });
          return;
        }
        if (native === 0n) {
          setProblem({ kind: "insufficient", text: "Your wallet has no coin to pay the network fee (gas)." });
          return;
        }
        const spender = getAddress(p.contract);
        if ((await c.allowance(token, spender)) < amount) {
          set("approve", "active", `Approve ${p.amount.human} for the settlement contract in your wallet`);
          const approveHash = await c.approve(token, spender, amount);
          set("approve", "active", `Approval sent (${short(approveHash)}), waiting for it to be mined`);
          const r = await c.mined(approveHash);
          set("approve", "done", `Approved in block ${r.blockNumber}`);
        } else {
          set("approve", "done", "Already approved");
        }
      } else if (native < amount) {
        setProblem({
          kind: "insufficient",
          text: `Your balance is ${human(native, plan.decimals)} ${plan.symbol}; this needs ${p.amount.human} plus gas.`,
        });
        return;
      }
      if (expired()) {
        setProblem({ kind: "expired", text: expiredText(p) });
        return;
      }
      set("sent", "active", "Confirm the transaction in your wallet");
      const hash = await c.send(p.transaction, "transaction");
      set("sent", "done", `Transaction ${short(hash)}`);
      set("mined", "active", "Waiting for a block");
      const receipt = await c.mined(hash as Hex);
      const minedBlock = receipt.blockNumber;
      set("mined", "done", `Block ${minedBlock}`);
      set("confirmed", "active", "Waiting for confirmations");
      const applied = await follow(c, props.kind, p, minedBlock, (head) =>
        set("confirmed", "active", `${head - minedBlock + 1n} confirmation(s), head block ${head}`),
      );
      st.done(applied);
      props.onApplied(applied);
    } catch (e) {
      st.fail(e, payment);
    } finally {
      st.end();
    }
  };

  return (
    <PaymentView
      kind={props.kind}
      state={st}
      run={run}
      actionLabel={props.actionLabel}
      blocked={wrongNetwork}
      networkWarning={
        wrongNetwork &&
        !st.running && (
          <Notice kind="warn" testid="wrong-network">
            Your wallet is on network {chainId}; {plan.symbol} is paid on chain {plan.chain_id}.{" "}
            <button type="button" onClick={switchNetwork} data-testid="switch-network">
              Switch to chain {plan.chain_id}
            </button>
          </Notice>
        )
      }
      networkProblem={(have, want) => (
        <>
          Your wallet is on network {have}; this payment is on chain {want}.{" "}
          <button type="button" onClick={switchNetwork} data-testid="switch-network-problem">
            Switch network
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
  const st = usePaymentState(props.kind, isNative(plan.token) ? null : `Approve ${plan.symbol}`);
  const { set, setProblem } = st;
  const [network, setNetwork] = useState<number | null>(null);
  useEffect(() => {
    void c.network().then(setNetwork);
  }, [c]);
  const wrongNetwork = network !== null && network !== plan.chain_id;
  const recheck = async () => {
    setProblem(null);
    setNetwork(await c.network());
  };

  const run = async () => {
    let payment: SignedPayment | null = null;
    st.begin();
    try {
      const have = await c.network();
      setNetwork(have);
      if (have !== null && have !== plan.chain_id) {
        setProblem({ kind: "wrong_network", have, want: plan.chain_id });
        return;
      }
      const p = await props.ask();
      payment = p;
      const call = p.tron;
      if (!call) throw new Error("The API's answer carries no TRON transaction for this asset; nothing was sent.");
      const amount = BigInt(p.amount.base);
      const expired = () => p.deadline * 1000 <= Date.now();
      if (expired()) {
        setProblem({ kind: "expired", text: expiredText(p) });
        return;
      }
      const trx = await c.nativeBalance();
      if (call.approve) {
        const token = call.approve.contract;
        const balance = await c.tokenBalance(token);
        if (balance < amount) {
          setProblem({
            kind: "insufficient",
            text: `Your balance is ${human(balance, plan.decimals)} ${plan.symbol}; this needs ${p.amount.human}.`,
          });
          return;
        }
        if (trx === 0n) {
          setProblem({ kind: "insufficient", text: "Your TronLink account has no TRX to pay the network fee (energy)." });
          return;
        }
        if ((await c.allowance(token, call.contract)) < amount) {
          set("approve", "active", `Approve ${p.amount.human} for the settlement contract in TronLink`);
          const approveId = await c.send({ ...call.approve, call_value: "0" }, "approval");
          set("approve", "active", `Approval sent (${short(approveId)}), waiting for it to be mined`);
          const r = await c.mined(approveId);
          set("approve", "done", `Approved in block ${r.blockNumber}`);
        } else {
          set("approve", "done", "Already approved");
        }
      } else if (trx < amount) {
        setProblem({
          kind: "insufficient",
          text: `Your balance is ${human(trx, plan.decimals)} ${plan.symbol}; this needs ${p.amount.human} plus energy.`,
        });
        return;
      }
      if (expired()) {
        setProblem({ kind: "expired", text: expiredText(p) });
        return;
      }
      set("sent", "active", "Confirm the transaction in TronLink");
      const txid = await c.send(call, "transaction");
      set("sent", "done", `Transaction ${short(txid)}`);
      set("mined", "active", "Waiting for a block");
      const minedBlock = (await c.mined(txid)).blockNumber;
      set("mined", "done", `Block ${minedBlock}`);
      set("confirmed", "active", "Waiting for confirmations");
      const applied = await follow(c, props.kind, p, minedBlock, (head) =>
        set("confirmed", "active", `${head - minedBlock + 1n} confirmation(s), head block ${head}`),
      );
      st.done(applied);
      props.onApplied(applied);
    } catch (e) {
      st.fail(e, payment);
    } finally {
      st.end();
    }
  };

  const other = (have: number) => (
    <>
      TronLink is on {networkText(have)}; {plan.symbol} is paid on {networkText(plan.chain_id)}. Choose that network in
      TronLink, then{" "}
      <button type="button" onClick={recheck} data-testid="recheck-network">
        check again
      </button>
    </>
  );
  return (
    <PaymentView
      kind={props.kind}
      state={st}
      run={run}
      actionLabel={props.actionLabel}
      blocked={wrongNetwork}
      networkWarning={
        wrongNetwork &&
        !st.running && (
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
  return `The authorisation for this payment expired at ${new Date(p.deadline * 1000).toLocaleTimeString()}; nothing was sent.`;
}

function appliedText(kind: "register" | "retopup", a: Applied): string {
  if (kind === "register" && a.status?.user) return `You are user #${a.status.user.user_no} (block ${a.block})`;
  return `Recorded in the ledger (block ${a.block})`;
}

function paymentError(e: unknown): string {
  if (e instanceof ApiError) {
    switch (e.code) {
      case "already_registered":
        return "This wallet is already registered in this asset.";
      case "unknown_sponsor":
        return "The sponsor of this link is not registered in this asset.";
      case "sponsor_frozen":
        return "The sponsor of this link is frozen; registration under them is not possible now.";
      case "self_sponsor":
        return "You cannot use your own referral link.";
      case "user_frozen":
        return "This wallet is frozen.";
      case "signer_unavailable":
      case "signer_refused":
      case "chain_not_configured":
        return `Payments are not possible right now: ${e.message}`;
    }
  }
  return errorText(e);
}

/** Polls the ledger until the payment is applied (or the deadline passes), reporting the chain head meanwhile. */
async function follow(
  c: { blockNumber(): Promise<bigint> },
  kind: "register" | "retopup",
  payment: SignedPayment,
  minedBlock: bigint,
  progress: (head: bigint) => void,
): Promise<Applied> {
  const until = Date.now() + APPLY_DEADLINE_MS;
  const before = kind === "retopup" ? await retopups(payment.asset_id) : 0;
  while (Date.now() < until) {
    const head = await c.blockNumber().catch(() => minedBlock);
    progress(head);
    if (kind === "register") {
      const status = await post<RegistrationStatus>("/v1/users/register/confirm", { nonce: payment.nonce });
      if (status.status === "applied" && status.event) return { status, block: BigInt(status.event.block) };
      if (status.status === "quarantined") {
        throw new Error(`The chain event was refused by the plan and quarantined: ${status.quarantine_reason}`);
      }
    } else {
      const profile = await get<Profile>("/v1/users/me");
      const a = profile.assets.find((x) => x.asset_id === payment.asset_id);
      if (a && a.retopups > before) return { profile, block: minedBlock };
    }
    await sleep(1000);
  }
  throw new Error("The payment was mined but the ledger has not applied it within 3 minutes; it will show once the listener catches up.");
}

async function retopups(assetId: number): Promise<number> {
  try {
    const p = await get<Profile>("/v1/users/me");
    return p.assets.find((x) => x.asset_id === assetId)?.retopups ?? 0;
  } catch (e) {
    if (e instanceof ApiError) return 0;
    throw e;
  }
}

export function SponsorLine(props: { sponsor: string }) {
  return (
    <span>
      Sponsor <Addr a={props.sponsor} testid="sponsor" />
    </span>
  );
}
