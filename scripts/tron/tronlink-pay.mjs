// Pays a register or retopup answer of our API as a TronLink user's browser does (backend/web/src/lib/tron.ts):
// TronWeb (npm `tronweb`, pinned) against a TRON node's HTTP API builds each call the answer's `tron` object names
// (`triggerSmartContract` with its selector, raw parameter, fee limit and call value), signs it with the wallet's
// key and broadcasts it (`sendRawTransaction`); the USDT `approve` first when the answer asks for one, each waited
// for until the node has it in a block and refused if it did not succeed.
//
// stdin:  {"full_host": "http://…", "key": "<hex>", "call": <the API's `tron` object>, "timeout_ms": <optional>}
// stdout: {"address": "T…", "sent": [{"what": "approve" | "<function>", "txid": …, "block": <n>, "fee": <sun>}]}
import { TronWeb } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const tronWeb = new TronWeb({ fullHost: input.full_host, privateKey: input.key });
const owner = tronWeb.address.fromPrivateKey(input.key);
const deadline = Date.now() + (input.timeout_ms ?? 60_000);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// In a block, per the full node (`getUnconfirmedTransactionInfo`); a failed execution is an error.
async function mined(txid, what) {
  while (Date.now() < deadline) {
    const info = await tronWeb.trx.getUnconfirmedTransactionInfo(txid).catch(() => null);
    if (info?.blockNumber !== undefined) {
      const result = info.receipt?.result ?? "SUCCESS";
      if (info.result === "FAILED" || result !== "SUCCESS") {
        throw new Error(`${what} ${txid} failed in block ${info.blockNumber}: ${result} ${info.resMessage ?? ""}`);
      }
      return { block: info.blockNumber, fee: info.fee ?? 0 };
    }
    await sleep(250);
  }
  throw new Error(`${what} ${txid} was in no block before the deadline`);
}

async function send(call, what) {
  const built = await tronWeb.transactionBuilder.triggerSmartContract(
    call.contract,
    call.function_selector,
    { feeLimit: call.fee_limit, callValue: Number(call.call_value ?? "0"), rawParameter: call.parameter },
    [],
    owner,
  );
  if (!built?.result?.result || !built.transaction) {
    throw new Error(`the node could not build the ${what}: ${JSON.stringify(built)}`);
  }
  const signed = await tronWeb.trx.sign(built.transaction);
  const sent = await tronWeb.trx.sendRawTransaction(signed);
  if (!sent?.result) throw new Error(`the node refused the ${what}: ${JSON.stringify(sent)}`);
  const txid = sent.txid ?? signed.txID;
  return { what, txid, ...(await mined(txid, what)) };
}

const sent = [];
if (input.call.approve) sent.push(await send(input.call.approve, "approve"));
sent.push(await send(input.call, input.call.function_selector.split("(")[0]));
process.stdout.write(JSON.stringify({ address: owner, sent }));
