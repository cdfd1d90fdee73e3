// The proof of solvency's commitment, and the contract's pending changes, as the CHAIN holds them, read through the
// user's own wallet — never from the API, never from an RPC node of the operator's — at the Settlement contract THIS
// BUILD carries for the wallet's network (lib/networks-build.ts, from the deployment records), never at the contract
// the API names: `latestLiabilities(token)`, `wasEverAllowed(token)`, `registeredAt(user, token)` and
// `pendingChanges()` by `eth_call` through the connected EIP-1193 wallet (its head and clock by `eth_blockNumber` and
// `eth_getBlockByNumber`), or by `triggerConstantContract` through TronLink's node (its head and clock by
// `trx.getCurrentBlock`). A WalletConnect wallet answers no reads (lib/walletconnect.ts sends them to the public RPC
// the API configures), so it cannot be used for this. After an upgrade (contracts/UPGRADES.md) the same commitment,
// token and registration reads go to every contract the live one replaced that THE BUILD carries too (its record's
// `previous`): each commits every round in its own tree; the API's list of contracts is only compared with the build's.

import { type Hex, getAddress } from "viem";
import {
  settlementExitAfterSelector,
  settlementExitAfterSignature,
  settlementExitOpensAtSelector,
  settlementExitOpensAtSignature,
  settlementLatestCommitTimeSelector,
  settlementLatestCommitTimeSignature,
  type settlementLatestLiabilitiesAbi,
  settlementLatestLiabilitiesSelector,
  settlementLatestLiabilitiesSignature,
  settlementPendingChangesSelector,
  settlementPendingChangesSignature,
  settlementPendingCountSelector,
  settlementPendingCountSignature,
  settlementRegisteredAtSelector,
  settlementRegisteredAtSignature,
  settlementWasEverAllowedSelector,
  settlementWasEverAllowedSignature,
} from "../generated/contracts";
import { t } from "../i18n";
// Its notes and errors are the proof of solvency's words (src/i18n/solvency).
import "../i18n/solvency";
import { type BuildNetwork, buildNetwork } from "./networks-build";
import { type PendingChange, decodePendingChanges } from "./solvency-changes.js";
import { type ContractCommitment, type RoundVerdict, judgeRound, listedProblems } from "./solvency-round.js";
import { networkLabel } from "./networks";
import { type AnyConnection, chainAddress, isTronChain, parseAnyAddress } from "./tron";
import type { AssetSolvency } from "./types";

export type { ChangeWhat, PendingChange } from "./solvency-changes.js";

/** `latestLiabilities(token)` as read from the chain, with what else the verifier needs from it. */
export interface ChainCommitmentRead {
  root: Hex;
  total: bigint;
  /** 0 while nothing is committed for the token. */
  epoch: bigint;
  asOfBlock: bigint;
  commitBlock: bigint;
  /** The contract's own balance of the asset, read by the commit transaction itself. */
  custody: bigint;
  head: bigint;
  /** The chain the wallet reads (an EVM chain id; a TRON network's from its genesis block). */
  chainId: number;
  /** The build's network of that chain: its Settlement and the maximum age. */
  network: BuildNetwork;
  /** The contract read, in the chain's form (0x, or T… on TRON): the build's Settlement. */
  contract: string;
  /** The same, 0x (what the proof's leaves name). */
  contractHex: Hex;
  /** The token read (the asset's, 0x). */
  token: Hex;
  /** Whether the contract ever allowed the token (`wasEverAllowed`). */
  tokenEverAllowed: boolean;
  /** The block the user registered in the token at the contract (`registeredAt`; 0: never), when a user was given. */
  registeredAt: bigint | null;
  /** The contract the operator's API names for the asset (0x, lower case): it must be the build's. */
  servedContract: string;
  /** Who read it: "Test Wallet", "TronLink". */
  via: string;
  /**
   * After an upgrade, each contract the live one replaced that the build carries (its record's `previous`, oldest
   * first), read the same way through the same wallet; empty without one (nothing more is read then).
   */
  previous: PreviousContractRead[];
  /** The operator's list of the asset's contracts (`contracts`) against the build's: a contract the build does not carry is named. */
  listed: { ok: boolean; unknown: Hex[]; details: string[] };
}

