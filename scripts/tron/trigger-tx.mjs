// A TriggerSmartContract transaction encoded by TronWeb (npm `tronweb`, pinned; `utils.transaction.txJsonToPb`,
// `txPbToRawDataHex`, `txPbToTxID`): an implementation independent of ours (tronic, prost), for the cross-check of
// the payout transactions the backend signs. Offline: no node is contacted.
//
// stdin:  a transaction as java-tron's HTTP API shows it (visible=false: hex addresses 41…), raw_data with one
//         TriggerSmartContract; `raw_data.ref_block_num`, when present, is set too (tronic fills that field; java-tron
//         keeps whatever the client sent, so it is part of the signed bytes)
// stdout: {"raw_data_hex": "…", "txID": "…"}
import { utils } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const tx = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const pb = utils.transaction.txJsonToPb(tx);
if (tx.raw_data.ref_block_num) {
  const raw = pb.getRawData();
  raw.setRefBlockNum(tx.raw_data.ref_block_num);
  pb.setRawData(raw);
}
const out = {
  raw_data_hex: utils.transaction.txPbToRawDataHex(pb).toLowerCase(),
  txID: utils.transaction.txPbToTxID(pb).replace(/^0x/, "").toLowerCase(),
};
process.stdout.write(JSON.stringify(out));
