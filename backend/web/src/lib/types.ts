// Shapes of the API's answers that the pages read: the schemas of the backend's OpenAPI document
// (backend/web/openapi.json, generated into src/generated/api.ts by `npm run gen`), under the names the pages use.
// Amounts are base-unit integers as decimal strings; `AssetAmount` adds the server's human form. Addresses of an
// asset on a TRON chain come as `T…`; the session's and the profile's address are always 0x.
// A field the API may leave out (an `Option` in the backend) is optional here: test it with `!= null`.

import type { components } from "../generated/api";

type S = components["schemas"];

export type AssetAmount = S["AssetAmount"];
export type ErrorBody = S["ErrorBody"];
export type Role = S["Role"];
/** `refresh_token` only for API clients: a cookie session (the pages') gets it as an HttpOnly cookie, never in the body. */
export type TokenPair = S["TokenPair"];
export type NonceResponse = S["NonceResponse"];
export type AssetPlan = S["AssetPlan"];
export type AssetDisclosure = S["AssetDisclosure"];
export type PublicDisclosures = S["PublicDisclosures"];
export type PublicPlans = S["PublicPlans"];
/** Prices in the operator's currency from on-chain feeds, and each asset's network fee estimates (`/v1/public/prices`). */
export type PublicPrices = S["PublicPrices"];
export type PriceQuote = S["PriceQuote"];
/** The operator's identity and terms (`/v1/public/operator`); `operator` absent when none is published. */
export type PublicOperator = S["PublicOperator"];
/** A referral link's sponsor in one asset (`/v1/public/sponsor`). */
export type PublicSponsor = S["PublicSponsor"];
export type Balances = S["Balances"];
export type AssetStanding = S["AssetStanding"];
export type Profile = S["Profile"];
export type Referral = S["Referral"];
export type ReferralPage = S["Page_Referral"];
export type TreeNode = S["TreeNode"];
export type SponsorTree = S["SponsorTree"];
/** Parts paid on-chain (`paid`) and parts in unsettled batches (`in_flight`): a reward above the signer's per-entry cap is paid in parts. */
export type RewardEntry = S["RewardEntry"];
export type RewardPage = S["Page_RewardEntry"];
export type WalletTransaction = S["WalletTransaction"];
/** A contract call as TronLink sends it (the API's `tron` answers; for a token payment, `approve` first). */
export type TronCall = S["TronCall"];
export type TronApprove = S["TronApprove"];
/** `reissued`: the payload already handed out and still out (same nonce), so paying it again cannot charge twice. */
export type SignedPayment = S["SignedPayment"];

/** The confirmed chain event that used a payload (`this_payload` false: the wallet was registered by another of its payloads). */
export type SeenEvent = S["SeenEvent"];
/**
 * `POST /v1/users/register/confirm {nonce}`: any payload of the caller's (register or retopup), by its nonce. Its
 * `status` (a string in the document) is `applied`, `quarantined`, `waiting` or `expired`, as its description says.
 */
export type RegistrationStatus = S["RegistrationStatus"];
/** One of the caller's payloads and what became of it (`GET /v1/users/payments?asset_id=N`). */
export type PaymentView = S["PaymentView"];
/** `GET /v1/users/payments?asset_id=N`: the caller's last 50 payloads in the asset, newest first. */
export type PaymentList = S["PaymentList"];
/** `GET /v1/users/claim`: what the contract holds for the wallet and `Settlement.claim(token, wallet)`. */
export type ClaimAnswer = S["ClaimAnswer"];
export type WithdrawAnswer = S["WithdrawAnswer"];
/** `GET /v1/users/withdrawals?asset_id=N`: the caller's requests with the batch that took each, and the asset's batches' record. */
export type Withdrawals = S["Withdrawals"];
/** One withdraw request: `cancelled_by` is `member` or `operator` once cancelled. */
export type WithdrawRequestView = S["WithdrawRequestView"];
/** A payout batch as its users see it: status, transaction and execution block. */
export type BatchRef = S["BatchRef"];
export type PoolNodeView = S["PoolNodeView"];
export type NodesPage = S["NodesPage"];
export type PoolSummary = S["PoolSummary"];
/** The generation plan of one asset (PLAN-GENERATION.md), as `/v1/public/plan` lists it under `generation`. */
export type GenerationAssetPlan = S["GenerationAssetPlan"];
/** A wallet's standing under a generation-plan asset (`/v1/users/generation`). */
export type GenerationStanding = S["GenerationStanding"];
/** One closed week of a generation-plan asset (`/v1/admin/weeks`). */
export type WeekCloses = S["WeekCloses"];
/** The binary plan of one asset (PLAN-BINARY.md), as `/v1/public/plan` lists it under `binary`, with its odds. */
export type BinaryAssetPlan = S["BinaryAssetPlan"];
/** A wallet's standing under a binary-plan asset (`/v1/users/binary`). */
export type BinaryStanding = S["BinaryStanding"];
/** A page of the binary tree under a member (`/v1/users/binary/tree`). */
export type BinaryTreePage = S["BinaryTreePage"];
/** Closed periods of a binary-plan asset (`/v1/admin/binary/closes`). */
export type BinaryCloses = S["BinaryCloses"];
/** `GET /v1/public/solvency`: per asset, the latest committed epoch of the proof of solvency, as the operator's server reports it. */
export type SolvencyOverview = Omit<S["SolvencyOverview"], "assets"> & { assets: AssetSolvency[] };
/** One epoch as the API reports it (`latest`, `in_flight`, the history's items). */
export type EpochView = S["EpochView"];
/** The generated schema `K`, or `Fallback` (its shape as the backend serves it) while src/generated/api.ts lacks it. */
type Generated<K extends string, Fallback> = K extends keyof S ? S[K] : Fallback;
/**
 * One Settlement contract of an asset's chain and its latest commitment of the asset (`contracts`): the live one
 * first, then those an upgrade replaced, oldest first.
 */
export type ContractSolvency = Generated<"ContractSolvency", { contract: string; contract_hex: string; live: boolean; latest?: EpochView }>;
/**
 * The latest round committed on every contract of the chain (`round`): its block and total, the custody of every
 * contract together, and each contract's epoch.
 */
export type RoundView = Generated<
  "RoundView",
  { round: number; as_of_block: number; total: AssetAmount; custody: AssetAmount; covered: boolean; epochs: EpochView[] }
>;
/**
 * One asset's proof of solvency: its contract and token (T… on TRON, and 0x), the latest epoch, its age, the policy's
 * maximum age; after an upgrade every contract of the chain (`contracts`) and the latest round committed on all of them.
 * `contracts` is optional here: an API from before upgrades lists none (nothing to compare with the build's then).
 */
export type AssetSolvency = Omit<S["AssetSolvency"], "contracts" | "round"> & { contracts?: ContractSolvency[]; round?: RoundView };
/** `GET /v1/users/solvency-proof`: the caller's leaf, salt, index and siblings (every address 0x, also on TRON). */
export type SolvencyProofAnswer = S["SolvencyProof"];