/** A contract the live one replaced (the build's `previous`): its latest commitment of the asset, read through the wallet. */
export interface PreviousContractRead {
  /** In the chain's form (0x, or T… on TRON). */
  contract: string;
  /** The same, 0x (EIP-55): what its tree's leaves name. */
  contractHex: Hex;
  root: Hex;
  total: bigint;
  /** Its own epoch number (each contract numbers its commitments from 1); 0 while nothing is committed. */
  epoch: bigint;
  asOfBlock: bigint;
  commitBlock: bigint;
  custody: bigint;
  tokenEverAllowed: boolean;
  /** The block the user registered in the token at this contract (0: not here), when a user was given. */
  registeredAt: bigint | null;
  /** Whether the operator's API lists it among the asset's contracts (true when the API lists none at all). */
  listed: boolean;
}

/**
 * What `latestLiabilities(token)` returns, word by word: six static values, one 32-byte word each. Decoded here by
 * hand (viem's decoder would add its code and errors to every page's shared chunk); the list is checked against the
 * generated ABI at compile time, so an ABI that changes its outputs fails `tsc` here.
 */
const OUTPUTS = [
  ["root", "bytes32"],
  ["total", "uint128"],
  ["epoch", "uint64"],
  ["asOfBlock", "uint64"],
  ["commitBlock", "uint64"],
  ["custody", "uint256"],
] as const;
type NamesAndTypes<T> = { -readonly [K in keyof T]: T[K] extends { name: infer N; type: infer Y } ? readonly [N, Y] : never };
type Outputs = NamesAndTypes<(typeof settlementLatestLiabilitiesAbi)[0]["outputs"]>;
/** `true` only when the ABI's outputs are `OUTPUTS` (names, types and order); the constant below then compiles. */
type SameLayout = [typeof OUTPUTS, Outputs] extends [Readonly<Outputs>, typeof OUTPUTS] ? true : never;
export const LATEST_LIABILITIES_LAYOUT_MATCHES_ABI: SameLayout = true;

/** An address as one ABI word (no 0x). */
const addressWord = (address: string): string => getAddress(address).slice(2).toLowerCase().padStart(64, "0");

/** The six words of `latestLiabilities`' answer; a malformed answer (not that contract's) throws. */
function decodeLatest(raw: Hex, contract: string) {
  if (!/^0x[0-9a-fA-F]*$/.test(raw) || raw.length !== 2 + 64 * OUTPUTS.length) {
    throw new Error(t("sch.bad_latest", { contract, raw: raw.length > 20 ? `${raw.slice(0, 20)}…` : raw }));
  }
  const word = (name: (typeof OUTPUTS)[number][0]) => {
    const i = OUTPUTS.findIndex(([n]) => n === name);
    return `0x${raw.slice(2 + 64 * i, 66 + 64 * i)}` as Hex;
  };
  return {
    root: word("root"),
    total: BigInt(word("total")),
    epoch: BigInt(word("epoch")),
    asOfBlock: BigInt(word("asOfBlock")),
    commitBlock: BigInt(word("commitBlock")),
    custody: BigInt(word("custody")),
  };
}

/** One uint256 (or bool) answer; a malformed one throws. */
function decodeWord(raw: Hex, what: string, contract: string): bigint {
  if (!/^0x[0-9a-fA-F]{64}$/.test(raw)) throw new Error(t("sch.bad_answer", { contract, what }));
  return BigInt(raw);
}

