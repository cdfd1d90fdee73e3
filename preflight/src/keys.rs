//! Who holds the contract's powers, against two rules:
//!
//! * `dev_key` — none of anvil's well-known development keys ([`service_kit::keys::WELL_KNOWN_DEV_ADDRESSES`], whose
//!   private keys are public) is the contract's signer, its admin or the admin it is being transferred to, or holds
//!   a money role (operator, treasurer, pauser) — but on a development chain
//!   ([`service_kit::chain_spec::ChainSpec::is_development`]: the devnet, tests);
//! * `money_roles` — on a mainnet no key holds two of the money roles: signer, operator, treasurer, pauser (one
//!   stolen key must not both authorise and send, or send and stop the kill switch).
//!
//! Roles are not enumerable on chain: the holders looked at are anvil's keys, the signer, the operator the caller
//! names, and every account granted a role at the deployment block (the constructor's grants, [`crate::deployment`]),
//! each asked `hasRole` now. A later grant is a scheduled change the reconciler pages (`pending_change`).

use std::collections::{BTreeMap, BTreeSet};

use abi::{Settlement, chain::is_mainnet};
use alloy::{primitives::Address, providers::Provider, rpc::types::Filter, sol_types::SolEvent};
use service_kit::keys::{WELL_KNOWN_DEV_ADDRESSES, well_known_dev_key};

use crate::{Chain, Expectations, Findings, Level};

impl Chain<'_> {
    /// `dev_key` and `money_roles`; `deployed` is the deployment block, when known.
    pub(crate) async fn keys(
        &self,
        expect: &Expectations,
        deployed: Option<u64>,
        found: &mut Findings,
    ) -> Result<(), String> {
        let id = self.spec.chain_id;
        let (development, mainnet) = (self.spec.is_development(), is_mainnet(id));
        if development {
            return Ok(()); // Never a mainnet: neither rule applies.
        }
        let contract = Settlement::new(self.spec.settlement, &self.provider);
        let read = |what: &str, e: alloy::contract::Error| format!("{what}: {e}");
        let signer = contract.signer().call().await.map_err(|e| read("signer()", e))?;
        let admin = contract.defaultAdmin().call().await.map_err(|e| read("defaultAdmin()", e))?;
        let pending = contract.pendingDefaultAdmin().call().await.map_err(|e| read("pendingDefaultAdmin()", e))?;

        let mut candidates: BTreeSet<Address> = WELL_KNOWN_DEV_ADDRESSES.into_iter().collect();
        candidates.insert(signer);
        candidates.extend(expect.operator.map(|(operator, _)| operator));
        match deployed {
            Some(block) => candidates.extend(self.granted_at(block).await?),
            None if mainnet => found.push(
                "money_roles",
                Level::Skipped,
                "the deployment block was not found: the treasurers and pausers granted at deployment are unknown, \
                 only the signer, the configured operator and anvil's keys were compared",
            ),
            None => {}
        }
        let roles = [
            ("operator", contract.OPERATOR_ROLE().call().await.map_err(|e| read("OPERATOR_ROLE()", e))?),
            ("treasurer", contract.TREASURER_ROLE().call().await.map_err(|e| read("TREASURER_ROLE()", e))?),
            ("pauser", contract.PAUSER_ROLE().call().await.map_err(|e| read("PAUSER_ROLE()", e))?),
        ];
        let asks = candidates.iter().flat_map(|account| roles.iter().map(move |(name, role)| (*name, *role, *account)));
        let answers = futures::future::join_all(asks.map(|(name, role, account)| {
            let contract = &contract;
            async move {
                let held = contract.hasRole(role, account).call().await.map_err(|e| read("hasRole()", e))?;
                Ok::<_, String>(held.then_some((name, account)))
            }
        }))
        .await;
        let mut powers: Vec<(&str, Address)> = vec![("signer", signer), ("admin", admin)];
        if pending.newAdmin != Address::ZERO {
            powers.push(("pending admin", pending.newAdmin));
        }
        for answer in answers {
            powers.extend(answer?);
        }

        for (power, account) in &powers {
            if let Some(index) = well_known_dev_key(*account) {
                found.push_about(
                    "dev_key",
                    format!("{power}:{account}"),
                    Level::Fail,
                    format!(
                        "the contract's {power} is {account}, anvil's well-known development account #{index}, whose \
                         private key is public: anyone could use it; give the power to a key of your own (the signer \
                         service's keystore, a Safe as admin) through the admin's scheduled change, or redeploy \
                         (anvil's keys are allowed only on a chain declared development = true in the chain spec)"
                    ),
                );
            }
        }
        if mainnet {
            let mut by_account: BTreeMap<Address, Vec<&str>> = BTreeMap::new();
            for (power, account) in powers.iter().filter(|(power, _)| !power.ends_with("admin")) {
                by_account.entry(*account).or_default().push(power);
            }
            for (account, held) in by_account.into_iter().filter(|(_, held)| held.len() > 1) {
                found.push_about(
                    "money_roles",
                    account.to_string(),
                    Level::Fail,
                    format!(
                        "{account} is the contract's {} on mainnet chain {id}: one stolen key would hold every one of \
                         them; give each money role a key of its own (scheduleRoleChange or scheduleSignerRotation, \
                         through the admin)",
                        held.join(" and ")
                    ),
                );
            }
        }
        Ok(())
    }

    /// The accounts granted a role in `block` (the deployment block: the constructor's grants).
    async fn granted_at(&self, block: u64) -> Result<BTreeSet<Address>, String> {
        let filter = Filter::new()
            .address(self.spec.settlement)
            .event_signature(Settlement::RoleGranted::SIGNATURE_HASH)
            .from_block(block)
            .to_block(block);
        let logs = self.provider.get_logs(&filter).await.map_err(|e| format!("eth_getLogs of RoleGranted: {e}"))?;
        Ok(logs
            .iter()
            .filter_map(|log| log.log_decode::<Settlement::RoleGranted>().ok())
            .map(|e| e.inner.account)
            .collect())
    }
}
