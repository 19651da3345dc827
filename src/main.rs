//! The `ossify` command.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use ossify::config::{Config, GENERATED_KEY_FILE};
use ossify::server::Server;

// mimalloc: image frames are large and short-lived; the system allocator hands every
// fresh one back to the kernel and pays page faults to get it again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "ossify",
    version,
    about = "An Alibaba Cloud OSS-compatible object storage server with built-in image processing, for local development and self-hosting.",
    after_help = "Environment: OSSIFY_ACCESS_KEY_ID / OSSIFY_ACCESS_KEY_SECRET (root key of the default account), OSSIFY_STORAGE_METADATA, OSSIFY_BLOBS_ACCESS_KEY_ID / OSSIFY_BLOBS_SECRET_ACCESS_KEY (storage secrets, overriding [storage]), OSSIFY_LOG (log filter, e.g. debug; ossify::access=warn silences the access log), OSSIFY_LOG_FORMAT (text or json). Configuration reference: docs/configuration.md."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server. With no options: one region (oss-cn-hangzhou) on 127.0.0.1:9000,
    /// data in ./data, and one account whose root AccessKey comes from
    /// OSSIFY_ACCESS_KEY_ID / OSSIFY_ACCESS_KEY_SECRET or is generated on first start.
    Serve(ServeArgs),
    /// Copy an embedded data directory (redb metadata + blob files) into the store that
    /// the configuration's [storage] names (PostgreSQL + S3 blobs). Stop the server
    /// using DIR first. Re-running after an interruption continues where it stopped.
    Migrate(MigrateArgs),
}

#[derive(clap::Args)]
struct MigrateArgs {
    /// The embedded data directory to copy from (its meta.redb and blobs/).
    #[arg(long, value_name = "DIR")]
    from: PathBuf,
    /// TOML configuration whose [storage] section is the target.
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
}

#[derive(clap::Args)]
struct ServeArgs {
    /// TOML configuration file (regions, accounts, RAM users); see docs/configuration.md.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Listen address for the first (default) region, replacing its configured `listen`.
    #[arg(long, value_name = "ADDR")]
    listen: Option<SocketAddr>,
    /// Directory for the metadata database and object data, replacing `server.data_dir`.
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Log lines go to stderr from a thread of their own, so a request never waits on it.
    let (writer, _flush_on_exit) = tracing_appender::non_blocking(std::io::stderr());
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("OSSIFY_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(writer);
    match std::env::var("OSSIFY_LOG_FORMAT").as_deref() {
        Ok("json") => logs.json().flatten_event(true).init(),
        Ok("text") | Err(_) => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        Ok(other) => {
            eprintln!("ossify: error: OSSIFY_LOG_FORMAT={other:?}: use \"text\" or \"json\"");
            return ExitCode::FAILURE;
        }
    }
    let result = match cli.command {
        Command::Serve(args) => serve(args),
        Command::Migrate(args) => migrate(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ossify: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn env_key() -> anyhow::Result<Option<(String, String)>> {
    match (
        std::env::var("OSSIFY_ACCESS_KEY_ID").ok(),
        std::env::var("OSSIFY_ACCESS_KEY_SECRET").ok(),
    ) {
        (Some(id), Some(secret)) if !id.is_empty() && !secret.is_empty() => Ok(Some((id, secret))),
        (None, None) => Ok(None),
        _ => anyhow::bail!(
            "set both OSSIFY_ACCESS_KEY_ID and OSSIFY_ACCESS_KEY_SECRET (non-empty), or neither"
        ),
    }
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut config = match &args.config {
        Some(path) => Config::load(path)?,
        None => Config::from_toml("")?,
    };
    if let Some(dir) = args.data_dir {
        config.server.data_dir = dir;
    }
    config.storage.apply_env(|name| std::env::var(name).ok());
    config.finish()?;
    if let Some(listen) = args.listen {
        config.regions[0].listen = vec![listen];
    }
    let generated = config.ensure_default_account(env_key()?)?;
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let server = Server::start(config.clone()).await?;
        // stdout carries the addresses for scripts; a closed stdout must not stop the server.
        let mut out = std::io::stdout().lock();
        let scheme = |region: &str| {
            let tls = config
                .regions
                .iter()
                .any(|r| r.name == region && r.tls_cert.is_some());
            if tls { "https" } else { "http" }
        };
        for (region, addr) in &server.listeners {
            let _ = writeln!(
                out,
                "ossify: region {region} listening on {}://{addr}",
                scheme(region)
            );
        }
        for (region, addr) in &server.s3_listeners {
            let _ = writeln!(
                out,
                "ossify: region {region} S3 listening on {}://{addr}",
                scheme(region)
            );
        }
        if config.accounts.len() == 1
            && config.accounts[0].users.is_empty()
            && args.config.is_none()
        {
            let account = &config.accounts[0];
            let _ = writeln!(
                out,
                "ossify: account {} AccessKeyId {}",
                account.id, account.access_key_id
            );
            if generated {
                let _ = writeln!(
                    out,
                    "ossify: generated AccessKeySecret {} (kept in {})",
                    account.access_key_secret,
                    config.server.data_dir.join(GENERATED_KEY_FILE).display()
                );
            }
        }
        let _ = out.flush();
        drop(out);
        tracing::info!(data_dir = %config.server.data_dir.display(), "ready");
        let grace = std::time::Duration::from_secs(config.server.shutdown_grace_secs);
        server.run_until(shutdown_signal, grace).await
    })
}

fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    let mut target = Config::load(&args.config)?;
    target.storage.apply_env(|name| std::env::var(name).ok());
    target.finish()?;
    if target.storage.is_embedded() {
        anyhow::bail!(
            "{}: [storage] names the embedded store; set storage.metadata and [storage.blobs] to the PostgreSQL and S3 target",
            args.config.display()
        );
    }
    let mut source = Config::from_toml("")?;
    source.server.data_dir = args.from.clone();
    if !args.from.join("meta.redb").exists() {
        anyhow::bail!(
            "--from {}: no meta.redb there; give the data directory of an embedded ossify",
            args.from.display()
        );
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let (meta, blobs) = ossify::server::open_storage(&source).await?;
        let from = ossify::migrate::Side { meta, blobs };
        let (meta, blobs) = ossify::server::open_storage(&target).await?;
        let to = ossify::migrate::Side { meta, blobs };
        let done = ossify::migrate::run(&from, &to).await?;
        println!(
            "ossify: migrated {} buckets, {} objects ({} already there), {} uploads with {} parts, {} bytes",
            done.buckets, done.objects, done.skipped, done.uploads, done.parts, done.bytes
        );
        Ok(())
    })
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("SIGTERM handler");
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
