// The devnet's TRON stand-in chain (a second anvil with Nile's chain id, `.devnet/tron-chain.json`) as the TRON
// tests use it: fresh TRON accounts with test USDT and "energy", sign-in with a TIP-191 signature as TronLink makes
// it, registration without a browser, and the TronLink stand-in for a page.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TronWeb } from "tronweb";
import { createPublicClient, createWalletClient, defineChain, encodeFunctionData, erc20Abi, getAddress, http, toHex } from "viem";
import { mnemonicToAccount, privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, DEVNET, TOKEN_ABI, TRON_HTTP, TRON_JSONRPC, jsonRpc, until } from "./stack.mjs";
import { TestTronLink } from "./tronlink.mjs";

const CHAIN_FILE = process.env.WEB_TEST_TRON_CHAIN_JSON ?? join(DEVNET, "tron-chain.json");
if (!existsSync(CHAIN_FILE)) throw new Error(`${CHAIN_FILE} is missing: the devnet runs no TRON stand-in chain`);

/** `{ chain_id, rpc, settlement, usdt, settlement_base58, usdt_base58, admin, deploy_block }` */
export const TRON_CHAIN = JSON.parse(readFileSync(CHAIN_FILE, "utf8"));
export const TRON_CHAIN_ID = TRON_CHAIN.chain_id;
export const TRON_RPC = process.env.WEB_TEST_TRON_RPC ?? TRON_CHAIN.rpc;
/** Test USDT on the TRON stand-in chain. */
export const TRON_USDT = 3;
/** TRON mainnet's chain id: where a test puts TronLink to be on the wrong network. */
export const TRON_MAINNET = 728126428;

const standin = defineChain({
  id: TRON_CHAIN_ID,
  name: "tron-standin",
  nativeCurrency: { name: "TRX", symbol: "TRX", decimals: 6 },
  rpcUrls: { default: { http: [TRON_RPC] } },
});
export const tronChain = createPublicClient({ chain: standin, transport: http(TRON_RPC) });

const strip = (h) => h.replace(/^0x/, "");
/** The T… form of a 0x address. */
export const tronAddress = (address) => TronWeb.address.fromHex(`41${strip(address)}`);
/** The 0x (EIP-55) form of a T… address. */
export const evmAddress = (base58) => getAddress(`0x${TronWeb.address.toHex(base58).slice(2)}`);

const ANVIL_MNEMONIC = "test test test test test test test test test test test junk";

const tronRpc = (method, params) => jsonRpc(TRON_RPC, method, params);

export const tronUsdtBalance = (address) =>
  tronChain.readContract({ address: TRON_CHAIN.usdt, abi: erc20Abi, functionName: "balanceOf", args: [address] });

/**
 * A fresh TRON account (an anvil mnemonic account far above the demo ones) on the stand-in chain, with 100 of its
 * native coin standing in for TRX (energy) and 1 000 test USDT.
 */
export async function freshTronKey() {
  const index = 2_000_000 + Math.floor(Math.random() * 1_000_000);
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: index });
  const key = toHex(account.getHdKey().privateKey);
  await tronRpc("anvil_setBalance", [account.address, toHex(100n * 10n ** 18n)]);
  const client = createWalletClient({ account, chain: standin, transport: http(TRON_RPC) });
  // The test token lets anyone mint; the account pays its own gas.
  const hash = await client.sendTransaction({
    to: TRON_CHAIN.usdt,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [account.address, 1_000_000_000n] }),
  });
  const receipt = await tronChain.waitForTransactionReceipt({ hash });
  assert.equal(receipt.status, "success", "minting test USDT on the TRON stand-in chain");
  return key;
}

/** A TronLink stand-in for `key` on the TRON stand-in chain (`network`: the network it says it is on). */
export function tronLinkFor(key, { network } = {}) {
  return new TestTronLink({ key, rpcUrl: TRON_RPC, nodeUrl: TRON_HTTP, jsonRpcUrl: TRON_JSONRPC, chainId: TRON_CHAIN_ID, network });
}

/**
 * A TronLink user who has only received USDT: a fresh key with 1 000 test USDT minted to it by someone else, no TRX
 * and no transaction of its own — an account that does not exist on TRON.
 */