/** Why the connected wallet cannot read an asset's chain now (not a failure of the proof: a note). */
export type CannotRead =
  /** The asset is on the other kind of chain (a TRON asset with an EVM wallet, or the reverse). */
  | { reason: "wallet"; need: "TronLink" | "an EVM wallet" }
  /** The wallet is on another network than the asset's. */
  | { reason: "network"; have: number; want: number }
  /** The wallet would not say which network it is on. */
  | { reason: "unknown_network" }
  /** This build of the dApp carries no Settlement contract for the network (no deployment record of it). */
  | { reason: "unsupported"; chainId: number }
  /** WalletConnect: the phone wallet answers no reads; the page would ask the operator's configured RPC. */
  | { reason: "walletconnect" };

/** Thrown by the reads when the wallet cannot read the asset's chain (shown as a note, not a failure). */
export class CannotReadError extends Error {
  constructor(
    readonly problem: CannotRead,
    chainId: number,
  ) {
    super(cannotReadText(problem, chainId));
  }
}

/** Whether `c` can read `asset`'s chain at all (without asking it anything); null when it can. */
export function readerProblem(c: AnyConnection, asset: { chain_id: number }): CannotRead | null {
  const tron = isTronChain(asset.chain_id);
  if (tron !== (c.kind === "tron")) return { reason: "wallet", need: tron ? "TronLink" : "an EVM wallet" };
  if (c.kind === "evm" && c.name === "WalletConnect") return { reason: "walletconnect" };
  if (!buildNetwork(asset.chain_id)) return { reason: "unsupported", chainId: asset.chain_id };
  return null;
}

/** The note for a wallet that cannot read the chain, in words. */
export function cannotReadText(p: CannotRead, chainId: number): string {
  switch (p.reason) {
    case "wallet":
      return t(p.need === "TronLink" ? "sch.need_tronlink" : "sch.need_evm", { network: networkLabel(chainId) });
    case "network":
      return t("sch.other_network", { have: networkLabel(p.have), want: networkLabel(p.want) });
    case "unknown_network":
      return t("sch.unknown_network");
    case "unsupported":
      return t("sch.unsupported", { network: networkLabel(p.chainId) });
    case "walletconnect":
      return t("sch.walletconnect");
  }
}

/** The wallet's network and the build's Settlement there (`CannotReadError` when there is none to read). */
async function networkOfWallet(c: AnyConnection, want: number | null): Promise<{ chainId: number; network: BuildNetwork; contract: string }> {
  const chainId = await c.network();
  if (chainId === null) throw new CannotReadError({ reason: "unknown_network" }, want ?? 0);
  if (want !== null && chainId !== want) throw new CannotReadError({ reason: "network", have: chainId, want }, want);
  const network = buildNetwork(chainId);
  if (!network) throw new CannotReadError({ reason: "unsupported", chainId }, chainId);
  // The contract in the wallet's form (T… for TronLink).
  const contract = c.kind === "tron" ? network.settlementTron : network.settlement;
  if (!contract) throw new CannotReadError({ reason: "unsupported", chainId }, chainId);
  return { chainId, network, contract };
}

/**
 * Reads the asset's latest commitment through the wallet, at the build's Settlement of the wallet's network: the
 * network first (`CannotReadError` when the wallet cannot read this chain, is on another network, or the build has
 * no contract there), then `latestLiabilities(token)`, `wasEverAllowed(token)` and, given a user,
 * `registeredAt(user, token)`, then the head block. The asset's token is the API's (checked by `wasEverAllowed`);
 * its contract is only compared (`servedContract`).
 */
