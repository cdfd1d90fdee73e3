//! What the ledger and the API do with a plan's parameters without naming the plan ([`params_of`]): read them from
//! their JSON (a field the plan does not have refused), check them by the plan's rules, give the plan's defaults,
//! price a payment, create an asset or a new version. Each plan's parameters type says how ([`ParamsRules`]); the
//! registry (`super::registry`) is the only place that lists them.

use std::marker::PhantomData;

use futures::FutureExt;
use futures::future::BoxFuture;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::PgPool;

use super::binary::BinaryParams;
use super::generation::GenerationParams;
use super::kind::PlanKind;
use super::params::{InvalidPlan, PlanParams, PlanRules};
use crate::AssetSpec;
use crate::admin::AdminError;
use crate::eligibility::Pricing;

/// A plan's parameters type, as the registry uses it.
pub trait ParamsRules: PlanRules + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The plan's defaults for a token of `decimals` decimals.
    fn defaults_for(decimals: u32) -> Self;
    /// What a registration or a purchase must pay under these parameters.
    fn pricing(&self) -> Pricing;
}

impl ParamsRules for PlanParams {
    fn defaults_for(decimals: u32) -> Self {
        Self::defaults(decimals)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Fixed { registration: self.registration_fee, retopup: self.retopup_fee }
    }
}

impl ParamsRules for GenerationParams {
    fn defaults_for(decimals: u32) -> Self {
        Self::defaults(decimals)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Packages(self.packages.clone())
    }
}

impl ParamsRules for BinaryParams {
    fn defaults_for(decimals: u32) -> Self {
        Self::defaults(decimals)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Packages(self.packages.clone())
    }
}

/// Why given parameters were refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidParams {
    /// Not the plan's parameters: a field missing, of the wrong type, or one the plan does not have.
    #[error("params: {0}")]
    Shape(String),
    /// The plan's parameters, refused by its rules.
    #[error(transparent)]
    Rules(#[from] InvalidPlan),
}

/// One plan's parameters, through JSON as the ledger stores them.
pub trait PlanParamsRoom: Sync {
    /// The plan.
    fn kind(&self) -> PlanKind;
    /// The plan's defaults for a token of `decimals` decimals, as stored.
    fn defaults(&self, decimals: u32) -> serde_json::Value;
    /// `given` read as the plan's parameters, as stored (not yet checked by the plan's rules).
    fn read(&self, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams>;
    /// `given` read as the plan's parameters and checked by its rules, as stored.
    fn checked(&self, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams>;
    /// What a payment must pay under stored parameters.
    fn pricing(&self, stored: serde_json::Value) -> Result<Pricing, serde_json::Error>;
    /// [`crate::admin::create_asset`] with the spec's parameters as stored.
    fn create_asset<'a>(
        &'a self,
        pool: &'a PgPool,
        spec: AssetSpec<serde_json::Value>,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<(), AdminError>>;
    /// [`crate::admin::new_plan_version`] with the parameters as stored.
    fn new_version<'a>(
        &'a self,
        pool: &'a PgPool,
        asset_id: i32,
        from_block: u64,
        params: serde_json::Value,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<u32, AdminError>>;
}

/// The registry's entry of the plan whose parameters are `P`.
pub(crate) struct ParamsOf<P>(pub(crate) PhantomData<fn() -> P>);

/// `given` as `P`, refusing a field `P` does not have.
fn read_as<P: ParamsRules>(given: &serde_json::Value) -> Result<P, InvalidParams> {
    let params: P = serde_json::from_value(given.clone()).map_err(|e| InvalidParams::Shape(e.to_string()))?;
    let known = serde_json::to_value(&params).map_err(|e| InvalidParams::Shape(e.to_string()))?;
    if let (Some(given), Some(known)) = (given.as_object(), known.as_object())
        && let Some(extra) = given.keys().find(|k| !known.contains_key(*k))
    {
        return Err(InvalidParams::Shape(format!("unknown field `{extra}`")));
    }
    Ok(params)
}

fn stored<P: Serialize>(params: &P) -> serde_json::Value {
    serde_json::to_value(params).expect("plan parameters serialize")
}

impl<P: ParamsRules> PlanParamsRoom for ParamsOf<P> {
    fn kind(&self) -> PlanKind {
        P::KIND
    }

    fn defaults(&self, decimals: u32) -> serde_json::Value {
        stored(&P::defaults_for(decimals))
    }

    fn read(&self, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams> {
        read_as::<P>(given).map(|p| stored(&p))
    }

    fn checked(&self, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams> {
        let params = read_as::<P>(given)?;
        params.validate()?;
        Ok(stored(&params))
    }

    fn pricing(&self, stored: serde_json::Value) -> Result<Pricing, serde_json::Error> {
        Ok(serde_json::from_value::<P>(stored)?.pricing())
    }

    fn create_asset<'a>(
        &'a self,
        pool: &'a PgPool,
        spec: AssetSpec<serde_json::Value>,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<(), AdminError>> {
        async move {
            let params = read_as::<P>(&spec.params)
                .map_err(|e| AdminError::Refused { code: "invalid_plan", message: e.to_string() })?;
            let spec = AssetSpec {
                id: spec.id,
                chain_id: spec.chain_id,
                token: spec.token,
                symbol: spec.symbol,
                decimals: spec.decimals,
                genesis: spec.genesis,
                params,
            };
            crate::admin::create_asset(pool, &spec, actor).await
        }
        .boxed()
    }

    fn new_version<'a>(
        &'a self,
        pool: &'a PgPool,
        asset_id: i32,
        from_block: u64,
        params: serde_json::Value,
        actor: &'a str,
    ) -> BoxFuture<'a, Result<u32, AdminError>> {
        async move {
            let params = read_as::<P>(&params)
                .map_err(|e| AdminError::Refused { code: "invalid_plan", message: e.to_string() })?;
            crate::admin::new_plan_version(pool, asset_id, from_block, params, actor).await
        }
        .boxed()
    }
}