export async function usdtOnlyTronKey() {
  const account = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 3_000_000 + Math.floor(Math.random() * 1_000_000) });
  const minter = createWalletClient({ account: privateKeyToAccount(ANVIL_KEYS[1]), chain: standin, transport: http(TRON_RPC) });
  const hash = await minter.sendTransaction({
    to: TRON_CHAIN.usdt,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [account.address, 1_000_000_000n] }),
  });
  assert.equal((await tronChain.waitForTransactionReceipt({ hash })).status, "success");
  return toHex(account.getHdKey().privateKey);
}

/** The test node's info of a TRON transaction (`{}` until it is in a block). */
export const tronTransactionInfo = async (txid) =>
  (await fetch(`${TRON_HTTP}/wallet/gettransactioninfobyid`, { method: "POST", body: JSON.stringify({ value: txid }) })).json();

/** The test node's view of an account: `{}` when it does not exist. */
export const tronAccount = async (address) =>
  (await fetch(`${TRON_HTTP}/wallet/getaccount`, { method: "POST", body: JSON.stringify({ address, visible: true }) })).json();

/**
 * Sends `sun` of TRX to `to` (T…) as an exchange would: TronWeb builds the transfer on the test node
 * (`/wallet/createtransaction`), signs it with a funded key, broadcasts it; waits until it is in a block.
 */
export async function sendTrx(to, sun) {
  const funder = mnemonicToAccount(ANVIL_MNEMONIC, { addressIndex: 4_000_000 });
  await tronRpc("anvil_setBalance", [funder.address, toHex(10n ** 15n)]);
  const key = strip(toHex(funder.getHdKey().privateKey));
  const tronWeb = new TronWeb({ fullHost: TRON_HTTP, privateKey: key });
  const built = await tronWeb.transactionBuilder.sendTrx(to, Number(sun), tronWeb.address.fromPrivateKey(key));
  const sent = await tronWeb.trx.sendRawTransaction(await tronWeb.trx.sign(built));
  assert.equal(sent.result, true, `the TRX transfer was refused: ${JSON.stringify(sent)}`);
  await until("the TRX transfer in a block", async () => (await tronWeb.trx.getUnconfirmedTransactionInfo(sent.txid)).blockNumber !== undefined);
  return sent.txid;
}

/** Signs in through the API as a TRON wallet: nonce for the T… address, TronWeb's `signMessageV2`. */
export async function signInTron(key) {
  const address = TronWeb.address.fromPrivateKey(strip(key));
  const nonce = await Api.raw("POST", "/v1/auth/nonce", { address, chain: "tron" });
  assert.equal(nonce.status, 200, JSON.stringify(nonce.body));
  assert.ok(nonce.body.message.includes(`\n${address}\n`), "the sign-in message names the T… address");
  const signature = await new TronWeb({ fullHost: "http://127.0.0.1:9" }).trx.signMessageV2(nonce.body.message, strip(key));
  const pair = await Api.raw("POST", "/v1/auth/signin", { message: nonce.body.message, signature });
  assert.equal(pair.status, 200, JSON.stringify(pair.body));
  const api = new Api(pair.body.access_token, pair.body.address);
  api.tron = address;
  return api;
}

/**
 * Registers `key` under `sponsor` (0x or T…) in test USDT on the TRON chain without a browser: payload from the
 * API, its `tron` call (approve first) sent as TronLink sends it, then the ledger's confirmation.
 */
export async function registerTronDirectly(key, sponsor) {
  const api = await signInTron(key);
  const p = await api.post("/v1/users/register", { asset_id: TRON_USDT, sponsor });
  assert.ok(p.tron, "a TRON asset's payment carries the TronWeb call");
  await tronLinkFor(key).pay(p.tron);
  await until(`registration of ${api.tron} applied`, async () => {
    const s = await api.post("/v1/users/register/confirm", { nonce: p.nonce });
    return s.status === "applied";
  }, { timeout: 90_000 });
  return api;
}

/** Connects TronLink and signs in through the page. */
export async function signInWithTronLink(page) {
  await page.getByTestId("connect-tron").click();
  await page.getByTestId("sign-in").click();
  await page.getByTestId("sign-out").waitFor({ timeout: 15_000 });
}
