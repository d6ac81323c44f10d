//! The `shura` binary: a thin shim over [`shura::cli`].

#[tokio::main]
async fn main() -> std::process::ExitCode {
    shura::cli::main().await
}
