//! The test's own SoftHSM2 token and the key ceremony (`signer hsm-keygen`), as the signer's guides have the
//! operator run them: the signer rotation drill and the go-live rehearsal keep the signer's key in one.

use std::{path::PathBuf, process::Command};

use alloy::primitives::Address;
use anvil_tests::services::{WorkDir, service_binary};

/// SoftHSM2's PKCS#11 library, where Debian's package puts it (`SOFTHSM2_MODULE` overrides).
pub(crate) fn module() -> PathBuf {
    std::env::var_os("SOFTHSM2_MODULE").map(Into::into).unwrap_or_else(|| {
        ["/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("SoftHSM2 is installed (scripts/setup.sh)")
    })
}

/// The test's own SoftHSM2 token: its configuration (never the system's token directory) and user PIN.
pub(crate) struct Token {
    /// The SoftHSM2 configuration naming the test's token directory (`SOFTHSM2_CONF`).
    pub(crate) conf: PathBuf,
    /// The token's user PIN.
    pub(crate) pin: String,
}

impl Token {
    /// Initialises a token labelled `referral-signer` (as the signer's examples name it) in `dir`.
    pub(crate) fn new(dir: &WorkDir) -> eyre::Result<Token> {
        let tokens = dir.path.join("tokens");
        std::fs::create_dir_all(&tokens)?;
        let conf = dir.write(
            "softhsm2.conf",
            &format!("directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n", tokens.display()),
        )?;
        let token = Token { conf, pin: format!("{:016x}", rand::random::<u64>()) };
        let so_pin = format!("{:016x}", rand::random::<u64>());
        stdout_of(
            "softhsm2-util",
            Command::new("softhsm2-util")
                .args([
                    "--init-token",
                    "--free",
                    "--label",
                    "referral-signer",
                    "--pin",
                    &token.pin,
                    "--so-pin",
                    &so_pin,
                ])
                .env("SOFTHSM2_CONF", &token.conf),
        )?;
        Ok(token)
    }

    /// The key ceremony: `signer hsm-keygen`, which prints the new key's address and nothing else.
    pub(crate) fn keygen(&self, label: &str) -> eyre::Result<Address> {
        let printed = stdout_of(
            "hsm-keygen",
            Command::new(service_binary("signer")?)
                .args(["hsm-keygen", "--module", module().to_str().unwrap(), "--token-label", "referral-signer"])
                .args(["--key-label", label])
                .env("SOFTHSM2_CONF", &self.conf)
                .env("SIGNER_HSM_PIN", &self.pin),
        )?;
        Ok(printed.trim().parse()?)
    }
}

/// What `command` printed, once it ended successfully; else its status and stderr, named `what`.
fn stdout_of(what: &str, command: &mut Command) -> eyre::Result<String> {
    let out = command.output()?;
    eyre::ensure!(out.status.success(), "{what} ended with {}: {}", out.status, String::from_utf8_lossy(&out.stderr));
    Ok(String::from_utf8(out.stdout)?)
}
