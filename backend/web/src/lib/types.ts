// Shapes of the API's answers that the pages read (see /api-docs/openapi.json). Amounts are base-unit
// integers as decimal strings; `AssetAmount` adds the server's human form. Addresses of an asset on a TRON
// chain come as `T…`; the session's and the profile's address are always 0x.

import type { TronCall } from "./tron";

export interface AssetAmount {
  base: string;
  human: string;
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export type Role = "user" | "admin";

export interface TokenPair {
  access_token: string;
  token_type: string;
  expires_in: number;
  /** Only for API clients: a cookie session (the pages') gets it as an HttpOnly cookie, never in the body. */
  refresh_token?: string;
  address: string;
  role: Role;
}

export interface NonceResponse {
  nonce: string;
  message: string;
  expires_at: string;
}

export interface AssetPlan {
  asset_id: number;
  chain_id: number;
  token: string;
  symbol: string;
  decimals: number;
  version: number;
  effective_from_block: number;
  registration_fee: AssetAmount;
  direct_amount: AssetAmount;
  pool_entry_every: number;
  max_nodes_per_level: number;
  level_price: AssetAmount[];
  layer_bps: number[];
  reserve_slots: number;
  retopup_fee: AssetAmount;
  level_bps: number[];
}

export interface AssetDisclosure {
  asset_id: number;
  symbol: string;
  participants: number;
  received_at_least_paid_in: number;
  median_net: AssetAmount | null;
  company_total: AssetAmount;
}

export interface Balances {
  paid_in: string;
  pending: string;
  held: string;
  batched: string;
  settled: string;
  forfeited: string;
  reserved: string;
  claimable: string;
}

export interface AssetStanding {
  asset_id: number;
  chain_id: number;
  symbol: string;
  decimals: number;
  status: "active" | "frozen";
  user_no: number;
  sponsor: string | null;
  registered_block: number | null;
  direct_referrals: number;
  retopups: number;
  balances: Balances;
  pool_nodes: { level: number; active: number; completed: number }[];
}

export interface Profile {
  address: string;
  assets: AssetStanding[];
}

export interface Referral {
  user_no: number;
  address: string;
  registered_block: number | null;
  direct_referrals: number;
  has_retopup: boolean;
}

export interface Page<T, C = number> {
  items: T[];
  next_cursor: C | null;
}

export interface TreeNode {
  user_no: number;
  address: string;
  sponsor_no: number | null;
  depth: number;
  direct_referrals: number;
}

export interface SponsorTree {
  root: TreeNode | null;
  nodes: TreeNode[];
  depth: number;
  truncated: boolean;
}

export interface RewardEntry {
  reward_no: number;
  kind: string;
  level: number;
  amount: AssetAmount;
  status: string;
  /** Parts paid on-chain and parts in unsettled batches (a reward above the signer's per-entry cap is paid in parts). */
  paid: AssetAmount;
  in_flight: AssetAmount;
  block: number | null;
  plan_version: number;
}

export interface WalletTransaction {
  to: string;
  value: string;
  data: string;
}

export interface SignedPayment {
  transaction_id: number;
  kind: "register" | "retopup";
  asset_id: number;
  chain_id: number;
  contract: string;
  payload: Record<string, string>;
  signature: string;
  nonce: string;
  deadline: number;
  digest: string;
  amount: AssetAmount;
  transaction: WalletTransaction;
  /** On a TRON chain: the same call in TronWeb's terms (and the token's approve first). */
  tron?: TronCall | null;
  /** True when this is the payload already handed out and still out (same nonce): paying it again cannot charge twice. */
  reissued?: boolean;
}

/**
 * What became of ONE payload: `applied` (a confirmed event used it and the ledger credited it), `quarantined` (a
 * confirmed event used it and the ledger refused it: the amount is in custody, not credited), `waiting` (no
 * confirmed event yet; it may still execute) or `expired` (past its deadline with no confirmed event).
 */
export type PaymentStatus = "applied" | "quarantined" | "waiting" | "expired";

/** The confirmed chain event that used a payload. */
export interface SeenEvent {
  tx_hash: string;
  log_index: number;
  block: number;
  /** False when the wallet was registered by another payload of its own (another nonce). */
  this_payload: boolean;
}

/** `POST /v1/users/register/confirm {nonce}`: any payload of the caller's (register or retopup), by its nonce. */
export interface RegistrationStatus {
  transaction_id: number;
  kind: "register" | "retopup";
  asset_id: number;
  nonce: string;
  deadline: number;
  /** Of THIS payload; the wallet's standing (whichever payload registered it) is in `user`. */
  status: PaymentStatus;
  /** What this payment pays (for a quarantined one, what the wallet actually paid). */
  amount: AssetAmount;
  user: { user_no: number; status: string; sponsor: string | null; registered_block: number | null } | null;
  event: SeenEvent | null;
  /** Why the event was quarantined (`code: words`). */
  quarantine_reason: string | null;
  sponsor_pool_entry: { level: number; q: number } | null;
}

/** One of the caller's payloads and what became of it (`GET /v1/users/payments?asset_id=N`). */
export interface PaymentView {
  transaction_id: number;
  kind: "register" | "retopup";
  asset_id: number;
  chain_id: number;
  nonce: string;
  deadline: number;
  status: PaymentStatus;
  amount: AssetAmount;
  event: SeenEvent | null;
  quarantine_reason: string | null;
}

/** `GET /v1/users/payments?asset_id=N`: the caller's last 50 payloads in the asset, newest first. */
export interface PaymentList {
  payments: PaymentView[];
}

/** `GET /v1/users/claim`: what the contract holds for the wallet and `Settlement.claim(token, wallet)`. */
export interface ClaimAnswer {
  asset_id: number;
  chain_id: number;
  claimable: AssetAmount;
  transaction: WalletTransaction;
  /** On a TRON chain: `claim(token, wallet)` in TronWeb's terms. */
  tron?: TronCall | null;
}

export interface WithdrawAnswer {
  request: {
    id: number;
    asset_id: number;
    address: string;
    amount: AssetAmount;
    status: string;
    created_at: string;
  };
  claimable: AssetAmount;
  claim_transaction: WalletTransaction | null;
  /** On a TRON chain, with `claim_transaction`: the call as TronLink sends it. */
  claim_tron: TronCall | null;
}

export interface PoolNodeView {
  q: number;
  owner: string;
  placement_no: number;
  status: string;
  filled_slots: number;
  completed_block: number | null;
}

export interface NodesPage {
  items: PoolNodeView[];
  next_after: number | null;
}

export interface PoolSummary {
  asset_id: number;
  levels: { level: number; nodes: number; next_index: number; completed_matrices: number; price: AssetAmount }[];
}
