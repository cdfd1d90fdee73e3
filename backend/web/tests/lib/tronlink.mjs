// A TronLink stand-in with the interface the real extension offers a page — `window.tronLink`
// (`request({ method: "tron_requestAccounts" })`, `ready`) and `window.tronWeb` (`ready`, `defaultAddress`,
// `trx.signMessageV2 / sign / sendRawTransaction / getTransactionInfo / getTransaction / getCurrentBlock /
// getBlockByNumber / getBalance / getUnconfirmedAccount / getAccountResources / getChainParameters`,
// `transactionBuilder.triggerSmartContract / triggerConstantContract`, `event.getEventsByContractAddress` (its
// event server, TronGrid's `/v1/contracts/{address}/events`), `address.fromHex / toHex`),
// plus TronLink's window messages (`setAccount`, `accountsChanged`, `setNode`) and its `tronLink#initialized`
// event. Every call is answered here, in Node, with TronWeb (the repository's pinned `tronweb`, used offline:
// building, signing and checking TRON transactions and TIP-191 messages need no node) and one of anvil's
// development keys.
//
// TronLink's node is the devnet's TRON test node (tron-devnode, over the TRON stand-in anvil with Nile's chain id
// 3448148188), through java-tron's HTTP API: a broadcast is the node's `/wallet/broadcasttransaction` (its checks:
// signature, reference block, expiration, the owner's account existing, bandwidth and TRX), the txid is TRON's;
// transaction infos, accounts, bandwidth and chain parameters are the node's, and so is the energy a constant
// call estimates. Transactions are built locally on the head block as TronWeb builds them; constant calls' results
// and blocks are read from the anvil in TRON's shapes; a refused constant call carries the revert data as its constant
// result, as java-tron's does. What TronLink's event server (TronGrid) and `trx.getTransaction` answer is read from the
// test node's TRON JSON-RPC (TRON transaction ids in its logs and transactions), in TronGrid's and TronWeb's shapes.
// The network TronLink says it is on is the one in the genesis
// block id's last four bytes, as on TRON; a test may put it on another one. Tests can make the user reject the
// connection, the next signature or the next transaction, or lock the wallet.
import { readFileSync } from "node:fs";
import { TronWeb } from "tronweb";
import { createPublicClient, decodeEventLog, defineChain, http, stringToHex, toEventSelector } from "viem";
import { privateKeyToAccount } from "viem/accounts";

/** Every event the devnet's contracts emit, by topic (what TronGrid names and decodes). */
const EVENTS = new Map(
  ["Settlement", "SettlementExit", "TestUSDT"].flatMap((name) =>
    JSON.parse(readFileSync(new URL(`../../../../abi/artifacts/${name}.json`, import.meta.url), "utf8"))
      .abi.filter((x) => x.type === "event")
      .map((x) => [toEventSelector(x), x]),
  ),
);

/** What TronLink rejects with when the user declines (a plain string, not an Error). */
export const DECLINED = "Confirmation declined by user";

