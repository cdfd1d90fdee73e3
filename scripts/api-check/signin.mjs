// Signs in to the devnet's API with anvil's well-known development mnemonic (public knowledge; test chains only)
// and prints `ADMIN_TOKEN=…` (account #0, the devnet's admin) and `USER_TOKEN=…` (account #2, a demo user).
//   node scripts/api-check/signin.mjs http://127.0.0.1:8000
// viem comes from the web front's packages (scripts/setup.sh installs them).
import { createRequire } from "node:module";

const require = createRequire(new URL("../../backend/web/package.json", import.meta.url));
const { mnemonicToAccount } = require("viem/accounts");

const MNEMONIC = "test test test test test test test test test test test junk";
const api = process.argv[2];

async function post(path, body) {
  const res = await fetch(api + path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await res.json();
  if (!res.ok) throw new Error(`${path}: ${res.status} ${JSON.stringify(answer)}`);
  return answer;
}

async function accessToken(index) {
  const account = mnemonicToAccount(MNEMONIC, { addressIndex: index });
  const { message } = await post("/v1/auth/nonce", { address: account.address, chain: "evm" });
  const pair = await post("/v1/auth/signin", { message, signature: await account.signMessage({ message }) });
  return pair.access_token;
}

console.log(`ADMIN_TOKEN=${await accessToken(0)}`);
console.log(`USER_TOKEN=${await accessToken(2)}`);
