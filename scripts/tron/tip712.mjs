// TIP-712 digests computed by TronWeb (npm `tronweb`, pinned in package-lock.json): an implementation independent of
// the `abi` crate, for the cross-check in abi/tests/contract_parity.rs. Offline: no node is contacted.
//
// stdin:  {"chain_id": 728126428, "contract": "T…", "payloads": [{"kind": "Registration", "value": {…}}, …]}
//         addresses as TRON base58 (T…), numbers as decimal strings, PayoutBatch.payouts as [{recipient, amount}]
// stdout: ["0x…", …] — one digest per payload, in order
import { utils } from "tronweb";

const TYPES = {
  Registration: {
    Registration: [
      { name: "user", type: "address" },
      { name: "sponsor", type: "address" },
      { name: "token", type: "address" },
      { name: "amount", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  Retopup: {
    Retopup: [
      { name: "user", type: "address" },
      { name: "token", type: "address" },
      { name: "amount", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  PayoutBatch: {
    PayoutBatch: [
      { name: "token", type: "address" },
      { name: "total", type: "uint256" },
      { name: "payouts", type: "Payout[]" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
    Payout: [
      { name: "recipient", type: "address" },
      { name: "amount", type: "uint256" },
    ],
  },
  TreasuryTransfer: {
    TreasuryTransfer: [
      { name: "token", type: "address" },
      { name: "to", type: "address" },
      { name: "amount", type: "uint256" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
  LiabilityRoot: {
    LiabilityRoot: [
      { name: "token", type: "address" },
      { name: "epoch", type: "uint64" },
      { name: "asOfBlock", type: "uint64" },
      { name: "root", type: "bytes32" },
      { name: "total", type: "uint128" },
      { name: "leafCount", type: "uint32" },
      { name: "planHash", type: "bytes32" },
      { name: "nonce", type: "uint256" },
      { name: "deadline", type: "uint256" },
    ],
  },
};

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
const domain = { name: "ReferralSettlement", version: "1", chainId: input.chain_id, verifyingContract: input.contract };
const digests = input.payloads.map(({ kind, value }) => {
  const types = TYPES[kind];
  if (!types) throw new Error(`unknown payload kind ${kind}`);
  return utils._TypedDataEncoder.hash(domain, types, value);
});
process.stdout.write(JSON.stringify(digests));