export async function readCommitment(c: AnyConnection, asset: AssetSolvency, user?: string): Promise<ChainCommitmentRead> {
  const problem = readerProblem(c, asset);
  if (problem) throw new CannotReadError(problem, asset.chain_id);
  const { chainId, network, contract } = await networkOfWallet(c, asset.chain_id);
  const token = parseAnyAddress(asset.token_hex);
  if (!token) throw new Error(t("sch.no_token", { symbol: asset.symbol, token: asset.token_hex }));
  // The same three reads at one contract.
  const readAt = async (at: string) => {
    const [raw, allowed, registered] = await Promise.all([
      c.view(at, settlementLatestLiabilitiesSignature, `${settlementLatestLiabilitiesSelector}${addressWord(token)}`),
      c.view(at, settlementWasEverAllowedSignature, `${settlementWasEverAllowedSelector}${addressWord(token)}`),
      user ? c.view(at, settlementRegisteredAtSignature, `${settlementRegisteredAtSelector}${addressWord(user)}${addressWord(token)}`) : null,
    ]);
    return {
      ...decodeLatest(raw, at),
      tokenEverAllowed: decodeWord(allowed, "wasEverAllowed", at) !== 0n,
      registeredAt: registered === null ? null : decodeWord(registered, "registeredAt", at),
    };
  };
  // The API's list is compared, never read from: the contracts read are the build's.
  const apiList = asset.contracts;
  const listedByApi = (hex: string) => !apiList || apiList.some((x) => x.contract_hex.toLowerCase() === hex.toLowerCase());
  const [live, ...older] = await Promise.all([
    readAt(contract),
    ...network.previous.map((p) => {
      const at = c.kind === "tron" ? p.settlementTron : p.settlement;
      if (!at) throw new CannotReadError({ reason: "unsupported", chainId }, chainId);
      return readAt(at);
    }),
  ]);
  const { root, total, epoch, asOfBlock, commitBlock, custody, tokenEverAllowed, registeredAt } = live;
  const previous: PreviousContractRead[] = older.map((r, i) => {
    const p = network.previous[i];
    return { ...r, contract: c.kind === "tron" ? (p.settlementTron ?? p.settlement) : p.settlement, contractHex: p.settlement, listed: listedByApi(p.settlement) };
  });
  // After the commitments: the head is never below their blocks.
  const head = await c.blockNumber();
  return {
    root,
    total,
    epoch,
    asOfBlock,
    commitBlock,
    custody,
    head,
    chainId,
    network,
    contract,
    contractHex: network.settlement,
    token: token.toLowerCase() as Hex,
    tokenEverAllowed,
    registeredAt,
    servedContract: asset.contract_hex.toLowerCase(),
    via: c.name,
    previous,
    listed: listedProblems({ live: network.settlement, previous: network.previous.map((p) => p.settlement) }, apiList),
  };
}

/** The members' exit's clock of the asset at the live contract (contracts/EXIT.md), with the chain's own clock. */
export interface ExitClock {
  /** Seconds without a commitment (or paused) after which anyone may open the exit. */
  exitAfter: bigint;
  /** From when anyone may open it (unix seconds), unless the operator commits again before. */
  opensAt: bigint;
  /** When the latest commitment was mined (unix seconds; 0: none yet). */
  commitTime: bigint;
  /** The latest block's timestamp. */
  chainTime: bigint;
}

/**
 * `exitAfter()`, `exitOpensAt(token)` and `latestCommitTime(token)` at the build's live contract of `read`, and the
 * chain's clock, through the wallet: how old the latest commitment is in time, and when the members' exit can open.
 * Throws on a contract without the exit (deployed before it).
 */
export async function readExitClock(c: AnyConnection, read: ChainCommitmentRead): Promise<ExitClock> {
  const token = addressWord(read.token);
  const [after, opens, committed, clock] = await Promise.all([
    c.view(read.contract, settlementExitAfterSignature, settlementExitAfterSelector as Hex),
    c.view(read.contract, settlementExitOpensAtSignature, `${settlementExitOpensAtSelector}${token}`),
    c.view(read.contract, settlementLatestCommitTimeSignature, `${settlementLatestCommitTimeSelector}${token}`),
    chainClock(c),
  ]);
  return {
    exitAfter: decodeWord(after, "exitAfter", read.contract),
    opensAt: decodeWord(opens, "exitOpensAt", read.contract),
    commitTime: decodeWord(committed, "latestCommitTime", read.contract),
    chainTime: clock.time,
  };
}

