//! The `shardwire` command: `serve` a config, `check` it against the backends, or run a
//! `demo` cluster on real local databases (DESIGN §3).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use shardwire_conf::Config;

mod cli_check;
mod cli_demo;

/// Command-line interface.
#[derive(Parser, Debug)]
#[command(
    name = "shardwire",
    version,
    about = "A sharding proxy for PostgreSQL and MySQL"
)]
struct Cli {
    /// Config file (`shardwire.toml`).
    #[arg(long, short, global = true)]
    config: Option<PathBuf>,
    /// Log format.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the proxy (the default when only --config is given).
    Serve,
    /// Validate the config and connect to every backend; exit 1 on any problem.
    Check,
    /// Start a local cluster (real PostgreSQL shards with replicas) and a proxy on it.
    Demo {
        /// Number of shards.
        #[arg(long, default_value_t = 2)]
        shards: usize,
        /// Replicas per shard.
        #[arg(long, default_value_t = 1)]
        replicas: usize,
        /// Also start MariaDB shards (with replicas) behind the MySQL frontend.
        #[arg(long)]
        mysql: bool,
        /// Port for the PostgreSQL frontend.
        #[arg(long, default_value_t = 6432)]
        port: u16,
        /// Port for the MySQL frontend (with --mysql).
        #[arg(long, default_value_t = 6033)]
        mysql_port: u16,
        /// Port for /metrics.
        #[arg(long, default_value_t = 9930)]
        admin_port: u16,
    },
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn load(path: Option<&PathBuf>) -> Result<Config, String> {
    let path = path.ok_or("--config is required")?;
    Config::load(path).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.log_format);
    let command = cli.command.unwrap_or(Command::Serve);
    // Read before the runtime exists: `proxy.workers` sizes it.
    let config = match command {
        Command::Serve | Command::Check => match load(cli.config.as_ref()) {
            Ok(config) => Some(config),
            Err(msg) => {
                eprintln!("shardwire: {msg}");
                return ExitCode::FAILURE;
            }
        },
        Command::Demo { .. } => None,
    };
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = config.as_ref().and_then(|c| c.proxy.workers) {
        builder.worker_threads(workers as usize);
    }
    let runtime = match builder.enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("shardwire: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match (command, config) {
            (Command::Serve, Some(config)) => serve(config, cli.config.clone()).await,
            (Command::Check, Some(config)) => cli_check::check(config).await,
            (
                Command::Demo {
                    shards,
                    replicas,
                    mysql,
                    port,
                    mysql_port,
                    admin_port,
                },
                _,
            ) => {
                let ports = cli_demo::Ports {
                    postgres: port,
                    mysql: mysql.then_some(mysql_port),
                    admin: admin_port,
                };
                cli_demo::demo(shards, replicas, ports).await
            }
            (Command::Serve | Command::Check, None) => Err("--config is required".to_string()),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("shardwire: {msg}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(config: Config, source: Option<PathBuf>) -> Result<(), String> {
    // Watched before starting: SIGHUP's default action ends the process, and a reload
    // sent while the proxy starts (an early `systemctl reload`) must not.
    let hangups = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup());
    let handle = shardwire::server::start_with_source(config, source).await?;
    match hangups {
        Ok(hangups) => {
            tokio::spawn(reload_on_sighup(hangups, handle.live.clone()));
        }
        Err(e) => {
            tracing::warn!(error = %e, "cannot watch SIGHUP; reload with RELOAD shardwire instead")
        }
    }
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("interrupted, shutting down");
        }
        _ = handle.wait() => {}
    }
    Ok(())
}

/// SIGHUP re-reads the config file, as `RELOAD shardwire` does (PgBouncer's convention).
async fn reload_on_sighup(
    mut hangups: tokio::signal::unix::Signal,
    live: std::sync::Arc<shardwire::live::LiveCluster>,
) {
    while hangups.recv().await.is_some() {
        if let Err(e) = live.reload().await {
            tracing::error!(error = %e, "SIGHUP: configuration not reloaded; the running one stays");
        }
    }
}
