// TronWeb (npm `tronweb`, pinned) signing a multi-signature account's transaction against a TRON node's HTTP API:
// the independence check of the test node's account permissions (tron-devnode/tests/devnode/multisig.rs, and the deploy
// tool's TRON admin transactions, deploy/tests/tron_admin.rs). Nothing here is ours: TronWeb builds, signs with
// `trx.multiSign`, asks the node for the signature weight and broadcasts.
//
// stdin, one of:
//   {"mode": "flow", "full_host", "owner": "T…", "keys": ["<hex>", "<hex>"], "contract": "T…",
//    "function_selector": "f(…)", "parameter": "<hex>", "permission_id": 2, "fee_limit": <sun>}
//     → TronWeb builds the call with the permission id, signs with the first key and broadcasts (refused: one key),
//       adds the second key's signature and broadcasts again; then builds it again without the permission id and lets
//       multiSign set it (which asks the node's /wallet/getsignweight): the weights the node reports.
//   {"mode": "sign", "full_host", "tx": <TronWeb transaction JSON>, "key": "<hex>", "permission_id": 2}
//     → the transaction with the key's signature added by trx.multiSign.
//   {"mode": "account", "full_host", "address": "T…"} → trx.getAccount.
// stdout: the results as JSON.
import { TronWeb } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const anyKey = input.key ?? input.keys?.[0] ?? "01".repeat(32);
const tronWeb = new TronWeb({ fullHost: input.full_host, privateKey: anyKey });

const sent = async (signed) => {
  const answer = await tronWeb.trx.sendRawTransaction(signed);
  const message = answer.message ? Buffer.from(answer.message, "hex").toString("utf8") : null;
  return { result: answer.result === true, code: answer.code ?? null, message, txid: signed.txID };
};

const waitInfo = async (txid) => {
  for (let i = 0; i < 100; i++) {
    const info = await tronWeb.trx.getUnconfirmedTransactionInfo(txid);
    if (info.blockNumber !== undefined) return info;
    await new Promise((r) => setTimeout(r, 50));
  }
  return {};
};

if (input.mode === "sign") {
  const signed = await tronWeb.trx.multiSign(input.tx, input.key, input.permission_id);
  process.stdout.write(JSON.stringify(signed));
} else if (input.mode === "account") {
  process.stdout.write(JSON.stringify(await tronWeb.trx.getAccount(input.address)));
} else {
  const [k1, k2] = input.keys;
  const build = async (options) => {
    const built = await tronWeb.transactionBuilder.triggerSmartContract(
      input.contract,
      input.function_selector,
      { feeLimit: input.fee_limit, rawParameter: input.parameter, ...options },
      [],
      input.owner,
    );
    if (!built.result?.result) throw new Error(`the node refused to build: ${JSON.stringify(built)}`);
    return built.transaction;
  };
  // With the permission id from the start: multiSign signs at once.
  const tx = await build({ permissionId: input.permission_id });
  const one = await tronWeb.trx.multiSign(tx, k1, input.permission_id);
  const weightOne = await tronWeb.trx.getSignWeight(one, input.permission_id);
  const alone = await sent(one);
  const two = await tronWeb.trx.multiSign(one, k2, input.permission_id);
  const weightTwo = await tronWeb.trx.getSignWeight(two, input.permission_id);
  const both = await sent(two);
  const info = both.result ? await waitInfo(two.txID) : {};
  // Without it: multiSign sets it, asks the node for the weight (/wallet/getsignweight) and adopts its transaction.
  const bare = await build({});
  const viaNode = await tronWeb.trx.multiSign(bare, k1, input.permission_id);
  let unknown = null;
  try {
    await tronWeb.trx.multiSign(bare, "02".repeat(32), input.permission_id);
  } catch (e) {
    unknown = String(e.message ?? e);
  }
  process.stdout.write(
    JSON.stringify({
      tx_permission_id: tx.raw_data.contract[0].Permission_id ?? null,
      weight_one: weightOne,
      alone,
      weight_two: weightTwo,
      both,
      info: { fee: info.fee ?? null, result: info.receipt?.result ?? null, blockNumber: info.blockNumber ?? null },
      via_node: {
        permission_id: viaNode.raw_data.contract[0].Permission_id ?? null,
        txid: viaNode.txID,
        signatures: viaNode.signature?.length ?? 0,
      },
      unknown_signer: unknown,
    }),
  );
}
