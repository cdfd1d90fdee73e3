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
use super::sales::SalesParams;
use crate::AssetSpec;
use crate::admin::AdminError;
use crate::eligibility::Pricing;

/// A plan's parameters type, as the registry uses it.
pub trait ParamsRules: PlanRules + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The plan's defaults counted in `unit` base units (a whole token: 10^decimals).
    fn defaults_in(unit: u128) -> Self;
    /// What a registration or a purchase must pay under these parameters.
    fn pricing(&self) -> Pricing;
}

impl ParamsRules for PlanParams {
    fn defaults_in(unit: u128) -> Self {
        Self::defaults_in(unit)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Fixed { registration: self.registration_fee, retopup: self.retopup_fee }
    }
}

impl ParamsRules for GenerationParams {
    fn defaults_in(unit: u128) -> Self {
        Self::defaults_in(unit)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Packages(self.packages.clone())
    }
}

impl ParamsRules for BinaryParams {
    fn defaults_in(unit: u128) -> Self {
        Self::defaults_in(unit)
    }
    fn pricing(&self) -> Pricing {
        Pricing::Packages(self.packages.clone())
    }
}

impl ParamsRules for SalesParams {
    fn defaults_in(unit: u128) -> Self {
        Self::defaults_in(unit)
    }
    fn pricing(&self) -> Pricing {
        Pricing::JoinOnly(self.join_fee)
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
    fn defaults(&self, decimals: u32) -> serde_json::Value {
        self.defaults_in(10u128.pow(decimals))
    }
    /// The plan's defaults counted in `unit` base units, as stored.
    fn defaults_in(&self, unit: u128) -> serde_json::Value;
    /// `given`, the plan's parameters with every amount in the units of a token of `decimals` decimals (`"20"`,
    /// `"0.05"`: the operator's parameter file), read as the plan's parameters, as stored (base units; not yet
    /// checked by the plan's rules).
    fn read_token_units(&self, decimals: u32, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams>;
    /// `stored` parameters with every amount in the units of a token of `decimals` decimals.
    fn to_token_units(&self, decimals: u32, stored: &serde_json::Value) -> Result<serde_json::Value, InvalidParams>;
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

    fn defaults_in(&self, unit: u128) -> serde_json::Value {
        stored(&P::defaults_in(unit))
    }

    fn read_token_units(&self, decimals: u32, given: &serde_json::Value) -> Result<serde_json::Value, InvalidParams> {
        super::params::in_token_units(decimals, || read_as::<P>(given)).map(|p| stored(&p))
    }

    fn to_token_units(&self, decimals: u32, stored: &serde_json::Value) -> Result<serde_json::Value, InvalidParams> {
        let params = read_as::<P>(stored)?;
        super::params::in_token_units(decimals, || serde_json::to_value(&params))
            .map_err(|e| InvalidParams::Shape(e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::params_of;

    /// backend/PLAN-PARAMS.md: the page that documents the parameter files.
    const PAGE: &str = include_str!("../../../PLAN-PARAMS.md");

    /// The `## <plan>` section of the page: its first JSON block and the fields its table names.
    fn section(plan: PlanKind) -> (serde_json::Value, Vec<String>) {
        let heading = format!("\n## {}\n", plan.as_str());
        let start = PAGE.find(&heading).unwrap_or_else(|| panic!("PLAN-PARAMS.md has no section {heading:?}"));
        let text = &PAGE[start + heading.len()..];
        let text = &text[..text.find("\n## ").unwrap_or(text.len())];
        let json = text.split("```json\n").nth(1).and_then(|t| t.split("```").next()).expect("a JSON block");
        let file = serde_json::from_str(json).unwrap_or_else(|e| panic!("{}: {e}", plan.as_str()));
        let fields = text
            .lines()
            .filter_map(|line| line.strip_prefix("| `")?.split_once('`').map(|(field, _)| field.to_owned()))
            .collect();
        (file, fields)
    }

    #[test]
    fn the_page_shows_each_plans_defaults_as_the_command_prints_them_and_names_every_field() {
        for plan in PlanKind::ALL {
            let room = params_of(plan);
            let mut printed = room.to_token_units(6, &room.defaults(6)).unwrap();
            let (file, mut documented) = section(plan);
            let fields: Vec<String> = printed.as_object().unwrap().keys().cloned().collect();
            printed["amounts_in"] = "token".into();
            assert_eq!(file, printed, "{}: the page's file is not `referral-asset params`'s", plan.as_str());
            let mut fields = fields;
            fields.sort();
            documented.sort();
            assert_eq!(documented, fields, "{}: the table's fields are not the plan's", plan.as_str());
        }
    }

    #[test]
    fn a_file_in_token_units_reads_as_the_same_parameters_in_base_units_for_every_plan() {
        for plan in PlanKind::ALL {
            let room = params_of(plan);
            for decimals in [0, 6, 18] {
                let stored = room.defaults(decimals);
                let in_units = room.to_token_units(decimals, &stored).unwrap();
                assert_eq!(room.read_token_units(decimals, &in_units).unwrap(), stored, "{}", plan.as_str());
            }
        }
        // Amounts the operator writes: parts of a token, and what a token cannot hold refused.
        let room = params_of(PlanKind::AutoPool);
        let mut file = room.to_token_units(18, &room.defaults_in(10u128.pow(15))).unwrap();
        assert_eq!(file["registration_fee"], "0.02", "a thousandth of a coin, 20 times");
        assert_eq!(file["direct_amount"], "0.018");
        file["direct_amount"] = "0.0175".into();
        let stored = room.read_token_units(18, &file).unwrap();
        assert_eq!(stored["direct_amount"], "17500000000000000");
        for (bad, why) in [
            ("0.0000001", "has 7 decimals; the token has 6"),
            ("-1", "is not an amount in token units"),
            ("1e3", "is not an amount in token units"),
            ("1.", "is not an amount in token units"),
            ("", "is not an amount in token units"),
        ] {
            let mut file = room.to_token_units(6, &room.defaults(6)).unwrap();
            file["direct_amount"] = bad.into();
            let refused = room.read_token_units(6, &file).unwrap_err().to_string();
            assert!(refused.contains(why), "{bad:?}: {refused}");
        }
        // Outside the conversion amounts are base units again, on the same thread.
        assert_eq!(room.read(&room.defaults(6)).unwrap()["registration_fee"], "20000000");
    }
}
