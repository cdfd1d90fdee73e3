// ABI-encodes a call's arguments with TronWeb (npm `tronweb`, pinned; `utils.abi.encodeParamsV2ByABI`), the
// `parameter` a TronWeb client puts in triggerSmartContract: an implementation independent of ours, for the API
// test that checks the TRON payment answers. Offline.
//
// stdin:  {"function": <one ABI entry>, "args": [...]}  (addresses as TRON base58, integers as decimal strings)
// stdout: the encoding, hex without 0x
import { utils } from "tronweb";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const input = JSON.parse(Buffer.concat(chunks).toString("utf8"));
process.stdout.write(utils.abi.encodeParamsV2ByABI(input.function, input.args).replace(/^0x/, ""));
