use clap::Parser;

/// mimalloc instead of the system allocator: on the caseload page under load (32 requests at
/// a time, `credence bench --home-requests`), glibc's malloc and free took an eighth of the
/// CPU.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let cli = credence::cli::Cli::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDENCE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let logs = credence::logs::subscriber(cli.log_format, filter, std::io::stderr);
    if let Err(e) = tracing::subscriber::set_global_default(logs) {
        eprintln!("warning: logging could not start: {e}");
    }
    match credence::cli::run(cli).await {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::from(1),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(2)
        }
    }
}
