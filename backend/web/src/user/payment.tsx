// Paying the contract from the user's own wallet, for a registration or a retopup: the right network, enough
// balance, the token approval first (USDT), the transaction, and then its way through the chain and the
// ledger: sent → mined → confirmed → applied, each with its block number.

import { useEffect, useRef, useState } from "preact/hooks";
import { type Address, type Hex, getAddress } from "viem";
import { ApiError, get, post } from "../lib/api";
import { human } from "../lib/format";
import type { AssetPlan, Profile, RegistrationStatus, SignedPayment } from "../lib/types";
import { type Connection, WalletError } from "../lib/wallet";
import { errorText } from "../ui/account";
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

/** Runs one payment; `ask` gets the signed payload from the API. */
export function Payment(props: {
  connection: Connection;
  plan: AssetPlan;
  kind: "register" | "retopup";
  ask: () => Promise<SignedPayment>;
  onApplied: (a: Applied) => void;
  actionLabel: string;
}) {
  const { connection: c, plan } = props;
  const token = plan.token === ZERO ? null : (getAddress(plan.token) as Address);
  const initial: Step[] = [
    ...(token ? [{ id: "approve", label: `Approve ${plan.symbol}`, state: "todo" as StepState }] : []),
    { id: "sent", label: "Sent", state: "todo" },
    { id: "mined", label: "Mined", state: "todo" },
    { id: "confirmed", label: "Confirmed", state: "todo" },
    { id: "applied", label: "Applied", state: "todo" },
  ];
  const [steps, setSteps] = useState<Step[]>(initial);
  const [problem, setProblem] = useState<Problem | null>(null);
  const [running, setRunning] = useState(false);
  const [chainId, setChainId] = useState<number | null>(null);
  /** A registration happens once: after it, the steps stay but the button goes. */
  const [finished, setFinished] = useState(false);
  const [started, setStarted] = useState(false);
  const alive = useRef(true);
  useEffect(() => {
    alive.current = true;
    void c.chainId().then(setChainId, () => undefined);
    return () => {
      alive.current = false;
    };
  }, [c]);

  const set = (id: string, state: StepState, detail?: string) =>
    alive.current && setSteps((all) => all.map((s) => (s.id === id ? { ...s, state, detail: detail ?? s.detail } : s)));

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
    setProblem(null);
    setSteps(initial);
    setRunning(true);
    setStarted(true);
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
      set("confirmed", "done", `Event in block ${applied.block} confirmed`);
      set("applied", "done", appliedText(props.kind, applied));
      if (props.kind === "register") setFinished(true);
      props.onApplied(applied);
    } catch (e) {
      // A payload that reached the chain too late reverts: say why.
      if (e instanceof WalletError && e.kind === "reverted" && payment && payment.deadline * 1000 <= Date.now()) {
        if (alive.current) {
          setSteps((all) => all.map((s) => (s.state === "active" ? { ...s, state: "failed" } : s)));
          setProblem({ kind: "expired", text: `${expiredText(payment)} The transaction was mined but refused by the contract.` });
        }
        return;
      }
      const rejected = e instanceof WalletError && e.kind === "rejected";
      const insufficient = e instanceof WalletError && e.kind === "insufficient_funds";
      if (alive.current) {
        setSteps((all) => all.map((s) => (s.state === "active" ? { ...s, state: "failed" } : s)));
        setProblem({ kind: rejected ? "rejected" : insufficient ? "insufficient" : "error", text: paymentError(e) });
      }
    } finally {
      if (alive.current) setRunning(false);
    }
  };

  return (
    <div class="payment" data-testid={`payment-${props.kind}`}>
      {wrongNetwork && !running && (
        <Notice kind="warn" testid="wrong-network">
          Your wallet is on network {chainId}; {plan.symbol} is paid on chain {plan.chain_id}.{" "}
          <button type="button" onClick={switchNetwork} data-testid="switch-network">
            Switch to chain {plan.chain_id}
          </button>
        </Notice>
      )}
      {!finished && (
        <button type="button" class="primary" onClick={run} disabled={running || wrongNetwork} data-testid={`pay-${props.kind}`}>
          {props.actionLabel}
        </button>
      )}
      {problem && (
        <Notice kind={problem.kind === "wrong_network" ? "warn" : "error"} testid={`problem-${problem.kind}`}>
          {problem.kind === "wrong_network" ? (
            <>
              Your wallet is on network {problem.have}; this payment is on chain {problem.want}.{" "}
              <button type="button" onClick={switchNetwork} data-testid="switch-network-problem">
                Switch network
              </button>
            </>
          ) : (
            problem.text
          )}
          {problem.kind === "expired" && (
            <>
              {" "}
              <button type="button" onClick={run}>
                Get a new authorisation
              </button>
            </>
          )}
        </Notice>
      )}
      {started && <Steps steps={steps} />}
    </div>
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
  c: Connection,
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
