//! TLS to PostgreSQL with libpq's URL parameters: `sslmode` (`disable`, `prefer`,
//! `require`, `verify-ca`, `verify-full`) and `sslrootcert` (a PEM file of CA
//! certificates, or `system` for the system's roots).
//!
//! As in libpq, `prefer` and `require` encrypt without checking the server's
//! certificate, except that `require` with an `sslrootcert` checks it as `verify-ca`
//! does; `verify-ca` checks that a trusted CA signed it, `verify-full` also that it
//! names the host of the URL. Unlike libpq, whose default root file is
//! `~/.postgresql/root.crt`, the verifying modes without `sslrootcert` trust the
//! system's roots. tokio-postgres itself knows only disable/prefer/require, so this
//! module takes the two parameters out of the URL and checks certificates itself.

use std::sync::Arc;

use anyhow::anyhow;
use percent_encoding::percent_decode_str;
use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::WebPkiSupportedAlgorithms;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;

/// libpq's `sslmode` values that ossify supports (`allow` is not among them: it would
/// try plain text first, which tokio-postgres cannot do).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    fn parse(value: &str) -> anyhow::Result<SslMode> {
        Ok(match value {
            "disable" => SslMode::Disable,
            "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(anyhow!(
                    "storage.metadata: sslmode={other} is not supported; give disable, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }

    /// The value tokio-postgres understands: whether TLS is off, tried or required.
    fn transport(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => "require",
        }
    }
}

/// How the server's certificate is checked.
#[derive(Debug, PartialEq, Eq)]
enum Check {
    /// Encryption only (libpq's prefer, and require without a root file).
    None,
    /// Signed by a trusted CA, whatever name it carries.
    Ca,
    /// Signed by a trusted CA and issued to the host of the URL.
    Full,
}

/// The connection settings of a `storage.metadata` URL.
pub struct PgTls {
    /// The URL for tokio-postgres: `sslrootcert` taken out and `sslmode` one it knows.
    pub url: String,
    pub connector: MakeRustlsConnect,
}

/// Split `url` into the URL tokio-postgres parses and the TLS connector its
/// `sslmode` and `sslrootcert` ask for. Errors name `storage.metadata`.
pub fn prepare(url: &str) -> anyhow::Result<PgTls> {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let mut mode = SslMode::Prefer;
    let mut root_file = None;
    let mut kept = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        let decoded = || percent_decode_str(value).decode_utf8_lossy().into_owned();
        match key {
            "sslmode" => mode = SslMode::parse(&decoded())?,
            "sslrootcert" => root_file = Some(decoded()),
            _ => kept.push(pair),
        }
    }
    let transport = format!("sslmode={}", mode.transport());
    kept.push(&transport);
    let check = match mode {
        SslMode::Disable | SslMode::Prefer => Check::None,
        SslMode::Require if root_file.is_none() => Check::None,
        SslMode::Require | SslMode::VerifyCa => Check::Ca,
        SslMode::VerifyFull => Check::Full,
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match check {
        Check::None => Arc::new(Unchecked(provider.signature_verification_algorithms)),
        Check::Ca | Check::Full => {
            let roots = roots(root_file.as_deref())?;
            let webpki =
                WebPkiServerVerifier::builder_with_provider(roots.into(), provider.clone())
                    .build()
                    .map_err(|e| {
                        anyhow!("storage.metadata: cannot use the CA certificates: {e}")
                    })?;
            if check == Check::Full {
                webpki
            } else {
                Arc::new(AnyName(webpki))
            }
        }
    };
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| anyhow!("storage.metadata: cannot set up TLS: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(PgTls {
        url: format!("{base}?{}", kept.join("&")),
        connector: MakeRustlsConnect::new(config),
    })
}

/// The CAs to trust: those in the PEM file `sslrootcert`, or the system's.
fn roots(root_file: Option<&str>) -> anyhow::Result<RootCertStore> {
    let mut roots = RootCertStore::empty();
    match root_file {
        None | Some("system") => {
            let found = rustls_native_certs::load_native_certs();
            roots.add_parsable_certificates(found.certs);
            if roots.is_empty() {
                return Err(anyhow!(
                    "storage.metadata: no system CA certificates found to verify the server with \
                     (install the ca-certificates package, or give sslrootcert=FILE in the URL)"
                ));
            }
        }
        Some(file) => {
            let certs = CertificateDer::pem_file_iter(file)
                .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
                .map_err(|e| {
                    anyhow!(
                        "storage.metadata: sslrootcert={file}: cannot read PEM certificates: {e}"
                    )
                })?;
            let (_, unusable) = roots.add_parsable_certificates(certs);
            if roots.is_empty() {
                return Err(anyhow!(
                    "storage.metadata: sslrootcert={file}: no usable CA certificate in it ({unusable} unparsable)"
                ));
            }
        }
    }
    Ok(roots)
}

/// Accepts any certificate (libpq's `prefer` and `require`), but still checks that
/// the server holds its key, as TLS itself requires.
#[derive(Debug)]
struct Unchecked(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for Unchecked {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}

/// `verify-ca`: the full check but for the name. webpki checks the chain before the
/// name, so a name mismatch means the chain was good.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_keeps_other_parameters_and_names_a_mode_tokio_postgres_knows() {
        let tls = prepare("postgres://u:p@h:1/db").unwrap();
        assert_eq!(tls.url, "postgres://u:p@h:1/db?sslmode=prefer");
        let tls = prepare("postgres://u:p@h:1/db?application_name=x&sslmode=verify-ca&sslrootcert=system&connect_timeout=3").unwrap();
        assert_eq!(
            tls.url,
            "postgres://u:p@h:1/db?application_name=x&connect_timeout=3&sslmode=require"
        );
        let tls = prepare("postgres://u:p@h:1/db?sslmode=disable").unwrap();
        assert_eq!(tls.url, "postgres://u:p@h:1/db?sslmode=disable");
        let tls = prepare("postgres://u:p@h:1/db?sslmode=require").unwrap();
        assert_eq!(tls.url, "postgres://u:p@h:1/db?sslmode=require");
    }

    #[test]
    fn bad_modes_and_root_files_say_what_to_fix() {
        let e = prepare("postgres://h/db?sslmode=allow").err().unwrap();
        assert_eq!(
            e.to_string(),
            "storage.metadata: sslmode=allow is not supported; give disable, prefer, require, verify-ca or verify-full"
        );
        let e =
            prepare("postgres://h/db?sslmode=verify-full&sslrootcert=/nonexistent/ca%20file.pem")
                .err()
                .unwrap()
                .to_string();
        assert!(
            e.starts_with(
                "storage.metadata: sslrootcert=/nonexistent/ca file.pem: cannot read PEM certificates: "
            ),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate\n").unwrap();
        let e = prepare(&format!(
            "postgres://h/db?sslmode=verify-ca&sslrootcert={}",
            empty.display()
        ))
        .err()
        .unwrap()
        .to_string();
        assert_eq!(
            e,
            format!(
                "storage.metadata: sslrootcert={}: no usable CA certificate in it (0 unparsable)",
                empty.display()
            )
        );
    }
}
