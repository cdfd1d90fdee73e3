//! TLS for the test node's gRPC and JSON-RPC ports, as a provider serves them (TronGrid's endpoints are `https`
//! only), with a certificate made for the test: a CA of its own and a certificate for `127.0.0.1` and `localhost`
//! signed by it. A client trusts the CA's PEM as it would a public CA — the services read it from `SSL_CERT_FILE`,
//! which the system's roots honour — so that the same client code reaches the test node and a real provider.

use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject};

/// The certificate and key a TLS port serves (PEM).
#[derive(Clone, Debug)]
pub struct Identity {
    /// The server's certificate chain (PEM).
    pub cert_pem: String,
    /// Its private key (PEM, PKCS#8).
    pub key_pem: String,
}

/// A test CA and a server certificate it signed for `127.0.0.1` and `localhost`.
#[derive(Clone, Debug)]
pub struct TestCertificate {
    /// The CA's certificate (PEM): what a client must trust.
    pub ca_pem: String,
    /// What the server presents.
    pub identity: Identity,
}

impl TestCertificate {
    /// A new CA and server certificate, both valid from now for the default period (rcgen's: years).
    pub fn generate() -> eyre::Result<Self> {
        use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair, KeyUsagePurpose};
        let ca_key = KeyPair::generate()?;
        let mut ca = CertificateParams::new(Vec::<String>::new())?;
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.distinguished_name.push(DnType::CommonName, "tron-devnode test CA");
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
        let ca_pem = ca.self_signed(&ca_key)?.pem();
        let issuer = Issuer::new(ca, ca_key);
        let key = KeyPair::generate()?;
        let mut server = CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        server.distinguished_name.push(DnType::CommonName, "tron-devnode");
        let cert_pem = server.signed_by(&key, &issuer)?.pem();
        Ok(Self { ca_pem, identity: Identity { cert_pem, key_pem: key.serialize_pem() } })
    }
}

impl Identity {
    /// The rustls server configuration presenting this identity (ring, TLS 1.2 and 1.3, HTTP/1.1).
    pub(crate) fn server_config(&self) -> eyre::Result<Arc<rustls::ServerConfig>> {
        let chain = CertificateDer::pem_slice_iter(self.cert_pem.as_bytes()).collect::<Result<Vec<_>, _>>()?;
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())?;
        let mut config =
            rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()?
                .with_no_client_auth()
                .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }

    /// The same identity for tonic's gRPC server. tonic builds its rustls configuration with the process's default
    /// provider; ring is installed as that default unless one is already (the workspace links both ring and
    /// aws-lc-rs, so rustls cannot pick one by itself).
    pub(crate) fn grpc(&self) -> tonic::transport::ServerTlsConfig {
        let _ = rustls::crypto::ring::default_provider().install_default();
        tonic::transport::ServerTlsConfig::new()
            .identity(tonic::transport::Identity::from_pem(&self.cert_pem, &self.key_pem))
    }
}
