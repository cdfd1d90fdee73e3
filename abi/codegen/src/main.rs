//! Regenerates `abi/artifacts/*.json` from `contracts/src` with foundry-compilers and the offline solc
//! wrapper, using the same settings as `contracts/foundry.toml`; `--check` fails when they have drifted.

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
};

use eyre::{WrapErr, bail, eyre};
use foundry_compilers::{
    Artifact, ProjectBuilder, ProjectPathsConfig,
    artifacts::{BytecodeHash, EvmVersion, Optimizer, Settings, SettingsMetadata, remappings::Remapping},
    solc::{Solc, SolcCompiler, SolcSettings},
};

/// Contracts whose ABI and bytecode the Rust side needs.
const CONTRACTS: &[&str] = &["Settlement", "SettlementExit", "SettlementSales", "TestUSDT", "StandInAggregator"];

fn main() -> ExitCode {
    let check = std::env::args().any(|a| a == "--check");
    match run(check) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("abi-codegen: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(check: bool) -> eyre::Result<()> {
    let root = workspace_root();
    let rendered = compile(&root)?;
    let out_dir = root.join("abi/artifacts");
    let mut drifted = Vec::new();
    for (name, json) in &rendered {
        let path = out_dir.join(format!("{name}.json"));
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == *json {
            continue;
        }
        if check {
            drifted.push(path.display().to_string());
        } else {
            std::fs::create_dir_all(&out_dir)?;
            std::fs::write(&path, json).wrap_err_with(|| format!("writing {}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    if !drifted.is_empty() {
        bail!(
            "artifacts drifted from contracts/src: {} (run `cargo run -p abi-codegen` and commit)",
            drifted.join(", ")
        );
    }
    if check {
        println!("abi artifacts match contracts/src");
    }
    Ok(())
}

/// The Settlement's read-only functions live in SettlementViews, which its fallback delegatecalls (issue 69): they
/// are called at the Settlement's address, so they belong to its ABI, after its own items. A name in both would be
/// ambiguous: refused.
fn merge_views(
    abi: &mut serde_json::Value,
    output: &foundry_compilers::ProjectCompileOutput<SolcCompiler>,
) -> eyre::Result<()> {
    let views = output.find_first("SettlementViews").ok_or_else(|| eyre!("SettlementViews not in compiler output"))?;
    let views = serde_json::to_value(views.abi.as_ref().ok_or_else(|| eyre!("SettlementViews has no ABI"))?)?;
    let items = abi.as_array_mut().ok_or_else(|| eyre!("Settlement's ABI is not a list"))?;
    let name = |item: &serde_json::Value| item.get("name").and_then(|n| n.as_str()).map(str::to_owned);
    for view in views.as_array().into_iter().flatten().filter(|i| i["type"] == "function") {
        if items.iter().any(|i| i["type"] == "function" && name(i) == name(view)) {
            bail!("{:?} is both a Settlement function and a SettlementViews one", name(view));
        }
        items.push(view.clone());
    }
    Ok(())
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root exists")
}

/// Compiles `contracts/src` in a temporary directory and renders each wanted artifact as stable JSON.
fn compile(root: &Path) -> eyre::Result<Vec<(&'static str, String)>> {
    let contracts = root.join("contracts");
    let scratch = std::env::temp_dir().join(format!("abi-codegen-{}", std::process::id()));
    let paths = ProjectPathsConfig::builder()
        .root(&contracts)
        .sources(contracts.join("src"))
        .artifacts(scratch.join("out"))
        .cache(scratch.join("cache/solidity-files-cache.json"))
        .libs([root.join("node_modules")])
        .remapping(Remapping {
            context: None,
            name: "@openzeppelin/contracts/".into(),
            path: format!("{}/", root.join("node_modules/@openzeppelin/contracts").display()),
        })
        .build_with_root(&contracts);

    // Must match contracts/foundry.toml, so that forge tests and Rust tests run the same bytecode (200 runs: with the
    // members' leave of issue 65, 1,000 would put Settlement's runtime code past EIP-170's 24,576 bytes).
    let settings = Settings {
        optimizer: Optimizer { enabled: Some(true), runs: Some(200), details: None },
        evm_version: Some(EvmVersion::Paris),
        metadata: Some(SettingsMetadata::new(BytecodeHash::None, false)),
        ..Default::default()
    };
    let solc = Solc::new(root.join("scripts/solc")).wrap_err("solc wrapper (run scripts/setup.sh)")?;
    let project = ProjectBuilder::<SolcCompiler>::default()
        .paths(paths)
        .settings(SolcSettings { settings, ..Default::default() })
        .ephemeral()
        .no_artifacts()
        .offline()
        .build(SolcCompiler::Specific(solc))?;
    let output = project.compile()?;
    let _ = std::fs::remove_dir_all(&scratch);
    if output.has_compiler_errors() {
        bail!("solc reported errors:\n{output}");
    }

    CONTRACTS
        .iter()
        .map(|&name| {
            let artifact = output.find_first(name).ok_or_else(|| eyre!("{name} not in compiler output"))?;
            let mut abi = serde_json::to_value(artifact.abi.as_ref().ok_or_else(|| eyre!("{name} has no ABI"))?)?;
            if name == "Settlement" {
                merge_views(&mut abi, &output)?;
            }
            let bytecode = artifact.get_bytecode_bytes().ok_or_else(|| eyre!("{name} has no bytecode"))?;
            let deployed =
                artifact.get_deployed_bytecode_bytes().ok_or_else(|| eyre!("{name} has no deployed bytecode"))?;
            // Where the runtime code holds immutables (values set by the constructor): a deployed contract's code
            // equals `deployedBytecode` everywhere else (`abi::code`).
            let immutables =
                artifact.deployed_bytecode.as_ref().map(|d| d.immutable_references.clone()).unwrap_or_default();
            let json = serde_json::json!({
                "abi": abi,
                "bytecode": { "object": bytecode.to_string() },
                "deployedBytecode": { "object": deployed.to_string(), "immutableReferences": immutables },
            });
            Ok((name, serde_json::to_string_pretty(&json)? + "\n"))
        })
        .collect()
}
