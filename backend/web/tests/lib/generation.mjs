// The devnet's generation-plan asset (GUSDT, asset 4) for the browser tests.
import { encodeFunctionData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { ANVIL_KEYS, Api, CHAIN, CHAIN_ID, RPC, TOKEN_ABI, chain, freshKey, registerDirectly, until } from "./stack.mjs";
import { TestWallet } from "./wallet.mjs";

/** The devnet's generation-plan asset. */
export const GEN = 4;

/** One GUSDT in base units (6 decimals). */
export const GUSDT = 10n ** 6n;

/** A fresh wallet with 10 000 whole units of the devnet's 6-decimal test `token` (anyone may mint it; the wallet pays
 *  its own gas). */
export async function freshTokenKey(token) {
  const key = await freshKey();
  // The devnet's own anvil (its port from .devnet/ports.env), never a default port another devnet may hold.
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  const address = privateKeyToAccount(key).address;
  const hash = await w.client.sendTransaction({
    to: token,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [address, 10_000n * GUSDT] }),
  });
  await chain.waitForTransactionReceipt({ hash });
  return key;
}

/** A fresh wallet with 10 000 GUSDT. */
export const freshGenerationKey = () => freshTokenKey(CHAIN.generation_token);

/** A fresh GUSDT member under the demo's account 2 with a referral's package credited to them (level 1). */
export async function memberWithCredit() {
  const plan = (await Api.raw("GET", "/v1/public/plan")).body.generation.find((g) => g.asset_id === GEN);
  const pkg = plan.packages[0].base;
  const key = await freshGenerationKey();
  const member = await registerDirectly(key, privateKeyToAccount(ANVIL_KEYS[2]).address, GEN, pkg);
  await registerDirectly(await freshGenerationKey(), member.address, GEN, pkg);
  const owed = (BigInt(pkg) * BigInt(plan.levels[0].bps)) / 10000n;
  await until("the level-1 credit pending", async () => (await member.standing(GEN)).balances.pending === owed.toString());
  return { key, member, pkg, owed };
}