const INJECTED = `(() => {
  // SHA-256, for address.fromHex/toHex (TronWeb's are synchronous).
  const K = [], H0 = [];
  for (let n = 2, i = 0; i < 64; n++) {
    let prime = true;
    for (let d = 2; d * d <= n; d++) if (n % d === 0) prime = false;
    if (!prime) continue;
    if (i < 8) H0.push((Math.sqrt(n) % 1) * 2 ** 32 >>> 0);
    K.push((Math.cbrt(n) % 1) * 2 ** 32 >>> 0);
    i++;
  }
  const sha256 = (bytes) => {
    const l = bytes.length, words = new Uint32Array(((l + 9 + 63) >> 6) << 4);
    for (let i = 0; i < l; i++) words[i >> 2] |= bytes[i] << (24 - (i % 4) * 8);
    words[l >> 2] |= 0x80 << (24 - (l % 4) * 8);
    words[words.length - 1] = l * 8;
    const h = H0.slice(), w = new Uint32Array(64), r = (x, n) => (x >>> n) | (x << (32 - n));
    for (let j = 0; j < words.length; j += 16) {
      for (let t = 0; t < 64; t++) {
        w[t] = t < 16 ? words[j + t]
          : (r(w[t - 2], 17) ^ r(w[t - 2], 19) ^ (w[t - 2] >>> 10)) + w[t - 7] + (r(w[t - 15], 7) ^ r(w[t - 15], 18) ^ (w[t - 15] >>> 3)) + w[t - 16];
      }
      let [a, b, c, d, e, f, g, hh] = h;
      for (let t = 0; t < 64; t++) {
        const t1 = (hh + (r(e, 6) ^ r(e, 11) ^ r(e, 25)) + ((e & f) ^ (~e & g)) + K[t] + w[t]) >>> 0;
        const t2 = ((r(a, 2) ^ r(a, 13) ^ r(a, 22)) + ((a & b) ^ (a & c) ^ (b & c))) >>> 0;
        hh = g; g = f; f = e; e = (d + t1) >>> 0; d = c; c = b; b = a; a = (t1 + t2) >>> 0;
      }
      [a, b, c, d, e, f, g, hh].forEach((v, k) => (h[k] = (h[k] + v) >>> 0));
    }
    return Uint8Array.from(h.flatMap((v) => [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255]));
  };
  const ALPHABET = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
  const bytesOf = (hex) => Uint8Array.from(hex.match(/../g).map((b) => parseInt(b, 16)));
  const hexOf = (bytes) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  const fromHex = (hex) => {
    const raw = bytesOf(hex.replace(/^0x/, "41").toLowerCase());
    let n = BigInt("0x" + hexOf(raw) + hexOf(sha256(sha256(raw)).slice(0, 4))), text = "";
    while (n > 0n) { text = ALPHABET[Number(n % 58n)] + text; n /= 58n; }
    return text;
  };
  const toHex = (base58) => {
    if (!/^T[1-9A-HJ-NP-Za-km-z]{33}$/.test(base58)) return base58;
    let n = 0n;
    for (const ch of base58) n = n * 58n + BigInt(ALPHABET.indexOf(ch));
    return n.toString(16).padStart(50, "0").slice(0, 42);
  };

  const call = async (method, ...args) => {
    const answer = await window.__tronLinkRequest(method, args);
    if (answer.state) apply(answer.state);
    if ("declined" in answer) throw answer.declined;
    if (answer.error) throw new Error(answer.error);
    return answer.result;
  };
  const tronWeb = {
    ready: false,
    defaultAddress: { base58: false, hex: false },
    fullNode: { host: "test-tronlink" },
    trx: {
      signMessageV2: (message) => call("signMessageV2", message),
      sign: (transaction) => call("sign", transaction),
      sendRawTransaction: (signed) => call("sendRawTransaction", signed),
      getTransactionInfo: (txid) => call("getTransactionInfo", txid),
      getCurrentBlock: () => call("getCurrentBlock"),
      getBlockByNumber: (n) => call("getBlockByNumber", n),
      getBalance: (address) => call("getBalance", address ?? tronWeb.defaultAddress.base58),
      getUnconfirmedAccount: (address) => call("getUnconfirmedAccount", address ?? tronWeb.defaultAddress.base58),
      getAccountResources: (address) => call("getAccountResources", address ?? tronWeb.defaultAddress.base58),
      getChainParameters: () => call("getChainParameters"),
      getTransaction: (txid) => call("getTransaction", txid),
    },
    event: {
      getEventsByContractAddress: (address, options) => call("getEventsByContractAddress", address, options ?? {}),
    },
    transactionBuilder: {
      triggerSmartContract: (...args) => call("triggerSmartContract", ...args),
      triggerConstantContract: (...args) => call("triggerConstantContract", ...args),
    },
    address: { fromHex, toHex },
  };
  const tronLink = {
    ready: false,
    tronWeb,
    request: ({ method }) =>
      method === "tron_requestAccounts" ? call("tron_requestAccounts") : Promise.reject(new Error("Test TronLink does not offer " + method)),
  };
  const apply = (state) => {
    tronWeb.defaultAddress = state.address ? { ...state.address } : { base58: false, hex: false };
    tronWeb.ready = tronLink.ready = !!state.address;
  };
  window.__tronLinkEmit = (action, data, state) => {
    apply(state);
    window.postMessage({ message: { action, data }, isTronLink: true }, "*");
  };
  window.tronLink = tronLink;
  window.tronWeb = tronWeb;
  // Like the extension, it learns its state after the page started, then says so.
  call("state").then(() => {
    window.dispatchEvent(new Event("tronLink#initialized"));
    window.postMessage({ message: { action: "setAccount", data: { address: tronWeb.defaultAddress.base58 } }, isTronLink: true }, "*");
  });
})();`;

