//! `shardwire-bench`: see the library's documentation and `--help`.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = shardwire_bench::cli::Args::parse();
    ExitCode::from(shardwire_bench::app::main(args))
}
