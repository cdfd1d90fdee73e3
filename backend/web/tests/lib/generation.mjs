// The devnet's generation-plan asset (GUSDT, asset 4) for the browser tests.
import { encodeFunctionData } from "viem";
import { privateKeyToAccount } from "viem/accounts";
import { CHAIN, CHAIN_ID, RPC, TOKEN_ABI, chain, freshKey } from "./stack.mjs";
import { TestWallet } from "./wallet.mjs";

/** One GUSDT in base units (6 decimals). */
export const GUSDT = 10n ** 6n;

/** A fresh wallet with 10 000 GUSDT (the test token lets anyone mint; the wallet pays its own gas). */
export async function freshGenerationKey() {
  const key = await freshKey();
  // The devnet's own anvil (its port from .devnet/ports.env), never a default port another devnet may hold.
  const w = new TestWallet({ key, rpcUrl: RPC, chainId: CHAIN_ID });
  const address = privateKeyToAccount(key).address;
  const hash = await w.client.sendTransaction({
    to: CHAIN.generation_token,
    data: encodeFunctionData({ abi: TOKEN_ABI, functionName: "mint", args: [address, 10_000n * GUSDT] }),
  });
  await chain.waitForTransactionReceipt({ hash });
  return key;
}
