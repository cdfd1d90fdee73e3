//! The calls a user's wallet sends to the Settlement contract, for the chain's family ([`Family::of`]): a
//! register or retopup (with the token approval it needs first) and a claim. An EVM wallet gets an EIP-1193
//! transaction; a TRON chain adds the same call as TronWeb's `triggerSmartContract` takes it (TronLink), with a
//! suggested fee limit. Every answer that hands a wallet a call builds it here.

use abi::chain::Family;
use alloy::primitives::{Address, Bytes, U256};
use alloy::sol_types::SolCall;

use super::types::{DEFAULT_FEE_LIMIT_SUN, TronApprove, TronCall, WalletTransaction};
use crate::chains::ChainRegistry;

/// A payment to the Settlement contract: `register` or `retopup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Payment {
    /// `register(Registration, signature)`.
    Register,
    /// `retopup(Retopup, signature)`.
    Retopup,
    /// `sell(Sale, signature)`, to the Settlement's sales desk (build the calls with the desk as the contract).
    Sale,
}

impl Payment {
    /// The Solidity signature TronWeb's `triggerSmartContract` names the function by.
    fn tron_selector(self) -> &'static str {
        match self {
            Self::Register => "register((address,address,address,uint256,uint256,uint256),bytes)",
            Self::Retopup => "retopup((address,address,uint256,uint256,uint256),bytes)",
            Self::Sale => {
                "sell((address,address,address,uint256,uint256,uint256,bytes32,uint256,uint256,uint256),bytes)"
            }
        }
    }
}

/// A payment's calls: the transaction, the approval a token needs before it, and the TRON form of both.
#[derive(Debug)]
pub struct PaymentCalls {
    /// The payment (`value` is the amount for the native coin, 0 for a token).
    pub transaction: WalletTransaction,
    /// For a token: `approve(Settlement, amount)`, sent first.
    pub approve: Option<WalletTransaction>,
    /// On a TRON chain: the payment (with its approval) as TronLink sends it.
    pub tron: Option<TronCall>,
}

/// Builds wallet calls to one chain's Settlement contract.
#[derive(Debug, Clone, Copy)]
pub struct WalletCalls {
    family: Family,
    contract: Address,
    /// TRON: the `feeLimit` suggested to wallets (SUN).
    fee_limit_sun: u64,
}

impl WalletCalls {
    /// Calls to `contract` on chain `chain_id`, with the chain's suggested TRON fee limit when it is configured.
    pub fn new(chains: &ChainRegistry, chain_id: u64, contract: Address) -> Self {
        let fee_limit_sun = chains.get(chain_id).map_or(DEFAULT_FEE_LIMIT_SUN, |c| c.fee_limit_sun);
        Self { family: Family::of(chain_id), contract, fee_limit_sun }
    }

    /// The payment `calldata` (already encoded with its signed payload) of `amount` of `token` (zero: the native
    /// coin).
    pub fn payment(&self, payment: Payment, calldata: Vec<u8>, token: Address, amount: U256) -> PaymentCalls {
        let native = token == Address::ZERO;
        let value = if native { amount } else { U256::ZERO };
        let approve_data =
            (!native).then(|| abi::TestUSDT::approveCall { spender: self.contract, value: amount }.abi_encode());
        let tron = (self.family == Family::Tron).then(|| {
            let mut call = self.tron_call(payment.tron_selector(), &calldata, value);
            call.approve = approve_data.as_ref().map(|data| TronApprove {
                contract: abi::tron::to_base58(token),
                function_selector: "approve(address,uint256)".into(),
                parameter: alloy::hex::encode(&data[4..]),
                fee_limit: self.fee_limit_sun,
            });
            call
        });
        PaymentCalls {
            transaction: WalletTransaction {
                to: self.show(self.contract),
                value: value.to_string(),
                data: alloy::hex::encode_prefixed(Bytes::from(calldata)),
            },
            approve: approve_data.map(|data| WalletTransaction {
                to: self.show(token),
                value: "0".into(),
                data: alloy::hex::encode_prefixed(data),
            }),
            tron,
        }
    }

    /// `claim(token, to)`: what the contract holds claimable for the caller, paid to `to`.
    pub fn claim(&self, token: Address, to: Address) -> (WalletTransaction, Option<TronCall>) {
        let calldata = abi::Settlement::claimCall { token, to }.abi_encode();
        let tron =
            (self.family == Family::Tron).then(|| self.tron_call("claim(address,address)", &calldata, U256::ZERO));
        let transaction = WalletTransaction {
            to: self.show(self.contract),
            value: "0".into(),
            data: alloy::hex::encode_prefixed(calldata),
        };
        (transaction, tron)
    }

    /// `refund(id, token, amount, retail, refundableUntil)` to the sales desk (build the calls with the desk as the
    /// contract): the buyer takes sale `id` back, with the terms its `Sold` event carried.
    pub fn take_back(
        &self,
        id: U256,
        token: Address,
        amount: U256,
        retail: U256,
        refundable_until: U256,
    ) -> (WalletTransaction, Option<TronCall>) {
        let calldata =
            abi::SettlementSales::refundCall { id, token, amount, retail, refundableUntil: refundable_until }
                .abi_encode();
        let tron = (self.family == Family::Tron)
            .then(|| self.tron_call("refund(uint256,address,uint256,uint256,uint256)", &calldata, U256::ZERO));
        let transaction = WalletTransaction {
            to: self.show(self.contract),
            value: "0".into(),
            data: alloy::hex::encode_prefixed(calldata),
        };
        (transaction, tron)
    }

    /// A contract's address as the chain shows it: `T…` base58check on TRON, 0x EIP-55 elsewhere (the calldata's own
    /// address arguments are ABI words either way).
    fn show(&self, address: Address) -> String {
        match self.family {
            Family::Tron => abi::tron::to_base58(address),
            _ => address.to_checksum(None),
        }
    }

    /// The TronWeb form of `calldata` (selector ‖ arguments) with `signature`, sending `call_value` SUN.
    fn tron_call(&self, signature: &str, calldata: &[u8], call_value: U256) -> TronCall {
        TronCall {
            contract: abi::tron::to_base58(self.contract),
            function_selector: signature.to_owned(),
            parameter: alloy::hex::encode(&calldata[4..]),
            call_value: call_value.to_string(),
            fee_limit: self.fee_limit_sun,
            approve: None,
        }
    }
}
