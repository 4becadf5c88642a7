use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    crier::cli::main_with(crier::cli::Cli::parse())
}
