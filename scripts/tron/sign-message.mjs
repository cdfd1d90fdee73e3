// A TronLink-style sign-in signature made by TronWeb (npm `tronweb`, pinned): `signMessageV2(message, key)`, the
// call TronLink's `tronWeb.trx.signMessageV2` makes. Offline. For the API test that signs a TRON user in with it.
//
// usage: node scripts/tron/sign-message.mjs <private key hex>   (the message on stdin) → the signature (0x…, 65 bytes)
import { TronWeb } from "tronweb";

const key = process.argv[2]?.replace(/^0x/, "");
if (!key) throw new Error("usage: sign-message.mjs <private key hex> < message");
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const message = Buffer.concat(chunks).toString("utf8");
const tronWeb = new TronWeb({ fullHost: "http://127.0.0.1:9" });
process.stdout.write(await tronWeb.trx.signMessageV2(message, key));