const strip = (h) => h.replace(/^0x/, "");
/** A TRON hex address (41…) or T… as 0x. */
const evmAddress = (a) => `0x${strip(TronWeb.address.toHex(a)).slice(2)}`;

export class TestTronLink {
  /**
   * @param {{ key: `0x${string}`, rpcUrl: string, nodeUrl: string, jsonRpcUrl?: string | null, chainId: number, network?: number }} o
   * `rpcUrl`: the TRON stand-in anvil; `nodeUrl`: the TRON test node's HTTP API over it; `jsonRpcUrl`: its TRON
   * JSON-RPC (full node); `chainId`: the anvil's; `network`: the network TronLink says it is on (default the same).
   */
  constructor(o) {
    this.nodeUrl = o.nodeUrl;
    this.jsonRpcUrl = o.jsonRpcUrl ?? null;
    this.key = strip(o.key);
    this.evm = privateKeyToAccount(`0x${this.key}`);
    /** The account as T… and as 41… hex (TronWeb's forms), and as 0x. */
    this.address = TronWeb.address.fromPrivateKey(this.key);
    this.hexAddress = TronWeb.address.toHex(this.address);
    this.evmAddress = this.evm.address;
    this.chainId = o.chainId;
    this.network = o.network ?? o.chainId;
    this.connected = false;
    this.locked = false;
    this.rejectNextConnection = false;
    this.rejectNextSignature = false;
    this.rejectNextTransaction = false;
    /** Every call the page made, in order (method names), and the txids broadcast. */
    this.log = [];
    this.broadcast = [];
    this.pages = new Set();
    // Offline: only building, signing and checking (no call reaches this host).
    this.tronWeb = new TronWeb({ fullHost: "http://127.0.0.1:9" });
    const chain = defineChain({
      id: o.chainId,
      name: "tron-standin",
      nativeCurrency: { name: "TRX", symbol: "TRX", decimals: 6 },
      rpcUrls: { default: { http: [o.rpcUrl] } },
    });
    this.chain = createPublicClient({ chain, transport: http(o.rpcUrl) });
  }

  /** Injects the TronLink objects into every document the page loads. */
  async attach(page) {
    this.pages.add(page);
    await page.exposeBinding("__tronLinkRequest", (_source, method, args) => this.answer(method, args));
    await page.addInitScript(INJECTED);
  }

  state() {
    return { address: this.connected && !this.locked ? { base58: this.address, hex: this.hexAddress } : null };
  }

  async emit(action, data) {
    for (const page of this.pages) {
      await page.evaluate(([a, d, s]) => window.__tronLinkEmit?.(a, d, s), [action, data, this.state()]).catch(() => undefined);
    }
  }

  /** The user picks another network in TronLink (its node changes). */
  async switchTo(network) {
    this.network = network;
    await this.emit("setNode", { node: { chainId: network } });
  }

