// A TronLink user's flow driven by TronWeb (npm `tronweb`, pinned) against a TRON node's HTTP API: the independence
// check of the TRON test node (tron-devnode). If TronWeb's own transactions are accepted, the node is
// wire-compatible with real clients.
//
// stdin:  {"full_host": "http://…", "key": "<hex>", "usdt": "T…", "settlement": "T…", "amount": "<base units>",
//          "register": {"function_selector": "register(…)", "parameter": "<hex>", "fee_limit": <sun>}}
// stdout: {"trx": <balance in SUN>, "approve": {"result": …, "txid": …}, "register": {…}, "usdt_after": "<base units>"}
import { TronWeb } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const tronWeb = new TronWeb({ fullHost: input.full_host, privateKey: input.key });
const owner = tronWeb.address.fromPrivateKey(input.key);

const send = async (built) => {
  if (!built.result?.result) throw new Error(`the node refused to build: ${JSON.stringify(built)}`);
  const signed = await tronWeb.trx.sign(built.transaction);
  const sent = await tronWeb.trx.sendRawTransaction(signed);
  return { result: sent.result === true, txid: sent.txid ?? signed.txID, code: sent.code ?? null };
};

const trx = await tronWeb.trx.getBalance(owner);
const approve = await send(
  await tronWeb.transactionBuilder.triggerSmartContract(
    input.usdt,
    "approve(address,uint256)",
    { feeLimit: 100_000_000 },
    [
      { type: "address", value: input.settlement },
      { type: "uint256", value: input.amount },
    ],
    owner,
  ),
);
const register = await send(
  await tronWeb.transactionBuilder.triggerSmartContract(
    input.settlement,
    input.register.function_selector,
    { feeLimit: input.register.fee_limit, rawParameter: input.register.parameter },
    [],
    owner,
  ),
);
const balance = await tronWeb.transactionBuilder.triggerConstantContract(
  input.usdt,
  "balanceOf(address)",
  {},
  [{ type: "address", value: owner }],
  owner,
);
const usdtAfter = BigInt("0x" + (balance.constant_result?.[0] ?? "0")).toString();
process.stdout.write(JSON.stringify({ trx, approve, register, usdt_after: usdtAfter }));