/** Every contract's commitment as lib/solvency-round.js judges them: the live contract first, then the replaced ones. */
export function commitmentsOf(r: ChainCommitmentRead): ContractCommitment[] {
  const lower = (h: string) => h.toLowerCase() as Hex;
  return [
    {
      contract: lower(r.contractHex),
      live: true,
      listed: true,
      tokenEverAllowed: r.tokenEverAllowed,
      root: r.root,
      total: r.total,
      epoch: r.epoch,
      asOfBlock: r.asOfBlock,
      commitBlock: r.commitBlock,
      custody: r.custody,
    },
    ...r.previous.map((p) => ({
      contract: lower(p.contractHex),
      live: false,
      listed: p.listed,
      tokenEverAllowed: p.tokenEverAllowed,
      root: p.root,
      total: p.total,
      epoch: p.epoch,
      asOfBlock: p.asOfBlock,
      commitBlock: p.commitBlock,
      custody: p.custody,
    })),
  ];
}

/** How the contracts' latest commitments stand together (after an upgrade), judged with the build's maximum age. */
export const roundOf = (r: ChainCommitmentRead): RoundVerdict => judgeRound(commitmentsOf(r), r.head, r.network.proofMaxAgeBlocks);

/** The block the user registered in the asset at any contract of the build (the earliest), or null: none records it. */
export function registrationOf(r: ChainCommitmentRead): bigint | null {
  const blocks = [r.registeredAt, ...r.previous.map((p) => p.registeredAt)].filter((b): b is bigint => b !== null && b > 0n);
  return blocks.length ? blocks.reduce((min, b) => (b < min ? b : min)) : null;
}

// TronLink's injected TronWeb, for a native balance.
type TronBalanceWindow = Window & { tronLink?: { tronWeb?: { trx: { getBalance(address: string): Promise<number> } } | false }; tronWeb?: { trx: { getBalance(address: string): Promise<number> } } };

/**
 * What a contract of the build holds of the asset now (its native balance, or the token's `balanceOf`), read through
 * the wallet: whether a replaced contract that no longer commits still holds members' money.
 */
export async function readHolding(c: AnyConnection, r: ChainCommitmentRead, contract: string): Promise<bigint> {
  const native = /^0x0{40}$/.test(r.token);
  if (c.kind === "evm") {
    if (native) return BigInt((await c.provider.request({ method: "eth_getBalance", params: [getAddress(contract), "latest"] })) as Hex);
    return decodeWord(await c.view(r.token, "balanceOf(address)", `0x70a08231${addressWord(contract)}` as Hex), "balanceOf", r.token);
  }
  const hex = parseAnyAddress(contract);
  if (!hex) throw new Error(t("sch.not_address", { address: contract }));
  if (native) {
    const w = window as TronBalanceWindow;
    const tw = w.tronLink?.tronWeb || w.tronWeb;
    if (!tw) throw new Error(t("sch.no_tronlink"));
    return BigInt(await tw.trx.getBalance(chainAddress(r.chainId, hex)));
  }
  return decodeWord(await c.view(chainAddress(r.chainId, r.token), "balanceOf(address)", `0x70a08231${addressWord(hex)}` as Hex), "balanceOf", r.token);
}

/** Blocks the commitment's liabilities trail the head (its `asOfBlock`; 0 when the head is not past it). */
export const ageOf = (r: ChainCommitmentRead): bigint => (r.head > r.asOfBlock ? r.head - r.asOfBlock : 0n);

/** Blocks since the commit (0 when the head is not past it). */
export const commitAgeOf = (r: ChainCommitmentRead): bigint => (r.head > r.commitBlock ? r.head - r.commitBlock : 0n);

/** Whether the operator's API names the build's contract for the asset. */
export const servedContractMatches = (r: ChainCommitmentRead): boolean => r.servedContract === r.contractHex.toLowerCase();