  async lock() {
    this.locked = true;
    await this.emit("accountsChanged", { address: false });
  }

  async answer(method, args) {
    this.log.push(method);
    try {
      const result = await this.handle(method, args ?? []);
      return { result: result ?? null, state: this.state() };
    } catch (e) {
      if (typeof e === "string") return { declined: e, state: this.state() };
      return { error: e?.message ?? String(e), state: this.state() };
    }
  }

  async handle(method, args) {
    switch (method) {
      case "state":
        return null;
      case "tron_requestAccounts":
        // TronLink answers a locked wallet with an empty string, a refusal with code 4001.
        if (this.locked) return "";
        if (this.rejectNextConnection) {
          this.rejectNextConnection = false;
          return { code: 4001, message: "User rejected" };
        }
        this.connected = true;
        return { code: 200, message: "The site is already in the whitelist" };
      case "signMessageV2": {
        this.mustBeConnected();
        if (this.rejectNextSignature) {
          this.rejectNextSignature = false;
          throw DECLINED;
        }
        return this.tronWeb.trx.signMessageV2(args[0], this.key);
      }
      case "triggerSmartContract": {
        const [contract, selector, options = {}, parameters = [], issuer = this.address] = args;
        return this.build(contract, selector, options, parameters, issuer);
      }
      case "triggerConstantContract":
        return this.constant(...args);
      case "sign": {
        this.mustBeConnected();
        if (this.rejectNextTransaction) {
          this.rejectNextTransaction = false;
          throw DECLINED;
        }
        return this.tronWeb.trx.sign(args[0], this.key);
      }
      case "sendRawTransaction":
        return this.sendRaw(args[0]);
      case "getTransactionInfo":
        return this.transactionInfo(args[0]);
      case "getCurrentBlock":
        return this.block(await this.chain.getBlock());
      case "getBlockByNumber":
        return this.block(await this.chain.getBlock({ blockNumber: BigInt(args[0]) }));
      case "getBalance":
        // 1 SUN = 1 wei on the stand-in (a Number, as TronWeb answers).
        return Number(await this.chain.getBalance({ address: evmAddress(args[0]) }));
      case "getUnconfirmedAccount":
        return this.node("wallet/getaccount", { address: TronWeb.address.toHex(args[0]) });
      case "getAccountResources":
        return this.node("wallet/getaccountresource", { address: TronWeb.address.toHex(args[0]) });
      case "getChainParameters":
        return (await this.node("wallet/getchainparameters", {})).chainParameter ?? [];
      case "getTransaction":
        return this.transaction(args[0]);
      case "getEventsByContractAddress":
        return this.events(args[0], args[1] ?? {});
      default:
        throw new Error(`Test TronLink does not offer ${method}`);
    }
  }

  /** A request to the TRON test node's HTTP API (java-tron's `/wallet/*`); its JSON answer. */
  async node(path, body) {
    const r = await fetch(`${this.nodeUrl}/${path}`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) });
    if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
    return r.json();
  }

  /** A JSON-RPC call to the test node's TRON JSON-RPC. */
  async tronRpc(method, params) {
    if (!this.jsonRpcUrl) throw new Error("Test TronLink has no event server here (no TRON JSON-RPC port in .devnet/ports.env)");
    const r = await fetch(this.jsonRpcUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ jsonrpc: "2.0", id: 1, method, params }) });
    const body = await r.json();
    if (body.error) throw new Error(`${method}: ${body.error.message}`);
    return body.result;
  }

  /** `trx.getTransaction(txid)`: the transaction as java-tron's `/wallet/gettransactionbyid` shows a contract call. */
  async transaction(txid) {
    const t = await this.tronRpc("eth_getTransactionByHash", [`0x${strip(txid)}`]);
    if (!t) throw new Error("Transaction not found");
    const value = { data: strip(t.input ?? ""), owner_address: `41${strip(t.from)}`, contract_address: `41${strip(t.to ?? "")}` };
    if (BigInt(t.value ?? 0) > 0n) value.call_value = Number(BigInt(t.value));
    return {
      txID: strip(t.hash),
      raw_data: { contract: [{ type: "TriggerSmartContract", parameter: { value, type_url: "type.googleapis.com/protocol.TriggerSmartContract" } }] },
    };
  }

  /**
   * `event.getEventsByContractAddress(address, options)`: TronGrid's `/v1/contracts/{address}/events` — the contract's
   * events (`eventName`), at or after `minBlockTimestamp` (ms), `orderBy` "block_timestamp,asc|desc", at most `limit`
   * (200) per page, the next page named by `meta.fingerprint` — from the test node's logs (5,000 blocks per query).
   */
  async events(address, options) {
    const contract = evmAddress(address).toLowerCase();
    const head = Number(BigInt(await this.tronRpc("eth_blockNumber", [])));
    const found = [];
    for (let from = 0; from <= head; from += 5000) {
      const logs = await this.tronRpc("eth_getLogs", [{ address: contract, fromBlock: `0x${from.toString(16)}`, toBlock: `0x${Math.min(head, from + 4999).toString(16)}` }]);
      for (const l of logs) {
        const event = EVENTS.get(l.topics[0]);
        if (!event || (options.eventName && event.name !== options.eventName)) continue;
        const time = Number(BigInt(l.blockTimestamp)) * 1000;
        if (options.minBlockTimestamp && time < options.minBlockTimestamp) continue;
        if (options.maxBlockTimestamp && time > options.maxBlockTimestamp) continue;
        let result = {};
        try {
          const { args } = decodeEventLog({ abi: [event], topics: l.topics, data: l.data });
          result = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, typeof v === "string" ? v.toLowerCase() : String(v)]));
        } catch {
          // TronGrid leaves what it cannot decode out.
        }
        found.push({
          block_number: Number(BigInt(l.blockNumber)),
          block_timestamp: time,
          contract_address: TronWeb.address.fromHex(`41${strip(contract)}`),
          event_index: Number(BigInt(l.logIndex)),
          event_name: event.name,
          result,
          transaction_id: strip(l.transactionHash),
        });
      }
    }
    if (options.orderBy === "block_timestamp,desc") found.reverse();
    const offset = Number(options.fingerprint ?? 0);
    const limit = Math.min(Number(options.limit ?? 20), 200);
    const data = found.slice(offset, offset + limit);
    const meta = { at: Date.now(), page_size: data.length };
    if (offset + limit < found.length) meta.fingerprint = String(offset + limit);
    return { data, success: true, meta };
  }

  mustBeConnected() {
    if (!this.connected || this.locked) throw new Error("TronLink is not connected to this site");
  }

  /** A block in TRON's shape; its id is the block number (8 bytes) ‖ the last 24 bytes of the anvil hash. */
  block(b) {
    let id = b.number.toString(16).padStart(16, "0") + strip(b.hash).slice(16);
    // Genesis: the last four bytes are the network's chain id, as on TRON.
    if (b.number === 0n) id = id.slice(0, 56) + this.network.toString(16).padStart(8, "0");
    return { blockID: id, block_header: { raw_data: { number: Number(b.number), timestamp: Number(b.timestamp) * 1000 } } };
  }

  /** TronWeb's transaction, built locally (`txLocal`) on the anvil head as reference block. */
  async build(contract, selector, options, parameters, issuer) {
    const head = await this.chain.getBlock();
    const timestamp = Number(head.timestamp) * 1000;
    const blockHeader = {
      ref_block_bytes: (Number(head.number) & 0xffff).toString(16).padStart(4, "0"),
      ref_block_hash: strip(head.hash).slice(16, 32),
      expiration: timestamp + 60_000,
      timestamp,
    };
    return this.tronWeb.transactionBuilder.triggerSmartContract(contract, selector, { ...options, txLocal: true, blockHeader }, parameters, issuer);
  }

  /** A constant call: TronWeb's encoding, run as `eth_call` from the issuer. */
  async constant(contract, selector, options = {}, parameters = [], issuer = this.address) {
    const { transaction } = await this.build(contract, selector, { ...options, feeLimit: 1 }, parameters, issuer);
    const v = transaction.raw_data.contract[0].parameter.value;
    try {
      const callValue = Number(options.callValue ?? 0);
      const { data } = await this.chain.call({ account: evmAddress(issuer), to: evmAddress(contract), data: `0x${v.data}`, value: BigInt(callValue) });
      // The energy the node estimates for it (java-tron's `energy_used`).
      const estimate = await this.node("wallet/triggerconstantcontract", {
        owner_address: TronWeb.address.toHex(issuer),
        contract_address: TronWeb.address.toHex(contract),
        data: v.data,
        call_value: callValue,
      });
      return { result: { result: true }, constant_result: [strip(data ?? "0x")], energy_used: estimate.energy_used ?? 0, transaction: { ...transaction, ret: [{}] } };
    } catch (e) {
      const message = strip(stringToHex(`REVERT opcode executed: ${e.shortMessage ?? e.message}`));
      // java-tron answers a refused call with its revert data as the constant result: the node's own answer.
      const refused = await this.node("wallet/triggerconstantcontract", {
        owner_address: TronWeb.address.toHex(issuer),
        contract_address: TronWeb.address.toHex(contract),
        data: v.data,
        call_value: Number(options.callValue ?? 0),
      }).catch(() => null);
      return { result: { result: true, message }, constant_result: [refused?.constant_result?.[0] ?? ""], transaction: { ...transaction, ret: [{ ret: "FAILED" }] } };
    }
  }

  /** Broadcasts the signed transaction to the node (`/wallet/broadcasttransaction`): its answer, with TRON's txid. */
  async sendRaw(signed) {
    if (!signed?.signature?.length) return { result: false, code: "SIGERROR", message: strip(stringToHex("transaction is not signed")), txid: signed?.txID };
    const sent = await this.node("wallet/broadcasttransaction", signed);
    if (sent.Error) throw new Error(sent.Error);
    if (!sent.result) return { result: false, code: sent.code, message: sent.message, txid: sent.txid };
    this.broadcast.push(sent.txid);
    return { result: true, txid: sent.txid, transaction: signed };
  }

  /** `{}` until mined, then the node's transaction info (receipt result SUCCESS, or REVERT with `result: "FAILED"`). */
  transactionInfo(txid) {
    return this.node("wallet/gettransactioninfobyid", { value: strip(txid) });
  }

  /**
   * Without a page: the API's `tron` call (and its approve first) sent from this wallet as the page sends it —
   * built, signed, broadcast — each waited for until mined. Returns the payment's txid.
   */
  async pay(call) {
    const connected = this.connected;
    this.connected = true;
    try {
      const send = async (c) => {
        const built = await this.build(c.contract, c.function_selector, { feeLimit: c.fee_limit, callValue: Number(c.call_value ?? 0), rawParameter: c.parameter }, [], this.address);
        const sent = await this.sendRaw(await this.tronWeb.trx.sign(built.transaction, this.key));
        if (!sent.result) throw new Error(`broadcast refused: ${sent.code} ${Buffer.from(sent.message ?? "", "hex").toString()}`);
        for (let i = 0; i < 600; i++) {
          const info = await this.transactionInfo(sent.txid);
          if (info.blockNumber !== undefined) {
            if (info.receipt?.result !== "SUCCESS") throw new Error(`${c.function_selector} failed: ${info.receipt?.result}`);
            return sent.txid;
          }
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error(`${c.function_selector}: not mined within a minute`);
      };
      if (call.approve) await send(call.approve);
      return await send(call);
    } finally {
      this.connected = connected;
    }
  }
}