// ── pending changes (DelayedChanges.sol) ─────────────────────────────────────────────────────────────────────────

/** The contract's pending changes, with the chain's clock when they were read. */
export interface PendingChangesRead {
  chainId: number;
  network: BuildNetwork;
  /** The contract read, in the chain's form. */
  contract: string;
  changes: PendingChange[];
  /**
   * How many changes are pending (`pendingCount()`, issue 65): said even when the list itself cannot be read (`changes`
   * then empty and `listError` why); null for a contract from before it.
   */
  count: bigint | null;
  listError: string | null;
  /** The latest block's number and timestamp (unix seconds): the chain's clock. */
  block: bigint;
  chainTime: bigint;
  /** `Date.now()` when the clock was read: the countdown runs on from there. */
  readAtMs: number;
  via: string;
}

// TronLink's injected TronWeb (as lib/tron.ts finds it): its current block carries the chain's clock.
type TronBlockClock = { block_header?: { raw_data?: { number?: number; timestamp?: number } } };
type TronClockWindow = Window & { tronLink?: { tronWeb?: { trx: { getCurrentBlock(): Promise<TronBlockClock> } } | false }; tronWeb?: { trx: { getCurrentBlock(): Promise<TronBlockClock> } } };

/** The latest block's number and timestamp (unix seconds), read through the wallet: the chain's clock. */
async function chainClock(c: AnyConnection): Promise<{ block: bigint; time: bigint }> {
  if (c.kind === "evm") {
    const b = (await c.provider.request({ method: "eth_getBlockByNumber", params: ["latest", false] })) as { number?: Hex; timestamp?: Hex } | null;
    if (!b?.number || !b.timestamp) throw new Error(t("sch.no_block", { wallet: c.name }));
    return { block: BigInt(b.number), time: BigInt(b.timestamp) };
  }
  const w = window as TronClockWindow;
  const tw = w.tronLink?.tronWeb || w.tronWeb;
  const raw = (await tw?.trx.getCurrentBlock())?.block_header?.raw_data;
  if (raw?.number === undefined || raw.timestamp === undefined) throw new Error(t("sch.no_block", { wallet: "TronLink" }));
  // TRON's block timestamps are in milliseconds.
  return { block: BigInt(raw.number), time: BigInt(Math.floor(raw.timestamp / 1000)) };
}

/**
 * Reads the pending changes of the build's Settlement on the wallet's network through the wallet (`pendingChanges()`),
 * then the chain's clock (the latest block's timestamp) for their countdown. `CannotReadError` when the wallet cannot
 * read (WalletConnect) or the build has no contract on its network.
 */
export async function readPendingChanges(c: AnyConnection): Promise<PendingChangesRead> {
  if (c.kind === "evm" && c.name === "WalletConnect") throw new CannotReadError({ reason: "walletconnect" }, 0);
  const { chainId, network, contract } = await networkOfWallet(c, null);
  // How many first (one word, always readable), then the list; a list that cannot be read is said, with the count.
  let count: bigint | null = null;
  try {
    const raw = await c.view(contract, settlementPendingCountSignature, settlementPendingCountSelector as Hex);
    count = /^0x[0-9a-fA-F]{64}$/.test(raw) ? BigInt(raw) : null;
  } catch {
    count = null;
  }
  let changes: PendingChange[] = [];
  let listError: string | null = null;
  try {
    const raw = await c.view(contract, settlementPendingChangesSignature, settlementPendingChangesSelector as Hex);
    changes = decodePendingChanges(raw, contract);
  } catch (e) {
    if (count === null || count === 0n) throw e;
    listError = e instanceof Error ? e.message : String(e);
  }
  const clock = await chainClock(c);
  return { chainId, network, contract, changes, count, listError, block: clock.block, chainTime: clock.time, readAtMs: Date.now(), via: c.name };
}
